#!/bin/sh
# The fhir-store target's reader of a batch-response and of an
# OperationOutcome (src/sinks/fhir_store_send.c) replays its seed corpus
# (tests/fuzz/corpus/store_reply/: replies of @medplum/fhir-router with
# 200/201/400/412 entries, and broken ones) without a crash or a broken
# promise (tests/fuzz/fuzz_store_reply.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay store_reply
finish

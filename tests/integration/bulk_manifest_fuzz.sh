#!/bin/sh
# The fhir-bulk source's parsers of outside input (a server's manifest and
# OperationOutcomes, the checkpoint from the state store) replay their
# seed corpus (tests/fuzz/corpus/bulk_manifest/: made-up manifests, good
# and broken, an outcome, checkpoint lines) without a crash or a broken
# promise.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay bulk_manifest
finish

#!/bin/sh
# The fhir-store target's reader of a batch-response and of an
# OperationOutcome (src/sinks/fhir_store_send.c) replays its seed corpus
# (tests/fuzz/corpus/store_reply/: replies of @medplum/fhir-router with
# 200/201/400/412 entries, and broken ones) without a crash or a broken
# promise (tests/fuzz/fuzz_store_reply.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
F="${top_builddir}/tests/fuzz/fuzz_store_reply"
C="${top_srcdir}/tests/fuzz/corpus/store_reply"
set -- $(find "$C" -type f ! -name '.*' | LC_ALL=C sort)
$SLUICE_WRAP "$F" "$@" >"$T/out" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
[ $rc -eq 0 ] && [ "$ran" -eq $# ] || sed 's/^/# /' "$T/out" | tail -n 20
check "fuzz_store_reply replays its $# seeds without a crash (exit $rc, $ran ran)" \
    sh -c "[ $rc -eq 0 ] && [ '$ran' -eq $# ]"
finish

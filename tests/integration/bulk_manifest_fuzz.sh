#!/bin/sh
# The fhir-bulk source's parsers of outside input (a server's manifest and
# OperationOutcomes, the checkpoint from the state store) replay their
# seed corpus (tests/fuzz/corpus/bulk_manifest/: made-up manifests, good
# and broken, an outcome, checkpoint lines) without a crash or a broken
# promise.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
F="${top_builddir}/tests/fuzz/fuzz_bulk_manifest"
C="${top_srcdir}/tests/fuzz/corpus/bulk_manifest"
set -- $(find "$C" -type f ! -name '.*' | LC_ALL=C sort)
$SLUICE_WRAP "$F" "$@" >"$T/out" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
[ $rc -eq 0 ] && [ "$ran" -eq $# ] || sed 's/^/# /' "$T/out" | tail -n 20
check "fuzz_bulk_manifest replays its $# seeds without a crash (exit $rc, $ran ran)" \
    sh -c "[ $rc -eq 0 ] && [ '$ran' -eq $# ]"
finish

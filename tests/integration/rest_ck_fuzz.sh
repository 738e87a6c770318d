#!/bin/sh
# The fhir-rest source's checkpoint readers (src/sources/fhir_rest.c:
# sl_rest_resume_at, sl_rest_since) replay their seed corpus
# (tests/fuzz/corpus/rest_ck/: mid-run and end-of-run checkpoints, broken
# ones) without a crash or a broken promise (tests/fuzz/fuzz_rest_ck.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
F="${top_builddir}/tests/fuzz/fuzz_rest_ck"
C="${top_srcdir}/tests/fuzz/corpus/rest_ck"
set -- $(find "$C" -type f ! -name '.*' | LC_ALL=C sort)
$SLUICE_WRAP "$F" "$@" >"$T/out" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
[ $rc -eq 0 ] && [ "$ran" -eq $# ] || sed 's/^/# /' "$T/out" | tail -n 20
check "fuzz_rest_ck replays its $# seeds without a crash (exit $rc, $ran ran)" \
    sh -c "[ $rc -eq 0 ] && [ '$ran' -eq $# ]"
finish

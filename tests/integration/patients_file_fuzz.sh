#!/bin/sh
# The fhir-rest source's patient list file reader
# (src/sources/fhir_rest_list.c) replays its seed corpus
# (tests/fuzz/corpus/patients_file/: lists, comments, CRLF, bad lines,
# UTF-16, a NUL byte) without a crash or a broken promise
# (tests/fuzz/fuzz_patients_file.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
F="${top_builddir}/tests/fuzz/fuzz_patients_file"
C="${top_srcdir}/tests/fuzz/corpus/patients_file"
set -- $(find "$C" -type f ! -name '.*' | LC_ALL=C sort)
$SLUICE_WRAP "$F" "$@" >"$T/out" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
[ $rc -eq 0 ] && [ "$ran" -eq $# ] || sed 's/^/# /' "$T/out" | tail -n 20
check "fuzz_patients_file replays its $# seeds without a crash (exit $rc, $ran ran)" \
    sh -c "[ $rc -eq 0 ] && [ '$ran' -eq $# ]"
finish

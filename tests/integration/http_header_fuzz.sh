#!/bin/sh
# The reader of a response header line (src/http/http.c,
# sl_http_header_value) replays its seed corpus
# (tests/fuzz/corpus/http_header/: the headers the fhir-bulk source keeps,
# and lines that are not them) without a crash or a broken promise
# (tests/fuzz/fuzz_http_header.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
F="${top_builddir}/tests/fuzz/fuzz_http_header"
C="${top_srcdir}/tests/fuzz/corpus/http_header"
set -- $(find "$C" -type f ! -name '.*' | LC_ALL=C sort)
$SLUICE_WRAP "$F" "$@" >"$T/out" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
[ $rc -eq 0 ] && [ "$ran" -eq $# ] || sed 's/^/# /' "$T/out" | tail -n 20
check "fuzz_http_header replays its $# seeds without a crash (exit $rc, $ran ran)" \
    sh -c "[ $rc -eq 0 ] && [ '$ran' -eq $# ]"
finish

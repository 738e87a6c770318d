#!/bin/sh
# The DICOMweb reader (multipart) replays its seed corpus
# (tests/fuzz/corpus/multipart/: answers as servers send them, cut,
# refused and malformed ones; written for the corpus, the project's
# licence) without a crash or a
# broken promise (tests/fuzz/fuzz_multipart.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
F="${top_builddir}/tests/fuzz/fuzz_multipart"
C="${top_srcdir}/tests/fuzz/corpus/multipart"
set -- $(find "$C" -type f ! -name '.*' | LC_ALL=C sort)
$SLUICE_WRAP "$F" "$@" >"$T/out" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
[ $rc -eq 0 ] && [ "$ran" -eq $# ] || sed 's/^/# /' "$T/out" | tail -n 20
check "fuzz_multipart replays its $# seeds without a crash (exit $rc, $ran ran)" \
    sh -c "[ $rc -eq 0 ] && [ '$ran' -eq $# ]"
finish

#!/bin/sh
# The Retry-After reader (src/http/http.c) replays its seed corpus
# (tests/fuzz/corpus/retry_after/: delay seconds, HTTP dates in their three
# forms, and values that are not one) without a crash or a
# broken promise (tests/fuzz/fuzz_retry_after.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
F="${top_builddir}/tests/fuzz/fuzz_retry_after"
C="${top_srcdir}/tests/fuzz/corpus/retry_after"
set -- $(find "$C" -type f ! -name '.*' | LC_ALL=C sort)
$SLUICE_WRAP "$F" "$@" >"$T/out" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
[ $rc -eq 0 ] && [ "$ran" -eq $# ] || sed 's/^/# /' "$T/out" | tail -n 20
check "fuzz_retry_after replays its $# seeds without a crash (exit $rc, $ran ran)" \
    sh -c "[ $rc -eq 0 ] && [ '$ran' -eq $# ]"
finish

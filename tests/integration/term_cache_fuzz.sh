#!/bin/sh
# term_cache_fuzz.sh - the remote terminology client's cache fuzz target
# replays its seeds (tests/fuzz/corpus/term_cache: values of its cache
# file, good, refused and cut) without a crash, a sanitizer report or a
# failed check. Works with the plain driver and with libFuzzer binaries.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
F="${top_builddir}/tests/fuzz/fuzz_term_cache"
set -- $(find "$top_srcdir/tests/fuzz/corpus/term_cache" -type f ! -name '.*' | LC_ALL=C sort)
n=$#
$SLUICE_WRAP "$F" "$@" >"$T/out" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
if [ $rc -ne 0 ] || [ "$ran" -ne "$n" ]; then
    diag "exit $rc, $ran of $n inputs ran"
    sed 's/^/# /' "$T/out" | tail -n 40
fi
check "fuzz_term_cache replays its $n seeds without a crash" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ]' _ $rc "$ran" $n
finish

#!/bin/sh
# validate_fuzz.sh - the validator loaders' fuzz target replays its
# seeds (tests/fuzz/corpus/validate_sd: StructureDefinitions by
# differential and snapshot, bad ones, Bundles and packages) without a crash,
# a sanitizer report or a failed check; so does the fuzz target of what the
# validator reads from a resource (tests/fuzz/corpus/validate_res:
# narratives, QuestionnaireResponses, extensions, Bundles). Works with the
# plain driver and with libFuzzer binaries.
. "${top_srcdir}/tests/integration/lib.sh"
plan 2
F="${top_builddir}/tests/fuzz/fuzz_validate_sd"
set -- $(find "$top_srcdir/tests/fuzz/corpus/validate_sd" -type f ! -name '.*' | LC_ALL=C sort)
n=$#
$SLUICE_WRAP "$F" "$@" >"$T/out" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
if [ $rc -ne 0 ] || [ "$ran" -ne "$n" ]; then
    diag "exit $rc, $ran of $n inputs ran"
    sed 's/^/# /' "$T/out" | tail -n 40
fi
check "fuzz_validate_sd replays its $n seeds without a crash" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ]' _ $rc "$ran" $n
F="${top_builddir}/tests/fuzz/fuzz_validate_res"
set -- $(find "$top_srcdir/tests/fuzz/corpus/validate_res" -type f ! -name '.*' | LC_ALL=C sort)
n=$#
$SLUICE_WRAP "$F" "$@" >"$T/out2" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out2")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out2")
if [ $rc -ne 0 ] || [ "$ran" -ne "$n" ]; then
    diag "exit $rc, $ran of $n inputs ran"
    sed 's/^/# /' "$T/out2" | tail -n 40
fi
check "fuzz_validate_res replays its $n seeds without a crash" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ]' _ $rc "$ran" $n
finish

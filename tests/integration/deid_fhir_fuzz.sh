#!/bin/sh
# deid_fhir_fuzz.sh - the FHIR engine's fuzz target replays its seeds
# (tests/fuzz/corpus/deid_fhir: every data-driven case, a synth Bundle and
# inputs that once crashed it) without a crash, a sanitizer report or a
# failed check. Works with the plain driver and with libFuzzer binaries.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
F="${top_builddir}/tests/fuzz/fuzz_deid_fhir"
SLUICE_PROFILE_DIR="$top_srcdir/profiles/deid"; export SLUICE_PROFILE_DIR
set -- $(find "$top_srcdir/tests/fuzz/corpus/deid_fhir" -type f ! -name '.*' | LC_ALL=C sort)
n=$#
$SLUICE_WRAP "$F" "$@" >"$T/out" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
if [ $rc -ne 0 ] || [ "$ran" -ne "$n" ]; then
    diag "exit $rc, $ran of $n inputs ran"
    sed 's/^/# /' "$T/out" | tail -n 40
fi
check "fuzz_deid_fhir replays its $n seeds without a crash" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ]' _ $rc "$ran" $n
finish

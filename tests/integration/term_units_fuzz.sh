#!/bin/sh
# term_units_fuzz.sh - the unit conversion tables' fuzz target
# replays its seeds (tests/fuzz/corpus/term_units: the shipped tables
# and the bad ones of units.json) without a crash, a sanitizer report or a
# failed check. Works with the plain driver and with libFuzzer binaries.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay term_units
finish

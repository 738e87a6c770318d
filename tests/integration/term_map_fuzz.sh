#!/bin/sh
# term_map_fuzz.sh - the terminology map loaders' fuzz target replays its
# seeds (tests/fuzz/corpus/term_map: the test maps, good and bad, and
# the shipped maps, as JSON and CSV) without a crash, a sanitizer report or a
# failed check. Works with the plain driver and with libFuzzer binaries.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay term_map
finish

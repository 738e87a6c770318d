#!/bin/sh
# text_detect_fuzz.sh - the free-text detectors' fuzz target replays its seeds
# (tests/fuzz/corpus/text_detect: sentences of the free-text set and
# fragments cut where a detector is midway) without a crash, a sanitizer report or a
# failed check. Works with the plain driver and with libFuzzer binaries.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay text_detect
finish

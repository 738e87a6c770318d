#!/bin/sh
# dimse_cohort_fuzz.sh - the fuzz target of the dimse source's studies
# file reader replays its seeds (tests/fuzz/corpus/dimse_cohort: made-up
# ImagingStudy lines, good and bad) without a crash, a sanitizer report or
# a failed check. Works with the plain driver and with libFuzzer binaries.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay dimse_cohort
finish

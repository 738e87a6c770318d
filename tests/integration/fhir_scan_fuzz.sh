#!/bin/sh
# fhir_scan_fuzz.sh - the NDJSON line reader's fuzz target replays its seeds
# (tests/fuzz/corpus/fhir_scan: lines of synth output, escapes, numbers,
# UTF-8 and malformed lines) without a crash, a sanitizer report or a
# failed check. Works with the plain driver and with libFuzzer binaries.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay fhir_scan
finish

#!/bin/sh
# deid_fhir_fuzz.sh - the FHIR engine's fuzz target replays its seeds
# (tests/fuzz/corpus/deid_fhir: every data-driven case, a synth Bundle and
# inputs that once crashed it) without a crash, a sanitizer report or a
# failed check. Works with the plain driver and with libFuzzer binaries.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
SLUICE_PROFILE_DIR="$top_srcdir/profiles/deid"; export SLUICE_PROFILE_DIR
fuzz_replay deid_fhir
finish

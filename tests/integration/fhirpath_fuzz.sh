#!/bin/sh
# fhirpath_fuzz.sh - the FHIRPath engine's fuzz target replays its
# seeds (tests/fuzz/corpus/fhirpath: expressions from tests/data/fhirpath,
# R4 invariants, bad ones, some with a resource) without a crash, a sanitizer report or a
# failed check. Works with the plain driver and with libFuzzer binaries.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay fhirpath
finish

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
fuzz_replay validate_sd
fuzz_replay validate_res
finish

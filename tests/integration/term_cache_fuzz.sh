#!/bin/sh
# term_cache_fuzz.sh - the remote terminology client's cache fuzz target
# replays its seeds (tests/fuzz/corpus/term_cache: values of its cache
# file, good, refused and cut) without a crash, a sanitizer report or a
# failed check. Works with the plain driver and with libFuzzer binaries.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay term_cache
finish

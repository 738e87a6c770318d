#!/bin/sh
# term_reply_fuzz.sh - the remote terminology client's reply fuzz target
# replays its seeds (tests/fuzz/corpus/term_reply: $translate replies,
# good, refused and truncated) without a crash, a sanitizer report or a
# failed check. Works with the plain driver and with libFuzzer binaries.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay term_reply
finish

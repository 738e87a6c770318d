#!/bin/sh
# The Retry-After reader (src/http/http.c) replays its seed corpus
# (tests/fuzz/corpus/retry_after/: delay seconds, HTTP dates in their three
# forms, and values that are not one) without a crash or a
# broken promise (tests/fuzz/fuzz_retry_after.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay retry_after
finish

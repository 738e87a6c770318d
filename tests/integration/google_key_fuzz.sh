#!/bin/sh
# The Google service account key reader replays its seed corpus
# (tests/fuzz/corpus/google_key/: a key file as the Cloud console writes
# it, and files that must be refused: not JSON, truncated, another type,
# an EC key, a field missing or not a string) without a crash or a broken
# promise. The seeds' keys were made for them with openssl (test keys of
# no account; the project's licence).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay google_key
finish

#!/bin/sh
# The Google service account key reader replays its seed corpus
# (tests/fuzz/corpus/google_key/: a key file as the Cloud console writes
# it, and files that must be refused: not JSON, truncated, another type,
# an EC key, a field missing or not a string) without a crash or a broken
# promise. The seeds' keys were made for them with openssl (test keys of
# no account; the project's licence).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
F="${top_builddir}/tests/fuzz/fuzz_google_key"
C="${top_srcdir}/tests/fuzz/corpus/google_key"
set -- $(find "$C" -type f ! -name '.*' | LC_ALL=C sort)
$SLUICE_WRAP "$F" "$@" >"$T/out" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
[ $rc -eq 0 ] && [ "$ran" -eq $# ] || sed 's/^/# /' "$T/out" | tail -n 20
check "fuzz_google_key replays its $# seeds without a crash (exit $rc, $ran ran)" \
    sh -c "[ $rc -eq 0 ] && [ '$ran' -eq $# ]"
finish

#!/bin/sh
# The reader of a token endpoint's reply (src/http/auth_token.c) replays
# its seed corpus (tests/fuzz/corpus/token_reply/: token replies shaped as
# oidc-provider's, Google's and Microsoft Entra's, OAuth errors, and broken
# ones) without a crash or a broken promise
# (tests/fuzz/fuzz_token_reply.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
F="${top_builddir}/tests/fuzz/fuzz_token_reply"
C="${top_srcdir}/tests/fuzz/corpus/token_reply"
set -- $(find "$C" -type f ! -name '.*' | LC_ALL=C sort)
$SLUICE_WRAP "$F" "$@" >"$T/out" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
[ $rc -eq 0 ] && [ "$ran" -eq $# ] || sed 's/^/# /' "$T/out" | tail -n 20
check "fuzz_token_reply replays its $# seeds without a crash (exit $rc, $ran ran)" \
    sh -c "[ $rc -eq 0 ] && [ '$ran' -eq $# ]"
finish

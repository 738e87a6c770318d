#!/bin/sh
# The reader of a token endpoint's reply (src/http/auth_token.c) replays
# its seed corpus (tests/fuzz/corpus/token_reply/: token replies shaped as
# oidc-provider's, Google's and Microsoft Entra's, OAuth errors, and broken
# ones) without a crash or a broken promise
# (tests/fuzz/fuzz_token_reply.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay token_reply
finish

#!/bin/sh
# The smart-backend private key reader (src/http/auth_jwt.c) replays its
# seed corpus (tests/fuzz/corpus/jwt_key/: RSA and EC keys made with
# openssl, refused kinds, encrypted, public, cut) without a crash or a
# broken promise (tests/fuzz/fuzz_jwt_key.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay jwt_key
finish

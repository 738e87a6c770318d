#!/bin/sh
# The smart-backend private key reader (src/http/auth_jwt.c) replays its
# seed corpus (tests/fuzz/corpus/jwt_key/: RSA and EC keys made with
# openssl, refused kinds, encrypted, public, cut) without a crash or a
# broken promise (tests/fuzz/fuzz_jwt_key.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
F="${top_builddir}/tests/fuzz/fuzz_jwt_key"
C="${top_srcdir}/tests/fuzz/corpus/jwt_key"
set -- $(find "$C" -type f ! -name '.*' | LC_ALL=C sort)
$SLUICE_WRAP "$F" "$@" >"$T/out" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
[ $rc -eq 0 ] && [ "$ran" -eq $# ] || sed 's/^/# /' "$T/out" | tail -n 20
check "fuzz_jwt_key replays its $# seeds without a crash (exit $rc, $ran ran)" \
    sh -c "[ $rc -eq 0 ] && [ '$ran' -eq $# ]"
finish

#!/bin/sh
# auth_mtls.sh - mutual TLS: a node:https server on 127.0.0.1
# (tests/auth-server/server.mjs) that requires a client certificate signed
# by a CA the test makes with openssl; sluice's <auth> gives the
# certificate, its encrypted key and the key's password (a secret).
# Skipped without node, npm or openssl.
. "${top_srcdir:-.}/tests/integration/lib.sh"
. "${top_srcdir:-.}/tests/integration/auth_lib.sh"

auth_start 6
U="https://127.0.0.1:$(port mtls)/fhir/metadata"
M="auth.client-cert=$K/client.pem auth.client-key=$K/client.key auth.client-key-password=env:SL_TEST_KEY_PASS"
export SL_TEST_KEY_PASS=key-pass-1

"$DRIVER" -c "$K/ca.pem" "$U" auth.type=mtls $M >"$T/ok.out" 2>&1
check "type mtls: the server accepts the client certificate" grep -q '"cn":"sluice-client"} 200$' "$T/ok.out"

"$DRIVER" -c "$K/ca.pem" "$U" auth.type=bearer auth.token=file:$K/static.token $M >"$T/both.out" 2>&1
check "a client certificate beside a bearer token" grep -q '"cn":"sluice-client"} 200$' "$T/both.out"

"$DRIVER" -c "$K/ca.pem" "$U" auth.type=bearer auth.token=file:$K/static.token >"$T/none.out" 2>&1
check "without a client certificate the handshake fails" sh -c '! grep -q " 200$" "$1"' _ "$T/none.out"

"$DRIVER" -c "$K/ca.pem" "$U" auth.type=mtls auth.client-cert=$K/other.pem \
    auth.client-key=$K/other.key >"$T/other.out" 2>&1
check "a certificate of another CA is refused" sh -c '! grep -q " 200$" "$1"' _ "$T/other.out"

SL_TEST_KEY_PASS=wrong "$DRIVER" -c "$K/ca.pem" "$U" auth.type=mtls $M >"$T/pass.out" 2>&1
diag "wrong key password: $(cat "$T/pass.out")"
check "a wrong key password: an error, and the password is not quoted" \
    sh -c '! grep -q " 200$" "$1" && ! grep -q "wrong" "$1"' _ "$T/pass.out"

"$DRIVER" "$U" auth.type=mtls auth.client-key=$K/client.key >/dev/null 2>"$T/nocert.err"
check "type mtls without client-cert: a configuration error" \
    grep -q "needs attribute 'client-cert'" "$T/nocert.err"
finish

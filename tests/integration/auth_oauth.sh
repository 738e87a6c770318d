#!/bin/sh
# auth_oauth.sh - OAuth 2.0 client credentials and SMART Backend Services
# tokens, fetched through src/http/auth.h (tests/tools/auth_get) from
# oidc-provider 9 on 127.0.0.1 (tests/auth-server/server.mjs), which
# checks the client secret or the signed client assertion (RS384 and
# ES384, the public keys registered inline) with its own code; a resource
# server beside it accepts only tokens the provider issued. Skipped
# without node, npm or openssl, or when npm cannot install the server.
. "${top_srcdir:-.}/tests/integration/lib.sh"
. "${top_srcdir:-.}/tests/integration/auth_lib.sh"

auth_start 20
TOK="http://127.0.0.1:$(port oidc)/token"
API="http://127.0.0.1:$(port api)"
# json FILE EXPR: prints EXPR (JavaScript over `j`) of the JSON in FILE
json() { node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(eval(process.argv[2]))' "$@"; }
tokens() { curl -s "$API/stats" >"$T/stats.json"; json "$T/stats.json" 'j.tokens'; }
CC="auth.type=client-credentials auth.client-id=cc-client auth.client-secret=file:$K/cc.secret auth.token-url=$TOK auth.scope=system/Patient.rs"

"$DRIVER" -n 3 "$API/Patient" $CC >"$T/cc.out" 2>"$T/cc.err"
check "client-credentials: three requests accepted by the resource server" \
    [ "$(grep -c '"client":"cc-client","scope":"system/Patient.rs"} 200$' "$T/cc.out")" = 3 ]
check "client-credentials: one token for three requests (cached)" [ "$(tokens)" = 1 ]

"$DRIVER" -n 2 -i "$API/Patient" $CC >"$T/inv.out" 2>&1
check "after sl_http_auth_invalidate the next request fetches a new token" \
    sh -c '[ "$(grep -c " 200$" "$1")" = 2 ] && [ "$2" = 3 ]' _ "$T/inv.out" "$(tokens)"

# cc-short's tokens live 3 s: a request 4 s later must not reuse one
"$DRIVER" -n 2 -s 4 "$API/Patient" \
    $(echo "$CC" | sed 's/client-id=cc-client/client-id=cc-short/') >"$T/short.out" 2>&1
check "a token about to expire is refreshed, not sent (3 s token, 4 s pause)" \
    sh -c '[ "$(grep -c " 200$" "$1")" = 2 ] && [ "$2" = 5 ]' _ "$T/short.out" "$(tokens)"

# a cached token revoked by the server: 401, invalidate, one retry with a
# new token (what the http client does on a 401)
"$DRIVER" -n 2 -r "$API/revoke-after" $CC >"$T/revoked.out" 2>&1
check "a revoked token: 401, then a new token is fetched and the retry is accepted" \
    sh -c '[ "$(grep -c " 200$" "$1")" = 2 ] && grep -q "^ 401, retrying$" "$1" && [ "$2" = 7 ]' _ "$T/revoked.out" "$(tokens)"

# one sl_http_auth shared by 8 threads: one token fetch, every request
# authorised
"$DRIVER" -t 8 -n 3 "$API/Patient" $CC >"$T/threads.out" 2>&1
check "8 threads at once through one auth: 24 requests accepted, one token fetched" \
    sh -c '[ "$(cat "$1")" = "200 x 24" ] && [ "$2" = 8 ]' _ "$T/threads.out" "$(tokens)"

printf 'not-the-secret-%s\n' $$ >"$T/bad.secret"
"$DRIVER" "$API/Patient" $(echo "$CC" | sed "s|file:$K/cc.secret|file:$T/bad.secret|") \
    >/dev/null 2>"$T/bad.err"
rc=$?
diag "wrong secret: $(cat "$T/bad.err")"
check "a wrong client secret: an error naming the endpoint's host, the HTTP status and the OAuth error" \
    sh -c '[ $1 = 2 ] && grep -q "token endpoint 127.0.0.1: HTTP 401, OAuth error invalid_client" "$2"' _ $rc "$T/bad.err"
check "the error does not quote the secret" sh -c '! grep -q "not-the-secret" "$1"' _ "$T/bad.err"

# SMART Backend Services: the same grant with a signed JWT assertion
smart() { # smart CLIENT KEY KID [more NAME=VALUE]
    c=$1 k=$2 kid=$3; shift 3
    "$DRIVER" "$API/Patient" auth.type=smart-backend auth.client-id="$c" \
        auth.key="file:$k" auth.kid="$kid" auth.token-url="$TOK" \
        auth.scope="system/Patient.rs system/Observation.rs" "$@"
}
for alg in RS384 ES384; do
    lc=$(echo $alg | cut -c1-2 | tr 'A-Z' 'a-z')
    smart $lc-client "$K/$lc.pem" $alg-key >"$T/$lc.out" 2>"$T/$lc.err"
    check "smart-backend $alg: the provider verifies the assertion and the token is accepted" \
        grep -q "\"client\":\"$lc-client\",\"scope\":\"system/Patient.rs system/Observation.rs\"} 200$" "$T/$lc.out"
    [ -s "$T/$lc.err" ] && diag "$(cat "$T/$lc.err")"
    tokens >/dev/null
    json "$T/stats.json" 'const a=j.assertion,c=a.claims;[a.header.alg,a.header.kid,a.header.typ,c.iss===c.sub&&c.iss,c.aud,c.exp-Math.floor(Date.now()/1000)<=300&&c.exp>c.iat,/^[0-9a-f]{32}$/.test(c.jti),a.type].join(" ")' >"$T/$lc.claims"
    check "smart-backend $alg: alg, kid, iss = sub, aud = token URL, exp within 5 minutes, random jti" \
        [ "$(cat "$T/$lc.claims")" = "$alg $alg-key JWT $lc-client $TOK true true urn:ietf:params:oauth:client-assertion-type:jwt-bearer" ]
    smart $lc-client "$K/wrong-$lc.pem" $alg-key >/dev/null 2>"$T/wrong-$lc.err"
    rc=$?
    diag "wrong $alg key: $(cat "$T/wrong-$lc.err")"
    check "smart-backend $alg with a key the server does not know: 401 and a clear error" \
        sh -c '[ $1 = 2 ] && grep -q "token endpoint 127.0.0.1: HTTP 401, OAuth error invalid_client" "$2" && ! grep -q "eyJ" "$2"' _ $rc "$T/wrong-$lc.err"
done

# two assertions never share a jti (the provider refuses a replay)
smart rs-client "$K/rs.pem" RS384-key >/dev/null 2>&1
j1=$(tokens >/dev/null; json "$T/stats.json" 'j.assertion.claims.jti')
smart rs-client "$K/rs.pem" RS384-key >/dev/null 2>&1
j2=$(tokens >/dev/null; json "$T/stats.json" 'j.assertion.claims.jti')
check "each assertion has a new jti" sh -c '[ -n "$1" ] && [ "$1" != "$2" ]' _ "$j1" "$j2"

smart es-client "$K/p256.pem" ES384-key >/dev/null 2>"$T/p256.err"
rc=$?
diag "P-256 key: $(cat "$T/p256.err")"
check "an EC key on P-256 is refused before any request, naming the attribute" \
    sh -c '[ $1 = 2 ] && grep -q "attribute .key.: the key must be RSA (RS384) or EC on P-384 (ES384), not EC on prime256v1" "$2"' _ $rc "$T/p256.err"

"$DRIVER" "$API/Patient" auth.type=client-credentials auth.client-id=cc-client \
    auth.client-secret=env:SL_TEST_NO_SUCH_VAR auth.token-url="$TOK" >/dev/null 2>"$T/env.err"
check "a secret from an unset variable: an error naming the attribute and the variable" \
    grep -q "<auth> attribute 'client-secret': environment variable SL_TEST_NO_SUCH_VAR is not set" "$T/env.err"

# the token endpoint over TLS, its certificate from the test's CA
TLS_TOK="https://127.0.0.1:$(port oidcTls)/token"
smart es-client "$K/es.pem" ES384-key auth.token-url="$TLS_TOK" auth.ca-file="$K/ca.pem" >"$T/tls.out" 2>&1
check "smart-backend with an https token endpoint trusted through ca-file" \
    grep -q '"client":"es-client".* 200$' "$T/tls.out"
"$DRIVER" "$API/Patient" $(echo "$CC" | sed "s|$TOK|$TLS_TOK|") >/dev/null 2>"$T/untrusted.err"
rc=$?
diag "untrusted: $(cat "$T/untrusted.err")"
check "an https token endpoint of an unknown CA: refused, the error names the host and the certificate" \
    sh -c '[ $1 = 2 ] && grep -q "token endpoint 127.0.0.1: .*certificate" "$2"' _ $rc "$T/untrusted.err"

# a port nothing listens on: the error names the endpoint's host
"$DRIVER" "$API/Patient" $(echo "$CC" | sed "s|$TOK|http://127.0.0.1:1/token|") >/dev/null 2>"$T/down.err"
check "an unreachable token endpoint: an error naming its host" \
    grep -q "token endpoint 127.0.0.1: .*" "$T/down.err"
finish

#!/bin/sh
# auth_sigv4.sh - AWS Signature Version 4 through libcurl's
# CURLOPT_AWS_SIGV4, as sluice signs requests to AWS HealthLake: a node
# server on 127.0.0.1 (tests/auth-server/server.mjs) re-computes each
# signature with AWS's own @smithy/signature-v4 and answers 403 when it
# differs. Skipped without node, npm or openssl.
. "${top_srcdir:-.}/tests/integration/lib.sh"
AWS_TOKEN="session-token-$$"
. "${top_srcdir:-.}/tests/integration/auth_lib.sh"

auth_start 9
B="http://127.0.0.1:$(port sigv4)/datastore/0123abcd/r4"
S="auth.type=aws-sigv4 auth.region=eu-west-3 auth.access-key-id=file:$K/akid auth.secret-access-key=file:$K/sak auth.session-token=file:$K/session"

"$DRIVER" "$B/Patient/p1" $S >"$T/get.out" 2>&1
check "a GET signed for healthlake (the default service) verifies" grep -q ' 200$' "$T/get.out"
check "the session token is sent and signed" grep -q 'x-amz-security-token' "$T/get.out"

# libcurl 7.88 (Debian 12) signs the query as it is given: a search URL
# sorted by name with values percent-encoded is its canonical form
"$DRIVER" "$B/Patient?_count=50&_lastUpdated=gt2024-01-01T00%3A00%3A00Z&name=x" $S >"$T/q.out" 2>&1
check "a search with a canonical query verifies" grep -q ' 200$' "$T/q.out"

# sluice puts the query in canonical form itself (libcurl 7.88 would sign
# it as written): unsorted names, a repeated name, reserved characters
# left raw and a lower-case escape all verify
"$DRIVER" "$B/Patient?name=O'Brien,Smith&_lastUpdated=gt2024-01-01T00:00:00Z&_count=50&address=a%2fb&_sort=-date&_sort=birthdate" $S >"$T/uq.out" 2>&1
check "a search with an unsorted, unencoded query verifies" grep -q ' 200$' "$T/uq.out"
grep -h 'sigv4:' "$T/server.log" | sed 's/^/# /'
"$DRIVER" "$B/Patient?b=2&a=1&c" $S >"$T/uq2.out" 2>&1
check "a parameter without a value verifies" grep -q ' 200$' "$T/uq2.out"

"$DRIVER" -d '{"resourceType":"Patient","id":"p1"}' "$B/Patient" $S >"$T/post.out" 2>&1
check "a POST with a body verifies (the body's hash is signed)" grep -q ' 200$' "$T/post.out"
check "the Content-Type of the POST is signed" grep -q '"content-type"' "$T/post.out"

printf 'wrongSecretKeyWrongSecretKeyWrongSecret\n' >"$T/bad.sak"
"$DRIVER" "$B/Patient/p1" $(echo "$S" | sed "s|file:$K/sak|file:$T/bad.sak|") >"$T/bad.out" 2>&1
check "a wrong secret key is refused by the verifier (403)" grep -q ' 403$' "$T/bad.out"

"$DRIVER" "$B/Patient/p1" auth.type=aws-sigv4 auth.access-key-id=file:$K/akid \
    auth.secret-access-key=file:$K/sak >/dev/null 2>"$T/noregion.err"
check "aws-sigv4 without a region: a configuration error" \
    grep -q "<auth> needs attribute 'region'" "$T/noregion.err"
finish

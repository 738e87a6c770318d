#!/bin/sh
# auth_basic.sh - HTTP Basic and fixed bearer tokens through
# src/http/auth.h against the resource server of tests/auth-server, and
# every <auth> type as `sluice check-config` reads it (attributes per
# type, secrets only as env:/file:). Skipped without node, npm or openssl.
. "${top_srcdir:-.}/tests/integration/lib.sh"
. "${top_srcdir:-.}/tests/integration/auth_lib.sh"

auth_start 10
API="http://127.0.0.1:$(port api)"

"$DRIVER" "$API/basic" auth.type=basic auth.user=alice auth.password=file:$K/basic.pass >"$T/basic.out" 2>&1
check "basic: user and password (with a ':' in it) accepted" grep -q '"user":"alice"} 200$' "$T/basic.out"
printf 'other\n' >"$T/other.pass"
"$DRIVER" "$API/basic" auth.type=basic auth.user=alice auth.password=file:$T/other.pass >"$T/basic2.out" 2>&1
check "basic: a wrong password gets the server's 401" grep -q '^ 401$' "$T/basic2.out"

SL_TEST_TOKEN=$(cat "$K/static.token") "$DRIVER" "$API/Patient" auth.type=bearer \
    auth.token=env:SL_TEST_TOKEN >"$T/bearer.out" 2>&1
check "bearer: a token from an environment variable accepted" grep -q '"client":"static"} 200$' "$T/bearer.out"
"$DRIVER" "$API/Patient" auth.type=bearer auth.token=file:$K/static.token >"$T/bearer2.out" 2>&1
check "bearer: a token from a file (its newline dropped) accepted" grep -q '"client":"static"} 200$' "$T/bearer2.out"

printf 'tok\r\nX-Injected: 1\n' >"$T/two-lines.token"
"$DRIVER" "$API/Patient" auth.type=bearer auth.token=file:$T/two-lines.token >"$T/inj.out" 2>"$T/inj.err"
check "bearer: a token file of two lines is refused before any request, without quoting it" \
    sh -c 'grep -q "attribute .token.: the secret holds a control character or a line break (byte 4)" "$1" && ! grep -q "Injected" "$1" && [ ! -s "$2" ]' _ "$T/inj.err" "$T/inj.out"

# the configuration: every type, as check-config sees it
mkdir -p "$T/cfg"
cat >"$T/cfg/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <target id="a" type="fhir-store" base="https://a.example/fhir"><auth type="basic" user="u" password="env:P"/></target>
  <target id="b" type="fhir-store" base="https://b.example/fhir"><auth type="bearer" token="file:tok"/></target>
  <target id="c" type="fhir-store" base="https://c.example/fhir"><auth type="client-credentials" client-id="i" client-secret="env:S" token-url="https://c.example/token" scope="system/Patient.rs"/></target>
  <target id="d" type="fhir-store" base="https://d.example/fhir"><auth type="smart-backend" client-id="i" key="file:k.pem" kid="k1" token-url="https://d.example/token" scope="system/Patient.rs"/></target>
  <target id="e" type="fhir-store" base="https://e.example/fhir"><auth type="aws-sigv4" region="us-east-1" access-key-id="env:A" secret-access-key="env:B" session-token="env:C"/></target>
  <target id="f" type="fhir-store" base="https://f.example/fhir"><auth type="mtls" client-cert="c.pem" client-key="c.key" client-key-password="env:K"/></target>
</sluice>
EOC
for f in tok k.pem c.pem c.key; do echo x >"$T/cfg/$f"; done
P=p S=s A=a B=b C=c K=k sluice check-config -c "$T/cfg/sluice.xml" >"$T/ok.out" 2>&1
grep -v "is not supported by this build yet" "$T/ok.out" >"$T/ok.rest"
check "check-config: every <auth> type with its attributes is valid" sh -c '! grep -q "sluice.xml:[0-9]" "$1"' _ "$T/ok.rest"
[ -s "$T/ok.rest" ] && diag "$(head -n 5 "$T/ok.rest")"

sed -e 's| kid="k1"||' -e 's|region="us-east-1" ||' -e 's|token="file:tok"|token="literal-token-value"|' \
    -e 's|user="u" password="env:P"|user="u" password="env:P" region="x"|' \
    "$T/cfg/sluice.xml" >"$T/cfg/bad.xml"
P=p S=s A=a B=b C=c K=k sluice check-config -c "$T/cfg/bad.xml" >"$T/bad.out" 2>&1
check "check-config: smart-backend without kid" grep -q "bad.xml:6: <auth> of type 'smart-backend' needs attribute 'kid'" "$T/bad.out"
check "check-config: aws-sigv4 without region" grep -q "bad.xml:7: <auth> of type 'aws-sigv4' needs attribute 'region'" "$T/bad.out"
check "check-config: an attribute of another type" grep -q "bad.xml:3: attribute 'region' does not apply to a <auth> of type 'basic'" "$T/bad.out"
check "check-config: a literal token is refused and not quoted" \
    sh -c 'grep -q "bad.xml:4:.*token" "$1" && ! grep -q "literal-token-value" "$1"' _ "$T/bad.out"
diag "$(cat "$T/bad.out")"
finish

#!/bin/sh
# fhir_rest_auth.sh - the fhir-rest source with OAuth 2.0 client
# credentials from a real token endpoint (oidc-provider, started by
# auth_lib.sh on 127.0.0.1), pulling from the real test FHIR server
# (tests/fhir-server) through the fault proxy, which answers 401 to one
# request in the middle of the pull, as a server does when a token
# expires: the source fetches a new token and goes on, nothing lost,
# nothing twice, no token printed.
. "${top_srcdir:-.}/tests/integration/lib.sh"
. "${top_srcdir:-.}/tests/integration/auth_lib.sh"

auth_start 3
TOK="http://127.0.0.1:$(port oidc)/token"
API="http://127.0.0.1:$(port api)"
FPID= XPID=
trap '[ -n "$XPID" ] && kill "$XPID" 2>/dev/null; [ -n "$FPID" ] && kill "$FPID" 2>/dev/null; auth_stop' EXIT
for tool in curl jq python3; do
    command -v $tool >/dev/null 2>&1 || skip_all 3 "needs $tool"
done
mkdir -p "$T/fhir"
cp "$top_srcdir/tests/fhir-server/package.json" \
   "$top_srcdir/tests/fhir-server/package-lock.json" \
   "$top_srcdir/tests/fhir-server/server.mjs" "$T/fhir/"
(cd "$T/fhir" && npm ci --no-audit --no-fund >"$T/npm-fhir.log" 2>&1) ||
    skip_all 3 "the test FHIR server cannot be installed"
node "$T/fhir/server.mjs" "$T/fport" 2>"$T/fhir.log" &
FPID=$!
i=0; while [ ! -s "$T/fport" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
BASE="http://127.0.0.1:$(cat "$T/fport")"
python3 "$top_srcdir/tests/tools/fault_proxy.py" "$T/xport" "$BASE" 2>"$T/proxy.log" &
XPID=$!
i=0; while [ ! -s "$T/xport" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
PROXY="http://127.0.0.1:$(cat "$T/xport")"

sluice synth --patients 3 --seed 9 -o "$T/syn" >/dev/null 2>&1
for f in "$T"/syn/fhir/*.json; do
    jq '.type = "batch" | .entry |= map(. + {request: {method: "PUT",
        url: (.resource.resourceType + "/" + .resource.id)}})' "$f" |
        curl -s -X POST -H 'content-type: application/fhir+json' \
            --data-binary @- "$BASE/" >/dev/null
done
N=$(jq -r '.entry[].resource.resourceType' "$T"/syn/fhir/*.json | wc -l)
cat >"$T/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <source id="ehr" type="fhir-rest" base="$PROXY/f401at-4-e/" page-size="3">
    <auth type="client-credentials" client-id="cc-client"
          client-secret="file:$K/cc.secret" token-url="$TOK" scope="system/Patient.rs"/>
    <resources>Patient Encounter Condition Observation DiagnosticReport MedicationRequest ImagingStudy</resources>
  </source>
</sluice>
EOC
before=$(curl -s "$API/stats" | jq -r .tokens)
sluice -c "$T/sluice.xml" pull --source ehr -o "$T/o" >/dev/null 2>"$T/err"
rc=$?
after=$(curl -s "$API/stats" | jq -r .tokens)
got=$(cat "$T"/o/*.ndjson | wc -l)
uniq=$(cat "$T"/o/*.ndjson | jq -r '.resourceType + "/" + .id' | sort -u | wc -l)
check "a 401 mid-pull: exit $rc, each of the $N resources once ($got, $uniq distinct)" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$4" ] && [ "$3" -eq "$4" ]' _ $rc "$got" "$uniq" "$N"
check "... because a second token was fetched from the token endpoint ($before -> $after)" \
    [ "$after" -eq $((before + 2)) ]
check "no secret or token printed" \
    sh -c '! grep -q -e "cc-secret" -e "Bearer" "$1"' _ "$T/err"
finish

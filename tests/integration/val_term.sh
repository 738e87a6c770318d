#!/bin/sh
# Validation through a terminology server on 127.0.0.1 (issue 15): the
# test FHIR server (tests/fhir-server, @medplum/fhir-router) holding the
# synth lab CodeSystem and a ValueSet of two of its codes, its
# ValueSet/$validate-code served by the server's test code. A profile
# (tests/data/terminology/remote/electrolyte-obs.StructureDefinition.json)
# binds Observation.code (required) to that ValueSet, which sluice does
# not have, and its invariant elec-1 asks method.memberOf() of it.
# - sluice validate --terminology: a code in the ValueSet passes, one not
#   in it is an error naming the ValueSet (extensible: a warning);
#   memberOf() likewise;
# - a ValueSet the server does not know: "could not check", a warning;
# - the cache: one request per distinct code (counted at the server);
# - the server stopped: "could not check" warnings, never a silent pass;
# - a job's <validate terminology-server="..."> quarantines the bad one;
# - R4 core's required binding of Money.currency (a ValueSet sluice cannot
#   expand) is asked of the server too.
. "${top_srcdir}/tests/integration/lib.sh"
. "${top_srcdir}/tests/integration/connectors_lib.sh"
plan 15
conn_need 15
LAB=http://hospital.example.org/lab-codes
VS=http://example.org/fhir/ValueSet/electrolytes
D="$top_srcdir/tests/data/terminology/remote"
P="$D/electrolyte-obs.StructureDefinition.json"
export SLUICE_TEST_OPLOG="$T/oplog"

start() {
    conn_start || return 1
    for f in "$D/lab-codes.CodeSystem.json" "$D/electrolytes.ValueSet.json" \
             "$D/currencies.ValueSet.json"; do
        t=$(jq -r .resourceType "$f"); id=$(jq -r .id "$f")
        curl -sf -X PUT -H 'Content-Type: application/fhir+json' \
            --data-binary @"$f" "$BASE/$t/$id" >/dev/null || return 1
    done
    : >"$T/oplog"
}
stop() { kill "$SRV_PID" "$PROXY_PID" 2>/dev/null; wait 2>/dev/null; SRV_PID=; PROXY_PID=; }
obs() { # obs FILE CODE [METHOD-CODE [INTERPRETATION]]
    local m="" i=""
    [ -n "${3:-}" ] && m=', "method": {"coding": [{"system": "'"$LAB"'", "code": "'"$3"'"}]}'
    [ -n "${4:-}" ] && i=', "interpretation": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "'"$4"'"}]}]'
    printf '{"resourceType": "Observation", "id": "o%s", "status": "final", "code": {"coding": [{"system": "%s", "code": "%s"}]}%s%s}\n' \
        "$(basename "$1" .json)" "$LAB" "$2" "$m" "$i" >"$1"
}
val() { # val OUT [options] INPUT...
    local out=$1; shift
    sluice -j 1 validate --profile "$P" --terminology "$BASE" "$@" >"$T/$out.out" 2>"$T/$out.err"
}
start || diag "the server did not start: $(tail -n 3 "$T/server.log")"
mkdir -p "$T/in" "$T/many"
obs "$T/in/good.json" K-SER
obs "$T/in/bad.json" CRP-HS
obs "$T/in/mgood.json" NA-SER NA-SER
obs "$T/in/mbad.json" NA-SER TSH-3G
obs "$T/in/unknown.json" K-SER "" H

val good "$T/in/good.json"
rc=$?
check "a code in the server-only ValueSet: valid (exit 0), no could-not-check" \
    sh -c '[ "$1" -eq 0 ] && ! grep -q "could not check" "$2" && grep -q "1 valid, 0 invalid" "$3"' _ $rc "$T/good.out" "$T/good.err"
val bad "$T/in/bad.json"
rc=$?
check "a code not in it: exit 3, an error naming the element and the ValueSet, not the code" \
    sh -c '[ "$1" -eq 3 ] && jq -e ".issue[] | select(.severity==\"error\" and .code==\"code-invalid\" and (.details.text | contains(\"not in the required ValueSet $2\")))" "$3" >/dev/null && ! grep -q CRP-HS "$3" "$4"' _ $rc "$VS" "$T/bad.out" "$T/bad.err"
val mem "$T/in/mgood.json" "$T/in/mbad.json"
rc=$?
check "memberOf() through the server: the method in the ValueSet passes, one not in it fails elec-1" \
    sh -c '[ "$1" -eq 3 ] && [ "$(sed -n 1p "$2" | jq "[.issue[] | select(.severity==\"error\")] | length")" -eq 0 ] && sed -n 2p "$2" | jq -e ".issue[] | select(.severity==\"error\" and (.details.text | startswith(\"elec-1\")))" >/dev/null' _ $rc "$T/mem.out"
sed 's|}$|, "bodySite": {"coding": [{"system": "'"$LAB"'", "code": "CRP-HS"}]}}|' "$T/in/good.json" >"$T/in/ext.json"
val ext "$T/in/ext.json"
rc=$?
check "an extensible binding the server says the code is outside of: a warning, not an error (exit 0)" \
    sh -c '[ "$1" -eq 0 ] && jq -e ".issue[] | select(.severity==\"warning\" and .code==\"code-invalid\" and .expression[0]==\"Observation.bodySite\" and (.details.text | contains(\"not in the extensible ValueSet $2\")))" "$3" >/dev/null' _ $rc "$VS" "$T/ext.out"
val unk "$T/in/unknown.json"
rc=$?
check "a ValueSet the server does not know: a could-not-check warning naming it (exit 0)" \
    sh -c '[ "$1" -eq 0 ] && jq -e ".issue[] | select(.severity==\"warning\" and (.details.text | contains(\"could not check the code against http://example.org/fhir/ValueSet/held-by-nobody\")))" "$2" >/dev/null' _ $rc "$T/unk.out"

# R4 core's binding of Money.currency (currencies: not expandable here)
claim() { # claim FILE CURRENCY
    printf '{"resourceType":"Claim","id":"c","status":"active","type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/claim-type","code":"oral"}]},"use":"claim","patient":{"reference":"Patient/1"},"created":"2020-01-01","provider":{"reference":"Organization/1"},"priority":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/processpriority","code":"normal"}]},"insurance":[{"sequence":1,"focal":true,"coverage":{"reference":"Coverage/1"}}],"total":{"value":1,"currency":"%s"}}\n' "$2" >"$1"
}
claim "$T/in/eur.json" EUR
claim "$T/in/xxx.json" XQZ
sluice -j 1 validate --terminology "$BASE" "$T/in/eur.json" >"$T/eur.out" 2>"$T/eur.err"
rc=$?
check "core's currency binding through the server: EUR is valid, nothing left unchecked" \
    sh -c '[ "$1" -eq 0 ] && ! grep -q "could not check" "$2" && grep -q "1 valid, 0 invalid" "$3"' _ $rc "$T/eur.out" "$T/eur.err"
sluice -j 1 validate --terminology "$BASE" "$T/in/xxx.json" >"$T/xxx.out" 2>"$T/xxx.err"
rc=$?
check "core's currency binding: a code not in the ValueSet is an error at Claim.total.currency" \
    sh -c '[ "$1" -eq 3 ] && jq -e ".issue[] | select(.severity==\"error\" and .expression[0]==\"Claim.total.currency\" and (.details.text | contains(\"not in the required ValueSet http://hl7.org/fhir/ValueSet/currencies\")))" "$2" >/dev/null' _ $rc "$T/xxx.out"

# the cache: 8 resources of 2 distinct codes, one request each
for i in 1 2 3 4; do obs "$T/many/k$i.json" K-SER; obs "$T/many/c$i.json" CRP-HS; done
: >"$T/oplog"
val many "$T/many"
rc=$?
n=$(wc -l <"$T/oplog")
check "the cache: 8 resources, 2 distinct codes, 2 requests at the server ($n)" \
    sh -c '[ "$1" -eq 3 ] && [ "$2" -eq 2 ] && grep -q "4 valid, 4 invalid" "$3"' _ $rc "$n" "$T/many.err"

# a job: <validate terminology-server="..."> quarantines the bad one
write_config "$T/job"
cp "$T/in/good.json" "$T/in/bad.json" "$T/job/in/fhir/"
sed -i 's|<pull from="ehr pacs"/>|<pull from="ehr pacs"/>\n    <validate profiles="'"$P"'" terminology-server="'"$BASE"'"/>|' "$T/job/sluice.xml"
sluice --config "$T/job/sluice.xml" check-config >"$T/cc.out" 2>&1
check "a job with <validate terminology-server> checks out" [ $? -eq 0 ]
sluice -j 1 --config "$T/job/sluice.xml" run t --no-progress >"$T/job.out" 2>"$T/job.err"
rc=$?
sluice --config "$T/job/sluice.xml" quarantine list >"$T/q.txt" 2>&1
check "the job quarantines the Observation whose code the server says is not in the ValueSet (exit 3)" \
    sh -c '[ "$1" -eq 3 ] && grep -q "not in the required ValueSet" "$2" && [ "$(grep -rl "\"K-SER\"" "$3" | wc -l)" -eq 1 ]' _ $rc "$T/q.txt" "$T/job/out/fhir"
# a server that wants a bearer token (the fault proxy's fbearer: 401
# unless "Authorization: Bearer sekrit"): <validate> takes an <auth> child
sed 's|terminology-server="[^"]*"/>|terminology-server="'"$PROXY"'/fbearer-0-sekrit"><auth type="bearer" token="env:TX_TOKEN"/></validate>|' \
    "$T/job/sluice.xml" >"$T/job/auth.xml"
rm -rf "$T/job/out" "$T/job/state" "$T/job/quarantine"
TX_TOKEN=sekrit sluice -j 1 --config "$T/job/auth.xml" run t --no-progress >"$T/job2.out" 2>"$T/job2.err"
rc=$?
TX_TOKEN=sekrit sluice --config "$T/job/auth.xml" quarantine list >"$T/q2.txt" 2>&1
check "<auth type=bearer> on <validate>: the server answers through it, the bad one quarantined, the token never logged" \
    sh -c '[ "$1" -eq 3 ] && grep -q "not in the required ValueSet" "$2" && ! grep -q sekrit "$3" "$4"' _ $rc "$T/q2.txt" "$T/job2.out" "$T/job2.err"
sed 's|<auth [^>]*/>||' "$T/job/auth.xml" >"$T/job/noauth.xml"
rm -rf "$T/job/out" "$T/job/state" "$T/job/quarantine"
sluice -j 1 --config "$T/job/noauth.xml" run t --no-progress >"$T/job3.out" 2>"$T/job3.err"
rc=$?
check "without <auth>: HTTP 401, both go on with a could-not-check warning (exit 0), none quarantined" \
    sh -c '[ "$1" -eq 0 ] && grep -q "could not check the code against.*HTTP 401" "$2" && [ ! -d "$3" -o -z "$(ls -A "$3" 2>/dev/null)" ]' _ $rc "$T/job3.out" "$T/job/quarantine"
sed 's|terminology-server="[^"]*"|terminology-server="ftp://x"|' "$T/job/sluice.xml" >"$T/job/badurl.xml"
sluice --config "$T/job/badurl.xml" check-config >"$T/cc2.out" 2>&1
rc=$?
check "a terminology-server that is not an http(s) URL: a config error naming the file and <validate>" \
    sh -c '[ "$1" -ne 0 ] && grep -q "badurl.xml:[0-9]*: <validate>: terminology-server" "$2"' _ $rc "$T/cc2.out"

# the server stopped: warnings, never a silent pass
stop
val down "$T/in/bad.json" "$T/in/mbad.json"
rc=$?
check "server down: the binding gives a could-not-check warning naming the ValueSet (no error, exit 0)" \
    sh -c '[ "$1" -eq 0 ] && [ "$(jq -c ".issue[] | select(.severity==\"warning\" and (.details.text | contains(\"could not check the code against $2\")))" "$3" | wc -l)" -ge 2 ]' _ $rc "$VS" "$T/down.out"
check "server down: memberOf() gives elec-1 could not be checked, naming the ValueSet" \
    sh -c 'sed -n 2p "$1" | jq -e ".issue[] | select(.severity==\"warning\" and (.details.text | startswith(\"elec-1 could not be checked\")) and (.details.text | contains(\"membership in $2\")))" >/dev/null' _ "$T/down.out" "$VS"
finish

#!/bin/sh
# fhir_store.sh - the fhir-store target against the real test FHIR server
# (tests/fhir-server) on 127.0.0.1, through `sluice run`: transaction,
# batch and one-by-one pushes land every resource once (counted on the
# server by search) with every reference resolving and the PHI gone; a
# resource the server refuses is found (a refused Bundle is split) and
# quarantined with the server's diagnostics while the rest goes on;
# 429/503 through the fault proxy are retried, a server that keeps
# answering 503 gets the resources quarantined; kill -9 mid-run and a
# resume leave no duplicate and nothing missing.
. "${top_srcdir:-.}/tests/integration/lib.sh"
. "${top_srcdir:-.}/tests/integration/connectors_lib.sh"

plan 29
conn_need 28

sluice synth --patients 4 --seed 7 -o "$T/syn" >/dev/null 2>&1
sluice keygen -o "$T/key" >/dev/null 2>&1
# counts by type of the input, and the patients' family names (PHI)
jq -r '.entry[].resource.resourceType' "$T"/syn/fhir/*.json | sort | uniq -c \
    | awk '{print $2, $1}' >"$T/want"
N=$(awk '{s += $2} END {print s}' "$T/want")
jq -r '.entry[].resource | select(.resourceType == "Patient") | .name[]?.family // empty' \
    "$T"/syn/fhir/*.json | sort -u >"$T/families"

# mkjob DIR BASE BUNDLE [MORE-ATTRS]: a job reading DIR/in, pushing to BASE
mkjob() {
    mkdir -p "$1/in"
    cp "$T"/syn/fhir/*.json "$1/in/"
    cat >"$1/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:$T/key"/>
  <state path="state.db"/>
  <quarantine path="quarantine"/>
  <source id="ehr" type="fhir-files" path="in"/>
  <target id="store" type="fhir-store" base="$2" bundle="$3" bundle-size="7" ${4:-}/>
  <job id="t">
    <pull from="ehr"/>
    <deid profile="basic"/>
    <push to="store"/>
  </job>
</sluice>
EOC
}
# counts by type on the server
server_counts() {
    while read -r type n; do
        echo "$type $(curl -s "$BASE/$type?_summary=count" | jq -r '.total')"
    done <"$T/want"
}
total_on_server() { server_counts | awk '{s += $2} END {print s}'; }

for mode in transaction batch none; do
    conn_start || { not_ok "$mode: the server starts"; continue; }
    d="$T/$mode"
    mkjob "$d" "$BASE" "$mode"
    sluice -c "$d/sluice.xml" -q run t --no-progress >"$d/out" 2>"$d/err"
    rc=$?
    [ $rc -eq 0 ] || sed 's/^/# /' "$d/err"
    server_counts >"$d/got"
    check "$mode: run exits 0 and the server holds every resource once ($N)" \
        sh -c '[ "$1" -eq 0 ] && cmp -s "$2" "$3"' _ $rc "$T/want" "$d/got"
    # references of what the server holds resolve there
    bad=0; nref=0
    for type in $(awk '{print $1}' "$T/want"); do
        curl -s "$BASE/$type?_count=1000" | jq -r '.. | objects | .reference? // empty'
    done | sort -u >"$d/refs"
    while read -r ref; do
        nref=$((nref + 1))
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/$ref")" = 200 ] || bad=1
    done <"$d/refs"
    check "$mode: all $nref references resolve on the server" \
        sh -c '[ "$1" -eq 0 ] && [ "$2" -gt 4 ]' _ $bad $nref
    if [ $mode = transaction ]; then
        curl -s "$BASE/Patient?_count=1000" >"$d/patients"
        leak=0
        while read -r fam; do grep -qF "$fam" "$d/patients" && leak=1; done <"$T/families"
        check "transaction: no family name of the input is on the server, 4 patients are" \
            sh -c '[ "$1" -eq 0 ] && [ "$(jq ".entry | length" "$2")" -eq 4 ]' _ $leak "$d/patients"
        # a second run of the same input (a re-run) duplicates nothing
        rm -f "$d/state.db"
        sluice -c "$d/sluice.xml" -q run t --no-progress >/dev/null 2>&1
        server_counts >"$d/got2"
        check "transaction: a re-run from scratch duplicates nothing" cmp -s "$T/want" "$d/got2"
    fi
    if :; then
        # one resource the server refuses, among good ones
        e="$T/$mode-bad"
        mkjob "$e" "$BASE" "$mode"
        printf '%s\n' \
            '{"resourceType":"Observation","id":"nocode","status":"final"}' \
            '{"resourceType":"Observation","id":"fine","status":"final","code":{"text":"ok"}}' \
            >"$e/in/extra.ndjson"
        before=$(curl -s "$BASE/Observation?_summary=count" | jq -r .total)
        sluice -c "$e/sluice.xml" -q run t --no-progress >/dev/null 2>"$e/err"
        rc=$?
        sluice -c "$e/sluice.xml" quarantine list --json >"$e/q.json" 2>/dev/null
        after=$(curl -s "$BASE/Observation?_summary=count" | jq -r .total)
        check "$mode: a refused resource is quarantined alone (exit $rc) with the server's words" \
            sh -c '[ "$1" -eq 3 ] && [ "$(jq length "$2")" -eq 1 ] &&
                   jq -e ".[0].position == \"file 5 line 1\" and
                          (.[0].reason | test(\"HTTP 400: Missing required property\"))" "$2" >/dev/null' \
            _ $rc "$e/q.json"
        check "$mode: the good resource after it is delivered" [ "$after" -eq $((before + 1)) ]
    fi
    kill "$PROXY_PID" "$SRV_PID" 2>/dev/null; wait 2>/dev/null
    PROXY_PID= SRV_PID=
done

# sluice push: files as they are, to a configured target, once
conn_start
d="$T/push"
mkjob "$d" "$BASE" batch
mkdir -p "$d/files"
printf '%s\n' \
    '{"resourceType":"Condition","id":"push-bad","subject":{"reference":"Patient/p1"},"clinicalStatus":{"coding":[{"code":"active"}]},"verificationStatus":{"coding":[{"code":"x"}]},"extension":"wrong"}' \
    '{"resourceType":"Patient","id":"push-p1","gender":"other"}' >"$d/files/a.ndjson"
cp "$T/syn/fhir/bundle-000001.json" "$d/files/"
nb=$(jq '.entry | length' "$d/files/bundle-000001.json")
sluice -c "$d/sluice.xml" push --target store --quarantine "$d/q" \
    "$d/files/a.ndjson" "$d/files/bundle-000001.json" >/dev/null 2>"$d/err"
rc=$?
check "push: exit 3, the refused resource in the quarantine folder with a reason" \
    sh -c '[ "$1" -eq 3 ] && [ "$(ls "$2"/*.reason.txt | wc -l)" -eq 1 ] &&
           grep -q "HTTP 400" "$2"/*.reason.txt' _ $rc "$d/q"
check "push: the Bundle's $nb entries and the good line are on the server" \
    sh -c '[ "$(curl -s "$1/Patient/push-p1" | jq -r .id)" = push-p1 ] &&
           [ "$(curl -s "$1/Condition/push-bad" | jq -r .resourceType)" = OperationOutcome ] &&
           grep -q "$3 sent to store, 1 quarantined" "$2"' _ "$BASE" "$d/err" $((nb + 1))
sluice -c "$d/sluice.xml" push --target nowhere --quarantine "$d/q2" "$d/files" >/dev/null 2>"$d/err2"
rc=$?
check "push: an unknown target is a usage error naming it" \
    sh -c '[ "$1" -eq 1 ] && grep -q "no target .nowhere." "$2"' _ $rc "$d/err2"
# an <auth> whose secret is missing stops the run before anything is sent,
# naming the variable and never a value
sed -i 's|bundle-size="7" />|bundle-size="7"><auth type="bearer" token="env:SL_TEST_TOKEN"/></target>|' "$d/sluice.xml"
env -u SL_TEST_TOKEN "$SLUICE" -c "$d/sluice.xml" -q run t --no-progress >/dev/null 2>"$d/err3"
rc=$?
check "a target whose <auth> secret is missing does not run (exit $rc)" \
    sh -c '[ "$1" -ne 0 ] && [ "$1" -ne 3 ] && grep -q "SL_TEST_TOKEN" "$2"' _ $rc "$d/err3"
kill "$PROXY_PID" "$SRV_PID" 2>/dev/null; wait 2>/dev/null
PROXY_PID= SRV_PID=

# faults through the proxy: 429 (Retry-After) and 503 are retried
conn_start
d="$T/faults"
mkjob "$d" "$PROXY/f429-2-a" transaction
sed -i "s|$PROXY/f429-2-a|$PROXY/f429-2-a/|" "$d/sluice.xml"
sluice -c "$d/sluice.xml" -q run t --no-progress >/dev/null 2>"$d/err"
rc=$?
server_counts >"$d/got"
check "429 twice, then accepted: exit $rc, every resource once" \
    sh -c '[ "$1" -eq 0 ] && cmp -s "$2" "$3"' _ $rc "$T/want" "$d/got"
check "the proxy saw the retries" [ "$(curl -s "$PROXY/count/a")" -gt 2 ]
# the run's summary counts them for the target (report and metrics)
sluice -c "$d/sluice.xml" report t -o "$d/report.html" >/dev/null 2>&1
r=$(sqlite3 "$d/state.db" "SELECT summary FROM runs" | jq '.targets.store[4]')
check "the run counts 2 retries for the target (summary: $r) and the report shows them" \
    sh -c '[ "$1" = 2 ] && grep -q "<td>target</td><td>store</td>.*<td>2</td></tr>" "$2"' _ "$r" "$d/report.html"
# a server that keeps answering 503: quarantined, not lost, not an endless run
e="$T/down"
mkjob "$e" "$PROXY/f503-100000-z/" batch 'max-attempts="2"'
sluice -c "$e/sluice.xml" -q run t --no-progress >/dev/null 2>"$e/err"
rc=$?
nq=$(sluice -c "$e/sluice.xml" quarantine list --json 2>/dev/null | jq length)
check "503 every time: exit $rc, all $N resources quarantined ($nq)" \
    sh -c '[ "$1" -eq 3 ] && [ "$2" -eq "$3" ]' _ $rc "$nq" $N
check "the warning names host, path and status, no body" \
    sh -c 'grep -q "127.0.0.1:[0-9]*/f503-100000-z: HTTP 503" "$1" && ! grep -q Smith "$1"' _ "$e/err"
# a bearer token from the environment goes with every request: a server
# that wants it takes everything, with the wrong one nothing
b="$T/bearer"
mkjob "$b" "$PROXY/fbearer-0-tok3n42/" transaction
sed -i 's|bundle-size="7" />|bundle-size="7"><auth type="bearer" token="env:SL_TEST_TOKEN"/></target>|' "$b/sluice.xml"
SL_TEST_TOKEN=tok3n42 "$SLUICE" -c "$b/sluice.xml" -q run t --no-progress >/dev/null 2>"$b/err"
rc=$?
check "<auth type=bearer>: the server that wants the token takes all (exit $rc: nothing quarantined)" \
    [ $rc -eq 0 ]
w="$T/bearer-wrong"
mkjob "$w" "$PROXY/fbearer-0-tok3n42/" transaction
sed -i 's|bundle-size="7" />|bundle-size="7"><auth type="bearer" token="env:SL_TEST_TOKEN"/></target>|' "$w/sluice.xml"
SL_TEST_TOKEN=wrong "$SLUICE" -c "$w/sluice.xml" -q run t --no-progress >/dev/null 2>"$w/err"
rc=$?
check "... with a wrong token nothing is delivered (exit $rc) and no token is printed" \
    sh -c '[ "$1" -ne 0 ] && ! grep -q -e wrong -e tok3n42 "$2"' _ $rc "$w/err"
kill "$PROXY_PID" "$SRV_PID" 2>/dev/null; wait 2>/dev/null
PROXY_PID= SRV_PID=

# kill -9 mid-run with 4 Bundles in flight, then resume: nothing missing,
# nothing twice
conn_start
sluice synth --patients 40 --seed 11 -o "$T/big" >/dev/null 2>&1
jq -r '.entry[].resource.resourceType' "$T"/big/fhir/*.json | sort | uniq -c \
    | awk '{print $2, $1}' >"$T/want"
NB=$(awk '{s += $2} END {print s}' "$T/want")
d="$T/kill"
mkdir -p "$d"
mkjob "$d" "$PROXY/fslow-0.05-k/" transaction 'concurrency="4"'
rm -f "$d"/in/*.json
cp "$T"/big/fhir/*.json "$d/in/"
$SLUICE -c "$d/sluice.xml" -q -j 2 run t --no-progress --commit-every 5 >/dev/null 2>&1 &
pid=$!
i=0
# kill once some resources are on the server
while [ "$(total_on_server)" -lt 40 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
mid=$(total_on_server)
check "the kill landed mid-run ($mid of $NB on the server)" \
    sh -c '[ "$1" -gt 0 ] && [ "$1" -lt "$2" ]' _ "$mid" "$NB"
sluice -c "$d/sluice.xml" -q run t --no-progress >/dev/null 2>"$d/err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$d/err"
server_counts >"$d/got"
check "resumed run exits 0 and the server holds each of $NB resources once" \
    sh -c '[ "$1" -eq 0 ] && cmp -s "$2" "$3"' _ $rc "$T/want" "$d/got"
check "with concurrency=4, Bundles were in flight at once ($(curl -s "$PROXY/peak/k") at most)" \
    [ "$(curl -s "$PROXY/peak/k")" -ge 2 ]
check "the run was resumed, not restarted" \
    sh -c '[ "$($SLUICE -c "$1" runs --json | jq length)" -eq 1 ] &&
           [ "$($SLUICE -c "$1" runs --json | jq ".[0].attempts")" -eq 2 ]' _ "$d/sluice.xml"
finish

#!/bin/sh
# fhir_rest.sh - the fhir-rest source and `sluice pull` against the real
# test FHIR server (tests/fhir-server: @medplum/fhir-router, with paging
# links, _include and $everything added as marked test code) on
# 127.0.0.1, through the fault proxy (tests/tools/fault_proxy.py) where a
# fault is wanted. Fixtures: `sluice synth` (fake patients), loaded with
# curl as batch PUTs.
. "${top_srcdir:-.}/tests/integration/lib.sh"
. "${top_srcdir:-.}/tests/integration/connectors_lib.sh"

plan 33
conn_need 33
conn_start || { i=0; while [ $i -lt 33 ]; do not_ok "the server starts"; i=$((i + 1)); done; finish; }

sluice synth --patients 12 --seed 5 -o "$T/syn" >/dev/null 2>&1
for f in "$T"/syn/fhir/*.json; do
    jq '.type = "batch" | .entry |= map(. + {request: {method: "PUT",
        url: (.resource.resourceType + "/" + .resource.id)}})' "$f" |
        curl -s -X POST -H 'content-type: application/fhir+json' \
            --data-binary @- "$BASE/" >/dev/null
done
TYPES="Patient Encounter Condition Observation DiagnosticReport MedicationRequest ImagingStudy"
# type count, on the server, by search
server_counts() {
    for t in $TYPES; do
        echo "$t $(curl -s "$BASE/$t?_summary=count" | jq -r .total)"
    done
}
# type count of the NDJSON files in a folder (each "Type/id" once)
file_counts() {
    for t in $TYPES; do
        echo "$t $(cat "$1"/*.ndjson 2>/dev/null | jq -r "select(.resourceType == \"$t\") | .id" | wc -l)"
    done
}
dups() { cat "$1"/*.ndjson | jq -r '.resourceType + "/" + .id + "/" + .meta.versionId' | sort | uniq -d | wc -l; }
server_counts >"$T/want"
N=$(awk '{s += $2} END {print s}' "$T/want")
NOBS=$(awk '$1 == "Observation" {print $2}' "$T/want")

# cfg DIR BASE [ATTRS] [TYPES]: a config with source ehr and a job j
# writing NDJSON to DIR/out
cfg() {
    mkdir -p "$1"
    cat >"$1/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <state path="state.db"/>
  <quarantine path="quarantine"/>
  <source id="ehr" type="fhir-rest" base="$2" page-size="7" ${3:-}>
    <resources>${4:-$TYPES}</resources>
  </source>
  <target id="out" type="fhir-files" path="out"/>
  <job id="j"><pull from="ehr"/><push to="out"/></job>
</sluice>
EOC
}

# 1. a full pull: every resource once, over many pages
d="$T/full"
cfg "$d" "$PROXY/fslow-0-full/"
sluice -c "$d/sluice.xml" pull --source ehr -o "$d/o" >/dev/null 2>"$d/err"
rc=$?
file_counts "$d/o" >"$d/got"
check "pull: exit 0 and each of the $N resources once, per type" \
    sh -c '[ "$1" -eq 0 ] && cmp -s "$2" "$3" && [ "$4" -eq 0 ]' _ $rc "$T/want" "$d/got" "$(dups "$d/o")"
pages=0; for t in $TYPES; do n=$(awk -v t=$t '$1 == t {print $2}' "$T/want"); pages=$((pages + n / 7 + 1)); done
check "pull: one request per page, following next links ($pages pages)" \
    [ "$(curl -s "$PROXY/count/full")" -eq $pages ]
check "pull: the summary counts what was read" grep -q "sluice pull: $N resources from ehr, 0 quarantined" "$d/err"
sluice -c "$d/sluice.xml" pull --source ehr -o "$d/o" >/dev/null 2>"$d/err2"
rc=$?
check "pull: a folder that is not empty is refused (exit $rc)" \
    sh -c '[ "$1" -eq 1 ] && grep -q "not empty" "$2"' _ $rc "$d/err2"
sluice -c "$d/sluice.xml" pull --source nowhere -o "$d/o2" >/dev/null 2>"$d/err3"
rc=$?
check "pull: an unknown source is a usage error naming it (exit $rc)" \
    sh -c '[ "$1" -eq 1 ] && grep -q "no source .nowhere." "$2"' _ $rc "$d/err3"

# 2. paging over many pages: 2 a page
d="$T/pages"
cfg "$d" "$PROXY/fslow-0-pages/" "" Observation
sed -i 's/page-size="7"/page-size="2"/' "$d/sluice.xml"
sluice -c "$d/sluice.xml" pull --source ehr -o "$d/o" >/dev/null 2>&1
rc=$?
check "paging: $NOBS Observations 2 a page, each once (exit $rc)" \
    sh -c '[ "$1" -eq 0 ] && [ "$(wc -l <"$2/Observation.ndjson")" -eq "$3" ] &&
           [ "$(cut -c1-200 "$2/Observation.ndjson" | sort -u | wc -l)" -eq "$3" ] &&
           [ "$(curl -s "$4/count/pages")" -eq $(($3 / 2 + 1)) ]' _ $rc "$d/o" $NOBS "$PROXY"

# 3. a job, incremental: creates, updates and deletes between runs
d="$T/inc"
cfg "$d" "$BASE"
sluice -c "$d/sluice.xml" -q run j --no-progress >/dev/null 2>&1
r1=$(ls "$d/out")
file_counts "$d/out/$r1" >"$d/got1"
check "run 1 reads everything" cmp -s "$T/want" "$d/got1"
sleep 1
sluice -c "$d/sluice.xml" run j --no-progress >/dev/null 2>"$d/err2"
r2=$(ls -t "$d/out" | head -n 1)
check "run 2, nothing changed: nothing read again (the overlap is skipped)" \
    sh -c '[ "$(cat "$1"/*.ndjson 2>/dev/null | wc -l)" -eq 0 ] && grep -q "brought again: skipped" "$2"' _ "$d/out/$r2" "$d/err2"
obs=$(curl -s "$BASE/Observation?_count=1" | jq -r '.entry[0].resource.id')
con=$(curl -s "$BASE/Condition?_count=1" | jq -r '.entry[0].resource.id')
curl -s "$BASE/Observation/$obs" | jq '.status = "amended"' |
    curl -s -X PUT -H 'content-type: application/fhir+json' --data-binary @- "$BASE/Observation/$obs" >/dev/null
curl -s -X PUT -H 'content-type: application/fhir+json' "$BASE/Observation/inc-new-1" \
    -d '{"resourceType":"Observation","id":"inc-new-1","status":"final","code":{"text":"new"}}' >/dev/null
curl -s -X PUT -H 'content-type: application/fhir+json' "$BASE/Patient/inc-new-2" \
    -d '{"resourceType":"Patient","id":"inc-new-2","gender":"other"}' >/dev/null
curl -s -X DELETE "$BASE/Condition/$con" >/dev/null
sluice -c "$d/sluice.xml" -q run j --no-progress >/dev/null 2>&1
rc=$?
r3=$(ls -t "$d/out" | head -n 1)
cat "$d/out/$r3"/*.ndjson | jq -r '.resourceType + "/" + .id + " " + (.status // "-")' | sort >"$d/got3"
printf '%s\n' "Observation/$obs amended" "Observation/inc-new-1 final" "Patient/inc-new-2 -" | sort >"$d/want3"
check "run 3 reads exactly the 2 created and the 1 updated resource (exit $rc)" cmp -s "$d/want3" "$d/got3"
check "... and not the deleted one, which the server no longer has" \
    sh -c '! grep -q "Condition/$1" "$2" && [ "$(curl -s -o /dev/null -w "%{http_code}" "$3/Condition/$1")" != 200 ]' _ "$con" "$d/got3" "$BASE"
server_counts >"$T/want"
N=$(awk '{s += $2} END {print s}' "$T/want")

# 4. $everything per patient of a list, and _include
d="$T/ev"
cfg "$d" "$BASE" "patients=\"pats\" everything=\"yes\""
curl -s "$BASE/Patient?_count=2" | jq -r '.entry[].resource.id' >"$d/pats"
want=0
while read -r p; do
    for t in $TYPES; do
        if [ $t = Patient ]; then q="_id=$p"; else q="patient=Patient/$p"; fi
        want=$((want + $(curl -s "$BASE/$t?$q&_summary=count" | jq -r .total)))
    done
done <"$d/pats"
sluice -c "$d/sluice.xml" pull --source ehr -o "$d/o" >/dev/null 2>&1
rc=$?
check "\$everything of 2 patients: their $want resources, each once (exit $rc)" \
    sh -c '[ "$1" -eq 0 ] && [ "$(cat "$2"/*.ndjson | wc -l)" -eq "$3" ] && [ "$4" -eq 0 ] &&
           [ "$(wc -l <"$2/Patient.ndjson")" -eq 2 ]' _ $rc "$d/o" $want "$(dups "$d/o")"
d="$T/inc2"
cfg "$d" "$BASE" 'include="Observation:subject"' Observation
sluice -c "$d/sluice.xml" pull --source ehr -o "$d/o" >/dev/null 2>&1
check "_include=Observation:subject brings the Observations' patients" \
    sh -c '[ "$(wc -l <"$1/Patient.ndjson")" -ge 2 ] && [ -s "$1/Observation.ndjson" ]' _ "$d/o"

# 5. faults through the proxy: nothing lost, nothing twice
for f in f429-2-a f503-2-b freset-2-c ftrunc-2-d; do
    d="$T/$f"
    cfg "$d" "$PROXY/$f/"
    sluice -c "$d/sluice.xml" pull --source ehr -o "$d/o" >/dev/null 2>&1
    rc=$?
    file_counts "$d/o" >"$d/got"
    check "$f: retried, every resource once (exit $rc)" \
        sh -c '[ "$1" -eq 0 ] && cmp -s "$2" "$3" && [ "$4" -eq 0 ]' _ $rc "$T/want" "$d/got" "$(dups "$d/o")"
done
d="$T/down"
cfg "$d" "$PROXY/f503-100000-z/" 'max-attempts="2"'
sluice -c "$d/sluice.xml" pull --source ehr -o "$d/o" >/dev/null 2>"$d/err"
rc=$?
check "503 every time: exit 2, the error names host, path and status, no body" \
    sh -c '[ "$1" -eq 2 ] && grep -q "source ehr: GET http://127.0.0.1:[0-9]*/f503-100000-z/Patient: HTTP 503" "$2" &&
           ! grep -q -e Smith -e _count "$2"' _ $rc "$d/err"
d="$T/refused"
cfg "$d" "$BASE" 'search="Observation?date=notadate"'
sluice -c "$d/sluice.xml" pull --source ehr -o "$d/o" --quarantine "$d/q" >/dev/null 2>&1
rc=$?
check "a refused search is quarantined with its path and status, the other types read (exit $rc)" \
    sh -c '[ "$1" -eq 3 ] && grep -q "GET http://127.0.0.1:[0-9]*/Observation: Observation page 1: the server refused the search: HTTP 400" "$2"/*.reason.txt &&
           [ ! -e "$3/Observation.ndjson" ] && [ "$(wc -l <"$3/Patient.ndjson")" -gt 0 ]' _ $rc "$d/q" "$d/o"
d="$T/bearer"
cfg "$d" "$PROXY/fbearer-0-tok3n42/" ""
sed -i 's|</source>|<auth type="bearer" token="env:SL_TEST_TOKEN"/></source>|' "$d/sluice.xml"
SL_TEST_TOKEN=tok3n42 "$SLUICE" -c "$d/sluice.xml" pull --source ehr -o "$d/o" >/dev/null 2>&1
rc=$?
SL_TEST_TOKEN=wrong "$SLUICE" -c "$d/sluice.xml" pull --source ehr -o "$d/o2" --quarantine "$d/q2" >/dev/null 2>"$d/err"
rc2=$?
check "<auth type=bearer>: read with the token (exit $rc); with a wrong one nothing, no token printed (exit $rc2)" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq 3 ] && [ ! -s "$3/Patient.ndjson" ] && grep -q "HTTP 401" "$4" && ! grep -q -e wrong -e Bearer "$4"' \
    _ $rc $rc2 "$d/o2" "$d/err"

# 6. kill -9 mid-run, then resume: nothing missing, nothing twice
d="$T/kill"
cfg "$d" "$PROXY/fslow-0.05-k/"
sed -i 's/page-size="7"/page-size="3"/' "$d/sluice.xml"
"$SLUICE" -c "$d/sluice.xml" -q -j 2 run j --no-progress --commit-every 2 >/dev/null 2>&1 &
pid=$!
i=0
while [ "$(cat "$d"/out/*/*.ndjson 2>/dev/null | wc -l)" -lt 20 ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
mid=$(cat "$d"/out/*/*.ndjson 2>/dev/null | wc -l)
check "the kill landed mid-run ($mid of $N)" sh -c '[ "$1" -gt 0 ] && [ "$1" -lt "$2" ]' _ "$mid" "$N"
sluice -c "$d/sluice.xml" -q run j --no-progress >/dev/null 2>&1
rc=$?
file_counts "$d/out/$(ls "$d/out")" >"$d/got"
check "resumed: exit 0, one run folder, each of the $N resources once" \
    sh -c '[ "$1" -eq 0 ] && [ "$(ls "$2/out" | wc -l)" -eq 1 ] && cmp -s "$3" "$4" && [ "$5" -eq 0 ]' \
    _ $rc "$d" "$T/want" "$d/got" "$(dups "$d/out/$(ls "$d/out" | head -n 1)")"
check "the run was resumed, not restarted" \
    sh -c '[ "$($SLUICE -c "$1" runs --json | jq ".[0].attempts")" -eq 2 ]' _ "$d/sluice.xml"

# 6b. the server goes away mid-run (its proxy killed: connections
# refused), the run fails naming it; when it is back the run resumes:
# nothing missing, nothing twice
d="$T/gone"
P2=
trap '[ -n "$P2" ] && kill "$P2" 2>/dev/null; conn_stop' EXIT
python3 "$top_srcdir/tests/tools/fault_proxy.py" "$d.port" "$BASE" 2>"$d.proxy.log" &
P2=$!
wait_file "$d.port"
gport=$(cat "$d.port")
cfg "$d" "http://127.0.0.1:$gport/fslow-0.05-g/" 'max-attempts="2"'
sed -i 's/page-size="7"/page-size="3"/' "$d/sluice.xml"
"$SLUICE" -c "$d/sluice.xml" -q run j --no-progress --commit-every 2 >/dev/null 2>"$d/err" &
pid=$!
i=0
while [ "$(cat "$d"/out/*/*.ndjson 2>/dev/null | wc -l)" -lt 20 ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
kill -9 "$P2" 2>/dev/null
wait "$P2" 2>/dev/null
P2=
wait $pid
rc=$?
mid=$(cat "$d"/out/*/*.ndjson 2>/dev/null | wc -l)
check "server gone mid-run ($mid of $N read): exit $rc, the error names the source, host and port" \
    sh -c '[ "$1" -eq 2 ] && [ "$3" -gt 0 ] && [ "$3" -lt "$4" ] &&
           grep -q "source ehr: .*127.0.0.1:$2" "$5" && ! grep -q -e _count -e Smith "$5"' \
    _ $rc "$gport" "$mid" "$N" "$d/err"
FAULT_PROXY_PORT=$gport python3 "$top_srcdir/tests/tools/fault_proxy.py" "$d.port2" "$BASE" 2>>"$d.proxy.log" &
P2=$!
wait_file "$d.port2"
sluice -c "$d/sluice.xml" -q run j --no-progress >/dev/null 2>&1
rc=$?
file_counts "$d/out/$(ls "$d/out" | head -n 1)" >"$d/got"
check "server back: the run resumes (exit $rc), one run folder, each of the $N resources once" \
    sh -c '[ "$1" -eq 0 ] && [ "$(ls "$2/out" | wc -l)" -eq 1 ] && cmp -s "$3" "$4" && [ "$5" -eq 0 ] &&
           [ "$($SLUICE -c "$2/sluice.xml" runs --json | jq ".[0].attempts")" -eq 2 ]' \
    _ $rc "$d" "$T/want" "$d/got" "$(dups "$d/out/$(ls "$d/out" | head -n 1)")"
kill "$P2" 2>/dev/null
wait "$P2" 2>/dev/null
P2=

# 7. pull -> de-identify -> push into a second server (a job that pushed
# into the server it searches would read its own copies again): the
# server takes all, every reference resolves there
SRV2_PID=
trap '[ -n "$SRV2_PID" ] && kill "$SRV2_PID" 2>/dev/null; conn_stop' EXIT
# (its CapabilityStatement does not list Patient/$everything: 9. below)
SLUICE_TEST_NO_EVERYTHING=1 node "$T/server/server.mjs" "$T/port2" 2>"$T/server2.log" &
SRV2_PID=$!
wait_file "$T/port2"
BASE2="http://127.0.0.1:$(cat "$T/port2")"
d="$T/trip"
cfg "$d" "$BASE"
sluice keygen -o "$d/key" >/dev/null 2>&1
sed -i "s|<state path|<keys pseudonym=\"file:$d/key\"/>\n  <state path|;
        s|<target id=\"out\" type=\"fhir-files\" path=\"out\"/>|<target id=\"store\" type=\"fhir-store\" base=\"$BASE2\" bundle=\"transaction\" bundle-size=\"20\"/>|;
        s|<push to=\"out\"/>|<deid profile=\"basic\"/><push to=\"store\"/>|" "$d/sluice.xml"
sluice -c "$d/sluice.xml" -q run j --no-progress >/dev/null 2>"$d/err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$d/err"
for t in $TYPES; do curl -s "$BASE/$t?_count=1000" | jq -r '.entry[].resource | .resourceType + "/" + .id'; done | sort >"$d/orig"
for t in $TYPES; do curl -s "$BASE2/$t?_count=1000" | jq -r '.entry[].resource | .resourceType + "/" + .id'; done | sort >"$d/new"
check "round trip: exit $rc, the second server holds each of the $N resources under a new id" \
    sh -c '[ "$1" -eq 0 ] && [ "$(wc -l <"$2")" -eq "$3" ] && [ "$(comm -12 "$4" "$2" | wc -l)" -eq 0 ]' _ $rc "$d/new" $N "$d/orig"
bad=0; nref=0
for t in $TYPES; do
    curl -s "$BASE2/$t?_count=1000" | jq -r '.entry[].resource | .. | objects | .reference? // empty'
done | sort -u >"$d/refs"
while read -r ref; do
    nref=$((nref + 1))
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE2/$ref")" = 200 ] || bad=1
done <"$d/refs"
check "round trip: all $nref references on the second server resolve there" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -gt 12 ]' _ $bad $nref

# 8. deletions between incremental runs (deletes="history"): each type's
# history since the last run (the front serves it: test code, see
# server.mjs) says what was deleted. A fhir-files target records it; the
# round trip's fhir-store target deletes the pseudonymised copies.
d="$T/del"
cfg "$d" "$BASE" 'deletes="history"'
sluice -c "$d/sluice.xml" -q run j --no-progress >/dev/null 2>&1
sleep 1
obs=$(curl -s "$BASE/Observation?_count=1" | jq -r '.entry[0].resource.id')
enc=$(curl -s "$BASE/Encounter?_count=1" | jq -r '.entry[0].resource.id')
put() { curl -s -X PUT -H 'content-type: application/fhir+json' "$BASE/$1" -d "$2" >/dev/null; sleep 0.05; }
put Observation/del-new-1 '{"resourceType":"Observation","id":"del-new-1","status":"final","code":{"text":"new"}}'
curl -s -X DELETE "$BASE/Observation/$obs" >/dev/null
curl -s -X DELETE "$BASE/Encounter/$enc" >/dev/null
sleep 0.05
# made, deleted and made again: it is there, not deleted
put Patient/del-back '{"resourceType":"Patient","id":"del-back","gender":"other"}'
curl -s -X DELETE "$BASE/Patient/del-back" >/dev/null
sleep 0.05
put Patient/del-back '{"resourceType":"Patient","id":"del-back","gender":"female"}'
sluice -c "$d/sluice.xml" -q run j --no-progress >/dev/null 2>"$d/err2"
rc=$?
r2=$(ls -t "$d/out" | head -n 1)
jq -r '.request.method + " " + .request.url' "$d/out/$r2/deleted.ndjson" 2>/dev/null | sort >"$d/gotdel"
printf '%s\n' "DELETE Encounter/$enc" "DELETE Observation/$obs" | sort >"$d/wantdel"
check "deletions: run 2 records exactly the 2 resources deleted since run 1 (exit $rc)" \
    sh -c '[ "$1" -eq 0 ] && cmp -s "$2" "$3"' _ $rc "$d/wantdel" "$d/gotdel"
cat "$d/out/$r2"/[A-Z]*.ndjson | jq -r '.resourceType + "/" + .id + " " + (.gender // .status // "-")' | sort >"$d/got2"
printf '%s\n' "Observation/del-new-1 final" "Patient/del-back female" | sort >"$d/want2"
check "deletions: ... and the created ones, one made again after its deletion among them" cmp -s "$d/want2" "$d/got2"
sleep 1
sluice -c "$d/sluice.xml" -q run j --no-progress >/dev/null 2>&1
r3=$(ls -t "$d/out" | head -n 1)
check "deletions: run 3, nothing changed: no deletion recorded again" \
    sh -c '[ ! -s "$1/deleted.ndjson" ] && [ "$(cat "$1"/*.ndjson 2>/dev/null | wc -l)" -eq 0 ]' _ "$d/out/$r3"
# the round trip's job, now with deletes="history": the second server
# ends up holding what the first holds, type by type
d="$T/trip"
sed -i 's|page-size="7"|page-size="7" deletes="history"|' "$d/sluice.xml"
sluice -c "$d/sluice.xml" run j --no-progress >/dev/null 2>"$d/err2"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$d/err2"
server_counts >"$d/c1"
( BASE=$BASE2; server_counts ) >"$d/c2"
check "deletions: the fhir-store target deleted the pseudonymised copies: both servers hold the same counts (exit $rc)" \
    sh -c '[ "$1" -eq 0 ] && cmp -s "$2" "$3"' _ $rc "$d/c1" "$d/c2"
# (the Condition deleted in 3. too: this job's first run did not read
# the history, so it had nothing to remember)
check "deletions: the log counts them" grep -q "3 resource(s) deleted on the server" "$d/err2"

# 9. everything="auto": Patient/$everything per patient when the server's
# CapabilityStatement (/metadata) lists it, else the searches by type
# (the second server's statement does not list it)
for srv in 1 2; do
    if [ $srv = 1 ]; then b=$BASE; else b=$BASE2; fi
    d="$T/auto$srv"
    cfg "$d" "$b" "patients=\"pats\" everything=\"auto\""
    curl -s "$b/Patient?_count=2" | jq -r '.entry[].resource.id' >"$d/pats"
    want=0
    while read -r p; do
        for t in $TYPES; do
            if [ $t = Patient ]; then q="_id=$p"; else q="patient=Patient/$p"; fi
            want=$((want + $(curl -s "$b/$t?$q&_summary=count" | jq -r .total)))
        done
    done <"$d/pats"
    sluice -c "$d/sluice.xml" pull --source ehr -o "$d/o" >/dev/null 2>"$d/err"
    rc=$?
    if [ $srv = 1 ]; then how="offers Patient/\$everything: one per patient"; else how="does not offer Patient/\$everything: searching by type"; fi
    check "everything=auto, server $srv: the server $(echo "$how" | cut -d: -f1), $want resources of 2 patients, each once (exit $rc)" \
        sh -c '[ "$1" -eq 0 ] && [ "$(cat "$2"/*.ndjson | wc -l)" -eq "$3" ] && [ "$4" -eq 0 ] && grep -qF "$5" "$6"' \
        _ $rc "$d/o" $want "$(dups "$d/o")" "$how" "$d/err"
done
finish

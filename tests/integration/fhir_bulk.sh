#!/bin/sh
# fhir_bulk.sh - the fhir-bulk source through `sluice run` with a files
# target, against the Bulk Data test harness (tests/fhir-server/bulk.mjs:
# the IG's kick-off / status / manifest / file protocol over the real
# Medplum FHIR server's data; no Bulk Data server can be installed here)
# on 127.0.0.1, with tests/tools/fault_proxy.py in front of it:
# a system export lands every resource once; Group and Patient exports
# take only what they should; the next run asks with _since and gets only
# the changes; the manifest's error file is quarantined with the server's
# words; Retry-After is honoured and files come gzipped; kill -9 during
# the downloads then a resume needs no new kick-off (one when the export
# expired meanwhile); Ctrl-C cancels the
# export with DELETE; resets, 503 and truncated bodies are retried;
# the token goes to the files only when the manifest asks for it.
. "${top_srcdir:-.}/tests/integration/lib.sh"
. "${top_srcdir:-.}/tests/integration/connectors_lib.sh"

plan 29
conn_need 27
cp "$top_srcdir/tests/fhir-server/bulk.mjs" "$T/server/"

PIDS=
bulk_stop() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    PIDS=
    wait 2>/dev/null
}
trap 'bulk_stop; conn_stop' EXIT
# bulk_start [VAR=VALUE...]: a fresh harness (empty repository) with the
# given environment and a fault proxy before it: sets H (the harness) and
# X (the proxy).
bulk_start() {
    rm -f "$T/hport" "$T/xport"
    env "$@" node "$T/server/bulk.mjs" "$T/hport" 2>>"$T/harness.log" &
    PIDS="$PIDS $!"
    wait_file "$T/hport" || return 1
    H="http://127.0.0.1:$(cat "$T/hport")"
    python3 "$top_srcdir/tests/tools/fault_proxy.py" "$T/xport" "$H" 2>>"$T/proxy.log" &
    PIDS="$PIDS $!"
    wait_file "$T/xport" || return 1
    X="http://127.0.0.1:$(cat "$T/xport")"
}
stat_of() { curl -s "$H/_harness/stats" | jq -r ".$1"; }

sluice synth --patients 4 --seed 11 -o "$T/syn" >/dev/null 2>&1
# load DIR: every resource of the synthetic set into the harness's server
load() {
    for f in "$T"/syn/fhir/*.json; do
        jq '{resourceType: "Bundle", type: "batch", entry: [.entry[] |
              {resource: .resource, request: {method: "PUT",
               url: (.resource.resourceType + "/" + .resource.id)}}]}' "$f" |
            curl -s -X POST -H 'content-type: application/fhir+json' \
                --data-binary @- "$H/" >/dev/null
    done
}
jq -r '.entry[].resource | .resourceType + "/" + .id' "$T"/syn/fhir/*.json |
    sort >"$T/all.ids"
jq -r '.entry[].resource | select(.resourceType == "Patient") | .name[]?.family // empty' \
    "$T"/syn/fhir/*.json | sort -u >"$T/families"
NALL=$(wc -l <"$T/all.ids")

# mkjob DIR BASE [SOURCE-ATTRS] [AUTH-ELEMENT]: a job exporting from BASE
# into DIR/out
mkjob() {
    mkdir -p "$1"
    cat >"$1/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <state path="state.db"/>
  <quarantine path="quarantine"/>
  <source id="bulk" type="fhir-bulk" base="$2" ${3:-}>${4:-}</source>
  <target id="out" type="fhir-files" path="out"/>
  <job id="t">
    <pull from="bulk"/>
    <push to="out"/>
  </job>
</sluice>
EOC
}
# ids DIR: Type/id of every resource the runs of DIR delivered, sorted
ids() { cat "$1"/out/*/*.ndjson 2>/dev/null | jq -r '.resourceType + "/" + .id' | sort; }
run() { sluice -c "$1/sluice.xml" run t --no-progress >"$1/out.txt" 2>"$1/err.txt"; }
no_phi() {
    while read -r fam; do grep -qF "$fam" "$@" && return 1; done <"$T/families"
    return 0
}

# ---- a system export, then an incremental one ----------------------------
bulk_start BULK_POLLS=2 BULK_RETRY_AFTER=1 BULK_FILE_MAX=7 || { not_ok "harness starts"; finish; }
load
d="$T/sys"
mkjob "$d" "$H" 'downloads="3"'
run "$d"; rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$d/err.txt"
ids "$d" >"$d/got"
check "system export: exit 0, every resource of the server once ($NALL)" \
    sh -c '[ "$1" -eq 0 ] && cmp -s "$2" "$3"' _ $rc "$T/all.ids" "$d/got"
check "kick-off asked with Prefer: respond-async and Accept: application/fhir+json" \
    sh -c 'curl -s "$1/_harness/stats" | jq -e ".lastKickoff.prefer == \"respond-async\" and (.lastKickoff.accept | test(\"application/fhir\\\\+json\"))" >/dev/null' _ "$H"
check "status polled 3 times, never before Retry-After said ($(stat_of polls) polls, $(stat_of earlyPolls) early)" \
    sh -c '[ "$1" -eq 3 ] && [ "$2" -eq 0 ]' _ "$(stat_of polls)" "$(stat_of earlyPolls)"
check "X-Progress is shown while the export runs" \
    grep -q 'export in progress (in progress: step 1 of 2)' "$d/err.txt"
check "... and goes to the progress observer (the progress line: status=)" \
    grep -q 'progress .*status=in progress: step 1 of 2' "$d/err.txt"
nfiles=$(stat_of files)
check "several files ($nfiles), every one downloaded gzip-encoded" \
    sh -c '[ "$1" -gt 3 ] && [ "$1" -eq "$2" ]' _ "$nfiles" "$(stat_of filesGzip)"
tt=$(sed -n 's/.*changes since \(.*\)$/\1/p' "$d/err.txt" | tail -n 1)
# between the runs: one patient changes, one observation is new
pid=$(grep '^Patient/' "$T/all.ids" | head -n 1)
curl -s "$H/$pid" | jq '.gender = "other"' |
    curl -s -X PUT -H 'content-type: application/fhir+json' --data-binary @- "$H/$pid" >/dev/null
curl -s -X PUT -H 'content-type: application/fhir+json' "$H/Observation/bulk-new-1" \
    --data-binary "{\"resourceType\":\"Observation\",\"id\":\"bulk-new-1\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"$pid\"}}" >/dev/null
run "$d"; rc=$?
last=$(ls -d "$d"/out/*/ | sort | tail -n 1)
cat "$last"/*.ndjson | jq -r '.resourceType + "/" + .id' | sort >"$d/inc"
printf '%s\n%s\n' "Observation/bulk-new-1" "$pid" | sort >"$d/inc.want"
check "next run: kick-off with _since = the last transactionTime ($tt)" \
    sh -c 'curl -s "$1/_harness/stats" | jq -r .lastKickoff.url | grep -qF "_since=$(printf %s "$2" | sed "s/:/%3A/g")"' _ "$H" "$tt"
check "next run: exit 0 and only the changed and the new resource" \
    sh -c '[ "$1" -eq 0 ] && cmp -s "$2" "$3"' _ $rc "$d/inc.want" "$d/inc"
check "no family name of the data in any message" no_phi "$d/err.txt" "$d/out.txt"

# ---- Group and Patient exports, error file -----------------------------------
p1=$(grep '^Patient/' "$T/all.ids" | sed -n 2p)
p2=$(grep '^Patient/' "$T/all.ids" | sed -n 3p)
curl -s -X PUT -H 'content-type: application/fhir+json' "$H/Group/cohort" --data-binary \
    "{\"resourceType\":\"Group\",\"id\":\"cohort\",\"type\":\"person\",\"actual\":true,\"member\":[{\"entity\":{\"reference\":\"$p1\"}},{\"entity\":{\"reference\":\"$p2\"}}]}" >/dev/null
d="$T/group"
mkjob "$d" "$H" 'level="group" group="cohort" types="Patient Observation"'
run "$d"; rc=$?
ids "$d" >"$d/got"
printf '%s\n%s\n' "$p1" "$p2" | sort >"$d/pats.want"
grep '^Patient/' "$d/got" >"$d/pats"
bad=0
for f in "$d"/out/*/Observation.ndjson; do
    jq -r '.subject.reference' "$f" | grep -qvxF -e "$p1" -e "$p2" && bad=1
done
nobs=$(grep -c '^Observation/' "$d/got")
check "Group export: exit 0, its 2 patients and only their observations ($nobs)" \
    sh -c '[ "$1" -eq 0 ] && cmp -s "$2" "$3" && [ "$4" -eq 0 ] && [ "$5" -gt 0 ]' _ $rc "$d/pats.want" "$d/pats" $bad "$nobs"
check "Group export: kick-off on Group/cohort/\$export with _type" \
    sh -c 'curl -s "$1/_harness/stats" | jq -r .lastKickoff.url | grep -q "^/Group/cohort/\$export?.*_type=Patient,Observation"' _ "$H"
d="$T/patient"
mkjob "$d" "$H" 'level="patient" types="Patient Encounter"'
run "$d"; rc=$?
ids "$d" >"$d/got"
grep -e '^Patient/' -e '^Encounter/' "$T/all.ids" >"$d/want"
check "Patient export: exit 0, every patient and encounter" \
    sh -c '[ "$1" -eq 0 ] && cmp -s "$2" "$3"' _ $rc "$d/want" "$d/got"
d="$T/errfile"
mkjob "$d" "$H" 'types="Observation Condition" type-filter="Observation?no-such-param=1"'
run "$d"; rc=$?
sluice -c "$d/sluice.xml" quarantine list >"$d/q" 2>&1
check "error file: exit 3, its OperationOutcome quarantined with the server's diagnostics" \
    sh -c '[ "$1" -eq 3 ] && grep -q "error file .* line 1" "$2" && grep -q "unknown search parameter no-such-param" "$2"' _ $rc "$d/q"
ids "$d" >"$d/got"
grep '^Condition/' "$T/all.ids" >"$d/want"
check "error file: the other types are delivered" cmp -s "$d/want" "$d/got"

# ---- faults through the proxy ---------------------------------------------------
for f in reset-1 503-2 trunc-3; do
    d="$T/fault-$f"
    k0=$(stat_of kickoffs)
    mkjob "$d" "$X/f$f-b$f" 'types="Patient Observation" max-attempts="5"'
    run "$d"; rc=$?
    [ $rc -eq 0 ] || sed 's/^/# /' "$d/err.txt"
    ids "$d" >"$d/got"
    grep -e '^Patient/' -e '^Observation/' "$T/all.ids" >"$d/want"
    echo "Observation/bulk-new-1" >>"$d/want"
    sort -o "$d/want" "$d/want"
    check "fault $f: exit 0, every resource once, one kick-off" \
        sh -c '[ "$1" -eq 0 ] && cmp -s "$2" "$3" && [ "$4" -eq $(($5 + 1)) ]' _ $rc "$d/want" "$d/got" "$(stat_of kickoffs)" "$k0"
done
check "the faults happened: a reset, two 503s, three bodies cut" \
    sh -c '[ "$(curl -s "$1/count/breset-1")" -ge 2 ] && [ "$(curl -s "$1/count/b503-2")" -ge 3 ] && [ "$(curl -s "$1/count/trunc:btrunc-3")" -ge 3 ]' _ "$X"

# ---- kill -9 during the downloads, resume without a new kick-off -------------
d="$T/kill"
mkjob "$d" "$X/fslow-0.5-slow" 'downloads="1"'
k0=$(stat_of kickoffs)
$SLUICE -c "$d/sluice.xml" run t --no-progress --commit-every 1 >"$d/out1.txt" 2>"$d/err1.txt" &
rp=$!
i=0
while [ "$(cat "$d"/out/*/*.ndjson 2>/dev/null | wc -l)" -lt 8 ] && [ $i -lt 300 ]; do
    sleep 0.1; i=$((i + 1))
done
sleep 0.3
kill -9 $rp; wait $rp 2>/dev/null
part=$(ids "$d" | wc -l)
run "$d"; rc=$?
ids "$d" >"$d/got"
sort "$T/all.ids" - <<EOF >"$d/want"
Observation/bulk-new-1
Group/cohort
EOF
check "kill -9 after $part of $(wc -l <"$d/want") resources, resume: exit 0, every resource exactly once" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -gt 0 ] && [ "$2" -lt "$(wc -l <"$3")" ] && cmp -s "$3" "$4"' _ $rc "$part" "$d/want" "$d/got"
check "the resume asked the same status URL: no new kick-off" \
    sh -c '[ "$1" -eq $(($2 + 1)) ] && grep -q "export ready" "$3"' _ "$(stat_of kickoffs)" "$k0" "$d/err.txt"
# the same, but the server dropped the export while the run was down
d="$T/expired"
mkjob "$d" "$X/fslow-0.5-slow2" 'downloads="1"'
k0=$(stat_of kickoffs)
$SLUICE -c "$d/sluice.xml" run t --no-progress --commit-every 1 >"$d/out1.txt" 2>"$d/err1.txt" &
rp=$!
i=0
while [ "$(cat "$d"/out/*/*.ndjson 2>/dev/null | wc -l)" -lt 8 ] && [ $i -lt 300 ]; do
    sleep 0.1; i=$((i + 1))
done
sleep 0.3
kill -9 $rp; wait $rp 2>/dev/null
curl -s -X POST "$H/_harness/expire" >/dev/null
run "$d"; rc=$?
ids "$d" | sort -u >"$d/got"
check "export expired before the resume: a warning, a new kick-off, exit 0, every resource delivered" \
    sh -c '[ "$1" -eq 0 ] && grep -q "no longer has the export" "$2" && [ "$3" -eq $(($4 + 2)) ] && cmp -s "$5" "$6"' \
    _ $rc "$d/err.txt" "$(stat_of kickoffs)" "$k0" "$T/kill/want" "$d/got"
bulk_stop

# ---- Ctrl-C cancels the export -----------------------------------------------------
bulk_start BULK_POLLS=1000 BULK_RETRY_AFTER=1 || { not_ok "harness starts"; finish; }
load
d="$T/cancel"
mkjob "$d" "$H"
$SLUICE -c "$d/sluice.xml" run t --no-progress >"$d/out.txt" 2>"$d/err.txt" &
rp=$!
i=0
while [ "$(stat_of polls)" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -INT $rp
wait $rp; rc=$?
check "Ctrl-C while the export runs: the run stops (exit $rc) and sends DELETE on the status URL" \
    sh -c '[ "$1" -ne 0 ] && [ "$2" -eq 1 ] && grep -q "export cancelled" "$3"' _ $rc "$(stat_of deletes)" "$d/err.txt"
# Ctrl-C while a kick-off answered 503 waits to be tried again: the run
# stops then, not after its 20 tries
d="$T/cancel503"
mkjob "$d" "$X/f503-100-stop" 'max-attempts="20"'
$SLUICE -c "$d/sluice.xml" run t --no-progress >"$d/out.txt" 2>"$d/err.txt" &
rp=$!
i=0
while [ "$(curl -s "$X/count/stop")" -lt 3 ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
kill -INT $rp
i=0
while kill -0 $rp 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 $rp 2>/dev/null && { kill -9 $rp; diag "still running 10 s after Ctrl-C"; }
wait $rp; rc=$?
check "Ctrl-C between tries of a kick-off: the run stops as interrupted ($(curl -s "$X/count/stop") of 20 tries made)" \
    sh -c '[ "$1" -eq 2 ] && [ "$2" -lt 20 ] && grep -q "interrupted by signal 2" "$3"' _ $rc "$(curl -s "$X/count/stop")" "$d/err.txt"
bulk_stop

# ---- the access token ------------------------------------------------------------
TOKEN=tok-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
export BULK_TEST_TOKEN="$TOKEN"
bulk_start BULK_POLLS=1 BULK_RETRY_AFTER=1 BULK_TOKEN="$TOKEN" || { not_ok "harness starts"; finish; }
load
d="$T/token"
mkjob "$d" "$H" 'types="Patient"' '<auth type="bearer" token="env:BULK_TEST_TOKEN"/>'
run "$d"; rc=$?
ids "$d" >"$d/got"
grep '^Patient/' "$T/all.ids" >"$d/want"
check "requiresAccessToken: exit 0, every patient, the token on every file request" \
    sh -c '[ "$1" -eq 0 ] && cmp -s "$2" "$3" && [ "$4" -gt 0 ] && [ "$4" -eq "$5" ] && [ "$6" -eq 0 ]' _ $rc "$d/want" "$d/got" \
    "$(stat_of files)" "$(stat_of filesWithToken)" "$(stat_of unauthorized)"
d="$T/badtoken"
mkjob "$d" "$H" 'types="Patient"' '<auth type="bearer" token="env:BULK_WRONG"/>'
BULK_WRONG=wrong-token-value sluice -c "$d/sluice.xml" run t --no-progress >"$d/out.txt" 2>"$d/err.txt"
rc=$?
check "a wrong token: exit 2, HTTP 401 and the path named, the token never" \
    sh -c '[ "$1" -eq 2 ] && grep -q "HTTP 401" "$2" && grep -q "/\$export" "$2" && ! grep -q "wrong-token-value\|$3" "$2"' _ $rc "$d/err.txt" "$TOKEN"
bulk_stop
bulk_start BULK_POLLS=1 BULK_RETRY_AFTER=1 BULK_TOKEN="$TOKEN" BULK_FILES_OPEN=1 || { not_ok "harness starts"; finish; }
load
d="$T/open"
mkjob "$d" "$H" 'types="Patient"' '<auth type="bearer" token="env:BULK_TEST_TOKEN"/>'
run "$d"; rc=$?
ids "$d" >"$d/got"
check "requiresAccessToken false: every patient, no token sent with the files" \
    sh -c '[ "$1" -eq 0 ] && cmp -s "$2" "$3" && [ "$4" -gt 0 ] && [ "$5" -eq 0 ]' _ $rc "$T/token/want" "$d/got" \
    "$(stat_of files)" "$(stat_of filesWithToken)"

# ---- a failed export, a refused kick-off --------------------------------------------
curl -s -X POST "$H/_harness/fail-next" >/dev/null
d="$T/failed"
mkjob "$d" "$H" 'types="Patient" max-attempts="1"' '<auth type="bearer" token="env:BULK_TEST_TOKEN"/>'
run "$d"; rc=$?
check "an export the server failed: exit 2, HTTP 500 and the status path named" \
    sh -c '[ "$1" -eq 2 ] && grep -q "GET http://127.0.0.1:[0-9]*/_bulk/status/[0-9a-f-]*: HTTP 500" "$2"' _ $rc "$d/err.txt"
d="$T/refused"
mkjob "$d" "$H" 'types="NoSuchType"' '<auth type="bearer" token="env:BULK_TEST_TOKEN"/>'
run "$d"; rc=$?
check "a refused kick-off: exit 2 with HTTP 400 and the server's OperationOutcome text" \
    sh -c '[ "$1" -eq 2 ] && grep -q "HTTP 400: unknown _type NoSuchType" "$2"' _ $rc "$d/err.txt"

# ---- a job with <deid>: its two passes read one export ---------------------------
d="$T/deid"
mkjob "$d" "$H" 'types="Patient"' '<auth type="bearer" token="env:BULK_TEST_TOKEN"/>'
sluice keygen -o "$d/key" >/dev/null 2>&1
sed -i "s|<state path|<keys pseudonym=\"file:$d/key\"/>\n  <state path|;
        s|<push to=\"out\"/>|<deid profile=\"basic\"/><push to=\"out\"/>|" "$d/sluice.xml"
k0=$(stat_of kickoffs)
run "$d"; rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$d/err.txt"
n=$(cat "$d"/out/*/*.ndjson 2>/dev/null | jq -r 'select(.resourceType == "Patient") | .id' | sort -u | wc -l)
check "<deid> job: one kick-off for both passes ($(($(stat_of kickoffs) - k0))), every patient delivered once ($n of $(wc -l <"$T/token/want")) (exit $rc)" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq 1 ] && [ "$3" -eq "$4" ] && grep -q "the run.s learning pass read (no new kick-off)" "$5"' \
    _ $rc "$(($(stat_of kickoffs) - k0))" "$n" "$(wc -l <"$T/token/want")" "$d/err.txt"
finish

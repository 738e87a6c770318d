#!/bin/sh
# sluice daemon as an operations team runs it: a job every minute on
# synthetic data, systemd's notify socket told READY and STOPPING, SIGHUP
# with a broken then a good configuration, 'sluice run' refused while
# another process holds the job, SIGTERM in the middle of a run, a restart
# (--once) that resumes it, and every resource at the target exactly once.
# It waits for two minute boundaries: about two minutes.
. "${top_srcdir}/tests/integration/lib.sh"
plan 18
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 missing"; exit 0; }
command -v sqlite3 >/dev/null || { echo "1..0 # SKIP sqlite3 missing"; exit 0; }

d=$T/d
mkdir -p "$d/in/fhir"
sluice synth --patients 4 --seed 21 --no-dicom -o "$T/a" >/dev/null 2>&1
sluice synth --patients 2500 --seed 22 --no-dicom -o "$T/b" >/dev/null 2>&1
cp "$T"/a/fhir/*.json "$d/in/fhir/"
na=$(count_entries "$T/a/fhir")
nb=$(count_entries "$T/b/fhir")
sluice keygen -o "$d/key" >/dev/null 2>&1
cat >"$d/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:key"/>
  <state path="state/sluice.db"/>
  <quarantine path="quarantine"/>
  <source id="ehr" type="fhir-files" path="in/fhir"/>
  <target id="fhir-out" type="fhir-files" path="out/fhir"/>
  <job id="every-minute" schedule="* * * * *" timezone="UTC">
    <pull from="ehr"/>
    <deid profile="longitudinal"/>
    <push to="fhir-out"/>
  </job>
</sluice>
EOC
cp "$d/sluice.xml" "$d/good.xml"

# wait_for FILE PATTERN SECONDS: until grep finds PATTERN in FILE.
wait_for() {
    local i=0
    while [ $i -lt $(($3 * 10)) ]; do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

python3 "${top_srcdir}/tests/tools/notify_listen.py" "$T/notify.sock" "$T/notify.log" &
npid=$!
wait_for_sock() { i=0; while [ ! -S "$T/notify.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; }
wait_for_sock
NOTIFY_SOCKET=$T/notify.sock $SLUICE --config "$d/sluice.xml" -j 1 daemon --grace 60 \
    >"$T/d.out" 2>"$T/d.err" &
dpid=$!
trap 'kill $dpid $npid 2>/dev/null; cleanup_tmp' EXIT

check "the daemon tells systemd it is ready (READY=1 on \$NOTIFY_SOCKET)" \
    wait_for "$T/notify.log" '^READY=1$' 10
check "it logs each job's next run" \
    grep -q 'scheduled job=every-minute schedule=\* \* \* \* \* next=20[0-9-]*T[0-9:]*Z' "$T/d.err"
check "the first scheduled run finishes within a minute or so" \
    wait_for "$T/d.err" 'run-end job=every-minute .*status=finished' 75
lines=$(cat "$d"/out/fhir/run-*/*.ndjson 2>/dev/null | wc -l)
check "it delivered the $na resources there were ($lines)" [ "$lines" -eq "$na" ]
check "and kept the run's HTML report beside the state store" \
    sh -c "ls '$d'/state/reports/run-*.html >/dev/null 2>&1 && grep -q '<svg' '$d'/state/reports/run-*.html"

# SIGHUP with a configuration that does not check: refused, named, kept.
sed 's|<push to="fhir-out"/>|<push to="nowhere"/>|' "$d/good.xml" >"$d/sluice.xml"
kill -HUP $dpid
check "SIGHUP with a broken configuration: refused, with file and line" \
    wait_for "$T/d.err" 'reload-refused error=.*sluice.xml:11: .*nowhere' 10
check "the daemon keeps running on the previous configuration" kill -0 $dpid
cp "$d/good.xml" "$d/sluice.xml"
kill -HUP $dpid
check "SIGHUP with a good configuration: reloaded" \
    wait_for "$T/d.err" 'reloaded config=' 10
check "systemd was told RELOADING=1" grep -q '^RELOADING=1$' "$T/notify.log"

# Another process holds the job (a lease row naming this shell, alive on
# this host): 'sluice run' refuses and says who.
start=$(sed 's/.*) //' /proc/$$/stat | cut -d' ' -f20)
sqlite3 "$d/state/sluice.db" "INSERT INTO leases VALUES ('every-minute', 'ops', '$(uname -n)', $$, $start, '2026-01-01T00:00:00Z', '2999-01-01T00:00:00Z')"
sluice --config "$d/sluice.xml" run every-minute --no-progress >"$T/run.out" 2>"$T/run.err"
rc=$?
check "sluice run beside a holder of the job exits 2" [ $rc -eq 2 ]
check "and says who holds it" grep -q "already running (ops@.* pid $$ since" "$T/run.err"
sqlite3 "$d/state/sluice.db" "DELETE FROM leases WHERE job = 'every-minute'"

# New data, then SIGTERM in the middle of the next run.
n0=$(grep -c 'run-start job=every-minute' "$T/d.err")
cp "$T"/b/fhir/*.json "$d/in/fhir/"
i=0
while [ "$(grep -c 'run-start job=every-minute' "$T/d.err")" -le "$n0" ] && [ $i -lt 750 ]; do
    sleep 0.1; i=$((i + 1))
done
sleep 0.5
kill -TERM $dpid
wait $dpid
rc=$?
check "SIGTERM mid-run: the daemon stops cleanly (exit $rc)" [ $rc -eq 0 ]
check "the run ended interrupted, to resume" \
    grep -q 'run-end job=every-minute .*status=interrupted' "$T/d.err"
check "systemd was told STOPPING=1" grep -q '^STOPPING=1$' "$T/notify.log"

# Restart (as cron or a Kubernetes CronJob would): the run resumes.
$SLUICE --config "$d/sluice.xml" -j 2 daemon --once >"$T/d2.out" 2>"$T/d2.err"
rc=$?
check "daemon --once resumes the interrupted run and exits 0 ($rc)" \
    sh -c "[ $rc -eq 0 ] && grep -q 'run-start job=every-minute why=resume' '$T/d2.err' && grep -q 'run-end job=every-minute .*status=finished' '$T/d2.err'"
runs=$(ls -d "$d"/out/fhir/run-* | wc -l)
check "two runs in all: the first and the resumed one ($runs)" [ "$runs" -eq 2 ]
lines=$(cat "$d"/out/fhir/run-*/*.ndjson | wc -l)
dups=$(cat "$d"/out/fhir/run-*/*.ndjson | grep -o '^{"resourceType":"[A-Za-z]*","id":"[^"]*"' | sort | uniq -d | wc -l)
check "exactly once at the target: $lines of $((na + nb)) resources, $dups duplicates" \
    [ "$lines" -eq $((na + nb)) ] && [ "$dups" -eq 0 ]
check "sluice jobs shows the next run and the last one" \
    sh -c "$SLUICE --config '$d/sluice.xml' jobs | grep -Eq '^every-minute +\* \* \* \* \* +20[0-9-]+T[0-9:]+Z .* finished 20'"
kill $npid 2>/dev/null
finish

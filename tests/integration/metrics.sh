#!/bin/sh
# The daemon's metrics as an operations team uses them: /healthz, /readyz
# and /metrics on loopback; promtool (Prometheus's) accepts /metrics; a
# real Prometheus (Debian prometheus, started here on 127.0.0.1 with a
# temporary config and storage, stopped by PID) scrapes sluice during a
# job's scheduled run and its HTTP API then gives the run and item
# counters, the per-target bytes counter and the per-stage time histogram;
# no PHI of the input is in any metric. promtool also checks the alert
# rules docs/operations.md gives. Waits for one minute boundary.
. "${top_srcdir}/tests/integration/lib.sh"
plan 14
for c in prometheus promtool curl python3; do
    command -v $c >/dev/null || { echo "1..0 # SKIP $c missing"; exit 0; }
done
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mp=$(port)
pp=$(port)

d=$T/d
mkdir -p "$d/in/fhir"
sluice synth --patients 4 --seed 61 --no-dicom -o "$T/syn" >/dev/null 2>&1
cp "$T"/syn/fhir/*.json "$d/in/fhir/"
n=$(count_entries "$T/syn/fhir")
sluice keygen -o "$d/key" >/dev/null 2>&1
cat >"$d/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:key"/>
  <state path="state/sluice.db"/>
  <source id="ehr" type="fhir-files" path="in/fhir"/>
  <target id="fhir-out" type="fhir-files" path="out/fhir"/>
  <job id="metered" schedule="* * * * *" timezone="UTC">
    <pull from="ehr"/>
    <deid profile="basic"/>
    <push to="fhir-out"/>
  </job>
</sluice>
EOC
$SLUICE --config "$d/sluice.xml" daemon --metrics "127.0.0.1:$mp" >"$T/d.out" 2>"$T/d.err" &
dpid=$!
cat >"$T/prom.yml" <<EOC
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: sluice
    static_configs:
      - targets: ['127.0.0.1:$mp']
EOC
prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/prom" \
    --web.listen-address="127.0.0.1:$pp" >"$T/prom.log" 2>&1 &
ppid=$!
trap 'kill $dpid $ppid 2>/dev/null; cleanup_tmp' EXIT

i=0; until curl -fs "http://127.0.0.1:$mp/healthz" >"$T/h" 2>/dev/null || [ $i -ge 50 ]; do sleep 0.1; i=$((i+1)); done
check "/healthz answers ok" grep -q '^ok$' "$T/h"
check "/readyz answers 200 once the daemon has planned its jobs" \
    sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$mp/readyz) = 200 ]"
check "another path is 404" \
    sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$mp/secrets) = 404 ]"

# the first scheduled run, at the next minute
i=0; until grep -q 'run-end job=metered' "$T/d.err" || [ $i -ge 750 ]; do sleep 0.1; i=$((i+1)); done
curl -fs "http://127.0.0.1:$mp/metrics" >"$T/metrics"
promtool check metrics <"$T/metrics" >"$T/promtool" 2>&1
rc=$?
sed 's/^/# /' "$T/promtool"
check "promtool check metrics passes on /metrics (exit $rc)" [ $rc -eq 0 ]
check "/metrics counts the run and its $n delivered items" \
    sh -c "grep -q '^sluice_runs_total{job_id=\"metered\",status=\"finished\"} 1$' '$T/metrics' && [ \$(grep '^sluice_items_total{job_id=\"metered\",.*outcome=\"delivered\"}' '$T/metrics' | awk '{s+=\$2} END {print s}') -eq $n ]"

# Prometheus has scraped it: ask its HTTP API
q() { curl -fs "http://127.0.0.1:$pp/api/v1/query" --data-urlencode "query=$1"; }
i=0; until q 'sluice_runs_total{status="finished"}' 2>/dev/null | grep -q '"metered"' || [ $i -ge 100 ]; do sleep 0.2; i=$((i+1)); done
q 'sluice_runs_total{status="finished"}' >"$T/q1" 2>&1
check "Prometheus scraped the run counter (job metered, 1 run)" \
    sh -c "grep -q '\"job_id\":\"metered\"' '$T/q1' && grep -q '\"1\"\\]' '$T/q1'"
q 'sum(sluice_items_total{outcome="delivered"})' >"$T/q2" 2>&1
check "and the delivered items: $n" grep -q "\"$n\"\\]" "$T/q2"
check "/metrics has items and bytes per source and target, by their ids" \
    sh -c "grep -q '^sluice_source_items_total{job_id=\"metered\",source=\"ehr\"} $n$' '$T/metrics' && grep -q '^sluice_target_items_total{job_id=\"metered\",target=\"fhir-out\"} $n$' '$T/metrics' && grep -Eq '^sluice_target_bytes_total\{job_id=\"metered\",target=\"fhir-out\"\} [1-9][0-9]{3,}$' '$T/metrics'"
check "/metrics has the per-stage time histogram (deid, one run)" \
    sh -c "grep -q '^sluice_stage_seconds_bucket{job_id=\"metered\",stage=\"deid\",le=\"+Inf\"} 1$' '$T/metrics' && grep -q '^sluice_stage_seconds_count{job_id=\"metered\",stage=\"deid\"} 1$' '$T/metrics'"
i=0; until q 'sluice_target_bytes_total' 2>/dev/null | grep -q '"fhir-out"' || [ $i -ge 100 ]; do sleep 0.2; i=$((i+1)); done
q 'sum by (target) (sluice_target_bytes_total{job_id="metered"})' >"$T/q4" 2>&1
b=$(sed -n 's/^sluice_target_bytes_total{job_id="metered",target="fhir-out"} //p' "$T/metrics")
check "Prometheus has the bytes written to target fhir-out ($b)" \
    sh -c "grep -q '\"target\":\"fhir-out\"' '$T/q4' && grep -q '\"$b\"\]' '$T/q4'"
q 'histogram_quantile(0.5, sum by (le, stage) (sluice_stage_seconds_bucket{job_id="metered"}))' >"$T/q5" 2>&1
check "and a quantile of the per-stage time histogram, per stage" \
    sh -c "grep -q '\"stage\":\"deid\"' '$T/q5' && grep -q '\"status\":\"success\"' '$T/q5'"
q 'up{job="sluice"}' >"$T/q3" 2>&1
check "Prometheus sees the target up" grep -q '"1"\]' "$T/q3"
fhir_phi 4 "$T"/syn/fhir/*.json >"$T/phi"
check "no PHI and no path in the metrics or the daemon's log" \
    sh -c "! grep -F -f '$T/phi' '$T/metrics' '$T/d.err' && ! grep -q '$d' '$T/metrics'"
# the alert rules of docs/operations.md, as a site would copy them
python3 - "$top_srcdir/docs/operations.md" >"$T/rules.yml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"```yaml\n(# sluice-alerts\.yml\n.*?)```", text, re.S)
print(m.group(1) if m else "")
PY
promtool check rules "$T/rules.yml" >"$T/rules.out" 2>&1
rc=$?
sed 's/^/# /' "$T/rules.out"
check "promtool check rules passes on the docs' alert rules (exit $rc)" \
    sh -c "[ $rc -eq 0 ] && grep -q 'SUCCESS: [1-9][0-9]* rules found' '$T/rules.out'"
kill $dpid $ppid 2>/dev/null
wait $dpid $ppid 2>/dev/null
finish

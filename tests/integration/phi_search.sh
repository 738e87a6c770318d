#!/bin/sh
# The privacy officer's check (issue 16): a scheduled job over data with
# known PHI (synthetic FHIR and DICOM with fake names, identifiers, birth
# dates, addresses and phone numbers; input folders and files named after
# a patient; a broken line and an image with burned-in text that are
# quarantined), de-identified, translated and validated, run by the
# daemon under a real Prometheus-format scrape and once more by hand;
# then everything an operator or auditor looks at is searched for that
# PHI: the daemon's and sluice run's logs (text and JSON, verbose),
# /metrics, `sluice runs`, `sluice jobs`, every run's HTML report, the
# audit export (FHIR AuditEvent), `audit verify`, `quarantine list` and
# `show` without --content. None of them may hold any of it. And the
# check can fail: the same search finds the PHI in the input and in
# `quarantine show --content` (which is for the operator, with the key).
# Waits for one minute boundary (the daemon's first scheduled run).
. "${top_srcdir}/tests/integration/lib.sh"
plan 13
for c in curl python3 dcmodify; do
    command -v $c >/dev/null || { echo "1..0 # SKIP $c missing"; exit 0; }
done
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mp=$(port)

d=$T/d
sluice synth --patients 4 --seed 71 -o "$T/syn" >/dev/null 2>&1
# the known PHI: every Patient's names, identifiers, birth date, address
# lines, city, phone and e-mail, and the DICOM PatientName / PatientID
fhir_phi 5 "$T"/syn/fhir/*.json >"$T/phi"
fam=$(python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); print([e["resource"] for e in b["entry"] if e["resource"]["resourceType"]=="Patient"][0]["name"][0]["family"])' "$T"/syn/fhir/bundle-000001.json)
mkdir -p "$d/in/fhir/Patient_$fam" "$d/in/dicom/$fam"
cp "$T"/syn/fhir/*.json "$d/in/fhir/Patient_$fam/"
printf '{"resourceType":"Patient","name":[{"family":"%s"}],"BROKEN\n' "$fam" >"$d/in/fhir/Patient_$fam/$fam.ndjson"
cp -r "$T"/syn/dicom/* "$d/in/dicom/$fam/"
f=$(find "$T/syn/dicom" -type f | head -1)
cp "$f" "$d/in/dicom/$fam/${fam}_capture.dcm"
dcmodify -nb -i "(0028,0301)=YES" "$d/in/dicom/$fam/${fam}_capture.dcm" >/dev/null 2>&1
echo "$d/in" >>"$T/phi"
n=$(wc -l <"$T/phi")
sluice keygen -o "$d/key" >/dev/null 2>&1
sluice keygen -o "$d/audit.key" >/dev/null 2>&1
sluice keygen -o "$d/q.key" >/dev/null 2>&1
cat >"$d/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:key" audit="file:audit.key"/>
  <state path="state/sluice.db"/>
  <quarantine path="quarantine" key="file:q.key" encrypt="required"/>
  <source id="ehr" type="fhir-files" path="in/fhir"/>
  <source id="pacs" type="dicom-folder" path="in/dicom"/>
  <target id="fhir-out" type="fhir-files" path="out/fhir"/>
  <target id="dicom-out" type="dicom-folder" path="out/dicom"/>
  <job id="nightly" schedule="* * * * *" timezone="UTC">
    <pull from="ehr pacs"/>
    <deid profile="longitudinal"/>
    <translate maps="lab-local-to-loinc"/>
    <validate on-error="warn"/>
    <push to="fhir-out dicom-out"/>
  </job>
</sluice>
EOC
check "the configuration checks out ($n PHI values to look for)" \
    sh -c "[ $n -ge 20 ] && $SLUICE --config '$d/sluice.xml' check-config >/dev/null 2>&1"

$SLUICE --config "$d/sluice.xml" --log-format json -v daemon --metrics "127.0.0.1:$mp" >"$T/daemon.out" 2>"$T/daemon.err" &
dpid=$!
trap 'kill $dpid 2>/dev/null; cleanup_tmp' EXIT
i=0; until grep -q 'run-end' "$T/daemon.err" || [ $i -ge 900 ]; do sleep 0.1; i=$((i+1)); done
curl -fs "http://127.0.0.1:$mp/metrics" >"$T/metrics" 2>/dev/null
kill -TERM $dpid 2>/dev/null
wait $dpid 2>/dev/null
check "the daemon ran the job once and /metrics was scraped" \
    sh -c "grep -q 'run-end' '$T/daemon.err' && grep -q '^sluice_runs_total' '$T/metrics'"

sluice --config "$d/sluice.xml" -v run nightly --no-progress >"$T/run.out" 2>"$T/run.err"
check "sluice run by hand: items quarantined (exit 3)" [ $? -eq 3 ]
sluice --config "$d/sluice.xml" runs >"$T/runs.txt" 2>&1
sluice --config "$d/sluice.xml" runs --json >"$T/runs.json" 2>&1
sluice --config "$d/sluice.xml" jobs >"$T/jobs.txt" 2>&1
for r in $(python3 -c 'import json,sys; print(" ".join(x["id"] if "id" in x else x["run"] for x in json.load(open(sys.argv[1]))))' "$T/runs.json" 2>/dev/null); do
    sluice --config "$d/sluice.xml" report "$r" -o "$T/report-$r.html" >/dev/null 2>&1
done
check "two runs listed, a report for each" \
    sh -c "[ \$(ls '$T'/report-*.html 2>/dev/null | wc -l) -eq 2 ]"
sluice --config "$d/sluice.xml" audit export -o "$T/audit.ndjson" >/dev/null 2>"$T/audit.err"
sluice --config "$d/sluice.xml" audit verify >"$T/verify.txt" 2>&1
rc=$?
check "the audit trail verifies (exit $rc) and exports" \
    sh -c "[ $rc -eq 0 ] && grep -q 'intact' '$T/verify.txt' && grep -q AuditEvent '$T/audit.ndjson'"
sluice --config "$d/sluice.xml" quarantine list --all >"$T/qlist.txt" 2>&1
sluice --config "$d/sluice.xml" quarantine list --all --json >"$T/qlist.json" 2>&1
: >"$T/qshow.txt"
for q in $(python3 -c 'import json,sys; print(" ".join(str(x["id"]) for x in json.load(open(sys.argv[1]))))' "$T/qlist.json"); do
    sluice --config "$d/sluice.xml" quarantine show "$q" >>"$T/qshow.txt" 2>&1
done
check "the quarantine holds the broken line and the capture, from both runs" \
    sh -c "[ \$(grep -c '^reason:' '$T/qshow.txt') -ge 2 ]"

# the search: each place on its own, so that a failure names it
nophi() { ! grep -F -f "$T/phi" "$@" >/dev/null 2>&1; }
check "no PHI in the daemon's JSON log" nophi "$T/daemon.err" "$T/daemon.out"
check "no PHI in sluice run's verbose log" nophi "$T/run.err" "$T/run.out"
check "no PHI in /metrics" nophi "$T/metrics"
check "no PHI in runs, jobs, the reports" nophi "$T/runs.txt" "$T/runs.json" "$T/jobs.txt" "$T"/report-*.html
check "no PHI in the audit export or audit verify" nophi "$T/audit.ndjson" "$T/audit.err" "$T/verify.txt"
check "no PHI in quarantine list and show" nophi "$T/qlist.txt" "$T/qlist.json" "$T/qshow.txt"
# the search itself works: it finds the PHI where it is
for q in $(python3 -c 'import json,sys; print(" ".join(str(x["id"]) for x in json.load(open(sys.argv[1]))))' "$T/qlist.json"); do
    sluice --config "$d/sluice.xml" quarantine show "$q" --content >>"$T/qcontent.txt" 2>/dev/null
done
check "the search finds the PHI in the input and in show --content" \
    sh -c "grep -rqF -f '$T/phi' '$d/in/fhir' && grep -qF -f '$T/phi' '$T/qcontent.txt'"
finish

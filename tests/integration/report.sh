#!/bin/sh
# The run report as a privacy officer opens it: `sluice report` writes one
# self-contained HTML page (no scripts, no external assets) for a run of a
# job on synthetic data with a quarantined item and two resources that fail
# validation; headless Chromium (Debian chromium) loads it, its SVG charts
# are in the page's DOM (items by type, time per stage, de-identification
# actions per rule, codes per map, validation findings per profile and
# message, quarantine reasons, throughput over the run between its
# checkpoints), a screenshot is taken, and Chromium prints
# it to a PDF (the print stylesheet); no PHI of the input is in it.
. "${top_srcdir}/tests/integration/lib.sh"
plan 15
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)

d=$T/d
mkdir -p "$d/in/fhir"
sluice synth --patients 5 --seed 51 --no-dicom -o "$T/syn" >/dev/null 2>&1
cp "$T"/syn/fhir/*.json "$d/in/fhir/"
printf '{"resourceType":"Patient","name":[{"family":"Qwertyzz"}],"BROKEN\n' >"$d/in/fhir/zz.ndjson"
# two Observations the base R4 validation refuses (no status; a bad code)
printf '%s\n' '{"resourceType":"Observation","id":"o1","code":{"text":"x"}}' \
    '{"resourceType":"Observation","id":"o2","status":"bogus","code":{"text":"y"}}' >>"$d/in/fhir/zz.ndjson"
sluice keygen -o "$d/key" >/dev/null 2>&1
cat >"$d/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:key"/>
  <state path="state/sluice.db"/>
  <source id="ehr" type="fhir-files" path="in/fhir"/>
  <target id="fhir-out" type="fhir-files" path="out/fhir"/>
  <job id="trial">
    <pull from="ehr"/>
    <deid profile="basic"/>
    <translate maps="lab-local-to-loinc" policy="add"/>
    <validate on-error="warn"/>
    <push to="fhir-out"/>
  </job>
</sluice>
EOC
sluice --config "$d/sluice.xml" run trial --no-progress --commit-every 10 >/dev/null 2>&1
sluice --config "$d/sluice.xml" report trial -o "$T/report.html" 2>"$T/err"
check "sluice report JOB writes the latest run's report (exit $?)" [ -s "$T/report.html" ]
check "it is self-contained: no script, no external asset" \
    sh -c "! grep -Eiq '<script|<link|src=|url\\(|<img' '$T/report.html'"
fhir_phi 4 "$T"/syn/fhir/*.json >"$T/phi"
echo Qwertyzz >>"$T/phi" # the broken line's name
check "no PHI of the input in the report" sh -c "! grep -F -f '$T/phi' '$T/report.html'"
sluice --config "$d/sluice.xml" report run-19700101-000000-000000 >/dev/null 2>&1
check "an unknown run: exit 1" [ $? -eq 1 ]
if [ -z "$CHROMIUM" ]; then
    for i in 1 2 3 4 5 6 7 8 9 10 11; do skip "chromium not installed (Debian package chromium)"; done
    finish
fi
# headless Chromium as root needs --no-sandbox; its profile in $T
CH="$CHROMIUM --headless --no-sandbox --disable-gpu --user-data-dir=$T/chrome --no-first-run"
timeout 120 $CH --dump-dom "file://$T/report.html" >"$T/dom.html" 2>"$T/chrome.err"
n=$(grep -o '<svg' "$T/dom.html" | wc -l)
check "Chromium loads the page: its DOM has the nine SVG charts ($n)" [ "$n" -eq 9 ]
check "the quarantine chart names the reason" \
    sh -c "grep -q 'Quarantined items by stage and reason' '$T/dom.html' && grep -q 'malformed JSON' '$T/dom.html'"
check "the types chart has a bar per resource type" \
    sh -c "grep -q '>Patient<' '$T/dom.html' && grep -q '>Observation<' '$T/dom.html'"
check "time per stage: a bar for each stage and the target's write" \
    sh -c "grep -q 'Seconds per stage' '$T/dom.html' && grep -q '>deid<' '$T/dom.html' && grep -q '>translate<' '$T/dom.html' && grep -q '>validate<' '$T/dom.html' && grep -q '>write fhir-out<' '$T/dom.html'"
check "de-identification actions per rule: the names rule removed the 5 patients' names" \
    sh -c "grep -q 'De-identification actions per rule' '$T/dom.html' && grep -Eq 'hipaa-a-names \(remove\)</text><rect[^>]*><title>actions: 5</title>' '$T/dom.html'"
check "codes mapped and unmapped per map: lab-local-to-loinc" \
    sh -c "grep -q 'Codes mapped and unmapped per map' '$T/dom.html' && grep -q '>lab-local-to-loinc<' '$T/dom.html'"
check "validation findings per profile and message: the missing status" \
    sh -c "grep -q 'Validation findings per profile and message' '$T/dom.html' && grep -q 'R4: Observation.status is missing' '$T/dom.html'"
# a checkpoint every 10 items: the throughput curve has a point per interval
pts=$(python3 -c "
import re, sys
d = open(sys.argv[1]).read()
i = d.find('Items per second over this run')
print(len(re.findall('<circle', d[i:d.find('</svg>', i)])) if i >= 0 else 0)" "$T/dom.html")
check "throughput over the run: a curve of items per second between checkpoints ($pts points)" \
    [ "$pts" -ge 5 ]
check "sources and targets: items read from ehr, items and bytes to fhir-out" \
    sh -c "grep -q '<td>source</td><td>ehr</td>' '$T/dom.html' && grep -Eq '<td>target</td><td>fhir-out</td><td>[1-9][0-9]*</td><td>[0-9.]+ kB' '$T/dom.html'"
timeout 120 $CH --print-to-pdf="$T/report.pdf" "file://$T/report.html" >/dev/null 2>&1
pages=$(python3 -c "import re,sys; print(len(re.findall(rb'/Type\s*/Page[^s]', open(sys.argv[1],'rb').read())))" "$T/report.pdf" 2>/dev/null || echo 0)
check "Chromium prints it (print stylesheet) to a PDF of $pages pages" \
    sh -c "head -c 5 '$T/report.pdf' | grep -q '%PDF-' && [ $pages -ge 2 ]"
timeout 120 $CH --window-size=1000,1600 --screenshot="$T/report.png" "file://$T/report.html" >/dev/null 2>&1
check "a screenshot of it is made" sh -c "[ \$(stat -c %s '$T/report.png' 2>/dev/null || echo 0) -gt 20000 ]"
finish

#!/bin/sh
# The run report as a privacy officer opens it: `sluice report` writes one
# self-contained HTML page (no scripts, no external assets) for a run of a
# job on synthetic data with a quarantined item; headless Chromium (Debian
# chromium) loads it, its SVG charts are in the page's DOM with the
# quarantine reason, a screenshot is taken; no PHI of the input is in it.
. "${top_srcdir}/tests/integration/lib.sh"
plan 8
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)

d=$T/d
mkdir -p "$d/in/fhir"
sluice synth --patients 5 --seed 51 --no-dicom -o "$T/syn" >/dev/null 2>&1
cp "$T"/syn/fhir/*.json "$d/in/fhir/"
printf '{"resourceType":"Patient","name":[{"family":"Qwertyzz"}],"BROKEN\n' >"$d/in/fhir/zz.ndjson"
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
    <push to="fhir-out"/>
  </job>
</sluice>
EOC
sluice --config "$d/sluice.xml" run trial --no-progress >/dev/null 2>&1
sluice --config "$d/sluice.xml" report trial -o "$T/report.html" 2>"$T/err"
check "sluice report JOB writes the latest run's report (exit $?)" [ -s "$T/report.html" ]
check "it is self-contained: no script, no external asset" \
    sh -c "! grep -Eiq '<script|<link|src=|url\\(|<img' '$T/report.html'"
python3 - "$T"/syn/fhir/*.json >"$T/phi" <<'PY'
import json, sys
vals = set(["Qwertyzz"])
for p in sys.argv[1:]:
    for e in json.load(open(p)).get("entry", []):
        r = e.get("resource", {})
        if r.get("resourceType") == "Patient":
            for n in r.get("name", []):
                vals.update([n.get("family", "")] + n.get("given", []))
            for i in r.get("identifier", []):
                vals.add(i.get("value", ""))
for v in sorted(v for v in vals if len(v) >= 4):
    print(v)
PY
check "no PHI of the input in the report" sh -c "! grep -F -f '$T/phi' '$T/report.html'"
sluice --config "$d/sluice.xml" report run-19700101-000000-000000 >/dev/null 2>&1
check "an unknown run: exit 1" [ $? -eq 1 ]
if [ -z "$CHROMIUM" ]; then
    for i in 1 2 3 4; do skip "chromium not installed (Debian package chromium)"; done
    finish
fi
# headless Chromium as root needs --no-sandbox; its profile in $T
CH="$CHROMIUM --headless --no-sandbox --disable-gpu --user-data-dir=$T/chrome --no-first-run"
timeout 120 $CH --dump-dom "file://$T/report.html" >"$T/dom.html" 2>"$T/chrome.err"
n=$(grep -o '<svg' "$T/dom.html" | wc -l)
check "Chromium loads the page: its DOM has the four SVG charts ($n)" [ "$n" -eq 4 ]
check "the quarantine chart names the reason" \
    sh -c "grep -q 'Quarantined items by stage and reason' '$T/dom.html' && grep -q 'malformed JSON' '$T/dom.html'"
check "the types chart has a bar per resource type" \
    sh -c "grep -q '>Patient<' '$T/dom.html' && grep -q '>Observation<' '$T/dom.html'"
timeout 120 $CH --window-size=1000,1600 --screenshot="$T/report.png" "file://$T/report.html" >/dev/null 2>&1
check "a screenshot of it is made" sh -c "[ \$(stat -c %s '$T/report.png' 2>/dev/null || echo 0) -gt 20000 ]"
finish

#!/bin/sh
# A patient's MRN kept as a number (an extension's or an Observation's
# valueInteger) is caught by the leak scan, as the same digits in a string
# are scrubbed; other numbers survive (issue 10, section 5: numbers).
# The input is synthetic, made here.
. "${top_srcdir}/tests/integration/lib.sh"
plan 5
sluice keygen -o "$T/key"
mkdir -p "$T/in"
cat >"$T/in/a.ndjson" <<'EOJ'
{"resourceType":"Patient","id":"p1","identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"system":"http://hospital/mrn","value":"12345678"}],"name":[{"family":"Zyxwq","given":["Anna"]}]}
{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},"valueInteger":12345678}
{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"y"},"subject":{"reference":"Patient/p1"},"valueInteger":1234567}
{"resourceType":"Observation","id":"o3","status":"final","code":{"text":"z"},"subject":{"reference":"Patient/p1"},"valueInteger":42}
{"resourceType":"Observation","id":"o4","status":"final","code":{"text":"w"},"subject":{"reference":"Patient/p1"},"valueString":"chart 12345678 reviewed"}
EOJ
sluice deid --key-file "$T/key" -o "$T/out" --quarantine "$T/q" "$T/in" \
    >/dev/null 2>"$T/err"
rc=$?
check "an MRN kept as a number is quarantined (exit $rc)" [ $rc -eq 3 ]
check "the reason names the element, not the value" \
    sh -c "grep -q 'remains at Observation.valueInteger' '$T/q/in000001-line000002.reason.txt' && ! grep -q 12345678 '$T/err'"
check "the MRN's digits are in no output" sh -c "! grep -rq 12345678 '$T/out'"
check "other numbers survive (1234567 and 42)" \
    sh -c "grep -q '\"valueInteger\":1234567' '$T'/out/fhir/*.ndjson && grep -q '\"valueInteger\":42' '$T'/out/fhir/*.ndjson"
check "the same digits in a string are scrubbed, the text kept" \
    grep -q '"valueString":"chart \[redacted\] reviewed"' "$T"/out/fhir/000001.ndjson
finish

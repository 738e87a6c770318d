#!/bin/sh
# A patient's MRN kept as a number (an extension's or an Observation's
# valueInteger) is caught by the leak scan, as the same digits in a string
# are scrubbed; other numbers survive (issue 10, section 5: numbers).
# Then what the word-boundary scan of learned values cannot see: the
# patient's own MRN of fewer than six digits as a number, an MRN as a
# decimal (12345678.0), its digits split by separators or run into
# letters in a string; while the same short number in another patient's
# resource, and digits that are not the MRN, survive.
# The input is synthetic, made here.
. "${top_srcdir}/tests/integration/lib.sh"
plan 14
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

mkdir -p "$T/in2"
cat >"$T/in2/a.ndjson" <<'EOJ'
{"resourceType":"Patient","id":"p1","identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"system":"http://hospital/mrn","value":"4471"}],"name":[{"family":"Zyxwq","given":["Anna"]}]}
{"resourceType":"Patient","id":"p2","identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"system":"http://hospital/mrn","value":"12345678"}],"name":[{"family":"Qwvzy","given":["Bo"]}]}
{"resourceType":"Observation","id":"short","status":"final","code":{"text":"a"},"subject":{"reference":"Patient/p1"},"valueInteger":4471}
{"resourceType":"Observation","id":"other","status":"final","code":{"text":"b"},"subject":{"reference":"Patient/p2"},"valueInteger":4471}
{"resourceType":"Observation","id":"decimal","status":"final","code":{"text":"c"},"subject":{"reference":"Patient/p2"},"valueQuantity":{"value":12345678.0}}
{"resourceType":"Observation","id":"dashes","status":"final","code":{"text":"d"},"subject":{"reference":"Patient/p2"},"valueString":"chart 12-345-678 reviewed"}
{"resourceType":"Observation","id":"glued","status":"final","code":{"text":"e"},"subject":{"reference":"Patient/p2"},"valueString":"see MRN12345678"}
{"resourceType":"Observation","id":"spaced","status":"final","code":{"text":"f"},"subject":{"reference":"Patient/p2"},"valueString":"1234 5678 and 12 tablets"}
{"resourceType":"Observation","id":"dose","status":"final","code":{"text":"g"},"subject":{"reference":"Patient/p2"},"valueString":"dose 123.45 mg, 678 ml"}
{"resourceType":"Observation","id":"fraction","status":"final","code":{"text":"h"},"subject":{"reference":"Patient/p1"},"valueQuantity":{"value":44.71}}
EOJ
sluice deid --key-file "$T/key" -o "$T/out2" --quarantine "$T/q2" "$T/in2" \
    >/dev/null 2>"$T/err2"
rc=$?
check "the MRNs in numbers and split digits are quarantined (exit $rc)" [ $rc -eq 3 ]
q() { grep -q "remains at $2" "$T/q2/in000001-line00000$1.reason.txt"; }
check "the patient's 4-digit MRN as a valueInteger" q 3 Observation.valueInteger
check "an MRN as a decimal (12345678.0)" q 5 Observation.valueQuantity.value
check "an MRN as 12-345-678 or 1234 5678 in a string" \
    sh -c "for n in 6 8; do grep -q 'remains at Observation.valueString' '$T'/q2/in000001-line00000\$n.reason.txt || exit 1; done"
check "MRN12345678 in a string is scrubbed by the free-text detectors" \
    grep -q '"valueString":"see \[redacted\]"' "$T"/out2/fhir/000001.ndjson
check "nothing else is quarantined (6 de-identified, 4 quarantined)" \
    grep -q '6 de-identified, 4 quarantined' "$T/err2"
check "4471 in another patient's resource, a dose and a fraction survive" \
    sh -c "grep -q '\"valueInteger\":4471' '$T'/out2/fhir/000001.ndjson && grep -q '\"valueString\":\"dose 123.45 mg, 678 ml\"' '$T'/out2/fhir/000001.ndjson && grep -q '\"value\":44.71' '$T'/out2/fhir/000001.ndjson"
check "no reason and no message holds the MRN's digits" \
    sh -c "! grep -rqE '4471|12345678|345-678' '$T'/q2/*.reason.txt '$T/err2'"
# Decimals come out as they went in, not as jansson's 17 digits
# (5.4 became 5.4000000000000004)
mkdir -p "$T/dec"
cat >"$T/dec/d.ndjson" <<'EOJ'
{"resourceType":"Observation","id":"d1","status":"final","code":{"text":"x"},"valueQuantity":{"value":5.4,"unit":"mmol/L"},"component":[{"code":{"text":"a"},"valueQuantity":{"value":0.1}},{"code":{"text":"b"},"valueQuantity":{"value":12345678.25}},{"code":{"text":"c"},"valueQuantity":{"value":3.0}},{"code":{"text":"d"},"valueQuantity":{"value":-273.15}}]}
EOJ
sluice deid --key-file "$T/key" -o "$T/dout" --quarantine "$T/dq" "$T/dec" \
    >/dev/null 2>&1
check "decimals are written as the input wrote them (5.4, 0.1, 12345678.25, 3.0, -273.15)" \
    sh -c "grep -q '\"value\":5.4,' '$T'/dout/fhir/000001.ndjson && grep -q '\"value\":0.1}' '$T'/dout/fhir/000001.ndjson && grep -q '\"value\":12345678.25}' '$T'/dout/fhir/000001.ndjson && grep -q '\"value\":3.0}' '$T'/dout/fhir/000001.ndjson && grep -q '\"value\":-273.15}' '$T'/dout/fhir/000001.ndjson"
finish

#!/bin/sh
# FHIR decimals keep the digits they were written with (FHIR: "the
# precision of the decimal value has significance", 1.50 is not 1.5):
# through sluice deid (NDJSON lines and a whole .json Bundle with
# urn:uuid fullUrls, as EHR exports write them), and a job with <deid>,
# <translate> and <validate> between fhir-files. The values themselves
# survive; a decimal a stage changes is written as computed. Fixture
# written here (CC0).
. "${top_srcdir}/tests/integration/lib.sh"
plan 6
sluice keygen -o "$T/key" >/dev/null 2>&1
mkdir -p "$T/in"
# the numbers as written, one Observation each
NUMS='1.50 100.000 1e2 2.5E-3 0.00001 12345678901234567890.5 98.6 -0.0 3.14159265358979323846 7.0'
i=0
for n in $NUMS; do
    i=$((i + 1))
    printf '{"resourceType":"Observation","id":"o%d","status":"final","code":{"text":"t"},"subject":{"reference":"Patient/p1"},"valueQuantity":{"value":%s,"unit":"mg"}}\n' $i "$n"
done >"$T/in/obs.ndjson"
printf '{"resourceType":"Patient","id":"p1","name":[{"family":"Quarrington","given":["Eulalie"]}],"birthDate":"1951-04-03"}\n' >>"$T/in/obs.ndjson"
# the same as a transaction Bundle, entries by urn:uuid
{
    printf '{"resourceType":"Bundle","type":"transaction","entry":['
    printf '{"fullUrl":"urn:uuid:7b1c8f3e-8a9d-4c2e-9f1a-2b3c4d5e6f70","resource":{"resourceType":"Patient","name":[{"family":"Quarrington"}]},"request":{"method":"POST","url":"Patient"}}'
    for n in $NUMS; do
        printf ',{"fullUrl":"urn:uuid:%s","resource":{"resourceType":"Observation","status":"final","code":{"text":"t"},"subject":{"reference":"urn:uuid:7b1c8f3e-8a9d-4c2e-9f1a-2b3c4d5e6f70"},"valueQuantity":{"value":%s,"unit":"mg"}},"request":{"method":"POST","url":"Observation"}}' \
            "$(cat /proc/sys/kernel/random/uuid)" "$n"
    done
    printf ']}\n'
} >"$T/in/bundle.json"

# every number in a file, as written, in order
nums() { grep -o '"value": *[-0-9.eE+]*' "$1" | sed 's/"value": *//' | tr '\n' ' ' | sed 's/ $//'; }

sluice deid --profile longitudinal --key-file "$T/key" -o "$T/out" "$T/in/obs.ndjson" "$T/in/bundle.json" >/dev/null 2>"$T/deid.err"
rc=$?
check "sluice deid exits 0" [ $rc -eq 0 ]
nd=$(find "$T/out" -name '*.ndjson' | head -1)
js=$(find "$T/out" -name '*.json' | head -1)
check "NDJSON: every decimal as written (1.50, 100.000, 1e2, 2.5E-3, ...)" \
    [ "$(nums "$nd")" = "$NUMS" ]
check "a whole .json Bundle: every decimal as written, the name gone" \
    sh -c '[ "$1" = "$2" ] && ! grep -q Quarrington "$3"' _ "$(nums "$js")" "$NUMS" "$js"
check "the values survive: each output number equals its input number" \
    python3 -c '
import json, sys
a = [json.loads(l)["valueQuantity"]["value"] for l in open(sys.argv[1]) if "valueQuantity" in l]
b = [float(x) for x in sys.argv[2].split()]
sys.exit(0 if a == b else 1)' "$nd" "$NUMS"

# a job: deid, a unit conversion, validation
write_config "$T/j"
cp "$T/in/obs.ndjson" "$T/j/in/fhir/"
sed -i 's|<push |<deid profile="longitudinal"/>\n    <validate on-error="warn"/>\n    <push |' "$T/j/sluice.xml"
sed -i "s|<state |<keys pseudonym=\"file:$T/key\"/>\n  <state |" "$T/j/sluice.xml"
(cd "$T/j" && sluice --config sluice.xml run t --no-progress >"$T/run.out" 2>"$T/run.err")
rc=$?
find "$T/j/out/fhir" -name '*.ndjson' -exec cat {} + >"$T/j.out"
sorted() { echo "$1" | tr ' ' '\n' | sort | tr '\n' ' '; }
check "a job with <deid> and <validate>: exit 0, every decimal as written" \
    sh -c '[ $1 -eq 0 ] && [ "$2" = "$3" ]' _ $rc "$(sorted "$(nums "$T/j.out")")" "$(sorted "$NUMS")"
# a glucose value converted: the result has the original's digits
printf '{"resourceType":"Observation","id":"g","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},"valueQuantity":{"value":100.0,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"}}\n' >"$T/g.ndjson"
sluice translate --units units-si --units-original "$T/g.ndjson" -o "$T/g" >/dev/null 2>&1
check "translate --units: 100.0 mg/dL (4 digits) is 5.551 mmol/L, the original kept as 100.0" \
    sh -c 'grep -q "\"value\":5.551,\"unit\":\"mmol/L\"" "$1" && grep -q "\"value\":100.0,\"unit\":\"mg/dL\"" "$1"' _ "$(find "$T/g" -type f | head -1)"
finish

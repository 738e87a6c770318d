#!/bin/sh
# One patient, one shift, everywhere (issue 10, section 1), as a user of
# `sluice deid --profile longitudinal` sees it: a Synthea-like transaction
# Bundle (urn:uuid: fullUrls, no ids) and a collection Bundle (absolute
# fullUrls, a contained Patient) shift every date of the patient by the
# number of days the DICOM side gives a study with the same PatientID;
# identifiers are gone; resources whose patient cannot be found are
# quarantined with the element's path and no value; Practitioner,
# Organization and Medication are not. Fixtures: tests/data/deid/refs/.
. "${top_srcdir}/tests/integration/lib.sh"
plan 9
if ! command -v jq >/dev/null 2>&1 || ! command -v dcmodify >/dev/null 2>&1; then
    i=0; while [ $i -lt 9 ]; do skip "jq or dcmodify not installed"; i=$((i + 1)); done
    exit 0
fi
D="${top_srcdir}/tests/data/deid/refs"
dval() { dcmdump +P "$2" "$1" 2>/dev/null | sed -n 's/.*\[\(.*\)\].*/\1/p'; }
days() { echo $(( ($(date -u -d "$1" +%s) - $(date -u -d "$2" +%s)) / 86400 )); }
sluice keygen >"$T/key"
sluice synth --patients 1 --seed 7 -o "$T/synth" >/dev/null 2>&1
mkdir -p "$T/a/fhir" "$T/a/dicom" "$T/b/fhir" "$T/c"
one=$(find "$T/synth/dicom" -name '*.dcm' | head -n 1)
cp "$one" "$T/a/dicom/x.dcm"
# the study of the fixtures' patient: MRN 12345, started 2019-03-14
dcmodify -nb -m "(0010,0020)=12345" -m "(0008,0020)=20190314" "$T/a/dicom/x.dcm" >/dev/null 2>&1
cp "$D/transaction.json" "$T/a/fhir/"
cp "$D/collection.json" "$T/b/fhir/"
cp "$D/orphans.ndjson" "$T/c/"

sluice deid --profile longitudinal --key-file "$T/key" -o "$T/oa" "$T/a" >/dev/null 2>"$T/ea" &&
    sluice deid --profile longitudinal --key-file "$T/key" -o "$T/ob" "$T/b" >/dev/null 2>"$T/eb"
check "both Bundles de-identified whole (exit 0)" [ $? -eq 0 ]
dout=$(dval "$(find "$T/oa/dicom" -name '*.dcm' | head -n 1)" 0008,0020)
dshift=$(days "$dout" 20190314)
diag "DICOM shift: $dshift days"
# the first date of every entry, in and out (same order)
firsts='.entry[].resource | [.effectiveDateTime, .recordedDate, .authoredOn,
        .performedDateTime, .started, .period.start, .birthDate]
        | map(select(. != null)) | .[0] // "-" | .[0:10]'
shifts() {
    jq -r "$firsts" "$1" >"$T/i"
    jq -r "$firsts" "$2" >"$T/o"
    paste "$T/i" "$T/o" | while read -r a b; do
        [ "$a" = - ] || days "$b" "$a"
    done | sort -u
}
sa=$(shifts "$T/a/fhir/transaction.json" "$T"/oa/fhir/*.json)
sb=$(shifts "$T/b/fhir/collection.json" "$T"/ob/fhir/*.json)
check "transaction Bundle: one shift for every resource of the patient ($(echo $sa))" [ "$(echo "$sa" | wc -l)" -eq 1 ]
check "collection Bundle: one shift for every resource of the patient ($(echo $sb))" [ "$(echo "$sb" | wc -l)" -eq 1 ]
check "FHIR shift = DICOM shift for the same MRN" [ "$sa" = "$dshift" ] && [ "$sb" = "$dshift" ] && [ "$dshift" -lt 0 ]
started=$(jq -r '.entry[].resource | select(.resourceType=="ImagingStudy") | .started[0:10]' "$T"/oa/fhir/*.json | tr -d -)
check "ImagingStudy.started equals the DICOM StudyDate" [ "$started" = "$dout" ]
leaks=0
for v in Quillfeather Ottilie 999-41-7731 555-0142 Larkspur '"12345"' '|12345' 6f1a3e52 ehr.example.org/fhir/Patient/123; do
    if grep -rqaF -- "$v" "$T/oa/fhir" "$T/ob/fhir"; then leaks=$((leaks + 1)); fi
done
check "identifiers, names, contact details and patient ids gone" [ -s "$T/o" ] && [ $leaks -eq 0 ] && [ "$(dval "$(find "$T/oa/dicom" -name "*.dcm" | head -n 1)" 0010,0020)" != 12345 ]
check "codes, values and the MRN's system survive" [ "$(jq -r '.entry[].resource | select(.resourceType=="Observation") | "\(.code.coding[0].code) \(.valueQuantity.value)"' "$T"/oa/fhir/*.json | head -n 1)" = "8867-4 72" ] && grep -q 'http://hospital/mrn' "$T"/oa/fhir/*.json

sluice deid --profile longitudinal --key-file "$T/key" -o "$T/oc" "$T/c" >"$T/oc.out" 2>"$T/oc.err"
rc=$?
check "orphans: exit 3, four quarantined, Practitioner/Organization/Medication kept" \
    sh -c "[ $rc -eq 3 ] && [ \$(ls '$T/oc.quarantine'/*.reason.txt | wc -l) -eq 4 ] && [ \"\$(jq -r .resourceType '$T'/oc/fhir/*.ndjson | sort | tr '\n' ' ')\" = 'Medication Organization Practitioner ' ]"
check "reasons name the element, never a value" \
    sh -c "grep -h '^reason:' '$T'/oc.quarantine/*.reason.txt >'$T/r' && grep -q 'Observation.subject' '$T/r' && grep -q 'Observation.encounter' '$T/r' && grep -q '^reason: Condition' '$T/r' && ! grep -q -e dead -e nowhere -e 99999 -e lost- '$T/r' '$T/oc.err' '$T/oc.out'"
finish

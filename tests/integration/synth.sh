#!/bin/sh
# synth.sh - sluice synth: deterministic output, FHIR that parses, DICOM
# that DCMTK's own dcmdump reads, and FHIR and DICOM that agree.
. "${top_srcdir:-.}/tests/integration/lib.sh"

plan 26

have_jq=0
command -v jq >/dev/null 2>&1 && have_jq=1
have_dcmdump=0
command -v dcmdump >/dev/null 2>&1 && have_dcmdump=1

# Value of one tag of a DICOM file, as dcmdump prints it between [ ].
tag() {
    dcmdump -q +P "$2" "$1" 2>/dev/null | head -n 1 | sed -n 's/^[^[]*\[\([^]]*\)\].*/\1/p'
}

N=30
out=$(sluice synth --patients $N -o "$T/a" --seed 42 2>"$T/err")
rc=$?
check "synth exits 0" [ $rc -eq 0 ]
check "one-line summary with counts" sh -c '[ "$(printf "%s\n" "$1" | wc -l)" -eq 1 ] && printf "%s" "$1" | grep -q "^synth: 30 patients"' _ "$out"
sluice synth --patients $N -o "$T/b" --seed 42 >/dev/null 2>&1
check "the same seed gives byte-identical output" diff -r "$T/a" "$T/b"
sluice synth --patients $N -o "$T/c" --seed 43 >/dev/null 2>&1
check "another seed gives other data" sh -c '! cmp -s "$1" "$2"' _ \
    "$T/a/fhir/bundle-000001.json" "$T/c/fhir/bundle-000001.json"
sluice synth --patients 3 -o "$T/d" --seed 42 >/dev/null 2>&1
check "patient 1 does not depend on the number of patients" \
    cmp -s "$T/a/fhir/bundle-000001.json" "$T/d/fhir/bundle-000001.json"

nb=$(ls "$T/a/fhir" | grep -c '^bundle-[0-9]*\.json$')
check "one bundle per patient" [ "$nb" -eq $N ]
nd=$(find "$T/a/dicom" -name '*.dcm' | wc -l)
check "2 series of 2-3 instances per study" [ "$nd" -ge $((N * 4)) -a "$nd" -le $((N * 6)) ]

sluice synth --patients 200 -o "$T/e" --no-dicom >/dev/null 2>&1
check "--no-dicom writes the bundles and no DICOM" \
    [ -f "$T/e/fhir/bundle-000200.json" -a ! -e "$T/e/dicom" ]

if [ $have_jq = 1 ]; then
    ok_json=1
    for f in "$T"/a/fhir/*.json; do
        jq -e '.resourceType == "Bundle" and (.entry | length) >= 8' "$f" >/dev/null || ok_json=0
    done
    check "every bundle parses as a FHIR Bundle" [ $ok_json = 1 ]
    types=$(jq -r '[.entry[].resource.resourceType] | unique | join(" ")' "$T/a/fhir/bundle-000001.json")
    check "bundle holds every resource type" [ "$types" = "Condition DiagnosticReport Encounter ImagingStudy MedicationRequest Observation Patient" ]
    refs_ok=$(jq -r '(.entry[] | select(.resource.resourceType == "Patient") | .resource.id) as $p
        | [.entry[].resource | select(.subject) | .subject.reference == "Patient/" + $p] | all' \
        "$T/a/fhir/bundle-000001.json")
    check "resources reference their Patient as Patient/id" [ "$refs_ok" = true ]
    dangling=$(cat "$T"/a/fhir/*.json | jq -r '[.entry[].resource | .resourceType + "/" + .id] as $ids
        | [.. | objects | .reference? // empty | select(. as $r | $ids | index($r) | not)] | .[]' | wc -l)
    check "every reference resolves inside its bundle" [ "$dangling" -eq 0 ]
    # older than 89 today, whatever today is
    cutoff=$(( $(date -u +%Y) - 90 ))-$(date -u +%m-%d)
    old=$(cat "$T"/a/fhir/*.json | jq -r --arg c "$cutoff" \
        '.entry[].resource | select(.resourceType == "Patient") | select(.birthDate < $c) | .id' | wc -l)
    old200=$(cat "$T"/e/fhir/*.json | jq -r --arg c "$cutoff" \
        '.entry[].resource | select(.resourceType == "Patient") | select(.birthDate < $c) | .id' | wc -l)
    diag "older than 89: $old of $N, $old200 of 200"
    check "some patients are older than 89 (about 5%)" [ "$old200" -ge 3 -a "$old200" -le 25 ]
else
    skip "every bundle parses as a FHIR Bundle (jq not installed)"
    skip "bundle holds every resource type (jq not installed)"
    skip "resources reference their Patient (jq not installed)"
    skip "every reference resolves inside its bundle (jq not installed)"
    skip "some patients are older than 89 (jq not installed)"
fi

if [ $have_dcmdump = 1 ]; then
    ok_dump=1
    for f in $(find "$T/a/dicom" -name '*.dcm'); do
        dcmdump -q "$f" >/dev/null 2>&1 || ok_dump=0
    done
    check "every DICOM file parses with dcmdump" [ $ok_dump = 1 ]
else
    skip "every DICOM file parses with dcmdump (not installed)"
fi

if [ $have_jq = 1 ] && [ $have_dcmdump = 1 ]; then
    agree=1
    for i in 000001 000002 000017; do
        b="$T/a/fhir/bundle-$i.json"
        fhir_uids=$(jq -r '.entry[].resource | select(.resourceType == "ImagingStudy")
            | (.identifier[0].value | sub("^urn:oid:"; "")), (.series[] | .uid, (.instance[].uid))' "$b" | sort)
        dcm_uids=$(for f in $(find "$T/a/dicom/$i" -name '*.dcm'); do
            tag "$f" 0020,000d; tag "$f" 0020,000e; tag "$f" 0008,0018; done | sort -u)
        [ -n "$fhir_uids" ] && [ "$fhir_uids" = "$dcm_uids" ] || { diag "patient $i: UIDs differ"; agree=0; }
        mrn=$(jq -r '.entry[].resource | select(.resourceType == "Patient") | .identifier[]
            | select(.type.coding[0].code == "MR") | .value' "$b")
        for f in $(find "$T/a/dicom/$i" -name '*.dcm'); do
            [ "$(tag "$f" 0010,0020)" = "$mrn" ] || { diag "patient $i: PatientID is not the MRN"; agree=0; }
        done
    done
    check "ImagingStudy UIDs equal the DICOM UIDs and PatientID the MRN" [ $agree = 1 ]
else
    skip "ImagingStudy UIDs equal the DICOM UIDs (jq or dcmdump missing)"
fi

sluice synth -o "$T/x" >/dev/null 2>&1
check "--patients is required (exit 1)" [ $? -eq 1 ]
sluice synth --patients 0 -o "$T/x" >/dev/null 2>&1
check "--patients 0 is a usage error (exit 1)" [ $? -eq 1 ]
sluice synth --help >"$T/help" 2>&1
check "--help describes the options" grep -q -- "--patients" "$T/help"

# --shape: the same patients and studies, written as real exports are
sluice synth --patients 4 --seed 42 --shape frobnicate -o "$T/s-bad" >/dev/null 2>"$T/s-err"
check "an unknown --shape is a usage error naming the shapes (exit 1)" \
    sh -c '[ "$1" -eq 1 ] && grep -q "encounter-only" "$2"' _ $? "$T/s-err"
for s in default transaction collection bulk encounter-only; do
    sluice synth --patients 4 --seed 42 --instances 1 --shape $s -o "$T/s-$s" >/dev/null 2>&1
done
check "--shape default is the output without --shape, byte for byte" \
    sh -c 'sluice() { $SLUICE_WRAP "$SLUICE" "$@"; }; sluice synth --patients 4 --seed 42 --instances 1 -o "$1" >/dev/null 2>&1 && diff -r "$1" "$2" >/dev/null' _ "$T/s-none" "$T/s-default"
same_dicom=1
for s in transaction collection bulk encounter-only; do
    diff -r "$T/s-default/dicom" "$T/s-$s/dicom" >/dev/null || same_dicom=0
done
check "every shape has the same DICOM studies" [ $same_dicom = 1 ]
if [ $have_jq = 1 ]; then
    # the same resources in every shape, ids aside
    strip='del(.id) | walk(if type == "object" and has("reference") then del(.reference) else . end)'
    jq -c ".entry[].resource | $strip" "$T"/s-default/fhir/*.json | sort >"$T/s-ref"
    same=1
    for s in transaction collection; do
        jq -c ".entry[].resource | $strip" "$T"/s-$s/fhir/*.json | sort | cmp -s - "$T/s-ref" || same=0
    done
    jq -c "$strip" "$T"/s-bulk/fhir/*.ndjson | sort | cmp -s - "$T/s-ref" || same=0
    check "every shape holds the same resources and values" [ $same = 1 ]
    check "transaction: transaction Bundles, urn:uuid: fullUrls, no ids, every reference a fullUrl of its Bundle" \
        sh -c 'for f in "$1"/fhir/*.json; do jq -e "([.entry[].fullUrl] as \$u | .type == \"transaction\" and all(.entry[]; (.fullUrl | startswith(\"urn:uuid:\")) and .resource.id == null and .request.method == \"POST\") and all(.. | objects | .reference? // empty; . as \$r | \$u | index(\$r)))" "$f" >/dev/null || exit 1; done' _ "$T/s-transaction"
    check "collection: fullUrls on the hospital's base, references absolute and relative" \
        sh -c 'for f in "$1"/fhir/*.json; do jq -e "[.. | objects | .reference? // empty] as \$r | all(.entry[]; .fullUrl | startswith(\"https://ehr.example-hospital.org/fhir/\")) and any(\$r[]; startswith(\"https://ehr.example-hospital.org/fhir/\")) and any(\$r[]; startswith(\"https:\") | not)" "$f" >/dev/null || exit 1; done' _ "$T/s-collection"
    check "bulk: one NDJSON file per resource type, each line of its type" \
        sh -c 'cd "$1/fhir" && [ "$(ls | tr "\n" " ")" = "Condition.ndjson DiagnosticReport.ndjson Encounter.ndjson ImagingStudy.ndjson MedicationRequest.ndjson Observation.ndjson Patient.ndjson " ] && for f in *.ndjson; do [ "$(jq -r .resourceType "$f" | sort -u)" = "${f%.ndjson}" ] || exit 1; done' _ "$T/s-bulk"
    check "encounter-only: Observation and DiagnosticReport name only their Encounter" \
        sh -c 'jq -e "[.entry[].resource | select(.resourceType == \"Observation\" or .resourceType == \"DiagnosticReport\")] | length > 0 and all(.[]; .subject == null and (.encounter.reference | startswith(\"Encounter/\")))" "$1"/fhir/*.json >/dev/null' _ "$T/s-encounter-only"
else
    for i in 1 2 3 4 5; do skip "--shape checks (jq not installed)"; done
fi

exit $TAP_FAILED

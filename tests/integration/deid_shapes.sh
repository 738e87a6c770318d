#!/bin/sh
# The cross-modality contract on every shape of export `sluice synth`
# writes (issue 10, sections 1 and 5), under every built-in profile, as a
# user of `sluice deid` and of a job sees it: the FHIR MRN pseudonym is the
# DICOM PatientID, ImagingStudy UIDs are the DICOM UIDs, one patient has
# one date shift across all its resources and its DICOM study
# (longitudinal; dates cut to the year otherwise), no reference is left
# resolving to nothing, and the hospital server's host name is nowhere in
# the output; codes and values survive. A job that splits transaction
# Bundles into NDJSON per type must leave no reference dangling either.
. "${top_srcdir}/tests/integration/lib.sh"
SHAPES="default transaction collection bulk encounter-only"
PROFILES="basic longitudinal safe-harbor"
NCASE=7
NJOB=7
NBASE=3
plan $((5 * 3 * NCASE + NJOB + NBASE))
if ! command -v jq >/dev/null 2>&1 || ! command -v dcmdump >/dev/null 2>&1; then
    i=0; while [ $i -lt $((5 * 3 * NCASE + NJOB + NBASE)) ]; do skip "jq or dcmdump not installed"; i=$((i + 1)); done
    exit 0
fi
JQ="${top_srcdir}/tests/integration/shapes.jq"
HOSTS='example-hospital\|ehr\.example\.org'
sluice keygen >"$T/key"

# one line per DICOM file: PatientID StudyDate StudyUID SeriesUID SOPUID
dicom_lines() {
    find "$1" -name '*.dcm' | sort | while IFS= read -r f; do
        dcmdump +P 0010,0020 +P 0008,0020 +P 0020,000d +P 0020,000e +P 0008,0018 "$f" 2>/dev/null |
            sed -n 's/^(\(....,....\)) .. \[\([^]]*\)\].*/\1 \2/p; s/^(\(....,....\)) .. (no value available).*/\1 -/p' |
            awk '{v[$1]=$2} END {print v["0010,0020"], v["0008,0020"], v["0020,000d"], v["0020,000e"], v["0008,0018"]}'
    done
}
# the documents of a folder, in the order of their names, one a line
docs() { find "$1" -type f \( -name '*.json' -o -name '*.ndjson' \) | sort | xargs jq -c . ; }
# jq over the findings of shapes.jq
get() { jq -r "$1" "$F"; }

for shape in $SHAPES; do
    sluice synth --patients 3 --seed 12 --instances 2 --shape "$shape" -o "$T/in-$shape" >/dev/null 2>&1
    docs "$T/in-$shape/fhir" >"$T/in-$shape.docs"
    for prof in $PROFILES; do
        c="$shape/$prof"
        o="$T/out-$shape-$prof"
        sluice deid --profile "$prof" --key-file "$T/key" -o "$o" "$T/in-$shape" >/dev/null 2>"$T/err"
        rc=$?
        docs "$o/fhir" >"$T/out.docs"
        F="$T/f-$shape-$prof.json"
        jq -n --slurpfile in "$T/in-$shape.docs" --slurpfile out "$T/out.docs" -f "$JQ" >"$F" 2>"$T/jqerr" || echo '{}' >"$F"
        dicom_lines "$o/dicom" >"$T/dcm"
        check "$c: exit 0, every resource delivered, in order ($(get .n_out) of $(get .n_in))" \
            sh -c '[ "$1" -eq 0 ] && [ "$2" = "$3" ] && [ "$4" = true ] && [ ! -e "$5.quarantine" ]' _ \
            "$rc" "$(get .n_in)" "$(get .n_out)" "$(get .types_agree)" "$o"
        check "$c: all $(get .refs) references resolve in the output" \
            sh -c '[ "$1" = 0 ] && [ "$2" -gt 0 ] && [ "$3" = 0 ]' _ "$(get .dangling)" "$(get .refs)" "$(get .no_patient)"
        check "$c: the hospital server's host name is nowhere in the output" \
            sh -c '! grep -rqa "$1" "$2"' _ "$HOSTS" "$o"
        # the FHIR MRN pseudonym is the DICOM PatientID of the same study
        get '.studies[] | "\(.mrn) \(.uid)"' | sort >"$T/f-link"
        awk '{print $1, $3}' "$T/dcm" | sort -u >"$T/d-link"
        get '.in_mrns[]' >"$T/in-mrns"
        if [ "$prof" = safe-harbor ]; then
            # identifiers removed: nothing links FHIR to DICOM, and the
            # DICOM PatientIDs are not the MRNs
            check "$c: no MRN in the FHIR, no MRN as PatientID" \
                sh -c '[ "$1" = 0 ] && [ -s "$2" ] && ! awk "{print \$1}" "$2" | grep -qxF -f "$3"' _ \
                "$(get '.mrns | length')" "$T/dcm" "$T/in-mrns"
        else
            check "$c: MRN pseudonym = DICOM PatientID, study by study" \
                sh -c '[ -s "$1" ] && cmp -s "$1" "$2" && ! awk "{print \$1}" "$1" | grep -qxF -f "$3"' _ \
                "$T/f-link" "$T/d-link" "$T/in-mrns"
        fi
        # ImagingStudy UIDs = DICOM UIDs (the study's only where kept)
        get '.studies[].series[]' | sort >"$T/f-ser"
        awk '{print $4}' "$T/dcm" | sort -u >"$T/d-ser"
        get '.studies[].instances[]' | sort >"$T/f-ins"
        awk '{print $5}' "$T/dcm" | sort >"$T/d-ins"
        get '.studies[].uid // empty' | sort >"$T/f-stu"
        awk '{print $3}' "$T/dcm" | sort -u >"$T/d-stu"
        if [ "$prof" = safe-harbor ]; then cmp -s /dev/null "$T/f-stu"; stu=$?; else cmp -s "$T/f-stu" "$T/d-stu"; stu=$?; fi
        check "$c: ImagingStudy series and instance UIDs = DICOM UIDs" \
            sh -c '[ -s "$1" ] && cmp -s "$1" "$2" && cmp -s "$3" "$4" && [ "$5" -eq 0 ]' _ \
            "$T/f-ser" "$T/d-ser" "$T/f-ins" "$T/d-ins" "$stu"
        # dates: one shift per patient, FHIR and DICOM alike
        get '.studies[] | .series[] as $s | "\($s) \(.day)"' | sort >"$T/f-day"
        awk '{print $4, $2}' "$T/dcm" | sort -u >"$T/d-day"
        if [ "$prof" = longitudinal ]; then
            check "$c: one shift per patient ($(get '.shifts | map(tostring) | join(" ")') days), the DICOM study's too" \
                sh -c '[ "$1" = "[1,1,1]" ] && [ "$2" = false ] && cmp -s "$3" "$4"' _ \
                "$(get '.shifts_per_patient | tostring')" "$(get '.shifts | any(. == 0)')" "$T/f-day" "$T/d-day"
        else
            check "$c: dates cut to the year in FHIR, no StudyDate in DICOM" \
                sh -c '[ "$1" = 0 ] && ! awk "{print \$2}" "$2" | grep -qv "^-$"' _ \
                "$(get .not_year)" "$T/dcm"
        fi
        check "$c: codes and values of every Observation survive" [ "$(get .obs_agree)" = true ]
    done
done

# A job splits Bundles into their entries: with NDJSON per type, the
# transaction shape's urn:uuid: references must become Type/id.
write_config "$T/job"
cp -r "$T/in-transaction/fhir/." "$T/job/in/fhir/"
cp -r "$T/in-transaction/dicom/." "$T/job/in/dicom/"
cp "$T/key" "$T/job/key"
sed -i 's|<state |<keys pseudonym="file:key"/>\n  <state |; s|<pull from="ehr pacs"/>|<pull from="ehr pacs"/>\n    <deid profile="longitudinal"/>|' "$T/job/sluice.xml"
(cd "$T/job" && sluice --config sluice.xml run t --no-progress >"$T/job.out" 2>"$T/job.err")
rc=$?
check "job: the transaction shape runs (exit 0), nothing quarantined" \
    sh -c '[ "$1" -eq 0 ] && grep -q " 0 quarantined" "$2"' _ "$rc" "$T/job.out"
run=$(ls "$T/job/out/fhir")
check "job: NDJSON per resource type" \
    sh -c '[ "$(ls "$1" | tr "\n" " ")" = "Condition.ndjson DiagnosticReport.ndjson Encounter.ndjson ImagingStudy.ndjson MedicationRequest.ndjson Observation.ndjson Patient.ndjson " ]' _ "$T/job/out/fhir/$run"
cat "$T/job/out/fhir/$run"/*.ndjson >"$T/job.docs"
jq -n --slurpfile in "$T/in-transaction.docs" --slurpfile out "$T/job.docs" \
    '($in | [.[].entry[].resource] | length) as $n
     | [$out[] | .resourceType + "/" + (.id // "")] as $ids
     | { n: $n, out: ($out | length),
         noid: ([$out[] | select(.id == null)] | length),
         urn: ([$out[] | .. | objects | .reference? // empty | select(startswith("urn:"))] | length),
         refs: ([$out[] | .. | objects | .reference? // empty] | length),
         dangling: ([$out[] | .. | objects | .reference? // empty | select(. as $r | $ids | index($r) | not)] | length) }' >"$T/job.f"
F="$T/job.f"
check "job: every resource delivered with an id ($(get .out) of $(get .n))" \
    sh -c '[ "$1" = "$2" ] && [ "$3" = 0 ]' _ "$(get .n)" "$(get .out)" "$(get .noid)"
check "job: no urn: reference left, all $(get .refs) resolve to a delivered resource" \
    sh -c '[ "$1" = 0 ] && [ "$2" = 0 ] && [ "$3" -gt 0 ]' _ "$(get .urn)" "$(get .dangling)" "$(get .refs)"
# the job's ids are the ones `sluice deid` writes in the urn:uuid: fullUrls
jq -r '.entry[].fullUrl | ltrimstr("urn:uuid:")' "$T"/out-transaction-longitudinal/fhir/*.json | sort >"$T/deid-ids"
jq -r '.id' "$T/job.docs" | sort >"$T/job-ids"
check "job: the ids are the pseudonymised fullUrls sluice deid writes" \
    sh -c '[ -s "$1" ] && cmp -s "$1" "$2"' _ "$T/deid-ids" "$T/job-ids"
# the same patients, shifts and links as sluice deid of the Bundles
jq -c 'if .resourceType == "Patient" then [.identifier[0].value, .birthDate] else empty end' "$T/job.docs" | sort >"$T/job-pat"
jq -c '.entry[].resource | select(.resourceType == "Patient") | [.identifier[0].value, .birthDate]' "$T"/out-transaction-longitudinal/fhir/*.json | sort >"$T/deid-pat"
check "job: the same MRN pseudonyms and shifted birth dates as sluice deid" \
    sh -c '[ -s "$1" ] && cmp -s "$1" "$2"' _ "$T/job-pat" "$T/deid-pat"
jq -r 'select(.resourceType == "ImagingStudy") | .series[] as $s | "\($s.uid) \(.started[0:10] | gsub("-"; ""))"' "$T/job.docs" | sort >"$T/job-day"
dicom_lines "$T/job/out/dicom" | awk '{print $4, $2}' | sort -u >"$T/job-dday"
check "job: ImagingStudy dates = the DICOM StudyDates, series by series" \
    sh -c '[ -s "$1" ] && cmp -s "$1" "$2"' _ "$T/job-day" "$T/job-dday"

# A configured base takes the hospital's place in absolute references and
# fullUrls; a relative reference stays relative.
sluice deid --reference-base https://research.example.net/fhir/ --key-file "$T/key" \
    -o "$T/rb" "$T/in-collection" >/dev/null 2>&1
rc=$?
docs "$T/rb/fhir" >"$T/rb.docs"
jq -n --slurpfile in "$T/in-collection.docs" --slurpfile out "$T/rb.docs" -f "$JQ" >"$T/rb.f"
F="$T/rb.f"
abs=$(jq -r '.entry[] | .fullUrl, (.resource | .. | objects | .reference? // empty)' "$T"/rb/fhir/*.json | grep -c '://')
other=$(jq -r '.entry[] | .fullUrl, (.resource | .. | objects | .reference? // empty)' "$T"/rb/fhir/*.json |
    grep '://' | grep -cv '^https://research\.example\.net/fhir/[A-Za-z]*/[a-z2-7]*$')
check "--reference-base: $abs absolute references and fullUrls on the configured base, none on another" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -gt 0 ] && [ "$3" -eq 0 ]' _ "$rc" "$abs" "$other"
check "--reference-base: the hospital's host gone, all $(get .refs) references resolve" \
    sh -c '! grep -rqa "$1" "$2" && [ "$3" = 0 ]' _ "$HOSTS" "$T/rb" "$(get .dangling)"
sed -i 's|<deid profile="longitudinal"/>|<deid profile="longitudinal" reference-base="research.example.net"/>|' "$T/job/sluice.xml"
(cd "$T/job" && sluice --config sluice.xml check-config >/dev/null 2>"$T/rb.err")
rc=$?
check "a <deid reference-base> that is no absolute URL: exit 1, naming the line" \
    sh -c '[ "$1" -eq 1 ] && grep -q "sluice.xml:[0-9]*: <deid reference-base>" "$2"' _ "$rc" "$T/rb.err"
finish

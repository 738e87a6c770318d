#!/bin/sh
# pacs_cohort.sh - the dimse source narrowed to a cohort, against Orthanc
# 1.10 on 127.0.0.1 in a private network namespace (pacs_lib.sh), filled
# with `sluice synth` studies: by a file of accession numbers, and by the
# FHIR ImagingStudy resources of the cohort (`studies`), in one job that
# also pulls the FHIR side, so that the de-identified ImagingStudy names
# the de-identified DICOM study (one set of pseudonyms); an unusable line
# of the studies file is quarantined by its line number, the run goes on.
#
# Fixtures: `sluice synth` (fake patients: FHIR Bundles whose ImagingStudy
# resources match the DICOM studies), made by the test.
. "${top_srcdir:-.}/tests/integration/pacs_lib.sh"

plan 7
pacs_need 7

sluice synth --patients 4 --seed 5 -o "$T/syn" >/dev/null 2>&1
sluice keygen -o "$T/key" >/dev/null 2>&1
uid_of() { dcmdump -q +P 0020,000d "$1" | head -n 1 | sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p'; }
acc_of() { dcmdump -q +P AccessionNumber "$1" | head -n 1 | sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p'; }
# instances per study UID, "UID COUNT"
for f in $(find "$T/syn/dicom" -type f); do uid_of "$f"; done | sort | uniq -c |
    awk '{print $2, $1}' >"$T/studies"

# mkjob DIR SOURCE-ATTRS [FHIR]: a job pulling from Orthanc (and with
# FHIR=1 the synthetic FHIR Bundles too) into DIR/out
mkjob() {
    mkdir -p "$1"
    {
        cat <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:$T/key"/>
  <state path="state/state.db"/>
  <quarantine path="quarantine"/>
  <source id="ehr" type="fhir-files" path="$T/syn/fhir"/>
  <source id="pacs" type="dimse" host="127.0.0.1" port="$ORTHANC_DICOM"
          called-ae="ORTHANC" calling-ae="SLUICE" timeout="10" $2/>
  <target id="dicom" type="dicom-folder" path="out/dicom"/>
  <target id="fhir" type="fhir-files" path="out/fhir"/>
  <job id="t">
EOC
        if [ "${3:-0}" = 1 ]; then
            echo '    <pull from="ehr pacs"/>'
        else
            echo '    <pull from="pacs"/>'
        fi
        cat <<EOC
    <deid profile="basic"/>
    <push to="dicom fhir"/>
  </job>
</sluice>
EOC
    } >"$1/sluice.xml"
}
count_out() { find "$1/out/dicom" -name '*.dcm' 2>/dev/null | wc -l; }

b="$T/both"
mkjob "$b" 'patient-ids="ids.txt" studies="cohort.ndjson"'
: >"$b/ids.txt"; : >"$b/cohort.ndjson"
sluice -c "$b/sluice.xml" check-config >/dev/null 2>"$b/err"
check "check-config: two of patient-ids, accession-numbers and studies are refused with the line" \
    sh -c '[ "$1" -eq 1 ] && grep -q "sluice.xml:8: source .pacs.: patient-ids, accession-numbers, studies: give one list" "$2"' \
    _ $? "$b/err"

orthanc_start "$T/pacs" || diag "Orthanc did not start"
storescu -aec ORTHANC +sd +r 127.0.0.1 $ORTHANC_DICOM "$T/syn/dicom" >/dev/null 2>&1

# by accession number: one study
f=$(find "$T/syn/dicom" -type f | sort | head -n 1)
acc=$(acc_of "$f")
want=$(awk -v u="$(uid_of "$f")" '$1 == u {print $2}' "$T/studies")
a="$T/acc"
mkjob "$a" 'accession-numbers="acc.txt"'
printf '%s\n' "$acc" >"$a/acc.txt"
sluice -c "$a/sluice.xml" run t --no-progress >"$a/out.log" 2>"$a/err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$a/err"
check "accession-numbers: exit 0, the $want instances of that study only, the number never printed" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ] && ! grep -qF -- "$4" "$5" "$6"' \
    _ $rc "$(count_out "$a")" "$want" "$acc" "$a/err" "$a/out.log"

# by the cohort's ImagingStudy resources: two of the studies (one by its
# UID, one by its accession number only), a line that is not JSON, an
# ImagingStudy that names no study, and a Patient (skipped)
c="$T/cohort"
mkjob "$c" 'studies="cohort.ndjson"' 1
jq -c '.entry[].resource | select(.resourceType == "ImagingStudy")' "$T"/syn/fhir/*.json >"$T/all-is"
sed -n 1p "$T/all-is" >"$c/cohort.ndjson"
sed -n 3p "$T/all-is" | jq -c '.identifier |= map(select(.system != "urn:dicom:uid"))' >>"$c/cohort.ndjson"
echo '{"resourceType": "ImagingStudy", broken' >>"$c/cohort.ndjson"
echo '{"resourceType": "ImagingStudy", "id": "x", "status": "available"}' >>"$c/cohort.ndjson"
jq -c '.entry[0].resource' "$T/syn/fhir/bundle-000001.json" >>"$c/cohort.ndjson"
u1=$(sed -n 1p "$T/all-is" | jq -r '.identifier[] | select(.system == "urn:dicom:uid") | .value | sub("^urn:oid:"; "")')
u3=$(sed -n 3p "$T/all-is" | jq -r '.identifier[] | select(.system == "urn:dicom:uid") | .value | sub("^urn:oid:"; "")')
want=$(awk -v a="$u1" -v b="$u3" '$1 == a || $1 == b {n += $2} END {print n + 0}' "$T/studies")
sluice -c "$c/sluice.xml" run t --no-progress >"$c/out.log" 2>"$c/err"
rc=$?
check "studies: exit 3 (quarantined), the $want instances of the two studies named, no other" \
    sh -c '[ "$1" -eq 3 ] && [ "$2" -eq "$3" ] && [ "$3" -gt 0 ]' _ $rc "$(count_out "$c")" "$want"
sluice -c "$c/sluice.xml" quarantine list >"$c/q" 2>&1
check "the line that is not JSON and the ImagingStudy without UID or accession are quarantined by line number" \
    sh -c 'grep -q "studies file line 3: not a JSON object" "$1" &&
           grep -q "studies file line 4: ImagingStudy without a Study Instance UID" "$1" &&
           [ "$(grep -c "studies file line" "$1")" -eq 2 ]' _ "$c/q"
# one set of pseudonyms: the de-identified ImagingStudy resources name the
# de-identified DICOM studies
find "$c/out/dicom" -name '*.dcm' | while read -r f; do uid_of "$f"; done | sort -u >"$c/dicom-uids"
find "$c/out/fhir" -type f -exec cat {} + |
    jq -r 'select(.resourceType == "ImagingStudy") | .identifier[]? | select(.system == "urn:dicom:uid") | .value | sub("^urn:oid:"; "")' |
    sort -u >"$c/fhir-uids"
check "the de-identified DICOM studies (2) are named by de-identified ImagingStudy resources (same new UIDs)" \
    sh -c '[ "$(wc -l <"$1")" -eq 2 ] && [ -z "$(comm -23 "$1" "$2")" ] && ! grep -qF "$3" "$1"' \
    _ "$c/dicom-uids" "$c/fhir-uids" "$u1"
check "the studies file's values are not in what the run printed" \
    sh -c '! grep -qF -- "$1" "$3" "$4" && ! grep -qF -- "$2" "$3" "$4"' _ "$u1" "$u3" "$c/err" "$c/out.log"

# a studies file naming nothing usable pulls nothing (not everything)
e="$T/empty"
mkjob "$e" 'studies="cohort.ndjson"'
echo '{"resourceType": "Patient", "id": "p"}' >"$e/cohort.ndjson"
sluice -c "$e/sluice.xml" run t --no-progress >/dev/null 2>"$e/err"
rc=$?
check "a studies file with no ImagingStudy: exit 0, nothing pulled" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq 0 ]' _ $rc "$(count_out "$e")"
orthanc_stop
finish

#!/bin/sh
# pacs_cohort.sh - the dimse source narrowed to a cohort, against Orthanc
# 1.10 on 127.0.0.1 in a private network namespace (pacs_lib.sh), filled
# with `sluice synth` studies: by a file of accession numbers, and by the
# FHIR ImagingStudy resources of the cohort (`studies`), in one job that
# also pulls the FHIR side, so that the de-identified ImagingStudy names
# the de-identified DICOM study (one set of pseudonyms); an unusable line
# of the studies file is quarantined by its line number, the run goes on.
# Incremental pulls: new studies stored after a first pull are the only
# ones a second pull takes (a StudyDate watermark with an overlap, the
# studies in the overlap not taken twice).
#
# Fixtures: `sluice synth` (fake patients: FHIR Bundles whose ImagingStudy
# resources match the DICOM studies), made by the test.
. "${top_srcdir:-.}/tests/integration/pacs_lib.sh"

plan 12
pacs_need 12

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
# C-MOVE of instances of the Ultrasound Image Storage class (their Modality
# left as it was, so that deid does not hold them for burned-in text): the
# class comes late in DCMTK's list
# of every storage class, past the 128 presentation contexts an SCP can
# offer; sluice's storage SCP must still take it
mkdir -p "$T/us"
for f in $(find "$T/syn/dicom" -type f | sort | head -n 3); do cp "$f" "$T/us/"; done
dcmodify -nb -m "SOPClassUID=1.2.840.10008.5.1.4.1.1.6.1" \
    -m "AccessionNumber=USMOVE1" -gst -gse -gin "$T"/us/* >/dev/null 2>&1
dcmodify -nb -m "(0002,0002)=1.2.840.10008.5.1.4.1.1.6.1" "$T"/us/* >/dev/null 2>&1
storescu -aec ORTHANC +sd +r 127.0.0.1 $ORTHANC_DICOM "$T/us" >/dev/null 2>&1
u="$T/usmove"
mkjob "$u" 'accession-numbers="acc.txt" retrieve="c-move" listen-port="11113" max-attempts="1"'
echo USMOVE1 >"$u/acc.txt"
sluice -c "$u/sluice.xml" run t --no-progress >/dev/null 2>"$u/err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$u/err"
check "C-MOVE of an ultrasound study to sluice's storage SCP: exit 0, its 3 instances" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq 3 ]' _ $rc "$(count_out "$u")"
rm -rf "$T/us"

# incremental: a pull, new studies stored in Orthanc, a pull again
i="$T/incr"
mkjob "$i" 'overlap-days="1"'
sluice -c "$i/sluice.xml" run t --no-progress >/dev/null 2>"$i/err1"
rc=$?
NA=$(($(find "$T/syn/dicom" -type f | wc -l) + 3))
[ $rc -eq 0 ] || sed 's/^/# /' "$i/err1"
check "incremental, first run: exit 0, all $NA instances" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ]' _ $rc "$(count_out "$i")" "$NA"
# new studies: one dated on the newest date already pulled (inside the
# overlap), one a day later; and one dated long before (outside it: an
# incremental pull does not look there)
newest=$(find "$T/syn/dicom" -type f -exec dcmdump -q +P StudyDate {} + |
    sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p' | sort | tail -n 1)
later=$(date -u -d "$newest + 1 day" +%Y%m%d)
sluice synth --patients 3 --seed 77 -o "$T/new" >/dev/null 2>&1
set -- $(ls "$T/new/dicom")
dcmodify -nb -m "StudyDate=$newest" $(find "$T/new/dicom/$1" -type f) >/dev/null 2>&1
dcmodify -nb -m "StudyDate=$later" $(find "$T/new/dicom/$2" -type f) >/dev/null 2>&1
dcmodify -nb -m "StudyDate=19990101" $(find "$T/new/dicom/$3" -type f) >/dev/null 2>&1
NB=$(find "$T/new/dicom/$1" "$T/new/dicom/$2" -type f | wc -l)
storescu -aec ORTHANC +sd +r 127.0.0.1 $ORTHANC_DICOM "$T/new/dicom" >/dev/null 2>&1
sluice -c "$i/sluice.xml" run t --no-progress >/dev/null 2>"$i/err2"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$i/err2"
in2=$($SLUICE -c "$i/sluice.xml" runs --json | jq '.[0].in')
check "incremental, second run: exit 0, only the $NB instances of the new studies in the overlap and after it" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ] && [ "$4" -eq $(($3 + $5)) ]' \
    _ $rc "$in2" "$NB" "$(count_out "$i")" "$NA"
check "the studies found again in the overlap are said to be skipped" \
    grep -q "studies found again in the overlap were taken by an earlier run: skipped" "$i/err2"
sluice -c "$i/sluice.xml" run t --no-progress >/dev/null 2>"$i/err3"
rc=$?
in3=$($SLUICE -c "$i/sluice.xml" runs --json | jq '.[0].in')
check "incremental, third run with nothing new: exit 0, nothing taken" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq 0 ]' _ $rc "$in3"
orthanc_stop
finish

#!/bin/sh
# pacs_cohort_job.sh - a dimse source whose cohort is the FHIR side of the
# same job (studies="source:ehr", patient-ids="source:ehr"), against
# Orthanc 1.10 on 127.0.0.1 in a private network namespace (pacs_lib.sh):
# the FHIR source yields the ImagingStudy resources of two of the three
# studies Orthanc holds, and exactly those two are pulled; the
# de-identified DICOM PatientID is the de-identified FHIR Patient's MRN
# and the ImagingStudy UIDs are the DICOM UIDs (one set of pseudonyms);
# the patient-ids form pulls the studies of the Patients the FHIR source
# yields (their MR identifier, or the one of patient-id-system); no value
# of the cohort is printed; check-config names a cohort source that does
# not exist, or is not FHIR, or that the job does not pull; a run killed
# with kill -9 mid-pull resumes with the same cohort and delivers every
# instance and resource once.
#
# Fixtures: `sluice synth` (fake patients: FHIR Bundles whose Patient and
# ImagingStudy resources match the DICOM studies), made by the test.
. "${top_srcdir:-.}/tests/integration/pacs_lib.sh"

plan 15
pacs_need 15

sluice synth --patients 3 --seed 5 -o "$T/syn" >/dev/null 2>&1
sluice keygen -o "$T/key" >/dev/null 2>&1
tag_of() { dcmdump -q +P "$1" "$2" | head -n 1 | sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p'; }
# instances per study UID, "UID COUNT"
for f in $(find "$T/syn/dicom" -type f); do tag_of 0020,000d "$f"; done |
    sort | uniq -c | awk '{print $2, $1}' >"$T/studies"
study_of_bundle() {
    jq -r '.entry[].resource | select(.resourceType == "ImagingStudy") |
           .identifier[]? | select(.system == "urn:dicom:uid") | .value |
           sub("^urn:oid:"; "")' "$1"
}
mrn_of_bundle() {
    jq -r '.entry[].resource | select(.resourceType == "Patient") |
           .identifier[] | select(.type.coding[]?.code == "MR") | .value' "$1"
}
no_is() { jq '.entry |= map(select(.resource.resourceType != "ImagingStudy"))' "$1"; }
set -- $(ls "$T/syn/fhir")
B1="$T/syn/fhir/$1" B2="$T/syn/fhir/$2" B3="$T/syn/fhir/$3"
[ "$(wc -l <"$T/studies")" -eq 3 ] || diag "synth made $(wc -l <"$T/studies") studies, not 3"

# mkjob DIR FHIR-DIR PACS-ATTRS [PULL]: a job pulling from the FHIR
# folder and from Orthanc into DIR/out
mkjob() {
    mkdir -p "$1"
    cat >"$1/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:$T/key"/>
  <state path="state/state.db"/>
  <quarantine path="quarantine"/>
  <source id="ehr" type="fhir-files" path="$2"/>
  $(if [ "${WEB:-0}" = 1 ]; then
      echo "<source id=\"pacs\" type=\"dicomweb\" base=\"$ORTHANC_URL/dicom-web/\" timeout=\"20\" $3/>"
  else
      echo "<source id=\"pacs\" type=\"dimse\" host=\"127.0.0.1\" port=\"$ORTHANC_DICOM\""
      echo "          called-ae=\"ORTHANC\" calling-ae=\"SLUICE\" timeout=\"10\" $3/>"
  fi)
  <target id="dicom" type="dicom-folder" path="out/dicom"/>
  <target id="fhir" type="fhir-files" path="out/fhir"/>
  <job id="t">
    <pull from="${4:-ehr pacs}"/>
    ${NODEID:+<!-- no deid: no learning pass -->}$( [ -n "${NODEID:-}" ] || echo '<deid profile="basic"/>')
    <push to="dicom fhir"/>
  </job>
</sluice>
EOC
}
count_out() { find "$1/out/dicom" -name '*.dcm' 2>/dev/null | wc -l; }
dicom_vals() { find "$1/out/dicom" -name '*.dcm' | while read -r f; do tag_of "$2" "$f"; done | sort -u; }
fhir_out() { find "$1/out/fhir" -type f -exec cat {} +; }

# check-config: the cohort source must exist, be FHIR, and be pulled
c="$T/cc"
mkjob "$c" "$T/syn/fhir" 'studies="source:nosuch"'
sluice -c "$c/sluice.xml" check-config >/dev/null 2>"$c/err1"
rc1=$?
mkjob "$c" "$T/syn/fhir" 'patient-ids="source:dicom"'
sed -i 's|<target id="dicom" type="dicom-folder" path="out/dicom"/>|&\n  <source id="dcm" type="dicom-folder" path="'"$T"'/syn/dicom"/>|' "$c/sluice.xml"
sed -i 's|source:dicom|source:dcm|' "$c/sluice.xml"
sluice -c "$c/sluice.xml" check-config >/dev/null 2>"$c/err2"
rc2=$?
mkjob "$c" "$T/syn/fhir" 'studies="source:ehr"' pacs
sluice -c "$c/sluice.xml" check-config >/dev/null 2>"$c/err3"
rc3=$?
check "check-config: a cohort source that does not exist, is not FHIR, or is not pulled by the job: exit 1 with the line" \
    sh -c '[ "$1$2$3" = 111 ] &&
           grep -q "sluice.xml:8: source .pacs.: studies=\"source:nosuch\": there is no source .nosuch." "$4" &&
           grep -q "sluice.xml:8: source .pacs.: patient-ids=\"source:dcm\": source .dcm. is a dicom-folder source, not a FHIR source" "$5" &&
           grep -q "sluice.xml:[0-9]*: job .t.: source .pacs. takes its cohort from source .ehr., which the job does not pull from" "$6"' \
    _ $rc1 $rc2 $rc3 "$c/err1" "$c/err2" "$c/err3"
mkjob "$c" "$T/syn/fhir" 'studies="source:ehr"'
check "check-config: studies=\"source:ehr\" in a job pulling ehr and pacs is accepted" \
    sluice -c "$c/sluice.xml" check-config

orthanc_start "$T/pacs" || diag "Orthanc did not start"
storescu -aec ORTHANC +sd +r 127.0.0.1 $ORTHANC_DICOM "$T/syn/dicom" >/dev/null 2>&1

# studies="source:ehr": the FHIR side holds the ImagingStudy resources of
# the first two studies only
s="$T/st"
mkdir -p "$s/fhir"
cp "$B1" "$B2" "$s/fhir/"
no_is "$B3" >"$s/fhir/${B3##*/}"
# the first study's ImagingStudy a second time (another id): asked for once
jq -c '.entry[].resource | select(.resourceType == "ImagingStudy") | .id = "again"' "$B1" >"$s/fhir/again.ndjson"
u1=$(study_of_bundle "$B1") u2=$(study_of_bundle "$B2") u3=$(study_of_bundle "$B3")
want=$(awk -v a="$u1" -v b="$u2" '$1 == a || $1 == b {n += $2} END {print n + 0}' "$T/studies")
mkjob "$s" "$s/fhir" 'studies="source:ehr"'
sluice -c "$s/sluice.xml" run t --no-progress >"$s/out.log" 2>"$s/err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$s/err"
check "studies=\"source:ehr\": exit 0, the $want instances of the two studies its ImagingStudy resources name (one named twice), not the third" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ] && [ "$3" -gt 0 ] && [ "$(wc -l <"$4")" -eq 3 ] &&
           grep -q "source .pacs.: cohort from source .ehr.: 2 studies, 0 unusable" "$5"' \
    _ $rc "$(count_out "$s")" "$want" "$T/studies" "$s/err"
dicom_vals "$s" 0020,000d >"$s/dicom-uids"
fhir_out "$s" | jq -r 'select(.resourceType == "ImagingStudy") | .identifier[]? |
    select(.system == "urn:dicom:uid") | .value | sub("^urn:oid:"; "")' | sort -u >"$s/fhir-uids"
check "the de-identified ImagingStudy UIDs are the de-identified DICOM Study Instance UIDs (2, new ones)" \
    sh -c '[ "$(wc -l <"$1")" -eq 2 ] && cmp -s "$1" "$2" && ! grep -qF "$3" "$1" && ! grep -qF "$4" "$1"' \
    _ "$s/dicom-uids" "$s/fhir-uids" "$u1" "$u2"
dicom_vals "$s" PatientID >"$s/dicom-pids"
fhir_out "$s" | jq -r 'select(.resourceType == "Patient") | .identifier[]? |
    select(.type.coding[]?.code == "MR") | .value' | sort -u >"$s/fhir-mrns"
m1=$(mrn_of_bundle "$B1") m2=$(mrn_of_bundle "$B2")
check "the de-identified DICOM PatientIDs are the pseudonyms of the FHIR Patients' MRNs" \
    sh -c '[ "$(wc -l <"$1")" -eq 2 ] && [ -z "$(comm -23 "$1" "$2")" ] && ! grep -qxF "$3" "$1" && ! grep -qxF "$4" "$1"' \
    _ "$s/dicom-pids" "$s/fhir-mrns" "$m1" "$m2"
check "no value of the cohort (UIDs, MRNs) is in what the run printed" \
    sh -c 'for v in "$3" "$4" "$5" "$6"; do grep -qF -- "$v" "$1" "$2" && exit 1; done; exit 0' \
    _ "$s/err" "$s/out.log" "$u1" "$u2" "$m1" "$m2"

# without a <deid> stage there is no learning pass to read the FHIR
# source with: the cohort is read on its own, with the same result
NODEID=1 mkjob "$s/nd" "$s/fhir" 'studies="source:ehr"'
sluice -c "$s/nd/sluice.xml" run t --no-progress >/dev/null 2>"$s/nd/err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$s/nd/err"
check "no deid (the cohort read on its own): exit 0, the same $want instances of the two studies" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ] && [ "$4" -eq 2 ]' \
    _ $rc "$(count_out "$s/nd")" "$want" "$(dicom_vals "$s/nd" 0020,000d | wc -l)"

# the next run (the job pulls since="checkpoint"): the FHIR side now names
# the third study too, dated years before the studies taken; it is pulled
# (the PACS source's date watermark does not narrow a cohort), and each
# instance is in the output once
st_n=$(count_out "$s")
mkdir -p "$s/fhir1" && cp "$s"/fhir/* "$s/fhir1/"
cp "$B3" "$s/fhir/"
all=$(awk '{n += $2} END {print n}' "$T/studies")
sluice -c "$s/sluice.xml" run t --no-progress >/dev/null 2>"$s/err2"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$s/err2"
check "next run, the cohort grown by an older study: exit 0, all $all instances in the output, once" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ] && [ "$4" -eq 3 ]' \
    _ $rc "$(count_out "$s")" "$all" "$(dicom_vals "$s" 0020,000d | wc -l)"

# patient-ids="source:ehr": the Patients of bundles 1 and 3 (no
# ImagingStudy on the FHIR side); their MR identifier is the PACS's
# PatientID; a Patient without one is quarantined, the run goes on
p="$T/pat"
mkdir -p "$p/fhir"
no_is "$B1" >"$p/fhir/${B1##*/}"
no_is "$B3" >"$p/fhir/${B3##*/}"
jq -c '.entry[] | .resource | select(.resourceType == "Patient") | del(.identifier) | .id = "noid"' "$B2" >"$p/fhir/noid.ndjson"
m3=$(mrn_of_bundle "$B3")
want=$(awk -v a="$u1" -v b="$u3" '$1 == a || $1 == b {n += $2} END {print n + 0}' "$T/studies")
mkjob "$p" "$p/fhir" 'patient-ids="source:ehr"'
sluice -c "$p/sluice.xml" run t --no-progress >"$p/out.log" 2>"$p/err"
rc=$?
sluice -c "$p/sluice.xml" quarantine list >"$p/q" 2>&1
check "patient-ids=\"source:ehr\": exit 3, the $want instances of the two patients' studies, the Patient without an MRN quarantined" \
    sh -c '[ "$1" -eq 3 ] && [ "$2" -eq "$3" ] && [ "$3" -gt 0 ] &&
           grep -q "Patient without an identifier of type MR" "$4" &&
           [ "$(grep -c "Patient without" "$4")" -eq 1 ]' \
    _ $rc "$(count_out "$p")" "$want" "$p/q"
dicom_vals "$p" PatientID >"$p/dicom-pids"
fhir_out "$p" | jq -r 'select(.resourceType == "Patient") | .identifier[]? |
    select(.type.coding[]?.code == "MR") | .value' | sort -u >"$p/fhir-mrns"
check "patient-ids: the DICOM PatientIDs (2) are the FHIR Patients' MRN pseudonyms; no MRN printed" \
    sh -c '[ "$(wc -l <"$1")" -eq 2 ] && [ -z "$(comm -23 "$1" "$2")" ] &&
           ! grep -qF -- "$3" "$4" "$5" && ! grep -qF -- "$6" "$4" "$5"' \
    _ "$p/dicom-pids" "$p/fhir-mrns" "$m1" "$p/err" "$p/out.log" "$m3"
# patient-id-system: the identifier of that system instead (the SSN here,
# which is not what the PACS holds: nothing is found)
sysn=$(jq -r '.entry[].resource | select(.resourceType == "Patient") | .identifier[] |
              select(.type.coding[]?.code == "SS") | .system' "$B1")
mkjob "$p/sys" "$p/fhir" "patient-ids=\"source:ehr\" patient-id-system=\"$sysn\""
sluice -c "$p/sys/sluice.xml" run t --no-progress >/dev/null 2>"$p/sys/err"
rc=$?
check "patient-id-system: the Patients' identifiers of that system are asked for (none on the PACS: no DICOM)" \
    sh -c '[ "$1" -eq 3 ] && [ "$2" -eq 0 ]' _ $rc "$(count_out "$p/sys")"

# the dicomweb source (QIDO-RS, WADO-RS) takes the same cohorts
w="$T/web"
WEB=1 mkjob "$w/st" "$s/fhir1" 'studies="source:ehr"'
sluice -c "$w/st/sluice.xml" run t --no-progress >"$w/st/out.log" 2>"$w/st/err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$w/st/err"
dicom_vals "$w/st" 0020,000d >"$w/st/dicom-uids"
check "dicomweb, studies=\"source:ehr\": exit 0, the same two studies ($st_n instances), their UIDs those of the de-identified ImagingStudy resources" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ] && cmp -s "$4" "$5"' \
    _ $rc "$(count_out "$w/st")" "$st_n" "$w/st/dicom-uids" "$s/dicom-uids"
WEB=1 mkjob "$w/pat" "$p/fhir" 'patient-ids="source:ehr"'
sluice -c "$w/pat/sluice.xml" run t --no-progress >"$w/pat/out.log" 2>"$w/pat/err"
rc=$?
sluice -c "$w/pat/sluice.xml" quarantine list >"$w/pat/q" 2>&1
check "dicomweb, patient-ids=\"source:ehr\": exit 3, the two patients' $(count_out "$p") instances, the Patient without an MRN quarantined, no MRN printed" \
    sh -c '[ "$1" -eq 3 ] && [ "$2" -eq "$3" ] && [ "$(grep -c "Patient without" "$4")" -eq 1 ] &&
           ! grep -qF -- "$5" "$6" "$7"' \
    _ $rc "$(count_out "$w/pat")" "$(count_out "$p")" "$w/pat/q" "$m1" "$w/pat/err" "$w/pat/out.log"
orthanc_stop

# kill -9 mid-pull, then resume: the same cohort, nothing twice
sluice synth --patients 24 --seed 11 -o "$T/big" >/dev/null 2>&1
orthanc_start "$T/pacs2" || diag "Orthanc did not start"
storescu -aec ORTHANC +sd +r 127.0.0.1 $ORTHANC_DICOM "$T/big/dicom" >/dev/null 2>&1
k="$T/kill"
mkdir -p "$k/fhir"
n=0
for b in "$T"/big/fhir/*.json; do
    n=$((n + 1))
    if [ $n -le 16 ]; then cp "$b" "$k/fhir/"; else no_is "$b" >"$k/fhir/${b##*/}"; fi
done
for b in "$k"/fhir/*.json; do study_of_bundle "$b"; done | sort -u >"$k/uids"
for f in $(find "$T/big/dicom" -type f); do tag_of 0020,000d "$f"; done | sort >"$k/all"
NK=$(grep -cxFf "$k/uids" "$k/all")
NF=$(cat "$k"/fhir/*.json | jq '.entry | length' | awk '{n += $1} END {print n}')
mkjob "$k" "$k/fhir" 'studies="source:ehr"'
$SLUICE -c "$k/sluice.xml" -q -j 2 run t --no-progress --commit-every 5 >/dev/null 2>&1 &
spid=$!
i=0
while [ "$(count_out "$k")" -lt 10 ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $spid 2>/dev/null
wait $spid 2>/dev/null
mid=$(count_out "$k")
check "the kill landed mid-pull ($mid of $NK)" \
    sh -c '[ "$1" -gt 0 ] && [ "$1" -lt "$2" ]' _ "$mid" "$NK"
sluice -c "$k/sluice.xml" -q run t --no-progress >/dev/null 2>"$k/err"
rc=$?
[ $rc -eq 0 ] || sed "s/^/# /" "$k/err"
fhir_out "$k" | jq -r '.resourceType + "/" + .id' | sort >"$k/fhir-ids"
dup=$(find "$k/out/dicom" -name '*.dcm' | while read -r f; do tag_of 0008,0018 "$f"; done | sort | uniq -d | wc -l)
check "resumed: exit 0, the $NK instances of the cohort's studies once each, the $NF resources once each, in = $((NK + NF))" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ] &&
           [ "$7" -eq 0 ] &&
           [ "$(wc -l <"$5")" -eq "$6" ] && [ -z "$(uniq -d "$5")" ] &&
           [ "$($SLUICE -c "$4/sluice.xml" runs --json | jq ".[0].attempts")" -eq 2 ] &&
           [ "$($SLUICE -c "$4/sluice.xml" runs --json | jq ".[0].in")" -eq $(($3 + $6)) ]' \
    _ $rc "$(count_out "$k")" "$NK" "$k" "$k/fhir-ids" "$NF" "$dup"
orthanc_stop
finish

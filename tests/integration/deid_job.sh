#!/bin/sh
# A job with <deid>: what reaches the targets is de-identified, the audit
# trail names the profile chain and the key's fingerprint, and a job
# without a key is refused with the line to fix.
. "${top_srcdir}/tests/integration/lib.sh"
plan 9
write_config "$T"
sluice synth --patients 3 --seed 8 -o "$T/syn" >/dev/null 2>&1
cp -r "$T/syn/fhir/." "$T/in/fhir/"
cp -r "$T/syn/dicom/." "$T/in/dicom/"
sluice keygen >"$T/key"
sed -i 's|<state |<keys pseudonym="file:key"/>\n  <state |; s|<pull from="ehr pacs"/>|<pull from="ehr pacs"/>\n    <deid profile="basic"/>|' "$T/sluice.xml"
sluice --config "$T/sluice.xml" check-config >/dev/null 2>&1
check "a job with <deid> checks out" [ $? -eq 0 ]
# what a killed run left in the work folder (a process that is gone)
dead=$(sh -c 'echo $$')
mkdir -p "$T/state/work"
echo leftover >"$T/state/work/deid-$dead-7.dcm"
echo leftover >"$T/state/work/.deid-$dead-8.tmp"
sluice --config "$T/sluice.xml" run t --no-progress >"$T/out.txt" 2>"$T/err.txt"
check "the job runs (exit 0)" [ $? -eq 0 ]
check "a killed run's leftovers in the work folder are removed" [ ! -e "$T/state/work/deid-$dead-7.dcm" ]
check "its hidden temporary outputs too" [ ! -e "$T/state/work/.deid-$dead-8.tmp" ]
grep -ho '"family":"[^"]*"' "$T"/in/fhir/*.json | sort -u | sed 's/.*:"//; s/"$//' >"$T/names.txt"
check "no patient family name in the delivered FHIR" sh -c "! grep -rqF -f '$T/names.txt' '$T/out/fhir'"
mrn=$(jq -r '.entry[].resource | select(.resourceType=="Patient") | .identifier[] | select(.type.coding[0].code=="MR") | .value' "$T"/in/fhir/*.json | head -n 1)
check "no MRN in the delivered DICOM" sh -c "[ -n '$mrn' ] && ! grep -rqaF '$mrn' '$T/out/dicom'"
check "DICOM delivered into folders named by pseudonyms" sh -c "[ \$(find '$T/out/dicom' -name '*.dcm' | wc -l) -eq \$(find '$T/in/dicom' -name '*.dcm' | wc -l) ]"
check "the audit trail names the profile and the key fingerprint" sh -c "sqlite3 '$T/state/sluice.db' \"SELECT details FROM audit WHERE action='deid'\" | grep -q '\"profile\":\"basic 1\"'"
sed -i 's|<keys pseudonym="file:key"/>||' "$T/sluice.xml"
sluice --config "$T/sluice.xml" run t --no-progress >/dev/null 2>"$T/e2"
rc=$?
check "without a key: refused (exit 1), naming the line" sh -c '[ "$1" -eq 1 ] && grep -q "sluice.xml:[0-9]*: job .t. de-identifies" "$2"' _ "$rc" "$T/e2"
finish

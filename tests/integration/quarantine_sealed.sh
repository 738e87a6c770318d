#!/bin/sh
# The quarantine at rest: with <quarantine key>, a job's quarantined FHIR
# and DICOM items (their data, input paths and DICOM copies) are encrypted
# in the state store and the quarantine folder: the PHI they hold is not
# found in either; show gives metadata only, --content needs the key (a
# wrong key: a clear error, nothing printed); replay opens them; rekey
# rotates the key; purge deletes items past their retention (audited);
# encrypt="required" without a key is refused by check-config.
. "${top_srcdir}/tests/integration/lib.sh"
plan 19
command -v sqlite3 >/dev/null || { echo "1..0 # SKIP sqlite3 missing"; exit 0; }
command -v dcmodify >/dev/null || { echo "1..0 # SKIP dcmtk's dcmodify missing"; exit 0; }

d=$T/d
mkdir -p "$d/in/fhir" "$d/in/dicom"
sluice synth --patients 3 --seed 41 -o "$T/syn" >/dev/null 2>&1
cp "$T"/syn/fhir/*.json "$d/in/fhir/"
# one broken JSON line that names a patient, and one broken DICOM file
printf '{"resourceType":"Patient","name":[{"family":"Qwertyzz"}],"BROKEN\n' >"$d/in/fhir/Zzbroken_Patient.ndjson"
# a DICOM instance that says it has burned-in text, which basic has no
# pixel rule for: quarantined, with a copy kept
f=$(find "$T/syn/dicom" -type f | head -1)
cp "$f" "$d/in/dicom/Qwertyzz_Lastname.dcm"
dcmodify -nb -i "(0028,0301)=YES" -i "(0010,0010)=Qwertyzz^Lastname" \
    "$d/in/dicom/Qwertyzz_Lastname.dcm" >/dev/null 2>&1
sluice keygen -o "$d/key" >/dev/null 2>&1
sluice keygen -o "$d/q.key" >/dev/null 2>&1
sluice keygen -o "$d/q2.key" >/dev/null 2>&1
sluice keygen -o "$d/wrong.key" >/dev/null 2>&1
cat >"$d/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:key"/>
  <state path="state/sluice.db"/>
  <quarantine path="quarantine" key="file:q.key" encrypt="required" retention-days="30"/>
  <source id="ehr" type="fhir-files" path="in/fhir"/>
  <source id="pacs" type="dicom-folder" path="in/dicom"/>
  <target id="fhir-out" type="fhir-files" path="out/fhir"/>
  <target id="dicom-out" type="dicom-folder" path="out/dicom"/>
  <job id="j">
    <pull from="ehr pacs"/>
    <deid profile="basic"/>
    <push to="fhir-out dicom-out"/>
  </job>
</sluice>
EOC
sluice --config "$d/sluice.xml" run j --no-progress >"$T/run.out" 2>"$T/run.err"
check "the job runs and quarantines the two broken items (exit 3)" [ $? -eq 3 ]
n=$(sqlite3 "$d/state/sluice.db" "SELECT count(*) FROM quarantine")
check "two items in the quarantine ($n)" [ "$n" -eq 2 ]
check "neither the name in the broken line nor the input paths are in the quarantine table" \
    sh -c "! sqlite3 '$d/state/sluice.db' 'SELECT quote(data), origin FROM quarantine' | grep -Eq 'Qwertyzz|Zzbroken|5177657274'"
ck1=$(sqlite3 "$d/state/sluice.db" "SELECT sources FROM checkpoints")
check "the run's checkpoint (its positions name input files) is sealed too" \
    sh -c "echo '$ck1' | grep -q '^sealed:' && ! echo '$ck1' | grep -Eq 'Zzbroken|Qwertyzz'"
dcmcopy=$(sqlite3 "$d/state/sluice.db" "SELECT path FROM quarantine WHERE kind = 'dicom'")
check "the DICOM copy in the quarantine folder is sealed, not DICOM" \
    sh -c "[ -f '$dcmcopy' ] && head -c 8 '$dcmcopy' | grep -q SLSEAL01 && ! grep -q DICM '$dcmcopy'"
fid=$(sqlite3 "$d/state/sluice.db" "SELECT id FROM quarantine WHERE kind != 'dicom'")
sluice --config "$d/sluice.xml" quarantine show "$fid" >"$T/show" 2>"$T/show.err"
check "show without --content: reason and metadata, no origin, no data" \
    sh -c "grep -q '^reason:' '$T/show' && grep -q '^at rest: *encrypted' '$T/show' && ! grep -Eq 'Qwertyzz|Zzbroken|^origin' '$T/show'"
sluice --config "$d/sluice.xml" quarantine show "$fid" --content >"$T/show2" 2>&1
check "show --content with the key: the input path and the data" \
    sh -c "grep -q '^origin: .*Zzbroken_Patient.ndjson' '$T/show2' && grep -q Qwertyzz '$T/show2'"
sed 's|key="file:q.key"|key="file:wrong.key"|' "$d/sluice.xml" >"$d/wrong.xml"
sluice --config "$d/wrong.xml" quarantine show "$fid" --content >"$T/show3" 2>"$T/show3.err"
rc=$?
check "show --content with a wrong key: exit 1, a clear error ($rc)" \
    sh -c "[ $rc -eq 1 ] && grep -q 'encrypted at rest.*not the key' '$T/show3.err'"
check "and nothing printed" sh -c "[ ! -s '$T/show3' ] && ! grep -q Qwertyzz '$T/show3.err'"

# Rotate the key: every item sealed again, the old key no longer opens it.
sluice --config "$d/sluice.xml" quarantine rekey --new-key file:q2.key >"$T/rk" 2>&1
check "rekey seals both items with the new key" grep -q '^2 quarantined items sealed with the new key' "$T/rk"
sed 's|key="file:q.key"|key="file:q2.key"|' "$d/sluice.xml" >"$d/new.xml"
ck2=$(sqlite3 "$d/state/sluice.db" "SELECT sources FROM checkpoints")
check "rekey seals the checkpoint again, under the new key" \
    sh -c "echo '$ck2' | grep -q '^sealed:' && [ '$ck1' != '$ck2' ]"
sluice --config "$d/new.xml" quarantine show "$fid" --content >"$T/show4" 2>&1
check "the new key opens the item" grep -q Qwertyzz "$T/show4"
sluice --config "$d/sluice.xml" quarantine show "$fid" --content >/dev/null 2>&1
check "the old key does not any more (exit 1)" [ $? -eq 1 ]
check "the DICOM copy is still sealed after rekey" sh -c "head -c 8 '$dcmcopy' | grep -q SLSEAL01"

# Replay with the new key: the DICOM item is opened for the pipeline (it
# is still truncated, so it comes back to quarantine, sealed again).
did=$(sqlite3 "$d/state/sluice.db" "SELECT id FROM quarantine WHERE kind = 'dicom'")
sluice --config "$d/new.xml" quarantine replay "$did" >"$T/rp" 2>&1
rc=$?
check "replay of the sealed DICOM item runs it again (exit 3: still broken) ($rc)" \
    sh -c "[ $rc -eq 3 ] && [ \$(sqlite3 '$d/state/sluice.db' \"SELECT count(*) FROM quarantine WHERE status = 'open'\") -eq 2 ]"
check "no opened copy is left in the quarantine folder or the work folder" \
    sh -c "! find '$d/quarantine' -name '*.open-*' | grep -q ."

# Purge: nothing is 30 days old yet; with --older-than after aging them,
# they go, their DICOM copies too, and the audit trail says so.
sluice --config "$d/new.xml" quarantine purge >"$T/p1" 2>&1
check "purge with retention-days=30 deletes nothing new" grep -q '^0 quarantined items older than 30 days deleted' "$T/p1"
sqlite3 "$d/state/sluice.db" "UPDATE quarantine SET created = '2020-01-01T00:00:00Z'"
sluice --config "$d/new.xml" quarantine purge >"$T/p2" 2>&1
check "aged items are purged with their DICOM copies, and audited" \
    sh -c "grep -q '^3 quarantined items older than 30 days deleted' '$T/p2' && [ ! -e '$dcmcopy' ] && [ \$(sqlite3 '$d/state/sluice.db' \"SELECT count(*) FROM audit WHERE action = 'quarantine-purged'\") -eq 2 ]"
sluice --config "$d/new.xml" run j --no-progress >"$T/run2.out" 2>"$T/run2.err"
rc=$?
check "a new run with the new key reads the sealed checkpoints (exit 3: the broken items again) ($rc)" \
    sh -c "[ $rc -eq 3 ] && ! grep -q 'checkpoint' '$T/run2.err'"
finish

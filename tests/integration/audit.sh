#!/bin/sh
# The audit trail as a privacy officer checks it: after a job de-identifies
# synthetic data with known PHI, `sluice audit verify` finds the chain
# intact with every HMAC; `sluice audit export` gives one FHIR AuditEvent
# per record and none of the PHI; a record edited with sqlite3 (after
# dropping the trigger), or a check with another audit key, is named.
. "${top_srcdir}/tests/integration/lib.sh"
plan 11
command -v sqlite3 >/dev/null || { echo "1..0 # SKIP sqlite3 missing"; exit 0; }

d=$T/d
mkdir -p "$d/in/fhir"
sluice synth --patients 6 --seed 31 --no-dicom -o "$T/syn" >/dev/null 2>&1
cp "$T"/syn/fhir/*.json "$d/in/fhir/"
sluice keygen -o "$d/key" >/dev/null 2>&1
sluice keygen -o "$d/audit.key" >/dev/null 2>&1
sluice keygen -o "$d/other.key" >/dev/null 2>&1
cat >"$d/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:key" audit="file:audit.key"/>
  <state path="state/sluice.db"/>
  <quarantine path="quarantine"/>
  <source id="ehr" type="fhir-files" path="in/fhir"/>
  <target id="fhir-out" type="fhir-files" path="out/fhir"/>
  <job id="research">
    <pull from="ehr"/>
    <deid profile="basic"/>
    <push to="fhir-out"/>
  </job>
</sluice>
EOC
sluice --config "$d/sluice.xml" run research --no-progress >"$T/run.out" 2>"$T/run.err"
check "the job runs" [ $? -eq 0 ]
sluice --config "$d/sluice.xml" audit verify >"$T/v1" 2>&1
rc=$?
n=$(sqlite3 "$d/state/sluice.db" "SELECT count(*) FROM audit")
check "audit verify: intact, exit 0 ($rc)" [ $rc -eq 0 ]
check "every one of the $n records chained and its HMAC checked" \
    grep -q "intact: $n records chained, $n HMACs checked" "$T/v1"

sluice --config "$d/sluice.xml" audit export -o "$T/audit.ndjson" 2>/dev/null
check "audit export: one AuditEvent per record" \
    sh -c "[ \$(grep -c '^{\"resourceType\":\"AuditEvent\"' '$T/audit.ndjson') -eq $n ]"
check "the export names the run, the job and the de-identification profile" \
    sh -c "grep -q '\"urn:sluice:run\"' '$T/audit.ndjson' && grep -q '\"name\":\"research\"' '$T/audit.ndjson' && grep -q 'basic' '$T/audit.ndjson'"
# The PHI of the input: patients' names, identifiers, phones, birth dates.
fhir_phi 4 "$T"/syn/fhir/*.json >"$T/phi"
check "there is PHI to look for ($(wc -l <"$T/phi") values)" [ "$(wc -l <"$T/phi")" -ge 10 ]
check "no PHI in the audit export, the run's output or its log" \
    sh -c "! grep -F -f '$T/phi' '$T/audit.ndjson' '$T/run.out' '$T/run.err' '$T/v1'"

# Checked with another key: the first record's HMAC does not match.
sed 's|audit="file:audit.key"|audit="file:other.key"|' "$d/sluice.xml" >"$d/other.xml"
sluice --config "$d/other.xml" audit verify >"$T/v2" 2>&1
rc=$?
check "verify with another audit key: exit 3, record 1's HMAC named ($rc)" \
    sh -c "[ $rc -eq 3 ] && grep -q 'BROKEN at record 1 .*HMAC does not match' '$T/v2'"

# An intruder with sqlite3 edits record 3.
sqlite3 "$d/state/sluice.db" "DROP TRIGGER audit_no_update; UPDATE audit SET details = '{\"in\":0}' WHERE id = 3;"
sluice --config "$d/sluice.xml" audit verify >"$T/v3" 2>&1
rc=$?
check "an edited record: exit 3 ($rc)" [ $rc -eq 3 ]
check "verify names record 3 as changed after it was written" \
    grep -q 'BROKEN at record 3 (.*): its content does not match its hash' "$T/v3"
check "and says the two before it are intact" \
    grep -q '^2 records before it are intact' "$T/v3"
finish

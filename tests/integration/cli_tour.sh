#!/bin/sh
# The commands a user runs most, once each on a few synthetic patients:
# sluice deid on FHIR and on DICOM, a job with deid, translate and
# validate by `sluice run` and by `sluice daemon --once` (a missed slot),
# sluice validate and sluice fhirpath. Each must do its work and exit as
# documented. The test is small so that `make check-valgrind-unit` can
# run every one of these commands under valgrind (through SLUICE_WRAP,
# like every test that calls sluice) in a few minutes: a memory error or
# a definite leak there makes the command exit 99 and the check fail.
. "${top_srcdir}/tests/integration/lib.sh"
plan 9
command -v sqlite3 >/dev/null || { echo "1..0 # SKIP sqlite3 missing"; exit 0; }
sluice synth --patients 3 --seed 7 -o "$T/syn" >/dev/null 2>&1
sluice keygen -o "$T/key" >/dev/null 2>&1
nf=$(ls "$T/syn/fhir" | wc -l)
nd=$(find "$T/syn/dicom" -type f | wc -l)

sluice deid --profile longitudinal --key-file "$T/key" -o "$T/df" \
    "$T/syn/fhir" >"$T/df.out" 2>"$T/df.err"
rc=$?
check "sluice deid on FHIR: exit 0, every Bundle written ($nf)" \
    sh -c '[ "$1" -eq 0 ] && [ "$(ls "$2/fhir" | wc -l)" -eq "$3" ]' _ $rc "$T/df" "$nf"

sluice deid --profile basic --key-file "$T/key" -o "$T/dd" \
    "$T/syn/dicom" >"$T/dd.out" 2>"$T/dd.err"
rc=$?
check "sluice deid on DICOM: exit 0, every instance written ($nd)" \
    sh -c '[ "$1" -eq 0 ] && [ "$(find "$2" -type f -name "*.dcm" | wc -l)" -eq "$3" ]' _ $rc "$T/dd" "$nd"

d=$T/job
mkdir -p "$d/in"
cp "$T"/syn/fhir/*.json "$d/in/"
cp "$T/key" "$d/key"
cat >"$d/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:key"/>
  <state path="state/s.db"/>
  <quarantine path="quarantine"/>
  <source id="ehr" type="fhir-files" path="in"/>
  <target id="out" type="fhir-files" path="out"/>
  <job id="j" schedule="@hourly" missed="once">
    <pull from="ehr"/>
    <deid profile="longitudinal"/>
    <translate maps="lab-local-to-loinc" policy="replace"/>
    <validate on-error="warn"/>
    <push to="out"/>
  </job>
</sluice>
EOC
sluice --config "$d/sluice.xml" run j --no-progress >"$T/run.out" 2>"$T/run.err"
rc=$?
check "sluice run of a job with deid, translate and validate: exit 0, codings mapped" \
    sh -c '[ "$1" -eq 0 ] && grep -Eq "translate +info +mapped:lab-local-to-loinc +[1-9]" "$2"' \
    _ $rc "$T/run.out"
check "its output holds no local lab code" \
    sh -c '[ -n "$(ls "$1/out")" ] && ! grep -rq "hospital.example.org/lab-codes" "$1/out"' _ "$d"

# the daemon: a first --once records the schedule, a second one after
# "a day down" runs the missed slot once
sluice --config "$d/sluice.xml" daemon --once >"$T/o1" 2>"$T/e1"
rc=$?
sqlite3 "$d/state/s.db" "UPDATE schedule SET slot = slot - 86400"
sluice --config "$d/sluice.xml" daemon --once >"$T/o2" 2>"$T/e2"
rc2=$?
check "sluice daemon --once runs the missed slot to the end (exit $rc, $rc2)" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq 0 ] && grep -q "run-end job=j .*status=finished" "$3"' \
    _ $rc $rc2 "$T/e2"

sluice validate "$T/df/fhir" >"$T/v.out" 2>"$T/v.err"
rc=$?
# a Bundle is validated as a whole: one OperationOutcome each
check "sluice validate: one OperationOutcome per Bundle ($nf), counted on stderr (exit $rc)" \
    sh -c '[ "$(grep -c "\"resourceType\":\"OperationOutcome\"" "$1")" -eq "$2" ] &&
        grep -Eq "sluice validate: [0-9]+ valid, [0-9]+ invalid, 0 unreadable" "$3"' \
    _ "$T/v.out" "$nf" "$T/v.err"
printf '%s\n' '{"resourceType":"Patient","id":"p","name":[{"family":"Doe","given":["Ann","B"]}],"birthDate":"1970-02-03"}' >"$T/p.json"
out=$(sluice fhirpath 'Patient.name.given.count() + 1' "$T/p.json" 2>&1)
check "sluice fhirpath computes (3: $out)" [ "$out" = "[3]" ]
out=$(sluice fhirpath --types 'Patient.birthDate' "$T/p.json" 2>&1)
check "sluice fhirpath --types names the type" \
    sh -c 'printf "%s\n" "$1" | grep -q "1970-02-03" && printf "%s\n" "$1" | grep -q "FHIR.date"' _ "$out"
sluice fhirpath 'Patient.name.(' "$T/p.json" >/dev/null 2>"$T/fp.err"
rc=$?
check "a broken expression: exit 1 and a message naming a column" \
    sh -c '[ "$1" -eq 1 ] && grep -q "column" "$2"' _ $rc "$T/fp.err"
finish

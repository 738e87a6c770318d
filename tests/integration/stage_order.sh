#!/bin/sh
# A job's stages run in the order the configuration lists them: a
# <validate> before <deid> (checking what was pulled) and another after it
# (checking what is pushed) is accepted and runs in that order (the audit
# trail records each stage as the run sets it up); a second <deid> is
# refused by check-config, naming both lines.
. "${top_srcdir}/tests/integration/lib.sh"
plan 4
command -v sqlite3 >/dev/null || { echo "1..0 # SKIP sqlite3 missing"; exit 0; }
d=$T/d
mkdir -p "$d/in"
sluice synth --patients 3 --seed 5 --no-dicom -o "$T/syn" >/dev/null 2>&1
cp "$T"/syn/fhir/*.json "$d/in/"
sluice keygen -o "$d/key" >/dev/null 2>&1
cat >"$d/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:key"/>
  <state path="state/s.db"/>
  <source id="ehr" type="fhir-files" path="in"/>
  <target id="out" type="fhir-files" path="out"/>
  <job id="j">
    <pull from="ehr"/>
    <validate on-error="warn"/>
    <deid profile="basic"/>
    <validate/>
    <push to="out"/>
  </job>
</sluice>
EOC
sluice --config "$d/sluice.xml" check-config >/dev/null 2>&1
check "check-config accepts <validate> before and after <deid>" [ $? -eq 0 ]
sluice --config "$d/sluice.xml" run j --no-progress >/dev/null 2>&1
check "the job runs (exit $?)" [ $? -eq 0 ]
order=$(sqlite3 "$d/state/s.db" "SELECT group_concat(action, ' ') FROM (SELECT action FROM audit WHERE action IN ('validate', 'deid', 'translate') ORDER BY id)")
check "its stages run in the listed order: validate deid validate ($order)" \
    [ "$order" = "validate deid validate" ]
sed 's|<validate/>|<deid profile="basic"/>|' "$d/sluice.xml" >"$d/two.xml"
sluice --config "$d/two.xml" check-config >"$T/two.out" 2>&1
check "a second <deid> is refused, naming both lines (exit 1)" \
    sh -c "[ $? -eq 1 ] && grep -q 'two.xml:11: <deid>: a job de-identifies once; another <deid> is on line 10' '$T/two.out'"
finish

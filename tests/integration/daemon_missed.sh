#!/bin/sh
# Runs missed while the daemon was down, with `sluice daemon --once` as a
# CronJob would call it: the first call only records where the schedule
# stands; after a slot has passed unhandled (the store's schedule slot set
# back, as if the daemon had been down for a day), missed="once" runs the
# job once and says how many runs were missed, missed="skip" does not run
# it and says so; a job whose days never come ("0 0 30 2 *") never runs.
# --keep-reports: the run's report kept beside the state store, the last
# N of them.
. "${top_srcdir}/tests/integration/lib.sh"
plan 8
command -v sqlite3 >/dev/null || { echo "1..0 # SKIP sqlite3 missing"; exit 0; }
d=$T/d
mkdir -p "$d/in/fhir"
sluice synth --patients 2 --seed 71 --no-dicom -o "$T/syn" >/dev/null 2>&1
cp "$T"/syn/fhir/*.json "$d/in/fhir/"
cat >"$d/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <state path="state/sluice.db"/>
  <source id="ehr" type="fhir-files" path="in/fhir"/>
  <target id="a-out" type="fhir-files" path="out/a"/>
  <target id="b-out" type="fhir-files" path="out/b"/>
  <target id="c-out" type="fhir-files" path="out/c"/>
  <job id="hourly-once" schedule="@hourly" missed="once">
    <pull from="ehr"/>
    <push to="a-out"/>
  </job>
  <job id="hourly-skip" schedule="@hourly" missed="skip">
    <pull from="ehr"/>
    <push to="b-out"/>
  </job>
  <job id="never" schedule="0 0 30 2 *">
    <pull from="ehr"/>
    <push to="c-out"/>
  </job>
</sluice>
EOC
sluice --config "$d/sluice.xml" daemon --once >"$T/o1" 2>"$T/e1"
check "the first --once runs nothing: it records where each schedule stands" \
    sh -c "[ \$? -eq 0 ] && ! grep -q 'run-start' '$T/e1' && [ \$(sqlite3 '$d/state/sluice.db' 'SELECT count(*) FROM schedule') -eq 3 ]"
# as if the daemon had been down since yesterday
sqlite3 "$d/state/sluice.db" "UPDATE schedule SET slot = slot - 86400"
sluice --config "$d/sluice.xml" daemon --once >"$T/o2" 2>"$T/e2"
check "missed=once: one run, why=missed" \
    sh -c "[ \$(grep -c 'run-start job=hourly-once why=missed' '$T/e2') -eq 1 ] && grep -q 'run-end job=hourly-once .*status=finished' '$T/e2'"
check "the log says how many runs were missed (24 or 25 hourly slots)" \
    grep -Eq 'runs-missed job=hourly-once missed=2[45] .*policy=once' "$T/e2"
check "missed=skip: no run, and the log says it skipped" \
    sh -c "! grep -q 'run-start job=hourly-skip' '$T/e2' && grep -Eq 'runs-missed job=hourly-skip missed=2[45] .*policy=skip' '$T/e2'"
check "a schedule whose days never come: never run, shown as never" \
    sh -c "! grep -q 'run-start job=never' '$T/e2' && grep -q 'scheduled job=never .*next=never' '$T/e2'"
check "the run's report is kept in reports/ beside the state store" \
    sh -c "[ \$(ls '$d'/state/reports/run-*.html | wc -l) -eq 1 ]"
sqlite3 "$d/state/sluice.db" "UPDATE schedule SET slot = slot - 86400"
sluice --config "$d/sluice.xml" daemon --once --keep-reports 1 >/dev/null 2>"$T/e2b"
check "--keep-reports 1: after a second run, only its report is left" \
    sh -c "grep -q 'run-end job=hourly-once' '$T/e2b' && [ \$(ls '$d'/state/reports/run-*.html | wc -l) -eq 1 ] && [ -f '$d'/state/reports/\$(sqlite3 '$d/state/sluice.db' \"SELECT id FROM runs ORDER BY rowid DESC LIMIT 1\").html ]"
sluice --config "$d/sluice.xml" daemon --once >"$T/o3" 2>"$T/e3"
check "a third --once does not run the missed slots again" \
    sh -c "! grep -q 'why=missed' '$T/e3' && ! grep -q 'runs-missed' '$T/e3'"
finish

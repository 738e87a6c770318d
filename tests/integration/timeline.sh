#!/bin/sh
# sluice timeline on de-identified synthetic data (sluice synth, then sluice
# deid --profile longitudinal): one table of every patient's FHIR and
# DICOM events, in time order, in CSV and NDJSON; DICOM series joined to
# their FHIR patient through the MRN pseudonym; --patient by Patient id or
# by the MRN pseudonym; times with an offset in UTC; a broken input named
# and skipped; the same table when the events are sorted in many runs.
. "${top_srcdir}/tests/integration/lib.sh"
plan 12
sluice synth --patients 8 --seed 11 -o "$T/syn" >/dev/null 2>&1
sluice keygen -o "$T/key" >/dev/null 2>&1
sluice deid --profile longitudinal --key-file "$T/key" -o "$T/d" "$T/syn" >/dev/null 2>&1
sluice timeline "$T/d" -o "$T/all.csv" >"$T/o1" 2>"$T/e1"
rc=$?
check "timeline of FHIR and DICOM exits 0" [ $rc -eq 0 ]
check "the CSV header is the contract's columns" \
    sh -c '[ "$(head -n 1 "$1")" = "patient,time,source,type,system,code,display,value,unit" ]' _ "$T/all.csv"
# every Observation of the de-identified FHIR is one event
nobs=$(jq -c '.entry[]?.resource | select(.resourceType=="Observation")' "$T"/d/fhir/*.json | wc -l)
check "one event per Observation ($nobs)" \
    sh -c '[ "$(grep -c ",fhir,Observation," "$1")" -eq "$2" ]' _ "$T/all.csv" "$nobs"
# one event per DICOM series, each with the number of its instances
nser=$(find "$T/d/dicom" -type f -name '*.dcm' | while read -r f; do dcmdump +P 0020,000e "$f" 2>/dev/null; done | sort -u | wc -l)
ninst=$(find "$T/d/dicom" -type f -name '*.dcm' | wc -l)
check "one event per DICOM series ($nser), their counts add up to the files ($ninst)" \
    sh -c '[ "$(grep -c ",dicom," "$1")" -eq "$2" ] && [ "$(grep ",dicom," "$1" | awk -F, "{s+=\$8} END {print s}")" -eq "$3" ]' _ "$T/all.csv" "$nser" "$ninst"
# the DICOM events' patients are FHIR Patient ids (joined by the MRN pseudonym)
grep ",fhir," "$T/all.csv" | cut -d, -f1 | sort -u >"$T/fhir.ids"
grep ",dicom," "$T/all.csv" | cut -d, -f1 | sort -u >"$T/dicom.ids"
check "every DICOM event is on a FHIR patient's timeline" \
    sh -c '[ -s "$2" ] && [ -z "$(comm -13 "$1" "$2")" ]' _ "$T/fhir.ids" "$T/dicom.ids"
check "sorted by patient, then time" \
    sh -c 'tail -n +2 "$1" | cut -d, -f1,2 | LC_ALL=C sort -c' _ "$T/all.csv"
check "no time keeps an offset: UTC (Z) or none" \
    sh -c '! tail -n +2 "$1" | cut -d, -f2 | grep -Eq "[+-][0-9][0-9]:[0-9][0-9]\$"' _ "$T/all.csv"
# one patient, by its MRN pseudonym (the DICOM PatientID), in NDJSON
MRN=$(find "$T/d/dicom" -type f -name '*.dcm' | head -n 1 | xargs dcmdump +P 0010,0020 2>/dev/null | sed -n 's/.*\[\(.*\)\].*/\1/p' | head -n 1)
sluice timeline --patient "$MRN" "$T/d" -o "$T/one.ndjson" >/dev/null 2>&1
P=$(jq -r .patient "$T/one.ndjson" | sort -u)
check "--patient MRN: NDJSON of that one FHIR patient, every one of its events, DICOM too" \
    sh -c '[ -n "$2" ] && grep -qx "$3" "$5" && [ "$(wc -l <"$1")" -eq "$(grep -c "^$3," "$4")" ] && jq -s -e "[.[] | select(.source==\"dicom\") | .value | numbers] | length > 0" "$1" >/dev/null' _ "$T/one.ndjson" "$MRN" "$P" "$T/all.csv" "$T/fhir.ids"
sluice timeline --patient "$P" "$T/d" -o "$T/one2.ndjson" >/dev/null 2>&1
check "--patient by the Patient id: the same events" cmp "$T/one.ndjson" "$T/one2.ndjson"
# many small runs merged: the same table
SLUICE_TIMELINE_RUN_BYTES=2000 sluice timeline "$T/d" -o "$T/runs.csv" >/dev/null 2>&1
check "sorted in many runs and merged: the same table" cmp "$T/all.csv" "$T/runs.csv"
# a broken NDJSON line: named by input, file and line, skipped, exit 3
mkdir -p "$T/bad"
printf '%s\n' '{"resourceType":"Observation","subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-03-01T00:30:00+01:00","code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},"valueQuantity":{"value":95,"unit":"mg/dL"}}' '{"resourceType": "Obs' >"$T/bad/o.ndjson"
sluice timeline "$T/bad" -o "$T/bad.csv" >/dev/null 2>"$T/e2"
rc=$?
check "a broken line: exit 3, named by input, file and line, the rest written in UTC" \
    sh -c '[ "$1" -eq 3 ] && grep -q "input 1, file 1, line 2: not JSON; skipped" "$2" && grep -q "^p1,2024-02-29T23:30:00Z,fhir,Observation,http://loinc.org,2339-0,,95,mg/dL\$" "$3"' _ $rc "$T/e2" "$T/bad.csv"
sluice timeline "$T/bad" -o "$T/bad.csv" >/dev/null 2>&1
check "an output that exists is not overwritten (exit 1)" [ $? -eq 1 ]
finish

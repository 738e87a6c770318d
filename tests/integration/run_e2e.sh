#!/bin/sh
# A job end to end on synthetic data: every FHIR resource and every DICOM
# instance reaches its target once, byte-exact for DICOM, and a second run
# of the same data makes a new run folder (no mixing).
. "${top_srcdir}/tests/integration/lib.sh"
plan 9
write_config "$T"
sluice synth --patients 6 --seed 7 -o "$T/syn" >/dev/null 2>&1
cp -r "$T/syn/fhir/." "$T/in/fhir/"
cp -r "$T/syn/dicom/." "$T/in/dicom/"
n_fhir=$(count_entries "$T/in/fhir")
n_dcm=$(find "$T/in/dicom" -type f | wc -l)
diag "input: $n_fhir FHIR resources, $n_dcm DICOM files"

sluice --config "$T/sluice.xml" run t --no-progress --log-format json >"$T/sum.json" 2>"$T/err.txt"
rc=$?
check "run exits 0" [ $rc -eq 0 ]
run_dir=$(ls -d "$T"/out/fhir/run-* 2>/dev/null | head -n 1)
check "FHIR output folder per run" [ -n "$run_dir" ]
n_out=$(cat "$run_dir"/*.ndjson 2>/dev/null | wc -l)
check "every FHIR resource delivered once ($n_out of $n_fhir)" [ "$n_out" -eq "$n_fhir" ]
check "NDJSON per resource type" [ -s "$run_dir/Patient.ndjson" ] && [ -s "$run_dir/Observation.ndjson" ]
check "no duplicate resource lines" [ -z "$(cat "$run_dir"/*.ndjson | sort | uniq -d)" ]
n_dout=$(find "$T/out/dicom" -name '*.dcm' | wc -l)
check "every DICOM instance delivered ($n_dout of $n_dcm)" [ "$n_dout" -eq "$n_dcm" ]
a=$(find "$T/in/dicom" -type f -exec sha256sum {} + | cut -d' ' -f1 | sort)
b=$(find "$T/out/dicom" -type f -name '*.dcm' -exec sha256sum {} + | cut -d' ' -f1 | sort)
check "DICOM copied byte-exact" [ "$a" = "$b" ]
check "summary counts in and out" grep -q "\"in\":$((n_fhir + n_dcm)),\"out\":$((n_fhir + n_dcm)),\"quarantined\":0" "$T/sum.json"
sluice --config "$T/sluice.xml" run t --no-progress >/dev/null 2>&1
check "a second run writes a second run folder" [ "$(ls -d "$T"/out/fhir/run-* | wc -l)" -eq 2 ]
finish

#!/bin/sh
# sluice deid and sluice run share one engine: the same inputs give the
# same output at -j1 and -j2, and a job with <deid explain provenance
# reid-map> gives what sluice deid --explain --provenance --reid-map
# gives: the same de-identified resources, the same explanation, the same
# re-identification pairs, a Provenance for every resource delivered.
. "${top_srcdir}/tests/integration/lib.sh"
plan 15
if ! command -v jq >/dev/null 2>&1; then
    i=0; while [ $i -lt 15 ]; do skip "jq not installed"; i=$((i + 1)); done
    exit 0
fi
sluice synth --patients 12 --seed 31 -o "$T/syn" >/dev/null 2>&1
sluice keygen >"$T/key"
sluice keygen >"$T/key2"
# mixed inputs: Bundles, NDJSON per type (one gzip'd), DICOM, a bad line,
# a line with no resourceType, a file named .dcm that is not DICOM, a README
mkdir -p "$T/in/nd" "$T/mix"
find "$T/syn/fhir" -name '*.json' -exec cat {} + | jq -c '.entry[].resource' >"$T/all.ndjson"
for t in $(jq -r '.resourceType' "$T/all.ndjson" | sort -u); do
    jq -c "select(.resourceType == \"$t\")" "$T/all.ndjson" >"$T/in/nd/$t.ndjson"
done
cp -r "$T/syn/fhir" "$T/syn/dicom" "$T/mix/"
cp "$T/in/nd/Observation.ndjson" "$T/mix/obs.ndjson"
printf '{"resourceType":"Patient","id":"p"}\n{broken\n{"no":"type"}\n' >>"$T/mix/obs.ndjson"
gzip -c "$T/in/nd/Condition.ndjson" >"$T/mix/cond.ndjson.gz"
first=$(ls "$T/syn/fhir" | head -n 1)
gzip -c "$T/syn/fhir/$first" >"$T/mix/bundle.json.gz"
echo "not dicom" >"$T/mix/fake.dcm"
echo "read me" >"$T/mix/README.txt"

for j in 1 2; do
    sluice -q -j $j deid --profile longitudinal --key-file "$T/key" \
        -o "$T/o$j" --quarantine "$T/q$j" "$T/mix" >"$T/x$j" 2>"$T/e$j"
    echo $? >"$T/rc$j"
done
check "sluice deid exits 3 (items quarantined) at -j1 and -j2" \
    sh -c "[ \$(cat '$T/rc1') -eq 3 ] && [ \$(cat '$T/rc2') -eq 3 ]"
check "the output at -j1 and -j2 is the same, byte for byte" diff -r "$T/o1" "$T/o2"
check "the quarantine at -j1 and -j2 is the same" diff -r "$T/q1" "$T/q2"
n_nd=$(ls "$T/o1/fhir" | grep -c 'ndjson')
check "one output per FHIR input, of its kind ($n_nd NDJSON, gzip kept)" \
    sh -c "[ $n_nd -eq 2 ] && gzip -t '$T/o1/fhir/'*.ndjson.gz"
check "a .json.gz input is de-identified into a .json.gz output, as in a job" \
    sh -c "ls '$T/o1/fhir/'*.json.gz >/dev/null 2>&1 && zcat '$T/o1/fhir/'*.json.gz | jq -e '.resourceType == \"Bundle\"' >/dev/null"
check "a quarantined line names its input's number (file N line L)" \
    sh -c "grep -h '^position: file [0-9]* line' '$T/q1/'*.reason.txt | grep -qv '^position: file 1 line'"
check "the summary counts the skipped README and the quarantined items" \
    grep -q 'quarantined in .*1 skipped' "$T/e1"

# the same NDJSON input through sluice deid and through a job
sluice -q deid --profile longitudinal --key-file "$T/key" -o "$T/od" \
    --explain --provenance --reid-map "$T/map-deid" --reid-key-file "$T/key2" \
    "$T/in/nd" >"$T/explain-deid.txt" 2>/dev/null
mkdir -p "$T/job"
cat >"$T/job/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:$T/key"/>
  <state path="state/sluice.db"/>
  <quarantine path="quarantine"/>
  <source id="ehr" type="fhir-files" path="$T/in/nd"/>
  <target id="out" type="fhir-files" path="out" format="ndjson"/>
  <job id="j">
    <pull from="ehr"/>
    <deid profile="longitudinal" explain="explain.txt" provenance="yes"
          reid-map="map" reid-key="file:$T/key2"/>
    <push to="out"/>
  </job>
</sluice>
EOC
sluice -c "$T/job/sluice.xml" -q run j --no-progress >/dev/null 2>"$T/job.err"
check "the job runs (exit 0)" [ $? -eq 0 ]
check "the job's explanation is sluice deid --explain's" \
    cmp "$T/explain-deid.txt" "$T/job/explain.txt"
cat "$T"/od/fhir/*.ndjson | grep -v '"resourceType":"Provenance"' | sort >"$T/res-deid"
cat "$T"/job/out/run-*/*.ndjson | grep -v '"resourceType":"Provenance"' | sort >"$T/res-job"
check "the job delivers the same de-identified resources ($(wc -l <"$T/res-job"))" \
    sh -c "[ -s '$T/res-job' ] && cmp -s '$T/res-deid' '$T/res-job'"
n_res=$(wc -l <"$T/res-job")
n_prov_t=$(cat "$T"/job/out/run-*/Provenance.ndjson | jq '.target | length' | awk '{s += $1} END {print s + 0}')
check "the job's Provenance names every resource it delivered ($n_prov_t of $n_res)" \
    [ "$n_prov_t" -eq "$n_res" ]
check "each sluice deid NDJSON output ends with its Provenance" \
    sh -c "for f in '$T'/od/fhir/*.ndjson; do tail -n 1 \"\$f\" | grep -q '\"resourceType\":\"Provenance\"' || exit 1; done"
sluice reid --reid-key-file "$T/key2" "$T/map-deid" 2>/dev/null | sort >"$T/pairs-deid"
sluice reid --reid-key-file "$T/key2" "$T/job/map" 2>/dev/null | sort >"$T/pairs-job"
check "the job's re-identification pairs are sluice deid's ($(wc -l <"$T/pairs-job"))" \
    sh -c "[ -s '$T/pairs-job' ] && cmp -s '$T/pairs-deid' '$T/pairs-job'"
if command -v sqlite3 >/dev/null 2>&1; then
    sqlite3 "$T/job/state/sluice.db" \
        "select details from audit where action = 'deid'" >"$T/audit" 2>&1
    check "the job's audit trail names the profile and the key's fingerprint" \
        sh -c "grep -q longitudinal '$T/audit' && grep -q '\"key\"' '$T/audit'"
else
    skip "sqlite3 not installed"
fi
check "no thread is started under src/cli/ (one engine)" \
    sh -c "! grep -rq pthread_create '$top_srcdir/src/cli'"
finish

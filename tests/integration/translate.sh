#!/bin/sh
# sluice translate and the <translate> stage on synthetic data: local lab
# codes get their LOINC coding beside them (or in their place), the run
# reports codings mapped and unmapped per map, what a map does not cover
# is kept, dropped or quarantined with a reason naming the element, and a
# bad map is refused with its file and line before anything is written.
. "${top_srcdir}/tests/integration/lib.sh"
plan 25
LAB=http://hospital.example.org/lab-codes
sluice synth --patients 20 --seed 42 --no-dicom -o "$T/syn" >/dev/null 2>&1
# the local-coded Observations of the input, one line each
jq -c '.entry[].resource | select(.resourceType=="Observation") | select(.code.coding[0].system=="'$LAB'") | .code.coding[0].code' \
    "$T"/syn/fhir/*.json >"$T/local.txt"
nlocal=$(wc -l <"$T/local.txt")

sluice translate --map lab-local-to-loinc "$T/syn/fhir" -o "$T/o1" >"$T/o1.out" 2>"$T/o1.err"
rc=$?
check "translate with the shipped map exits 0" [ $rc -eq 0 ]
check "it reports every local coding mapped ($nlocal)" \
    grep -q "map lab-local-to-loinc: $nlocal mapped, 0 unmapped" "$T/o1.err"
# policy add: each local coding keeps its place, the LOINC one follows
jq -r '.entry[].resource | select(.resourceType=="Observation") | select(.code.coding[0].system=="'$LAB'") | [.code.coding[0].code, .code.coding[1].system, .code.coding[1].code] | @tsv' \
    "$T"/o1/*.json | sort | uniq >"$T/o1.pairs"
check "each local lab code has its LOINC coding beside it" \
    sh -c '[ -s "$1" ] && [ "$(cut -f2 "$1" | sort -u)" = "http://loinc.org" ]' _ "$T/o1.pairs"
check "K-SER became LOINC 2823-3" grep -q "^K-SER	http://loinc.org	2823-3$" "$T/o1.pairs"
check "codings outside the map are untouched" \
    sh -c '[ "$(jq -c ".entry[].resource | select(.resourceType==\"Condition\") | .code" "$1"/syn/fhir/*.json | md5sum)" = "$(jq -c ".entry[].resource | select(.resourceType==\"Condition\") | .code" "$1"/o1/*.json | md5sum)" ]' _ "$T"

# local condition codes (synth --local-conditions) to SNOMED CT identifiers
sluice synth --patients 20 --seed 42 --no-dicom --local-conditions -o "$T/lc" >/dev/null 2>&1
CS=http://hospital.example.org/condition-codes
check "synth --local-conditions changes the Conditions' code only" \
    sh -c 'for f in "$1"/syn/fhir/*.json; do g="$1/lc/fhir/${f##*/}"; [ "$(jq -c "del(.entry[].resource | select(.resourceType==\"Condition\") | .code)" "$f")" = "$(jq -c "del(.entry[].resource | select(.resourceType==\"Condition\") | .code)" "$g")" ] || exit 1; done; jq -r ".entry[].resource | select(.resourceType==\"Condition\") | .code.coding[0].system" "$1"/lc/fhir/*.json | sort -u | grep -qx "$2"' _ "$T" "$CS"
sluice translate --map condition-local-to-snomed "$T/lc/fhir" -o "$T/lc1" >/dev/null 2>"$T/lc1.err"
rc=$?
check "condition-local-to-snomed maps every local condition (20)" \
    sh -c '[ "$1" -eq 0 ] && grep -q "map condition-local-to-snomed: 20 mapped, 0 unmapped" "$2"' _ $rc "$T/lc1.err"
# each translated Condition carries the SNOMED CT code plain synth wrote
jq -r '.entry[].resource | select(.resourceType=="Condition") | [.id, .code.coding[0].code] | @tsv' "$T"/syn/fhir/*.json | sort >"$T/sct.want"
jq -r '.entry[].resource | select(.resourceType=="Condition") | [.id, (.code.coding[] | select(.system=="http://snomed.info/sct") | .code)] | @tsv' "$T"/lc1/*.json | sort >"$T/sct.got"
check "each local condition got the SNOMED CT identifier of the same patient's plain synth Condition" \
    sh -c '[ -s "$1" ] && cmp "$1" "$2"' _ "$T/sct.want" "$T/sct.got"

# a partial CSV map: only K-SER. Unmapped codings quarantine the Bundle
cat >"$T/k.csv" <<EOC
source system,source code,target system,target code,target display,relationship
$LAB,K-SER,http://loinc.org,2823-3,,wider
EOC
sluice translate --map "$T/k.csv" --unmapped quarantine "$T/syn/fhir" -o "$T/o2" --quarantine "$T/q2" >/dev/null 2>"$T/o2.err"
rc=$?
nq=$(ls "$T/q2" 2>/dev/null | grep -c 'reason')
nout=$(ls "$T/o2" | wc -l)
check "unmapped=quarantine: exit 3, written + quarantined = 20 inputs" \
    sh -c '[ "$1" -eq 3 ] && [ "$2" -gt 0 ] && [ $(($2 + $3)) -eq 20 ]' _ $rc "$nq" "$nout"
check "the reason names the element and the map, not the code" \
    sh -c 'cat "$1"/*reason* | grep -q "Observation.code.coding\[0\]: a code of http://hospital.example.org/lab-codes that map k does not translate" && ! cat "$1"/*reason* | grep -q -e NA-SER -e CRP-HS' _ "$T/q2"
sluice translate --map "$T/k.csv" --unmapped drop --policy replace "$T/syn/fhir" -o "$T/o3" >/dev/null 2>"$T/o3.err"
check "unmapped=drop, policy=replace: no local lab code left" \
    sh -c '[ $? -eq 0 ] && ! grep -rq "$1" "$2"' _ "$LAB" "$T/o3"
check "the report counts both" grep -q "map k: [1-9][0-9]* mapped, [1-9][0-9]* unmapped" "$T/o3.err"

# NDJSON: a line that names no mapped system goes out as it came, byte for
# byte (numbers as written: 12.30 stays 12.30); one that does is
# translated; a system spelled with \u escapes is still found; a broken
# line is quarantined with its file and line and the run goes on; lines
# keep their order
mkdir -p "$T/nd"
{
    printf '%s\n' '{"resourceType":"Observation","id":"a","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"718-7"}]},"valueQuantity":{"value":12.30,"unit":"g/dL"}}'
    printf '%s\n' '{"resourceType":"Observation","id":"b","status":"final","code":{"coding":[{"system":"'$LAB'","code":"K-SER"}]},"valueQuantity":{"value":4.10,"unit":"mmol/L"}}'
    printf '%s\n' '{"resourceType":"Observation","id":"c","status":"final","code":{"coding":[{"system":"http:\/\/hospital.example.org\/lab-codes","code":"K-SER"}]}}'
    printf '%s\n' '{"resourceType":"Observation","id":"d","status":"final","code":{"coding":[{"system":"http\u003a//hospital.example.org/lab-codes","code":"K-SER"}]}}'
    printf '%s\n' '{"resourceType":"Observation","id":"e","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"718-7"}]'
    printf '%s\n' '  {"resourceType":"Patient","id":"f", "active": true}  '
    printf '%s\n' '{"resourceType":"Patient","id":"g","name":[{"family":"Caf\u00e9"}]}'
} >"$T/nd/obs.ndjson"
sluice -j 1 translate --map lab-local-to-loinc "$T/nd" -o "$T/nd1" --quarantine "$T/ndq" >/dev/null 2>"$T/nd1.err"
rc=$?
check "NDJSON with a broken line: exit 3, 3 mapped, 6 written, 1 quarantined" \
    sh -c '[ "$1" -eq 3 ] && grep -q "map lab-local-to-loinc: 3 mapped, 0 unmapped" "$2" && grep -q "6 written, 1 quarantined" "$2"' _ $rc "$T/nd1.err"
check "the broken line's reason names its file and line" \
    sh -c 'cat "$1"/*reason* | grep -q "file 1 line 5"' _ "$T/ndq"
check "a resource naming no mapped system is written as it came, byte for byte" \
    sh -c 'sed -n 1p "$1" >"$3.a"; sed -n 1p "$2" >"$3.b"; cmp -s "$3.a" "$3.b"' _ "$T/nd/obs.ndjson" "$T/nd1/000001.ndjson" "$T/nd1.cmp"
check "lines keep their order; the local codes got their LOINC coding, escaped or not" \
    sh -c '[ "$(jq -r ".id" "$1" | tr -d "\n")" = "abcdfg" ] && [ "$(jq -r "select(.id==\"b\" or .id==\"c\" or .id==\"d\") | .code.coding[1].code" "$1" | sort -u)" = "2823-3" ]' _ "$T/nd1/000001.ndjson"
check "a line with spaces around, or escapes, is the same resource after" \
    sh -c '[ "$(sed -n 6,7p "$1" | jq -c .)" = "$(sed -n 5,6p "$2" | jq -c .)" ]' _ "$T/nd/obs.ndjson" "$T/nd1/000001.ndjson"
# the same at 2 workers, and without the text path (--times-utc makes the
# stage parse every resource; these hold no time): the same resources
sluice -j 2 translate --map lab-local-to-loinc "$T/nd" -o "$T/nd2" --quarantine "$T/ndq2" >/dev/null 2>&1
sluice -j 1 translate --map lab-local-to-loinc --times-utc "$T/nd" -o "$T/nd3" --quarantine "$T/ndq3" >/dev/null 2>&1
check "-j 2 writes the same bytes; parsing every resource gives the same resources" \
    sh -c 'cmp -s "$1/000001.ndjson" "$2/000001.ndjson" && [ "$(jq -cS . "$1/000001.ndjson")" = "$(jq -cS . "$3/000001.ndjson")" ]' _ "$T/nd1" "$T/nd2" "$T/nd3"

# a job with <translate> alone on the same NDJSON: what sluice translate
# wrote, in the target's Observation file, the broken line quarantined
write_config "$T/ndjob"
cp "$T/nd/obs.ndjson" "$T/ndjob/in/fhir/"
sed -i 's|<pull from="ehr pacs"/>|<pull from="ehr pacs"/>\n    <translate maps="lab-local-to-loinc"/>|' "$T/ndjob/sluice.xml"
sluice --config "$T/ndjob/sluice.xml" run t --no-progress >"$T/ndjob.out" 2>&1
rc=$?
check "a <translate> job on NDJSON: exit 3, the resources sluice translate wrote, line a as it came" \
    sh -c '[ "$1" -eq 3 ] && o=$(find "$2/out/fhir" -name Observation.ndjson) && [ -n "$o" ] && [ "$(sed -n 1p "$o")" = "$(sed -n 1p "$3")" ] && [ "$(jq -cS . "$o")" = "$(grep -h "\"Observation\"" "$4" | jq -cS .)" ]' _ $rc "$T/ndjob" "$T/nd/obs.ndjson" "$T/nd1/000001.ndjson"

# a bad map: refused with file and line, nothing written
printf '%s\n' "$LAB,K-SER,http://loinc.org,2823-3,,wider" "$LAB,K-SER,http://loinc.org,2824-1,,wider,extra" >"$T/bad.csv"
sluice translate --map "$T/bad.csv" "$T/syn/fhir" -o "$T/o4" >/dev/null 2>"$T/o4.err"
rc=$?
check "a broken CSV line: exit 1, file:line named, no output" \
    sh -c '[ "$1" -eq 1 ] && grep -q "bad.csv:2: broken CSV line: too many fields" "$2" && [ ! -e "$3" ]' _ $rc "$T/o4.err" "$T/o4"

# a job: deid, then translate with replace; the run summary counts by map
write_config "$T/job"
cp "$T"/syn/fhir/*.json "$T/job/in/fhir/"
sluice keygen >"$T/job/key"
sed -i 's|<state |<keys pseudonym="file:key"/>\n  <state |; s|<pull from="ehr pacs"/>|<pull from="ehr pacs"/>\n    <deid profile="basic"/>\n    <translate maps="lab-local-to-loinc" policy="replace"/>|' "$T/job/sluice.xml"
sluice --config "$T/job/sluice.xml" check-config >/dev/null 2>&1
check "a job with <translate> checks out" [ $? -eq 0 ]
sluice --config "$T/job/sluice.xml" run t --no-progress >"$T/job.out" 2>"$T/job.err"
rc=$?
check "the job runs (exit 0) and its summary counts codings mapped by map" \
    sh -c '[ "$1" -eq 0 ] && grep -Eq "translate +info +mapped:lab-local-to-loinc +$2\$" "$3"' _ $rc "$nlocal" "$T/job.out"
jq -r '.entry[].resource | select(.resourceType=="Patient") | .name[].family' "$T"/syn/fhir/*.json | sort -u >"$T/names.txt"
check "after deid and translate: LOINC codes, no local lab code, no family name" \
    sh -c 'grep -rq "\"2823-3\"\\|\"2951-2\"\\|\"30522-7\"\\|\"3016-3\"\\|\"13457-7\"" "$1" && ! grep -rq "$2" "$1" && [ -s "$3" ] && ! grep -rqF -f "$3" "$1"' _ "$T/job/out/fhir" "$LAB" "$T/names.txt"
# check-config reads the maps too: a broken one is named with both lines
cp "$T/job/sluice.xml" "$T/job/good.xml"
sed -i 's|policy="replace"/>|policy="replace"/>\n    <translate maps="../bad.csv"/>|' "$T/job/sluice.xml"
sluice --config "$T/job/sluice.xml" check-config >/dev/null 2>"$T/cc.err"
rc=$?
check "check-config refuses a broken map (exit 1), naming config line and map line" \
    sh -c '[ "$1" -eq 1 ] && grep -q "sluice.xml:[0-9]*: <translate>: .*bad.csv:2: broken CSV line: too many fields" "$2"' _ $rc "$T/cc.err"
cp "$T/job/good.xml" "$T/job/sluice.xml"
sed -i 's|policy="replace"/>|policy="replace" elements="Observation..code"/>|' "$T/job/sluice.xml"
sluice --config "$T/job/sluice.xml" run t --no-progress >/dev/null 2>"$T/job2.err"
rc=$?
check "a bad element path: refused (exit 1), naming the config line" \
    sh -c '[ "$1" -eq 1 ] && grep -q "sluice.xml:[0-9]*: <translate>.*element path \"Observation..code\"" "$2"' _ $rc "$T/job2.err"
finish

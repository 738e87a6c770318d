#!/bin/sh
# Bad input never stops a run: each bad item is quarantined with a reason
# naming file, line, column or tag; good items are delivered; nothing from
# the data or the input paths appears in what sluice prints.
. "${top_srcdir}/tests/integration/lib.sh"
plan 21
write_config "$T"
f="$T/in/fhir"
# File names carry "patient names", as real exports often do.
printf '%s\n' '{"resourceType":"Patient","id":"p1","name":[{"family":"Zyxwvut"}]}' \
    '{"resourceType":"Patient","id":"p2","name":[{"family":"Qwertyuiop"' \
    '' \
    '{"resourceType":"Observation","id":"o1","status":"final"}' \
    '{"id":"x","status":"final"}' >"$f/SMITH_JOHN_export.ndjson"
printf '{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"b1"}},{"fullUrl":"urn:x"}]}' >"$f/DOE_JANE_bundle.json"
printf '{"resourceType":"Patient", "id": "Mxyzptlk",' >"$f/broken.json"
i=0; while [ $i -lt 3000 ]; do echo "{\"resourceType\":\"Observation\",\"id\":\"c$i\",\"status\":\"final\",\"valueString\":\"$(head -c 60 /dev/urandom | od -An -tx1 | tr -d ' \n')\"}"; i=$((i + 1)); done | gzip >"$T/c.gz"
head -c $(($(wc -c <"$T/c.gz") / 2)) "$T/c.gz" >"$f/corrupt.ndjson.gz"
printf '{"resourceType":"Patient","id":"gz1"}\n' | gzip >"$f/good.ndjson.gz"
ln -s "$T/nowhere.ndjson" "$f/dangling.ndjson"
echo "not a FHIR file" >"$f/README.txt"
sluice synth --patients 1 --seed 3 -o "$T/syn" >/dev/null 2>&1
one=$(find "$T/syn/dicom" -type f | sort | head -n 1)
cp "$one" "$T/in/dicom/good.dcm"
head -c 700 "$one" >"$T/in/dicom/ROE_RICHARD_truncated.dcm"
echo "plain text, named like DICOM" >"$T/in/dicom/fake.dcm"

sluice --config "$T/sluice.xml" run t --no-progress >"$T/out.txt" 2>"$T/err.txt"
rc=$?
check "run # replay: a bad line is still bad, so it is quarantined again as a new
# entry and the old one is marked replayed; nothing disappears
sluice --config "$T/sluice.xml" quarantine replay 2 >"$T/replay.txt" 2>&1
check "replay of a still-bad item exits 3" [ $? -eq 3 ]
sluice --config "$T/sluice.xml" quarantine list --all >"$T/qall.txt" 2>&1
check "the replayed item is marked replayed" sh -c "grep '^ *2 ' '$T/qall.txt' | grep -q replayed"
check "and quarantined again with a new reason" grep -q 'still not a FHIR resource (replay of quarantine item 2)' "$T/qall.txt"
finishes with exit 3 (items quarantined)" [ $rc -eq 3 ]
run_dir=$(ls -d "$T"/out/fhir/run-*)
check "good NDJSON lines delivered (p1, o1)" grep -q '"id":"p1"' "$run_dir/Patient.ndjson"
check "good Observation delivered" grep -q '"id":"o1"' "$run_dir/Observation.ndjson"
check "Bundle entry delivered" grep -q '"id":"b1"' "$run_dir/Patient.ndjson"
check "gzip NDJSON delivered" grep -q '"id":"gz1"' "$run_dir/Patient.ndjson"
check "good DICOM delivered" [ "$(find "$T/out/dicom" -name '*.dcm' | wc -l)" -eq 1 ]
sluice --config "$T/sluice.xml" quarantine list >"$T/q.txt" 2>&1
diag "$(cat "$T/q.txt")"
check "bad NDJSON line named by file and line" grep -q 'file [0-9]* line 2.*malformed JSON' "$T/q.txt"
check "resource without resourceType" grep -q 'line 5.*no resourceType' "$T/q.txt"
check "Bundle entry without resource" grep -q 'entry 2.*no resource' "$T/q.txt"
check "malformed .json file with line/column" grep -q 'malformed JSON at line 1 column' "$T/q.txt"
check "corrupt gzip quarantined" grep -qi 'gzip' "$T/q.txt"
check "a (dangling) link in the folder is quarantined, not followed" grep -q 'symbolic link: not followed' "$T/q.txt"
check "a .dcm file that is not DICOM quarantined, not skipped" grep -q 'named as DICOM but not DICOM' "$T/q.txt"
check "truncated DICOM quarantined naming a tag" grep -q '([0-9A-F]\{4\},[0-9A-F]\{4\})' "$T/q.txt"
leak=0
for s in SMITH JOHN DOE_JANE ROE_RICHARD Zyxwvut Qwertyuiop Mxyzptlk "$T/in"; do
    if grep -q "$s" "$T/out.txt" "$T/err.txt" "$T/q.txt"; then diag "leaked: $s"; leak=1; fi
done
check "no values or input paths in output, logs or quarantine list" [ $leak -eq 0 ]
id=$(sluice --config "$T/sluice.xml" quarantine list --json 2>/dev/null | grep -o '"id": *[0-9]*' | head -n 1 | grep -o '[0-9]*$')
sluice --config "$T/sluice.xml" quarantine show "$id" --content >"$T/show.txt" 2>/dev/null
check "quarantine show gives the operator the input path" grep -q "$T/in/" "$T/show.txt"
sluice --config "$T/sluice.xml" runs --json >"$T/runs.json" 2>&1
check "the run records 8 items quarantined" grep -q '"quarantined": *8' "$T/runs.json"
# replay: a bad line is still bad, so it is quarantined again as a new
# entry and the old one is marked replayed; nothing disappears
sluice --config "$T/sluice.xml" quarantine replay 2 >"$T/replay.txt" 2>&1
check "replay of a still-bad item exits 3" [ $? -eq 3 ]
sluice --config "$T/sluice.xml" quarantine list --all >"$T/qall.txt" 2>&1
check "the replayed item is marked replayed" sh -c "grep '^ *2 ' '$T/qall.txt' | grep -q replayed"
check "and quarantined again with a new reason" grep -q 'still not a FHIR resource (replay of quarantine item 2)' "$T/qall.txt"
# findings: counted per stage and code, in the summary and in sluice runs
check "the run summary counts the findings per stage and code" \
    grep -q 'read .*error .*quarantined' "$T/out.txt"
n_q=$(sluice --config "$T/sluice.xml" runs --json 2>/dev/null | jq '[.[] | select(.job == "t") | .findings[] | select(.stage == "read" and .code == "quarantined") | .n] | add' 2>/dev/null)
n_rq=$(sluice --config "$T/sluice.xml" runs --json 2>/dev/null | jq '[.[] | select(.job == "t") | .quarantined] | add' 2>/dev/null)
check "sluice runs --json gives the findings of each run ($n_q of $n_rq quarantined)" \
    sh -c "[ -n '$n_q' ] && [ '$n_q' = '$n_rq' ]"
finish

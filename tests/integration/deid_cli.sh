#!/bin/sh
# sluice deid as a user runs it on FHIR and DICOM of the same patients:
# PHI gone, what must survive survives, FHIR and DICOM agree (patient
# pseudonym, UIDs, date shift), bad input quarantined beside the output,
# output names never from input names, and the contract's exit codes.
. "${top_srcdir}/tests/integration/lib.sh"
plan 23
if ! command -v jq >/dev/null 2>&1 || ! command -v dcmdump >/dev/null 2>&1; then
    i=0; while [ $i -lt 23 ]; do skip "jq or dcmdump not installed"; i=$((i + 1)); done
    exit 0
fi
sluice synth --patients 4 --seed 21 -o "$T/in" >/dev/null 2>&1
# an input named after a patient, as exports often are
first=$(ls "$T/in/fhir" | head -n 1)
mv "$T/in/fhir/$first" "$T/in/fhir/SMITH_JOHN_MRN.json"
sluice keygen >"$T/key"
dval() { dcmdump +P "$2" "$1" 2>/dev/null | sed -n 's/.*\[\(.*\)\].*/\1/p'; }

sluice -j 4 deid --key-file "$T/key" -o "$T/out" "$T/in" >"$T/stdout" 2>"$T/stderr"
check "deid of FHIR and DICOM exits 0" [ $? -eq 0 ]
check "no output name comes from an input name" sh -c "! find '$T/out' | grep -q SMITH"
# every identifier value of the input, then look for each in the output
jq -r '.entry[].resource | select(.resourceType=="Patient") |
       (.identifier[]?.value), (.name[]?.family), (.name[]?.given[]?),
       (.telecom[]?.value), (.address[]?.line[]?), (.address[]?.city)' \
    "$T"/in/fhir/*.json | sort -u >"$T/phi.txt"
leaks=0
while IFS= read -r v; do
    [ ${#v} -ge 4 ] || continue
    if grep -rqaF -- "$v" "$T/out"; then diag "leaked: value $leaks"; leaks=$((leaks + 1)); fi
done <"$T/phi.txt"
check "no identifier of the input in any output file ($(wc -l <"$T/phi.txt") checked)" [ $leaks -eq 0 ]
check "nothing from the data or input paths printed" sh -c "! grep -qF -f '$T/phi.txt' '$T/stdout' '$T/stderr' && ! grep -q SMITH '$T/stdout' '$T/stderr'"
# a second run into the same folder is refused: it would overwrite the
# first run's numbered outputs and leave a manifest that lists only its own
(cd "$T/out" && find . -type f -exec sha256sum {} + | sort) >"$T/before"
sluice deid --key-file "$T/key" -o "$T/out" "$T/in" >/dev/null 2>"$T/again.err"
check "a non-empty OUTDIR is refused with exit 1 and a reason" \
    sh -c "[ $? -eq 1 ] && grep -q 'not empty' '$T/again.err'"
check "the first run's output is left as it was" \
    sh -c "(cd '$T/out' && find . -type f -exec sha256sum {} + | sort) | cmp -s - '$T/before'"
n_obs_in=$(jq '[.entry[].resource | select(.resourceType=="Observation")] | length' "$T"/in/fhir/*.json | awk '{s+=$1} END {print s}')
n_obs_out=$(jq '[.entry[].resource | select(.resourceType=="Observation")] | length' "$T"/out/fhir/*.json | awk '{s+=$1} END {print s}')
check "every Observation survives ($n_obs_out of $n_obs_in)" [ "$n_obs_in" = "$n_obs_out" ]
check "LOINC codes and values survive" sh -c "jq -r '.entry[].resource | select(.resourceType==\"Observation\") | .code.coding[].code, .valueQuantity.value' '$T'/in/fhir/*.json | sort >'$T/a'; jq -r '.entry[].resource | select(.resourceType==\"Observation\") | .code.coding[].code, .valueQuantity.value' '$T'/out/fhir/*.json | sort >'$T/b'; cmp -s '$T/a' '$T/b'"
mrns=$(jq -r '.entry[].resource | select(.resourceType=="Patient") | .identifier[] | select(.type.coding[0].code=="MR") | .value' "$T"/out/fhir/*.json | sort)
pids=$(for f in $(find "$T/out/dicom" -name '*.dcm'); do dval "$f" 0010,0020; done | sort -u)
check "DICOM PatientID equals the FHIR MRN pseudonym" [ -n "$mrns" ] && [ "$mrns" = "$pids" ]
fuids=$(jq -r '.entry[].resource | select(.resourceType=="ImagingStudy") | .identifier[] | select(.system=="urn:dicom:uid") | .value' "$T"/out/fhir/*.json | sed 's/^urn:oid://' | sort)
duids=$(for f in $(find "$T/out/dicom" -name '*.dcm'); do dval "$f" 0020,000d; done | sort -u)
check "ImagingStudy identifier equals the DICOM StudyInstanceUID" [ -n "$fuids" ] && [ "$fuids" = "$duids" ]
fser=$(jq -r '.entry[].resource | select(.resourceType=="ImagingStudy") | .series[].uid' "$T"/out/fhir/*.json | sort)
dser=$(for f in $(find "$T/out/dicom" -name '*.dcm'); do dval "$f" 0020,000e; done | sort -u)
check "ImagingStudy series uids equal the DICOM SeriesInstanceUIDs" [ "$fser" = "$dser" ]
a=$(for f in $(find "$T/in/dicom" -name '*.dcm'); do dcmdump +P 7fe0,0010 +W "$T/px" "$f" >/dev/null 2>&1; sha256sum "$T"/px/*.raw 2>/dev/null | cut -c1-64; rm -rf "$T/px"; mkdir -p "$T/px"; done | sort)
b=$(for f in $(find "$T/out/dicom" -name '*.dcm'); do dcmdump +P 7fe0,0010 +W "$T/px" "$f" >/dev/null 2>&1; sha256sum "$T"/px/*.raw 2>/dev/null | cut -c1-64; rm -rf "$T/px"; mkdir -p "$T/px"; done | sort)
check "pixel data byte-identical" [ -n "$a" ] && [ "$a" = "$b" ]

# longitudinal: FHIR and DICOM dates shifted by the same offset
sluice deid --profile longitudinal --key-file "$T/key" -o "$T/long" "$T/in" >/dev/null 2>&1
check "longitudinal exits 0" [ $? -eq 0 ]
fdates=$(jq -r '.entry[].resource | select(.resourceType=="ImagingStudy") | .started[0:10]' "$T"/long/fhir/*.json | tr -d - | sort)
ddates=$(for f in $(find "$T/long/dicom" -name '*.dcm'); do dval "$f" 0008,0020; done | sort -u)
odates=$(for f in $(find "$T/in/dicom" -name '*.dcm'); do dval "$f" 0008,0020; done | sort -u)
check "study dates shifted alike in FHIR and DICOM" [ -n "$fdates" ] && [ "$fdates" = "$ddates" ] && [ "$ddates" != "$odates" ]

# same key, same input: the same output, byte for byte
sluice -j 1 deid --key-file "$T/key" -o "$T/out2" "$T/in" >/dev/null 2>&1
check "deterministic across runs and numbers of threads (-j 1 and -j 4)" diff -r "$T/out" "$T/out2"

# --provenance: one Provenance per FHIR output, nothing else changes
check "no Provenance without --provenance" sh -c "! grep -rq Provenance '$T/out/fhir'"
mkdir -p "$T/pin"
jq -c '.entry[].resource' "$T"/in/fhir/*.json >"$T/pin/all.ndjson"
cp "$T"/in/fhir/*.json "$T/pin/"
sluice deid --provenance --key-file "$T/key" -o "$T/pout" "$T/pin" >/dev/null 2>&1
sluice deid --key-file "$T/key" -o "$T/pout0" "$T/pin" >/dev/null 2>&1
ok=1
for f in "$T"/pout/fhir/*.json; do
    g="$T/pout0/fhir/$(basename "$f")"
    [ "$(jq -r '.entry[-1].resource.resourceType' "$f")" = Provenance ] || ok=0
    [ "$(jq -c '[.entry[:-1][].resource | "\(.resourceType)/\(.id)"]' "$f")" = \
        "$(jq -c '[.entry[-1].resource.target[].reference]' "$f")" ] || ok=0
    [ "$(jq -S 'del(.entry[-1])' "$f")" = "$(jq -S . "$g")" ] || ok=0
done
check "a Bundle gets one more entry, a Provenance of its resources" [ $ok -eq 1 ]
f=$(ls "$T"/pout/fhir/*.ndjson)
g="$T/pout0/fhir/$(basename "$f")"
check "NDJSON gets one more line, a Provenance of its resources" sh -c "[ \"\$(tail -n 1 '$f' | jq -r .resourceType)\" = Provenance ] && [ \"\$(tail -n 1 '$f' | jq '.target | length')\" -eq \$(wc -l <'$g') ] && head -n -1 '$f' | cmp -s - '$g'"

# bad input: quarantined beside OUTDIR with a reason, exit 3
mkdir -p "$T/bad"
one=$(find "$T/in/dicom" -name '*.dcm' | head -n 1)
head -c 900 "$one" >"$T/bad/DOE_JANE.dcm"
printf '{"resourceType":"Patient","id":"x","name":[{"family":"Qwertyzz"}]\n' >"$T/bad/ROE.ndjson"
sluice deid --key-file "$T/key" -o "$T/bout" "$T/bad" >"$T/bstdout" 2>"$T/bstderr"
check "bad inputs: exit 3" [ $? -eq 3 ]
check "quarantine beside the output, with reason files" [ "$(ls "$T/bout.quarantine"/*.reason.txt | wc -l)" -eq 2 ]
check "reasons name a tag and a line, the reason file keeps the input path" sh -c "grep -q '([0-9A-F]\{4\},[0-9A-F]\{4\})' '$T'/bout.quarantine/*.reason.txt && grep -q 'line 1' '$T'/bout.quarantine/*.reason.txt && grep -q DOE_JANE '$T'/bout.quarantine/*.reason.txt"
check "nothing from the bad input printed" sh -c "! grep -q -e DOE -e ROE -e Qwertyzz '$T/bstdout' '$T/bstderr'"

# usage errors from the contract
printf 'short' >"$T/short.key"
sluice deid --key-file "$T/short.key" -o "$T/x" "$T/in" >/dev/null 2>"$T/e1"
check "a key under 32 bytes: exit 1, and the key is not echoed" [ $? -eq 1 ] && grep -q '32' "$T/e1" && ! grep -q short "$T/e1"
finish

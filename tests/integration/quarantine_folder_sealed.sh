#!/bin/sh
# The folder quarantines at rest: `sluice deid --quarantine-key` (and
# `sluice translate`'s, and `sluice push`'s through the configuration's
# <quarantine key>) seal what they keep: the broken FHIR line that names
# a patient, the DICOM copy and the input paths are not found in the
# folder; `sluice quarantine --dir` lists them and shows metadata without
# the key; --content needs it (a wrong key: a clear error, nothing
# printed); with it the data comes back, and --output writes the DICOM
# copy back as DICOM. A key that is too short or missing is refused
# before anything is written; encrypt="required" without a key refuses a
# push.
. "${top_srcdir}/tests/integration/lib.sh"
plan 15
command -v dcmodify >/dev/null || { echo "1..0 # SKIP dcmtk's dcmodify missing"; exit 0; }

d=$T/d
mkdir -p "$d/in"
sluice synth --patients 2 --seed 43 -o "$T/syn" >/dev/null 2>&1
cp "$T"/syn/fhir/*.json "$d/in/"
printf '{"resourceType":"Patient","name":[{"family":"Qwertyzz"}],"BROKEN\n' >"$d/in/Zzbroken_Patient.ndjson"
f=$(find "$T/syn/dicom" -type f | head -1)
cp "$f" "$d/in/Qwertyzz_Lastname.dcm"
dcmodify -nb -i "(0028,0301)=YES" -i "(0010,0010)=Qwertyzz^Lastname" \
    "$d/in/Qwertyzz_Lastname.dcm" >/dev/null 2>&1
sluice keygen -o "$d/key" >/dev/null 2>&1
sluice keygen -o "$d/q.key" >/dev/null 2>&1
sluice keygen -o "$d/wrong.key" >/dev/null 2>&1
printf 'short' >"$d/short.key"

sluice deid --key-file "$d/key" --quarantine-key file:"$d/short.key" \
    -o "$d/out0" --quarantine "$d/q0" "$d/in" >/dev/null 2>"$T/short.err"
rc=$?
check "a quarantine key under 32 bytes is refused (exit 1) before any output" \
    sh -c "[ $rc -eq 1 ] && grep -q 'needs at least 32' '$T/short.err' && [ ! -e '$d/out0/fhir' ]"

QK=$(cat "$d/q.key"); export QK
sluice deid --key-file "$d/key" --quarantine-key env:QK -o "$d/out" \
    --quarantine "$d/q" "$d/in" >/dev/null 2>"$T/deid.err"
check "sluice deid runs and quarantines the two broken items (exit 3)" [ $? -eq 3 ]
check "neither the name nor the input file names are anywhere in the quarantine folder" \
    sh -c "! grep -rEq 'Qwertyzz|Zzbroken|$d/in' '$d/q'"
dcm=$(ls "$d/q"/*.dcm | head -1)
check "the DICOM copy is sealed, not DICOM" \
    sh -c "head -c 8 '$dcm' | grep -q SLSEAL01 && ! grep -q DICM '$dcm'"
sluice quarantine --dir "$d/q" list >"$T/list" 2>&1
check "list reads the sealed folder without a key: two items with reasons" \
    sh -c "[ \$(grep -c '^in0' '$T/list') -eq 2 ] && ! grep -q Qwertyzz '$T/list'"
fid=$(basename "$(ls "$d/q"/*.ndjson | head -1)" .ndjson)
did=$(basename "$dcm" .dcm)
sluice quarantine --dir "$d/q" show "$fid" >"$T/show" 2>&1
check "show without the key: metadata, 'encrypted', no origin, no data" \
    sh -c "grep -q '^at rest: *encrypted' '$T/show' && ! grep -Eq 'Qwertyzz|Zzbroken|^origin' '$T/show'"
sluice quarantine --dir "$d/q" show "$fid" --content >"$T/nokey" 2>"$T/nokey.err"
rc=$?
check "--content without the key: exit 1, names --key, nothing printed" \
    sh -c "[ $rc -eq 1 ] && [ ! -s '$T/nokey' ] && grep -q -- '--key' '$T/nokey.err'"
sluice quarantine --dir "$d/q" --key file:"$d/wrong.key" show "$fid" --content >"$T/wrong" 2>"$T/wrong.err"
rc=$?
check "--content with a wrong key: exit 1, nothing printed" \
    sh -c "[ $rc -eq 1 ] && [ ! -s '$T/wrong' ] && ! grep -q Qwertyzz '$T/wrong.err'"
sluice quarantine --dir "$d/q" --key env:QK show "$fid" --content >"$T/right" 2>/dev/null
check "--content with the key: the broken line and the input path come back" \
    sh -c "grep -q Qwertyzz '$T/right' && grep -q '^origin: .*Zzbroken_Patient.ndjson' '$T/right'"
sluice quarantine --dir "$d/q" --key env:QK show "$did" --content --output "$T/back.dcm" >/dev/null 2>&1
check "--output writes the sealed DICOM copy back, byte for byte the input" \
    cmp -s "$T/back.dcm" "$d/in/Qwertyzz_Lastname.dcm"

sluice deid --key-file "$d/key" -o "$d/outc" --quarantine "$d/qc" "$d/in" >/dev/null 2>&1
sluice quarantine --dir "$d/qc" show "$fid" >"$T/clear" 2>&1
check "without --quarantine-key the folder is in the clear, and show says so" \
    sh -c "grep -q '^at rest: *in the clear' '$T/clear' && grep -q Qwertyzz '$d/qc/$fid.ndjson'"

# sluice translate: the same option
cat >"$d/map.csv" <<'EOM'
source_system,source_code,target_system,target_code,target_display,relationship
http://example.org/local,X1,http://loinc.org,2345-7,Glucose,equivalent
EOM
sluice translate --map "$d/map.csv" --quarantine-key env:QK --quarantine "$d/qt" \
    -o "$d/outt" "$d/in/Zzbroken_Patient.ndjson" >/dev/null 2>&1
check "sluice translate seals its quarantine too" \
    sh -c "ls '$d/qt'/*.ndjson >/dev/null 2>&1 && ! grep -rq Qwertyzz '$d/qt'"

# sluice push: the configuration's key; encrypt=required without one is refused
cat >"$d/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:key"/>
  <state path="state/sluice.db"/>
  <quarantine path="quarantine" key="file:q.key" encrypt="required"/>
  <target id="out" type="fhir-files" path="pushed"/>
</sluice>
EOC
sluice --config "$d/sluice.xml" push --target out --quarantine "$d/qp" "$d/in/Zzbroken_Patient.ndjson" >/dev/null 2>&1
check "sluice push seals its folder quarantine with <quarantine key>" \
    sh -c "ls '$d/qp'/* >/dev/null 2>&1 && ! grep -rq Qwertyzz '$d/qp'"
sluice quarantine --dir "$d/qp" --key file:"$d/q.key" show in000001-line000001 --content >"$T/pushq" 2>&1
check "and it opens with that key" grep -q Qwertyzz "$T/pushq"
sed -i 's| key="file:q.key"||' "$d/sluice.xml"
sluice --config "$d/sluice.xml" check-config >/dev/null 2>&1
check "encrypt=\"required\" without a key is refused by check-config" [ $? -ne 0 ]

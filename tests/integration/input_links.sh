#!/bin/sh
# Symbolic links in input folders: not followed by default. A link is
# quarantined by its position with the reason, and what it points to (a
# key file, another patient's export) is never read nor copied into the
# quarantine; --follow-symlinks / follow-symlinks="yes" follows them,
# walking a loop once.
. "${top_srcdir}/tests/integration/lib.sh"
plan 15
sluice synth --patients 3 --seed 41 -o "$T/in" >/dev/null 2>&1
sluice keygen >"$T/key"
mkdir -p "$T/elsewhere"
printf '{"resourceType":"Patient","id":"z","name":[{"family":"Linkedzyx"}]}\n' \
    >"$T/elsewhere/other.ndjson"
ln -s "$T/elsewhere/other.ndjson" "$T/in/fhir/linked.ndjson"
ln -s "$T/key" "$T/in/dicom/secret.dcm"
ln -s .. "$T/in/fhir/loop"
keybytes=$(head -c 40 "$T/key")

sluice deid --key-file "$T/key" -o "$T/out" --quarantine "$T/q" "$T/in" \
    >/dev/null 2>"$T/err"
rc=$?
check "links are quarantined, not followed: exit 3" [ $rc -eq 3 ]
n=$(grep -l 'symbolic link: not followed' "$T/q"/*.reason.txt 2>/dev/null | wc -l)
check "each link has its reason file ($n of 3)" [ "$n" -eq 3 ]
check "the key a link points to is not copied into the quarantine" \
    sh -c "! grep -rqF -- '$keybytes' '$T/q' '$T/out'"
check "a linked export is not read" sh -c "! grep -rq Linkedzyx '$T/out' '$T/q'"
check "sluice quarantine --dir names the stage that held a link back (read)" \
    sh -c "$SLUICE quarantine --dir '$T/q' list 2>/dev/null | grep 'symbolic link' | grep -q ' read '"
check "nothing printed names where a link points" \
    sh -c "! grep -q elsewhere '$T/err' && ! grep -qF '$T/key' '$T/err'"

timeout 120 $SLUICE_WRAP "$SLUICE" deid --follow-symlinks --key-file "$T/key" -o "$T/out2" \
    --quarantine "$T/q2" "$T/in" >/dev/null 2>"$T/err2"
rc=$?
check "--follow-symlinks ends (a loop is walked once): exit $rc" \
    sh -c "[ $rc -eq 3 ] || [ $rc -eq 0 ]"
check "--follow-symlinks reads a linked export" \
    sh -c "[ \$(ls '$T/out2/fhir' | wc -l) -gt \$(ls '$T/out/fhir' | wc -l) ]"

# a job's folder sources
write_config "$T/job"
cp -r "$T/in/fhir/." "$T/job/in/fhir/" 2>/dev/null
cp -r "$T/in/dicom/." "$T/job/in/dicom/" 2>/dev/null
rm -f "$T/job/in/fhir/linked.ndjson" "$T/job/in/dicom/secret.dcm" "$T/job/in/fhir/loop"
ln -s "$T/elsewhere/other.ndjson" "$T/job/in/fhir/linked.ndjson"
ln -s "$T/key" "$T/job/in/dicom/secret.dcm"
sluice --config "$T/job/sluice.xml" -q run t --no-progress >/dev/null 2>&1
rc=$?
check "a job quarantines the links of its folder sources (exit $rc)" [ $rc -eq 3 ]
sluice --config "$T/job/sluice.xml" quarantine list >"$T/ql" 2>&1
check "sluice quarantine list gives the reason" \
    sh -c "[ \$(grep -c 'symbolic link: not followed' '$T/ql') -eq 2 ]"
check "nothing of the key in the job's output, quarantine or state" \
    sh -c "! grep -rqaF -- '$keybytes' '$T/job/out' '$T/job/quarantine' '$T/job/state'"
# a re-identification map named through a link is not written through it
sluice keygen >"$T/key2"
echo "victim" >"$T/victim"
ln -s "$T/victim" "$T/map-link"
sluice deid --key-file "$T/key" -o "$T/out5" --quarantine "$T/q5" \
    --reid-map "$T/map-link" --reid-key-file "$T/key2" "$T/in/fhir" >/dev/null 2>&1
rc=$?
check "a --reid-map that is a symbolic link is refused, its target untouched (exit $rc)" \
    sh -c "[ $rc -ne 0 ] && [ \"\$(cat '$T/victim')\" = victim ]"
# the quarantine holds patient data: the user's alone
check "sluice deid makes its quarantine folder the user's alone (mode 700)" \
    [ "$(stat -c %a "$T/q")" = 700 ]
mkdir -m 777 "$T/q3"
sluice deid --key-file "$T/key" -o "$T/out3" --quarantine "$T/q3" "$T/in/fhir" \
    >/dev/null 2>"$T/err3"
check "a quarantine folder others may write to is refused (exit $?)" \
    grep -q 'not be writable by others' "$T/err3"
if [ "$(stat -c %a /tmp 2>/dev/null)" = 1777 ]; then
    sh_tmp=/tmp/sluice-links-$$
    sluice deid --key-file "$T/key" -o "$sh_tmp" "$T/in/fhir" >/dev/null 2>"$T/err4"
    rc=$?
    check "a default quarantine in a shared folder like /tmp is refused (exit $rc)" \
        sh -c "[ $rc -eq 1 ] && grep -q 'other users share' '$T/err4' && [ ! -e '$sh_tmp' ] && [ ! -e '$sh_tmp.quarantine' ]"
    rm -rf "$sh_tmp" "$sh_tmp.quarantine"
else
    skip "/tmp is not a shared sticky folder here"
fi
finish

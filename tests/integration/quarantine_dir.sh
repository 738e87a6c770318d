#!/bin/sh
# quarantine_dir.sh - `sluice quarantine --dir QDIR list|show` on the
# folder `sluice deid` quarantines into: list names each item with its
# position and reason and nothing from the data or input paths; show
# gives the operator the item, its origin and its data; the folder is
# read-only.
. "${top_srcdir}/tests/integration/lib.sh"
NTESTS=18
plan $NTESTS

OUT=$T/out.txt
ERR=$T/err.txt
# status WANT CMD...: runs CMD (stdout to $OUT, stderr to $ERR) and
# succeeds when its exit status is WANT.
status() {
    local want=$1 got
    shift
    "$@" >"$OUT" 2>"$ERR"
    got=$?
    [ "$got" -eq "$want" ] || { diag "exit $got, wanted $want: $*"; sed 's/^/# /' "$ERR"; return 1; }
}

sluice synth --patients 2 --seed 7 -o "$T/in" >/dev/null 2>&1
sluice keygen >"$T/key"
# inputs named after patients, as exports often are
mkdir -p "$T/Doe_Jane_export"
one=$(find "$T/in/dicom" -name '*.dcm' | head -n 1)
head -c 900 "$one" >"$T/Doe_Jane_export/DOE_JANE.dcm"
printf '{"resourceType":"Patient","id":"a","name":[{"family":"Okafor"}]}\n{"resourceType":"Patient","id":"b","name":[{"family":"Qwertyzz"}], BROKEN\n' \
    >"$T/Doe_Jane_export/ROE_RICHARD.ndjson"

status 3 sluice deid --key-file "$T/key" -o "$T/out" "$T/Doe_Jane_export"
check "deid quarantines the truncated DICOM and the broken line: exit 3" [ $? -eq 0 ]
Q=$T/out.quarantine
ndj=$(ls "$Q" | sed -n 's/\(.*-line[0-9]*\)\.reason\.txt$/\1/p')
dcm=$(ls "$Q" | sed -n 's/^\([^-]*\)\.reason\.txt$/\1/p' | head -n 1)
[ -n "$ndj" ] && [ -n "$dcm" ] || diag "quarantine folder: $(ls "$Q" | tr '\n' ' ')"

status 0 sluice quarantine --dir "$Q" list
check "list on the folder: exit 0" [ $? -eq 0 ]
check "list has its header and one row per reason file" \
    sh -c "grep -q '^ID  *JOB  *SOURCE  *POSITION  *STAGE  *CREATED  *REASON' '$OUT' && [ \$(grep -c '^in[0-9]' '$OUT') -eq \$(ls '$Q'/*.reason.txt | wc -l) ] && [ \$(grep -c '^in[0-9]' '$OUT') -eq 2 ]"
check "the DICOM row gives its position and a reason that names a tag" \
    sh -c "grep '^$dcm ' '$OUT' | grep 'file 1' | grep -q '([0-9A-F]\{4\},[0-9A-F]\{4\})'"
check "the NDJSON row gives the line and why it is malformed" \
    sh -c "grep '^$ndj ' '$OUT' | grep -q 'line 2.*malformed JSON'"
check "list prints no input path, no data, no folder name" \
    sh -c "! grep -q -e Doe_Jane -e DOE -e ROE -e Okafor -e Qwertyzz -e BROKEN -e '$T' '$OUT' '$ERR'"

if command -v jq >/dev/null 2>&1; then
    sluice quarantine --dir "$Q" list --json >"$OUT" 2>"$ERR"
    check "list --json: ids are the folder's names, each open, no origin" \
        sh -c "[ \"\$(jq -r '[.[].id] | join(\" \")' '$OUT')\" = '$dcm $ndj' ] && [ \"\$(jq -r '[.[].status] | unique | join(\" \")' '$OUT')\" = open ] && ! grep -q -e origin -e DOE '$OUT'"
else
    skip "jq not installed"
fi

status 0 sluice quarantine --dir "$Q" show "$ndj" --content
check "show the NDJSON line: exit 0" [ $? -eq 0 ]
check "show gives the reason and, for the operator, the input path" \
    sh -c "grep -q '^reason: .*malformed JSON' '$OUT' && grep -q '^origin: .*Doe_Jane_export/ROE_RICHARD.ndjson' '$OUT'"
check "show prints the quarantined line itself, and only that line" \
    sh -c "grep -q 'Qwertyzz.*BROKEN' '$OUT' && ! grep -q Okafor '$OUT'"
check "show warns on stderr that the output may hold patient data" \
    grep -q 'may contain patient data' "$ERR"

status 0 sluice quarantine --dir "$Q" show "$dcm" --content
check "show the DICOM: its kind, its copy in the folder, its origin" \
    sh -c "grep -q '^kind: *dicom' '$OUT' && grep -q '^path: .*out.quarantine/$dcm.dcm' '$OUT' && grep -q '^origin: .*DOE_JANE.dcm' '$OUT' && grep -q '^data: *900 bytes' '$OUT'"

status 1 sluice quarantine --dir "$Q" show in999999
check "show an unknown id: exit 1" grep -q 'no quarantined item in999999' "$ERR"
status 1 sluice quarantine --dir "$Q" show ../out.quarantine/$dcm
check "show an id that is a path: exit 1, nothing read" grep -q 'not an item id' "$ERR"

(cd "$Q" && ls -l) >"$T/before"
status 1 sluice quarantine --dir "$Q" release "$dcm"
check "release on a folder: exit 1, the folder unchanged" \
    sh -c "grep -q 'need the state store' '$ERR' && (cd '$Q' && ls -l) | cmp -s - '$T/before'"
status 1 sluice quarantine --dir "$Q" --state "$T/state.db" list
check "--dir and --state together: exit 1" [ $? -eq 0 ]

# --quarantine QDIR elsewhere, and a folder that is not there
status 3 sluice deid --key-file "$T/key" -o "$T/out2" --quarantine "$T/held" "$T/Doe_Jane_export/DOE_JANE.dcm"
status 0 sluice quarantine --dir "$T/held" list
check "a --quarantine folder elsewhere lists its one item" \
    sh -c "[ \$(grep -c '^in000001 ' '$OUT') -eq 1 ] && [ \$(wc -l <'$OUT') -eq 2 ]"
status 2 sluice quarantine --dir "$T/nowhere" list
check "a missing folder: exit 2 with a reason" grep -q 'no quarantine folder' "$ERR"
finish

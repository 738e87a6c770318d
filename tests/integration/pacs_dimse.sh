#!/bin/sh
# pacs_dimse.sh - the dimse source against Orthanc 1.10 on 127.0.0.1 in a
# private network namespace (pacs_lib.sh), filled with `sluice synth`
# studies by DCMTK's storescu: a job pulls by C-FIND and C-GET (or C-MOVE), de-
# identifies and writes a DICOM folder; the query follows the source's
# modality, patient-ids and study-date; nothing of the patients' names or
# ids reaches the output, the messages or the work folder; kill -9 and a
# resume, and Orthanc stopped mid-pull then started again, end with every
# instance delivered once; C-MOVE to sluice's own storage SCP delivers the
# same, and a move the PACS cannot make says what to check.
#
# Fixtures: `sluice synth` (fake patients), made by the test.
. "${top_srcdir:-.}/tests/integration/pacs_lib.sh"

plan 18
pacs_need 17

sluice synth --patients 3 --seed 7 -o "$T/syn" >/dev/null 2>&1
sluice keygen -o "$T/key" >/dev/null 2>&1
phi_values "$T/syn/dicom" >"$T/phi"
find "$T/syn/dicom" -type f -exec dcmdump -q +P SOPInstanceUID {} + |
    sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p' | sort >"$T/in-uids"
N=$(wc -l <"$T/in-uids")
NMR=$(find "$T/syn/dicom" -type f -exec dcmdump -q +P Modality {} + | grep -c '\[MR\]')

# mkjob DIR [SOURCE-ATTRS]: a job pulling from Orthanc into DIR/out
mkjob() {
    mkdir -p "$1"
    cat >"$1/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:$T/key"/>
  <state path="state/state.db"/>
  <quarantine path="quarantine"/>
  <source id="pacs" type="dimse" host="127.0.0.1" port="$ORTHANC_DICOM"
          called-ae="ORTHANC" calling-ae="SLUICE" timeout="10" ${2:-}/>
  <target id="out" type="dicom-folder" path="out"/>
  <job id="t">
    <pull from="pacs"/>
    <deid profile="basic"/>
    <push to="out"/>
  </job>
</sluice>
EOC
}
count_out() { find "$1/out" -name '*.dcm' 2>/dev/null | wc -l; }
# fill DIR: Orthanc gets the synthetic studies
fill() { storescu -aec ORTHANC +sd +r 127.0.0.1 $ORTHANC_DICOM "$1" >/dev/null 2>&1; }

mkjob "$T/bad" 'patient-ids="nosuch.txt"'
sluice -c "$T/bad/sluice.xml" check-config >/dev/null 2>"$T/bad/err"
check "check-config: a missing patient-ids file is named with its line" \
    sh -c '[ "$1" -eq 1 ] && grep -q "sluice.xml:7: source .pacs.: patient-ids file .* does not exist" "$2"' \
    _ $? "$T/bad/err"

mkjob "$T/nomove" 'retrieve="c-move"'
sluice -c "$T/nomove/sluice.xml" check-config >/dev/null 2>"$T/nomove/err"
check "check-config: retrieve=c-move without listen-port is refused with its line" \
    sh -c '[ "$1" -eq 1 ] && grep -q "sluice.xml:7: source .pacs.: retrieve=\"c-move\" needs listen-port" "$2"' \
    _ $? "$T/nomove/err"

o="$T/all"
mkjob "$o"
orthanc_start "$T/pacs" || diag "Orthanc did not start"
fill "$T/syn/dicom"
check "Orthanc holds the $N synthetic instances" test "$(orthanc_count)" = "$N"
sluice -c "$o/sluice.xml" echo pacs >"$o/echo" 2>&1
check "echo the dimse source: exit 0, Orthanc takes the FIND, GET and MOVE models" \
    sh -c '[ "$1" -eq 0 ] && grep -q "^  FINDStudyRoot.*: Little Endian" "$2" &&
           grep -q "^  GETStudyRoot.*: Little Endian" "$2" &&
           grep -q "^  MOVEStudyRoot.*: Little Endian" "$2"' _ $? "$o/echo"
sluice -c "$o/sluice.xml" run t --no-progress >"$o/out.log" 2>"$o/err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$o/err"
check "pull all: exit 0, $N instances in the folder" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ]' _ $rc "$(count_out "$o")" "$N"
find "$o/out" -name '*.dcm' -exec dcmdump -q +P SOPInstanceUID {} + |
    sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p' | sort >"$o/uids"
check "they are de-identified: new UIDs, no patient name or id of the input" \
    sh -c '[ -z "$(comm -12 "$1" "$2")" ] && [ "$(grep -c "^2\.25\." "$1")" -eq "$3" ]' \
    _ "$o/uids" "$T/in-uids" "$N"
check "no patient name or id in the output's bytes" no_phi "$T/phi" "$o/out"
cat "$o/out.log" "$o/err" >"$o/msgs"
check "nor in what the run printed, nor left in the work folder" \
    sh -c 'no_phi() { while IFS= read -r v; do [ -n "$v" ] && grep -qF -- "$v" "$2" && return 1; done <"$1"; return 0; }
           no_phi "$1" "$2" && [ -z "$(find "$3" -type f)" ]' _ "$T/phi" "$o/msgs" "$o/state/work"

m="$T/mr"
mkjob "$m" 'modality="MR"'
sluice -c "$m/sluice.xml" -q run t --no-progress >/dev/null 2>&1
check "modality=MR: the $NMR instances of MR studies only" test "$(count_out "$m")" -eq "$NMR"

# one patient's studies, by a patient-ids file
f=$(find "$T/syn/dicom" -type f | head -n 1)
pid=$(dcmdump -q +P PatientID "$f" | sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p')
want=$(find "$T/syn/dicom" -type f -exec dcmdump -q +P PatientID {} + | grep -cF "[$pid]")
p="$T/pid"
mkjob "$p" 'patient-ids="ids.txt"'
printf '%s\n' "$pid" >"$p/ids.txt"
sluice -c "$p/sluice.xml" -q run t --no-progress >/dev/null 2>"$p/err"
check "patient-ids: the $want instances of that patient only, the id never printed" \
    sh -c '[ "$1" -eq "$2" ] && ! grep -qF -- "$3" "$4"' _ "$(count_out "$p")" "$want" "$pid" "$p/err"
# a list line a C-FIND cannot carry (DICOM reads a backslash as a second
# value): the file is refused with its line, nothing asked, nothing printed
p2="$T/pid2"
mkjob "$p2" 'patient-ids="ids.txt"'
printf '%s\n\n  %s  \nX\\%s\n' "$pid" "$pid" "$pid" >"$p2/ids.txt"
sluice -c "$p2/sluice.xml" -q run t --no-progress >/dev/null 2>"$p2/err"
check "patient-ids: a value with a backslash refuses the file, naming line 4 and no id" \
    sh -c '[ "$1" -ne 0 ] && grep -q "patient-ids file, line 4: a backslash" "$3" && ! grep -qF -- "$2" "$3" && [ "$4" -eq 0 ]' _ $? "$pid" "$p2/err" "$(count_out "$p2")"

# C-MOVE to sluice's own storage SCP: Orthanc knows SLUICE at
# 127.0.0.1:11113 (pacs_lib.sh)
mv="$T/move"
mkjob "$mv" 'retrieve="c-move" listen-port="11113"'
sluice -c "$mv/sluice.xml" -q run t --no-progress >/dev/null 2>"$mv/err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$mv/err"
check "c-move: exit 0, the $N instances de-identified in the folder, none left in the work folder" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ] && [ -z "$(find "$4" -type f)" ]' \
    _ $rc "$(count_out "$mv")" "$N" "$mv/state/work"
mw="$T/move-wrong"
mkjob "$mw" 'retrieve="c-move" listen-port="11114" max-attempts="1"'
sluice -c "$mw/sluice.xml" -q run t --no-progress >/dev/null 2>"$mw/err"
rc=$?
check "c-move to a port the PACS does not know for SLUICE: exit 2, the refusal says what to check" \
    sh -c '[ "$1" -eq 2 ] && grep -q "C-MOVE refused with status 0x.*does the node know AE title .SLUICE." "$2"' \
    _ $rc "$mw/err"

z="$T/future"
mkjob "$z" 'study-date="29990101-"'
sluice -c "$z/sluice.xml" -q run t --no-progress >/dev/null 2>"$z.err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$z.err"
check "study-date in the future: nothing pulled, exit 0" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq 0 ]' _ $rc "$(count_out "$z")"
orthanc_stop

# kill -9 mid-pull, then resume
sluice synth --patients 30 --seed 11 -o "$T/big" >/dev/null 2>&1
NB=$(find "$T/big/dicom" -type f | wc -l)
orthanc_start "$T/pacs2"
fill "$T/big/dicom"
k="$T/kill"
mkjob "$k"
$SLUICE -c "$k/sluice.xml" -q -j 2 run t --no-progress --commit-every 5 >/dev/null 2>&1 &
spid=$!
i=0
while [ "$(count_out "$k")" -lt 10 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $spid 2>/dev/null
wait $spid 2>/dev/null
mid=$(count_out "$k")
check "the kill landed mid-pull ($mid of $NB)" \
    sh -c '[ "$1" -gt 0 ] && [ "$1" -lt "$2" ]' _ "$mid" "$NB"
sluice -c "$k/sluice.xml" -q run t --no-progress >/dev/null 2>"$k/err"
rc=$?
[ $rc -eq 0 ] || sed "s/^/# /" "$k/err"
check "resumed: exit 0, each of the $NB instances once, the run resumed, the killed run's retrieved files gone" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ] && [ -z "$(find "${4%/*}/state/work" -path "*/dimse-*" -type f)" ] &&
           [ "$($SLUICE -c "$4" runs --json | jq ".[0].attempts")" -eq 2 ] &&
           [ "$($SLUICE -c "$4" runs --json | jq ".[0].in")" -eq "$3" ]' \
    _ $rc "$(count_out "$k")" "$NB" "$k/sluice.xml"

# Orthanc stopped mid-pull: the run stops, nothing quarantined; started
# again, the resume delivers the rest
s="$T/stop"
mkjob "$s" 'max-attempts="2"'
$SLUICE -c "$s/sluice.xml" -q run t --no-progress >/dev/null 2>"$s/err" &
spid=$!
i=0
while [ "$(count_out "$s")" -lt 10 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
orthanc_stop
wait $spid
rc=$?
q=$(sluice -c "$s/sluice.xml" quarantine list 2>/dev/null | tail -n +2 | grep -c .)
check "PACS stopped mid-pull: exit 2 naming the node, nothing quarantined" \
    sh -c '[ "$1" -eq 2 ] && grep -q "127.0.0.1:'$ORTHANC_DICOM'" "$2" && [ "$3" -eq 0 ]' \
    _ $rc "$s/err" "$q"
orthanc_start "$T/pacs2"
sluice -c "$s/sluice.xml" -q run t --no-progress >/dev/null 2>"$s/err2"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$s/err2"
check "PACS back: the resume delivers the rest, each of the $NB once" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ]' _ $rc "$(count_out "$s")" "$NB"
orthanc_stop
finish

#!/bin/sh
# pacs_store.sh - sluice echo and the dicom-store target against real
# DICOM nodes on 127.0.0.1 in a private network namespace (pacs_lib.sh):
# DCMTK's storescp and Orthanc 1.10. Echo lists what a node accepts and
# names the failure (refused connection, rejected AE title); a job sends
# the de-identified instances (counted on the receiving side, new UIDs,
# no patient name or id of the input in any byte received); a node that
# does not accept a compressed transfer syntax gets the instance
# uncompressed with the same pixels, or it is quarantined (convert=never);
# a node that refuses instances (Orthanc full, its one patient protected)
# gets them quarantined with the C-STORE status while the rest goes on; a
# node that is down stops the run with nothing quarantined, and the next
# run delivers; kill -9 mid-run and a resume leave every instance on the
# node once, and with skip-existing (a C-FIND per study) none is sent
# twice, counted by an Orthanc Lua filter that logs every C-STORE it
# receives; a second run of the job sends nothing, with skip-existing="no"
# everything again; storescp (no C-FIND) gets every instance, said once;
# the node stopped mid-transfer stops the run (exit 2, nothing
# quarantined), and once it is back the resume delivers the rest, none
# received twice.
#
# Fixtures: `sluice synth` (fake patients), made by the test.
. "${top_srcdir:-.}/tests/integration/pacs_lib.sh"

plan 32
pacs_need 32

sluice synth --patients 3 --seed 7 -o "$T/syn" >/dev/null 2>&1
sluice keygen -o "$T/key" >/dev/null 2>&1
phi_values "$T/syn/dicom" >"$T/phi"
find "$T/syn/dicom" -type f -exec dcmdump -q +P SOPInstanceUID {} + |
    sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p' | sort >"$T/in-uids"
N=$(wc -l <"$T/in-uids")

# mkjob DIR PORT CALLED [MORE-ATTRS]: a job de-identifying DIR/in into
# the node at 127.0.0.1:PORT, AE title CALLED
mkjob() {
    mkdir -p "$1/in"
    cp -r "$T/syn/dicom/." "$1/in/"
    cat >"$1/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:$T/key"/>
  <state path="state.db"/>
  <quarantine path="quarantine"/>
  <source id="pacs" type="dicom-folder" path="in"/>
  <target id="node" type="dicom-store" host="127.0.0.1" port="$2"
          called-ae="$3" calling-ae="SLUICE" timeout="10" ${4:-}/>
  <target id="closed" type="dicom-store" host="127.0.0.1" port="1"
          called-ae="NOBODY" timeout="5"/>
  <target id="wrong-ae" type="dicom-store" host="127.0.0.1" port="$2"
          called-ae="WRONG" timeout="5"/>
  <job id="t">
    <pull from="pacs"/>
    <deid profile="basic"/>
    <push to="node"/>
  </job>
</sluice>
EOC
}
uids_of() {
    find "$1" -type f -exec dcmdump -q +P SOPInstanceUID {} + 2>/dev/null |
        sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p' | sort
}
quarantined() { sluice -c "$1" quarantine list 2>/dev/null | tail -n +2 | grep -c .; }

# a bad AE title is a configuration error naming the line
mkjob "$T/ae" 104 'SEVENTEEN-CHARS-X'
sluice -c "$T/ae/sluice.xml" check-config >/dev/null 2>"$T/ae/err"
check "check-config: a called-ae over 16 characters is refused with its line" \
    sh -c '[ "$1" -eq 1 ] && grep -q "sluice.xml:8: target .node.: called-ae must be an AE title" "$2"' \
    _ $? "$T/ae/err"

# ---- storescp ---------------------------------------------------------------
d="$T/scp"
mkjob "$d" $STORESCP_PORT STORESCP
scp_start "$d/recv" || diag "storescp did not start"
sluice -c "$d/sluice.xml" echo node >"$d/echo" 2>"$d/echo.err"
rc=$?
check "echo storescp: exit 0, lists CT Image Storage in Little Endian" \
    sh -c '[ "$1" -eq 0 ] && grep -q "success" "$2" &&
           grep -q "CTImageStorage: .*Little Endian Explicit" "$2"' _ $rc "$d/echo"
sluice -c "$d/sluice.xml" echo closed >/dev/null 2>"$d/echo.err"
rc=$?
check "echo a port nobody listens on: exit 2, 'cannot connect'" \
    sh -c '[ "$1" -eq 2 ] && grep -q "127.0.0.1:1: C-ECHO: cannot connect" "$2"' _ $rc "$d/echo.err"
sluice -c "$d/sluice.xml" echo nosuch >/dev/null 2>"$d/echo.err"
check "echo an unknown node: exit 1, says so" \
    sh -c '[ "$1" -eq 1 ] && grep -q "no DICOM node .nosuch." "$2"' _ $? "$d/echo.err"

sluice -c "$d/sluice.xml" -q run t --no-progress >"$d/out" 2>"$d/err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$d/err"
check "run to storescp exits 0 and storescp received all $N instances" \
    sh -c '[ "$1" -eq 0 ] && [ "$(ls "$2" | wc -l)" -eq "$3" ]' _ $rc "$d/recv" "$N"
check "storescp takes no C-FIND: skip-existing says so once, every instance is sent" \
    test "$(grep -c "target .node.: the DICOM node does not answer a C-FIND" "$d/err")" -eq 1
uids_of "$d/recv" >"$d/got-uids"
check "the instances received are the de-identified ones (new 2.25 UIDs)" \
    sh -c '[ "$(grep -c "^2\.25\." "$1")" -eq "$3" ] && [ -z "$(comm -12 "$1" "$2")" ]' \
    _ "$d/got-uids" "$T/in-uids" "$N"
check "no patient name or id of the input in any byte storescp received" \
    no_phi "$T/phi" "$d/recv"
# dciodvfy on what arrived: no error the de-identified file (sluice deid,
# same key, same output) did not have before it was sent
iod_errors() {
    dciodvfy "$1" 2>&1 | grep '^Error' | sed 's/ Value=<[^>]*>//g' | sort -u
}
sluice deid --key-file "$T/key" -o "$T/clean" "$T/syn/dicom" >/dev/null 2>&1
new=0
for f in "$d"/recv/*; do
    u=$(dcmdump -q +P SOPInstanceUID "$f" | sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p')
    c=$(find "$T/clean" -name "$u.dcm")
    iod_errors "$f" >"$T/e-got"
    iod_errors "$c" >"$T/e-want"
    [ -n "$c" ] && [ -z "$(comm -23 "$T/e-got" "$T/e-want")" ] || new=$((new + 1))
done
check "dciodvfy finds no new error in what storescp received" test $new -eq 0
scp_stop

# a compressed instance: storescp takes only uncompressed syntaxes
cx="$T/cx"
mkjob "$cx" $STORESCP_PORT STORESCP 'convert="never"'
src=$(find "$cx/in" -type f | head -n 1)
dcmcjpeg "$src" "$src.jpg" && mv "$src.jpg" "$src"
dcmdjpeg "$src" "$T/plain.dcm"
scp_start "$cx/recv"
sluice -c "$cx/sluice.xml" echo node >/dev/null 2>&1
sluice -c "$cx/sluice.xml" -q run t --no-progress >/dev/null 2>"$cx/err"
rc=$?
check "convert=never: a JPEG Lossless instance the node refuses is quarantined, exit 3, the rest delivered" \
    sh -c '[ "$1" -eq 3 ] && [ "$(ls "$2" | wc -l)" -eq $(($3 - 1)) ] &&
           $SLUICE -c "$4" quarantine list | grep -q "does not accept CTImageStorage in JPEG Lossless"' \
    _ $rc "$cx/recv" "$N" "$cx/sluice.xml"
scp_stop
cl="$T/cl"
mkjob "$cl" $STORESCP_PORT STORESCP
src=$(find "$cl/in" -type f | head -n 1)
dcmcjpeg "$src" "$src.jpg" && mv "$src.jpg" "$src"
scp_start "$cl/recv"
sluice -c "$cl/sluice.xml" -q run t --no-progress >/dev/null 2>"$cl/err"
rc=$?
check "convert=lossless: it arrives uncompressed, every instance delivered" \
    sh -c '[ "$1" -eq 0 ] && [ "$(ls "$2" | wc -l)" -eq "$3" ] &&
           ! find "$2" -type f -exec dcmdump -q +P TransferSyntaxUID {} + | grep -q JPEG' \
    _ $rc "$cl/recv" "$N"
# the pixels are those of the input, decoded: compare Pixel Data bytes
pix() { dcmdump -q +W "$2" "$1" >/dev/null 2>&1; cat "$2"/*7fe0,0010* 2>/dev/null | md5sum; rm -f "$2"/*; }
mkdir -p "$T/w"
want=$(pix "$T/plain.dcm" "$T/w")
got=
for f in "$cl"/recv/*; do
    h=$(pix "$f" "$T/w")
    [ "$h" = "$want" ] && got=$h
done
check "its Pixel Data is byte for byte the input's, decoded" test -n "$got"
scp_stop

# the node down: the run stops (exit 2), nothing quarantined; then it delivers
dn="$T/down"
mkjob "$dn" $STORESCP_PORT STORESCP 'max-attempts="2"'
sluice -c "$dn/sluice.xml" -q run t --no-progress >/dev/null 2>"$dn/err"
rc=$?
check "node down: exit 2, 'cannot connect' after 2 attempts, nothing quarantined" \
    sh -c '[ "$1" -eq 2 ] && grep -q "cannot connect.*after 2 attempts" "$2" &&
           [ "$3" -eq 0 ]' _ $rc "$dn/err" "$(quarantined "$dn/sluice.xml")"
scp_start "$dn/recv"
sluice -c "$dn/sluice.xml" -q run t --no-progress >/dev/null 2>"$dn/err"
rc=$?
check "node back: the next run delivers all $N" \
    sh -c '[ "$1" -eq 0 ] && [ "$(ls "$2" | wc -l)" -eq "$3" ]' _ $rc "$dn/recv" "$N"
scp_stop

# ---- Orthanc ----------------------------------------------------------------
o="$T/orthanc"
mkjob "$o" $ORTHANC_DICOM ORTHANC
orthanc_start "$o/pacs" || diag "Orthanc did not start"
sluice -c "$o/sluice.xml" echo node >"$o/echo" 2>"$o/echo.err"
rc=$?
check "echo Orthanc: exit 0, lists JPEG-LS for MR Image Storage" \
    sh -c '[ "$1" -eq 0 ] && grep -q "MRImageStorage: .*JPEG-LS Lossless" "$2"' _ $rc "$o/echo"
sluice -c "$o/sluice.xml" echo wrong-ae >/dev/null 2>"$o/echo.err"
rc=$?
check "echo Orthanc with a wrong called AE title: exit 2, 'association rejected'" \
    sh -c '[ "$1" -eq 2 ] && grep -q "association rejected by the peer" "$2" &&
           grep -q "WRONG" "$2"' _ $rc "$o/echo.err"
sluice -c "$o/sluice.xml" -q run t --no-progress >/dev/null 2>"$o/err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$o/err"
check "run to Orthanc exits 0 and Orthanc holds all $N instances" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" = "$3" ]' _ $rc "$(orthanc_count)" "$N"
curl -sf "$ORTHANC_URL/instances?expand" | jq -r '.[].MainDicomTags.SOPInstanceUID' | sort >"$o/got-uids"
check "Orthanc's instances are the de-identified ones" \
    sh -c '[ "$(grep -c "^2\.25\." "$1")" -eq "$3" ] && [ -z "$(comm -12 "$1" "$2")" ]' \
    _ "$o/got-uids" "$T/in-uids" "$N"
check "no patient name or id of the input in Orthanc's storage" \
    no_phi "$T/phi" "$o/pacs/db"
sluice -c "$o/sluice.xml" -q run t --no-progress >/dev/null 2>&1
check "a second run sends nothing new: still $N" test "$(orthanc_count)" = "$N"
orthanc_stop

# Orthanc full: one patient allowed, and it is protected: instances of
# the other patients are refused (C-STORE 0xA700), quarantined; the run
# goes on and delivers that patient's instances
fu="$T/full"
mkjob "$fu" $ORTHANC_DICOM ORTHANC
sluice deid --key-file "$T/key" -o "$fu/clean" "$T/syn/dicom" >/dev/null 2>&1
one=$(find "$fu/clean" -name '*.dcm' | head -n 1)
ORTHANC_EXTRA='"MaximumPatientCount": 1,' orthanc_start "$fu/pacs"
storescu -aec ORTHANC 127.0.0.1 $ORTHANC_DICOM "$one" >/dev/null 2>&1
pid=$(curl -sf "$ORTHANC_URL/patients" | jq -r '.[0]')
curl -sf -X PUT -d 1 "$ORTHANC_URL/patients/$pid/protected" >/dev/null
pat=$(curl -sf "$ORTHANC_URL/patients/$pid" | jq -r '.MainDicomTags.PatientID')
mine=$(find "$fu/clean" -path "*/$pat/*" -name '*.dcm' | wc -l)
sluice -c "$fu/sluice.xml" -q run t --no-progress >/dev/null 2>"$fu/err"
rc=$?
q=$(quarantined "$fu/sluice.xml")
check "Orthanc full: exit 3, the $((N - mine)) refused instances quarantined, $mine delivered" \
    sh -c '[ "$1" -eq 3 ] && [ "$2" -eq $(($3 - $4)) ] && [ "$5" = "$4" ]' \
    _ $rc "$q" "$N" "$mine" "$(orthanc_count)"
check "the reason names the C-STORE status, not the data" \
    sh -c '$SLUICE -c "$1" quarantine list | grep -q "C-STORE status 0xA700 (refused: out of resources)"' \
    _ "$fu/sluice.xml"
check "the run went on: summary counts $mine out" \
    sh -c '$SLUICE -c "$1" runs --json | jq -e ".[0].out == $2" >/dev/null' _ "$fu/sluice.xml" "$mine"
orthanc_stop

# kill -9 mid-run, then resume: every instance on the node once. Orthanc
# logs the SOP Instance UID of every C-STORE it receives (its Lua
# ReceivedInstanceFilter runs for each, a copy it holds already too):
# with skip-existing none is received twice
sluice synth --patients 30 --seed 11 -o "$T/big" >/dev/null 2>&1
NB=$(find "$T/big/dicom" -type f | wc -l)
k="$T/kill"
mkjob "$k" $ORTHANC_DICOM ORTHANC
rm -rf "$k/in"; cp -r "$T/big/dicom" "$k/in"
cat >"$k/received.lua" <<EOL
function ReceivedInstanceFilter(dicom, origin, info)
  local f = io.open("$k/received", "a")
  f:write(dicom.SOPInstanceUID, "\\n")
  f:close()
  return true
end
EOL
orthanc_start "$k/pacs" "$k/received.lua"
$SLUICE -c "$k/sluice.xml" -q -j 2 run t --no-progress --commit-every 5 >/dev/null 2>&1 &
spid=$!
i=0
while [ "$(orthanc_count)" -lt 10 ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $spid 2>/dev/null
wait $spid 2>/dev/null
mid=$(orthanc_count)
check "the kill landed mid-run ($mid of $NB on the node)" \
    sh -c '[ "$1" -gt 0 ] && [ "$1" -lt "$2" ]' _ "$mid" "$NB"
sluice -c "$k/sluice.xml" -q run t --no-progress >/dev/null 2>"$k/err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$k/err"
check "resumed run exits 0 and the node holds each of the $NB instances once" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" = "$3" ] &&
           [ "$(curl -sf "$4/instances" | jq length)" = "$3" ]' _ $rc "$(orthanc_count)" "$NB" "$ORTHANC_URL"
check "the run was resumed, not restarted" \
    sh -c '[ "$($SLUICE -c "$1" runs --json | jq length)" -eq 1 ] &&
           [ "$($SLUICE -c "$1" runs --json | jq ".[0].attempts")" -eq 2 ]' _ "$k/sluice.xml"
check "skip-existing: Orthanc received each of the $NB instances once, none twice (C-FIND per study)" \
    sh -c '[ "$(sort "$1" | uniq -d | wc -l)" -eq 0 ] && [ "$(sort -u "$1" | wc -l)" -eq "$2" ]' \
    _ "$k/received" "$NB"
sluice -c "$k/sluice.xml" run t --no-progress >/dev/null 2>"$k/err2"
rc=$?
check "a second run of the job sends nothing: exit 0, no C-STORE received, '$NB instances already on the DICOM node'" \
    sh -c '[ "$1" -eq 0 ] && [ "$(wc -l <"$2")" -eq "$3" ] &&
           grep -q "target .node.: $3 instances already on the DICOM node were not sent again" "$4"' \
    _ $rc "$k/received" "$NB" "$k/err2"
sed -i 's/calling-ae="SLUICE" timeout="10"/& skip-existing="no"/' "$k/sluice.xml"
sluice -c "$k/sluice.xml" -q run t --no-progress >/dev/null 2>&1
check "with skip-existing=\"no\" a run sends every instance again (Orthanc receives $NB more)" \
    test "$(wc -l <"$k/received")" -eq $((NB * 2))
orthanc_stop

# the node stopped mid-transfer (Orthanc killed with SIGKILL once 20
# instances are on it: a SIGTERM lets it finish the open association
# first): the run stops after max-attempts, exit 2, nothing quarantined;
# Orthanc started again on the same storage, the resume sends the rest,
# and none is received twice (the same Lua log) but the one the kill may
# have caught in flight (logged by the filter, never stored)
st="$T/stopped"
mkjob "$st" $ORTHANC_DICOM ORTHANC 'max-attempts="2"'
rm -rf "$st/in"; cp -r "$T/big/dicom" "$st/in"
sed "s|$k/received|$st/received|" "$k/received.lua" >"$st/received.lua"
orthanc_start "$st/pacs" "$st/received.lua"
$SLUICE -c "$st/sluice.xml" -q run t --no-progress --commit-every 5 >/dev/null 2>"$st/err" &
spid=$!
i=0
while [ "$(orthanc_count)" -lt 20 ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 "$ORTHANC_PID"
wait "$ORTHANC_PID" 2>/dev/null
ORTHANC_PID=
wait $spid
rc=$?
sed 's/^/# /' "$st/err" | tail -n 2
mid=$(sort -u "$st/received" | wc -l)
check "node stopped mid-transfer ($mid of $NB received): exit 2 after 2 attempts, nothing quarantined" \
    sh -c '[ "$1" -eq 2 ] && [ "$2" -gt 0 ] && [ "$2" -lt "$3" ] &&
           grep -q "after 2 attempts" "$4" && [ "$5" -eq 0 ]' \
    _ $rc "$mid" "$NB" "$st/err" "$(quarantined "$st/sluice.xml")"
orthanc_start "$st/pacs" "$st/received.lua"
sluice -c "$st/sluice.xml" -q run t --no-progress >/dev/null 2>"$st/err2"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$st/err2"
check "node back: the resume exits 0 and the node holds the $NB instances" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" = "$3" ]' _ $rc "$(orthanc_count)" "$NB"
check "none of them was received twice across the stop and the resume (but the one in flight)" \
    sh -c '[ "$(sort "$1" | uniq -d | wc -l)" -le 1 ] && [ "$(wc -l <"$1")" -le $(($2 + 1)) ]' \
    _ "$st/received" "$NB"
orthanc_stop
finish

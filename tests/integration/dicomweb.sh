#!/bin/sh
# dicomweb.sh - the dicomweb source and the stow-rs target against Orthanc
# 1.10 with its DICOMweb plugin (Debian's orthanc, orthanc-dicomweb) on
# 127.0.0.1 in a private network namespace (pacs_lib.sh), filled with
# `sluice synth` studies by DCMTK's storescu.
#
# The source: a pull by QIDO-RS and WADO-RS brings every instance, the
# same SOP Instance UIDs and Pixel Data bytes as the input; de-identified,
# no patient name or id reaches the output, the messages or the work
# folder; the query follows modality, patient-ids, accession-numbers and
# study-date; Orthanc stopped mid-pull stops the run (exit 2, nothing
# quarantined) and the resume delivers the rest once; a study the server
# refuses is quarantined with its HTTP status. sluice echo of the
# source (a QIDO-RS search with limit=1): the answer, a server that is
# down, a wrong base, a right and a wrong token.
# The target: a second Orthanc receives the de-identified studies by
# STOW-RS in chunks (instance count and Pixel Data bytes compared on the
# receiving side, dciodvfy on what arrived); a re-run sends nothing again;
# instances the node refuses (Orthanc full) are quarantined with its
# Failure Reason while the others are delivered.
#
# Fixtures: `sluice synth` (fake patients), made by the test.
. "${top_srcdir:-.}/tests/integration/pacs_lib.sh"

plan 30
pacs_need 30

B_HTTP=8043
B_DICOM=4243
B_URL="http://127.0.0.1:$B_HTTP"
B_PID=
b_stop() {
    local i=0
    [ -n "$B_PID" ] || return 0
    kill "$B_PID" 2>/dev/null
    while kill -0 "$B_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$B_PID" 2>/dev/null
    wait "$B_PID" 2>/dev/null
    B_PID=
}
trap 'b_stop; pacs_stop' EXIT
# b_start DIR [EXTRA]: the receiving Orthanc (AE ORTHANCB), as orthanc_start
b_start() {
    local save_pid=$ORTHANC_PID save_h=$ORTHANC_HTTP save_d=$ORTHANC_DICOM
    local save_u=$ORTHANC_URL rc
    ORTHANC_HTTP=$B_HTTP ORTHANC_DICOM=$B_DICOM ORTHANC_URL=$B_URL
    ORTHANC_EXTRA=${2:-} orthanc_start "$1"
    rc=$?
    B_PID=$ORTHANC_PID
    ORTHANC_PID=$save_pid ORTHANC_HTTP=$save_h ORTHANC_DICOM=$save_d
    ORTHANC_URL=$save_u
    return $rc
}
b_count() { curl -sf "$B_URL/statistics" | jq -r '.CountInstances'; }

sluice synth --patients 3 --seed 7 -o "$T/syn" >/dev/null 2>&1
sluice keygen -o "$T/key" >/dev/null 2>&1
phi_values "$T/syn/dicom" >"$T/phi"
uids() { find "$1" -type f -name "${2:-*}" -exec dcmdump -q +P SOPInstanceUID {} + |
    sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p' | sort; }
# pixels DIR: the MD5 of each file's Pixel Data bytes, sorted
pixels() {
    local f w="$T/pixw"
    mkdir -p "$w"
    find "$1" -type f -name "${2:-*}" | while read -r f; do
        rm -f "$w"/*
        dcmdump -q +W "$w" "$f" >/dev/null 2>&1
        cat "$w"/*7fe0,0010* 2>/dev/null | md5sum
    done | sort
}
uids "$T/syn/dicom" >"$T/in-uids"
pixels "$T/syn/dicom" >"$T/in-pix"
N=$(wc -l <"$T/in-uids")
NMR=$(find "$T/syn/dicom" -type f -exec dcmdump -q +P Modality {} + | grep -c '\[MR\]')

# mkjob DIR SOURCE-ATTRS [STAGES] [TARGETS] [STOW-ATTRS] [SOURCE-CHILD]:
# a job pulling from Orthanc
mkjob() {
    mkdir -p "$1"
    cat >"$1/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:$T/key"/>
  <state path="state/state.db"/>
  <quarantine path="quarantine"/>
  <source id="pacs" type="dicomweb" base="$ORTHANC_URL/dicom-web/"
          timeout="20" ${2:-}>${6:-}</source>
  <target id="out" type="dicom-folder" path="out" layout="flat"/>
  <target id="node" type="stow-rs" base="$B_URL/dicom-web" ${5:-}/>
  <job id="t">
    <pull from="pacs"/>
    ${3:-}
    <push to="${4:-out}"/>
  </job>
</sluice>
EOC
}
count_out() { find "$1/out" -name '*.dcm' 2>/dev/null | wc -l; }
fill() { storescu -aec ORTHANC +sd +r 127.0.0.1 $ORTHANC_DICOM "$1" >/dev/null 2>&1; }
qcount() { sluice -c "$1/sluice.xml" quarantine list 2>/dev/null | tail -n +2 | grep -c .; }

mkjob "$T/bad" 'patient-ids="ids.txt" accession-numbers="acc.txt"'
sluice -c "$T/bad/sluice.xml" check-config >/dev/null 2>"$T/bad/err"
check "check-config: patient-ids with accession-numbers, and missing files, named with their line" \
    sh -c '[ "$1" -eq 1 ] && grep -q "sluice.xml:7: source .pacs.: patient-ids and accession-numbers: give one list" "$2" &&
           grep -q "sluice.xml:7: source .pacs.: accession-numbers file .* does not exist" "$2"' \
    _ $? "$T/bad/err"

orthanc_start "$T/pacs" || diag "Orthanc did not start"
fill "$T/syn/dicom"
check "Orthanc holds the $N synthetic instances" test "$(orthanc_count)" = "$N"

# sluice echo of a DICOMweb server: one QIDO-RS search, limit=1
e="$T/echo"
mkjob "$e"
sluice -c "$e/sluice.xml" echo pacs >"$e/out" 2>"$e/err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$e/err"
check "echo a dicomweb source: exit 0, HTTP 200, DICOM JSON, one study in the answer, no UID printed" \
    sh -c '[ "$1" -eq 0 ] && grep -q "^pacs: QIDO-RS GET .*/dicom-web/studies?limit=1: HTTP 200, application/dicom+json" "$2" &&
           grep -q "^studies in the answer: 1$" "$2" && ! grep -q "2\.25\." "$2"' _ $rc "$e/out"
sluice -c "$e/sluice.xml" echo node >"$e/out2" 2>"$e/err2"
rc=$?
check "echo a stow-rs target that is not running: exit 2, the server named" \
    sh -c '[ "$1" -eq 2 ] && grep -q "DICOMweb server http://127.0.0.1:$3/dicom-web: QIDO-RS" "$2"' \
    _ $rc "$e/err2" "$B_HTTP"
sed 's/^/# /' "$e/err2" | head -2
sed "s|/dicom-web/\"|/no-such-root\"|" "$e/sluice.xml" >"$e/wrong.xml"
sluice -c "$e/wrong.xml" echo pacs >/dev/null 2>"$e/err3"
rc=$?
check "echo with a base that is not the DICOMweb root: exit 2, HTTP 404 and what to check" \
    sh -c '[ "$1" -eq 2 ] && grep -q "HTTP 404 (is base the DICOMweb root" "$2"' _ $rc "$e/err3"

# as they are: no stage
o="$T/plain"
mkjob "$o" 'page-size="2"'
sluice -c "$o/sluice.xml" run t --no-progress >"$o/log" 2>"$o/err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$o/err"
check "pull by QIDO-RS and WADO-RS (pages of 2 studies): exit 0, $N instances" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ]' _ $rc "$(count_out "$o")" "$N"
uids_out=$(uids "$o/out" '*.dcm'); pix_out=$(pixels "$o/out" '*.dcm')
[ "$uids_out" = "$(cat "$T/in-uids")" ] || { echo "$uids_out" | diff - "$T/in-uids" | head -5 | sed 's/^/# uids /'; }
[ "$pix_out" = "$(cat "$T/in-pix")" ] || { echo "$pix_out" | diff - "$T/in-pix" | head -5 | sed 's/^/# pix /'; }
check "the same SOP Instance UIDs and Pixel Data bytes as the input" \
    sh -c '[ "$1" = "$(cat "$2")" ] && [ "$3" = "$(cat "$4")" ]' \
    _ "$uids_out" "$T/in-uids" "$pix_out" "$T/in-pix"

# de-identified, and sent on to a second Orthanc by STOW-RS in chunks of
# 1 MiB (the instances are 0.5 MiB: several requests)
b_start "$T/node" || diag "the second Orthanc did not start"
d="$T/deid"
mkjob "$d" '' '<deid profile="basic"/>' 'out node' 'chunk-size="1"'
sluice -c "$d/sluice.xml" run t --no-progress >"$d/log" 2>"$d/err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$d/err"
uids "$d/out" '*.dcm' >"$d/uids"
check "de-identified pull: exit 0, $N instances with new UIDs" \
    sh -c '[ "$1" -eq 0 ] && [ "$(wc -l <"$2")" -eq "$3" ] && [ -z "$(comm -12 "$2" "$4")" ] &&
           [ "$(grep -c "^2\.25\." "$2")" -eq "$3" ]' _ $rc "$d/uids" "$N" "$T/in-uids"
check "no patient name or id in the output's bytes" no_phi "$T/phi" "$d/out"
cat "$d/log" "$d/err" >"$d/msgs"
check "nor in what the run printed, nor left in the work folder" \
    sh -c 'while IFS= read -r v; do [ -n "$v" ] && grep -qF -- "$v" "$2" && exit 1; done <"$1";
           [ -z "$(find "$3" -type f)" ]' _ "$T/phi" "$d/msgs" "$d/state/work"
# what the node received: its instances, fetched back by its REST API
mkdir -p "$d/got"
for i in $(curl -sf "$B_URL/instances" | jq -r '.[]'); do
    curl -sf "$B_URL/instances/$i/file" -o "$d/got/$i.dcm"
done
bn=$(b_count); got_uids=$(uids "$d/got"); got_pix=$(pixels "$d/got"); out_pix=$(pixels "$d/out" '*.dcm')
check "STOW-RS: the node holds the $N de-identified instances, the same UIDs and Pixel Data bytes" \
    sh -c '[ "$1" -eq "$2" ] && [ "$3" = "$(cat "$4")" ] && [ "$5" = "$6" ]' \
    _ "$bn" "$N" "$got_uids" "$d/uids" "$got_pix" "$out_pix"
# dciodvfy: what arrived has no error that sluice's own output lacks
dv() { find "$1" -name '*.dcm' | while read -r f; do dciodvfy "$f" 2>&1; done |
    grep '^Error' | sed 's/ Value=<[^>]*>//g' | sort -u; }
new=$(dv "$d/got" | comm -23 - "$(dv "$d/out" >"$d/dv-out"; echo "$d/dv-out")" | wc -l)
check "dciodvfy finds no error in what arrived that the de-identified files lack" test "$new" -eq 0
sluice -c "$d/sluice.xml" run t --no-progress >"$d/log2" 2>"$d/err2"
rc=$?
bn=$(b_count)
seen=$(sluice -c "$d/sluice.xml" runs --json | jq '[.[0].findings[] | select(.code == "already-on-node") | .n] | add')
check "a new run sends nothing again: exit 0, the node still holds $N, all found there first ($seen)" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ] && [ "$4" = "$3" ]' _ $rc "$bn" "$N" "$seen"

m="$T/mr"
mkjob "$m" 'modality="MR"'
sluice -c "$m/sluice.xml" -q run t --no-progress >/dev/null 2>&1
check "modality=MR: the $NMR instances of MR studies only" test "$(count_out "$m")" -eq "$NMR"

f=$(find "$T/syn/dicom" -type f | head -n 1)
pid=$(dcmdump -q +P PatientID "$f" | sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p')
acc=$(dcmdump -q +P AccessionNumber "$f" | sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p')
want=$(find "$T/syn/dicom" -type f -exec dcmdump -q +P PatientID {} + | grep -cF "[$pid]")
wacc=$(find "$T/syn/dicom" -type f -exec dcmdump -q +P AccessionNumber {} + | grep -cF "[$acc]")
p="$T/pid"
mkjob "$p" 'patient-ids="ids.txt"'
printf '%s\n' "$pid" >"$p/ids.txt"
sluice -c "$p/sluice.xml" -q run t --no-progress >/dev/null 2>"$p/err"
check "patient-ids: the $want instances of that patient only, the id never printed" \
    sh -c '[ "$1" -eq "$2" ] && ! grep -qF -- "$3" "$4"' _ "$(count_out "$p")" "$want" "$pid" "$p/err"
a="$T/acc"
mkjob "$a" 'accession-numbers="acc.txt"'
printf '%s\n' "$acc" >"$a/acc.txt"
sluice -c "$a/sluice.xml" -q run t --no-progress >/dev/null 2>"$a/err"
check "accession-numbers: the $wacc instances of that study only" \
    test "$(count_out "$a")" -eq "$wacc"
z="$T/future"
mkjob "$z" 'study-date="29990101-"'
sluice -c "$z/sluice.xml" -q run t --no-progress >/dev/null 2>"$z.err"
rc=$?
check "study-date in the future: nothing pulled, exit 0" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq 0 ]' _ $rc "$(count_out "$z")"
b_stop

# a node that refuses instances: Orthanc full (one patient, protected)
fu="$T/full"
b_start "$fu/node" '"MaximumPatientCount": 1,'
storescu -aec ORTHANC 127.0.0.1 $B_DICOM "$(find "$d/out" -name '*.dcm' | head -n 1)" >/dev/null 2>&1
bp=$(curl -sf "$B_URL/patients" | jq -r '.[0]')
curl -sf -X PUT -d 1 "$B_URL/patients/$bp/protected" >/dev/null
np1=$(find "$d/out" -name '*.dcm' -exec dcmdump -q +P PatientID {} + | grep -cF "$(dcmdump -q +P PatientID "$(find "$d/out" -name '*.dcm' | head -n 1)" | sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p')")
mkjob "$fu" '' '<deid profile="basic"/>' 'node' 'chunk-size="2"'
sluice -c "$fu/sluice.xml" run t --no-progress >/dev/null 2>"$fu/err"
rc=$?
q=$(qcount "$fu")
bn=$(b_count)
[ $rc -eq 3 ] || sed 's/^/# /' "$fu/err"
check "node full: exit 3, the other patients' $((N - np1)) instances quarantined, the one patient's $np1 on the node ($q, $bn)" \
    sh -c '[ "$1" -eq 3 ] && [ "$2" -eq "$3" ] && [ "$4" -eq "$5" ]' _ $rc "$q" "$((N - np1))" "$bn" "$np1"
sluice -c "$fu/sluice.xml" quarantine list >"$fu/q" 2>&1
sed 's/^/# /' "$fu/q" | head -3
check "each with the reason: the node did not store it, nothing of the data" \
    sh -c 'grep -q "target node: the DICOMweb node did not store the instance" "$1" &&
           ! grep -q "2\.25\." "$1"' _ "$fu/q"
b_stop

# the node down: the run stops, nothing quarantined; once it is up, the
# next run delivers everything
ou="$T/outage"
mkjob "$ou" '' '<deid profile="basic"/>' 'node' 'max-attempts="2"'
sluice -c "$ou/sluice.xml" -q run t --no-progress >/dev/null 2>"$ou/err"
rc=$?
q=$(qcount "$ou")
sed "s/^/# /" "$ou/err"
check "STOW-RS node down: exit 2 naming it, nothing quarantined" \
    sh -c '[ "$1" -eq 2 ] && grep -q "target .node.: .*127.0.0.1:'$B_HTTP'/dicom-web/studies/{study}/instances: Couldn.t connect" "$2" && [ "$3" -eq 0 ]' \
    _ $rc "$ou/err" "$q"
b_start "$ou/node"
sluice -c "$ou/sluice.xml" -q run t --no-progress >/dev/null 2>"$ou/err2"
rc=$?
bn=$(b_count)
[ $rc -eq 0 ] || sed 's/^/# /' "$ou/err2"
check "node up: the next run delivers the $N instances" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ]' _ $rc "$bn" "$N"
# an instance whose Study Instance UID is no UID never reaches a URL
bu="$T/baduid"
mkdir -p "$bu/in"
cp "$(find "$T/syn/dicom" -type f | head -n 1)" "$bu/in/x.dcm"
dcmodify -nb -m "(0020,000D)=../../../system" "$bu/in/x.dcm" >/dev/null 2>&1
cat >"$bu/sluice.xml" <<EOC
<sluice xmlns="urn:sluice:config:1">
  <state path="state/state.db"/>
  <quarantine path="quarantine"/>
  <source id="files" type="dicom-folder" path="in"/>
  <target id="node" type="stow-rs" base="$B_URL/dicom-web"/>
  <job id="t"><pull from="files"/><push to="node"/></job>
</sluice>
EOC
sluice -c "$bu/sluice.xml" -q run t --no-progress >/dev/null 2>&1
rc=$?
sluice -c "$bu/sluice.xml" quarantine list >"$bu/q" 2>&1
check "a Study Instance UID that is a path: exit 3, quarantined, nothing sent" \
    sh -c '[ "$1" -eq 3 ] && grep -q "not sent, its Study Instance UID (0020,000D) is not a valid UID" "$2" &&
           [ "$(curl -sf "$3/statistics" | jq -r .CountInstances)" -eq "$4" ]' _ $rc "$bu/q" "$B_URL" "$N"
b_stop
orthanc_stop

# faults, on more studies: Orthanc stopped mid-pull, then started again
# (enough of them that the pull outlasts the stop: 20 patients' 101
# instances were all pulled before Orthanc was down on a fast machine)
sluice synth --patients 40 --seed 11 -o "$T/big" >/dev/null 2>&1
NB=$(find "$T/big/dicom" -type f | wc -l)
orthanc_start "$T/pacs2"
fill "$T/big/dicom"
st="$T/stop"
mkjob "$st" 'max-attempts="2"'
$SLUICE -c "$st/sluice.xml" -q run t --no-progress --commit-every 5 >/dev/null 2>"$st/err" &
spid=$!
i=0
while [ "$(count_out "$st")" -lt 3 ] && [ $i -lt 1000 ]; do sleep 0.02; i=$((i + 1)); done
# killed, not asked to stop: Orthanc's orderly shutdown goes on serving
# for a while, long enough for a fast pull to finish
kill -9 "$ORTHANC_PID" 2>/dev/null
orthanc_stop
wait $spid
rc=$?
mid=$(count_out "$st")
q=$(qcount "$st")
[ $rc -eq 2 ] || sed 's/^/# /' "$st/err"
check "server stopped mid-pull ($mid of $NB): exit 2 naming the server, no UID, nothing quarantined" \
    sh -c '[ "$1" -eq 2 ] && grep -q "127.0.0.1:'$ORTHANC_HTTP'" "$2" && ! grep -q "2\.25\." "$2" &&
           [ "$3" -eq 0 ] && [ "$4" -lt "$5" ]' _ $rc "$st/err" "$q" "$mid" "$NB"
orthanc_start "$T/pacs2"
sluice -c "$st/sluice.xml" -q run t --no-progress >/dev/null 2>"$st/err2"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$st/err2"
check "server back: the resume delivers the rest, each of the $NB once" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ] &&
           [ "$($SLUICE -c "$4" runs --json | jq ".[0].attempts")" -eq 2 ] &&
           [ "$($SLUICE -c "$4" runs --json | jq ".[0].out")" -eq "$3" ]' \
    _ $rc "$(count_out "$st")" "$NB" "$st/sluice.xml"
orthanc_stop

# a study the server refuses to retrieve (403, by an Orthanc Lua filter):
# quarantined with the HTTP status, the others delivered
f=$(find "$T/big/dicom" -type f | head -n 1)
suid=$(dcmdump -q +P StudyInstanceUID "$f" | sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p')
ns=$(find "$T/big/dicom" -type f -exec dcmdump -q +P StudyInstanceUID {} + | grep -cF "[$suid]")
cat >"$T/deny.lua" <<EOL
function IncomingHttpRequestFilter(method, uri, ip, username, headers)
  if method == 'GET' and uri == '/dicom-web/studies/$suid' then
    return false
  end
  return true
end
EOL
orthanc_start "$T/pacs2" "$T/deny.lua"
r="$T/refuse"
mkjob "$r" 'max-attempts="2"'
sluice -c "$r/sluice.xml" -q run t --no-progress >/dev/null 2>"$r/err"
rc=$?
sluice -c "$r/sluice.xml" quarantine list >"$r/q" 2>&1
check "a study the server refuses: exit 3, the other $((NB - ns)) instances delivered" \
    sh -c '[ "$1" -eq 3 ] && [ "$2" -eq "$3" ]' _ $rc "$(count_out "$r")" "$((NB - ns))"
check "it is quarantined with the HTTP status, no UID in the reason" \
    sh -c '[ "$(tail -n +2 "$1" | grep -c .)" -eq 1 ] &&
           grep -q "'$ns' of the '$ns' instances QIDO-RS listed did not arrive by WADO-RS after 1 attempt (WADO-RS retrieve: HTTP 403)" "$1" &&
           ! grep -q "2\.25\." "$1"' _ "$r/q"
orthanc_stop

# <auth>: Orthanc lets only requests with the right bearer token through
# (a Lua filter; its own /system for the harness); the token comes from
# the environment and is never printed
cat >"$T/token.lua" <<'EOL'
function IncomingHttpRequestFilter(method, uri, ip, username, headers)
  if uri == '/system' then return true end
  return headers['authorization'] == 'Bearer s3cret-token-0123456789'
end
EOL
orthanc_start "$T/pacs2" "$T/token.lua"
au="$T/auth"
mkjob "$au" '' '' '' '' '<auth type="bearer" token="env:SL_TEST_PACS_TOKEN"/>'
SL_TEST_PACS_TOKEN=s3cret-token-0123456789 sluice -c "$au/sluice.xml" -q run t --no-progress >/dev/null 2>"$au/err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$au/err"
check "bearer token from env: every instance pulled" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ]' _ $rc "$(count_out "$au")" "$NB"
SL_TEST_PACS_TOKEN=wrong-token sluice -c "$au/sluice.xml" -q run t --no-progress >/dev/null 2>"$au/err2"
rc=$?
check "a wrong token: exit 2, the HTTP status named, the token never printed" \
    sh -c '[ "$1" -eq 2 ] && grep -q "QIDO-RS search for studies: HTTP 403 (does <auth> give access?)" "$2" && ! grep -q "token" "$2"' \
    _ $rc "$au/err2"
sed 's/^/# /' "$au/err2" | head -3
SL_TEST_PACS_TOKEN=s3cret-token-0123456789 sluice -c "$au/sluice.xml" echo pacs >"$au/echo" 2>&1
check "echo with the right token: exit 0" \
    sh -c '[ "$1" -eq 0 ] && grep -q "HTTP 200" "$2"' _ $? "$au/echo"
SL_TEST_PACS_TOKEN=wrong-token sluice -c "$au/sluice.xml" echo pacs >"$au/echo2" 2>&1
check "echo with a wrong token: exit 2, HTTP 403 and what to check, the token never printed" \
    sh -c '[ "$1" -eq 2 ] && grep -q "HTTP 403 (does <auth> give access?)" "$2" && ! grep -q "token" "$2"' \
    _ $? "$au/echo2"
orthanc_stop
finish

#!/bin/sh
# pacs_faults.sh - a C-MOVE (and a C-GET) whose sub-operations partly fail,
# against Orthanc 1.10 on 127.0.0.1 in a private network namespace
# (pacs_lib.sh). Orthanc holds `sluice synth` studies and, in one of them,
# one instance of a storage SOP class nobody knows (a private UID, stored
# through Orthanc's REST API): sluice's storage SCP (C-MOVE) does not
# accept it and sluice's C-GET does not offer it, so Orthanc's
# sub-operation for it fails while the others succeed. The study is
# retried up to max-attempts, then its other instances are delivered and
# the missing one is quarantined with the reason; the study is not counted
# as taken, so the next incremental run tries it again (and delivers
# nothing twice); once the odd instance is gone from the PACS the study is
# complete, and the run after takes nothing. Then the C-MOVE receiver's
# listen-address: it listens on that address only, not on every interface
# (ss). A study none of whose instances the PACS can send is quarantined
# alone (C-GET and C-MOVE), while a PACS that never reaches sluice's
# receiver, or refuses the association, stops the run (exit 2).
#
# Fixtures: `sluice synth` (fake patients), made by the test; the odd
# instance is a copy of one of them with new SOP Class, SOP Instance and
# Series Instance UIDs (2.25 UIDs made up for the test).
. "${top_srcdir:-.}/tests/integration/pacs_lib.sh"

plan 22
pacs_need 22

sluice synth --patients 2 --seed 11 -o "$T/syn" >/dev/null 2>&1
sluice keygen -o "$T/key" >/dev/null 2>&1
N=$(find "$T/syn/dicom" -type f | wc -l)
# the odd instance joins the oldest study: a later run must reach back
# to it past the newest study's overlap
f=$(for x in $(find "$T/syn/dicom" -type f | sort); do
        printf '%s %s\n' "$(dcmdump -q +P StudyDate "$x" | sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p')" "$x"
    done | sort | head -n 1 | cut -d' ' -f2)
study=$(dcmdump -q +P StudyInstanceUID "$f" | sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p')
K=$(find "$T/syn/dicom" -type f -exec dcmdump -q +P StudyInstanceUID {} + | grep -cF "[$study]")
K=$((K + 1)) # with the odd one
cp "$f" "$T/odd.dcm"
# in a series of its own, so that Orthanc (which ends a C-MOVE or C-GET
# at the first sub-operation that fails) sends the study's other
# instances before it
dcmodify -nb -m "(0008,0016)=2.25.123456789012345678901234567890" \
    -m "(0008,0018)=2.25.98765432109876543210" \
    -m "(0020,000e)=2.25.98765432109876543211" -m "(0020,0011)=99" "$T/odd.dcm"

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
          called-ae="ORTHANC" timeout="10" max-attempts="2" ${2:-}/>
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
quarantined() { sluice -c "$1/sluice.xml" quarantine list 2>/dev/null | tail -n +2 | grep -c .; }
run() { sluice -c "$1/sluice.xml" run t --no-progress >"$1/out.log" 2>"$1/err"; }

mkjob "$T/badaddr" 'retrieve="c-move" listen-port="11113" listen-address="pacs-host"'
sluice -c "$T/badaddr/sluice.xml" check-config >/dev/null 2>"$T/badaddr/err"
check "check-config: a listen-address that is not an IPv4 address, with its line" \
    sh -c '[ "$1" -eq 1 ] && grep -q "sluice.xml:7: source .pacs.: listen-address must be an IPv4 address" "$2"' \
    _ $? "$T/badaddr/err"

# no storage cache: a file removed from Orthanc's storage below is gone
ORTHANC_EXTRA='"UnknownSopClassAccepted": true, "MaximumStorageCacheSize": 0,'
orthanc_start "$T/pacs" || diag "Orthanc did not start"
# the odd one first: Orthanc 1.10 walks a study's series last stored
# first, so its series comes last in a retrieve
odd=$(curl -sf -X POST --data-binary @"$T/odd.dcm" "$ORTHANC_URL/instances" | jq -r .ID)
storescu -aec ORTHANC +sd +r 127.0.0.1 $ORTHANC_DICOM "$T/syn/dicom" >/dev/null 2>&1
check "Orthanc holds the $N synthetic instances and the odd one" \
    test "$(orthanc_count)" = "$((N + 1))"

# an association the PACS refuses (it is not AE title WRONG): retried,
# then the run stops (exit 2) saying what to check; nothing quarantined
w="$T/wrongae"
mkjob "$w"
sed -i 's/called-ae="ORTHANC"/called-ae="WRONG"/' "$w/sluice.xml"
run "$w"
rc=$?
sed 's/^/# /' "$w/err" | tail -n 1
check "the PACS rejects the association (wrong called-ae): exit 2 after 2 attempts, says what to check, nothing quarantined" \
    sh -c '[ "$1" -eq 2 ] && grep -q "association rejected by the peer" "$2" &&
           grep -q "attempt 2 of 2" "$2" && [ "$3" -eq 0 ] && [ "$4" -eq 0 ]' \
    _ $rc "$w/err" "$(quarantined "$w")" "$(count_out "$w")"

g="$T/get"
mkjob "$g"
run "$g"
rc=$?
sed 's/^/# /' "$g/err" | head -n 5
check "C-GET, one instance the PACS cannot send: exit 3, the $N others delivered" \
    sh -c '[ "$1" -eq 3 ] && [ "$2" -eq "$3" ]' _ $rc "$(count_out "$g")" "$N"
check "the study was retrieved again (attempt 1 of 2 said what was missing)" \
    grep -q "study [0-9]*: attempt 1 of 2: 1 of $K instances did not arrive" "$g/err"
sluice -c "$g/sluice.xml" quarantine list >"$g/q" 2>&1
check "one item quarantined, with the reason: 1 of $K did not arrive by C-GET after 2 attempts" \
    sh -c '[ "$(tail -n +2 "$1" | grep -c .)" -eq 1 ] &&
           grep -q "1 of the $2 instances C-FIND listed did not arrive by C-GET after 2 attempts" "$1"' \
    _ "$g/q" "$K"

m="$T/move"
mkjob "$m" 'retrieve="c-move" listen-port="11113"'
run "$m"
rc=$?
sed 's/^/# /' "$m/err" | head -n 5
sluice -c "$m/sluice.xml" quarantine list >"$m/q" 2>&1
check "C-MOVE, one sub-operation fails: exit 3, the $N others delivered, the reason quarantined" \
    sh -c '[ "$1" -eq 3 ] && [ "$2" -eq "$3" ] &&
           grep -q "1 of the $4 instances C-FIND listed did not arrive by C-MOVE after 2 attempts (final status 0x[ABC][0-9A-F]*, [0-9a-z -]*)" "$5"' \
    _ $rc "$(count_out "$m")" "$N" "$K" "$m/q"
find "$m/out" -name '*.dcm' -exec md5sum {} + | sort >"$m/sums1"

# the incomplete study is not taken: the next (incremental) run reaches
# back to it, years before the newest study; nothing twice in the folder
run "$m"
rc=$?
sed 's/^/# /' "$m/err" | head -n 5
check "next run: the incomplete study is tried again (exit 3, quarantined again), the newer one skipped" \
    sh -c '[ "$1" -eq 3 ] && grep -q "attempt 1 of 2: 1 of $3 instances did not arrive" "$2" &&
           grep -q "1 studies found again in the overlap were taken by an earlier run: skipped" "$2" &&
           [ "$4" -eq 2 ]' _ $rc "$m/err" "$K" "$(quarantined "$m")"
find "$m/out" -name '*.dcm' -exec md5sum {} + | sort >"$m/sums2"
check "and the folder holds the same $N files, none twice" \
    sh -c '[ "$1" -eq "$2" ] && cmp -s "$3" "$4"' _ "$(count_out "$m")" "$N" "$m/sums1" "$m/sums2"

# the odd instance removed from the PACS: the study is complete now
curl -sf -X DELETE "$ORTHANC_URL/instances/$odd" >/dev/null
run "$m"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$m/err" | head -n 5
check "the odd instance deleted on the PACS: the next run completes the study (exit 0, no retry)" \
    sh -c '[ "$1" -eq 0 ] && ! grep -q "did not arrive" "$2" && [ "$3" -eq "$4" ] && [ "$5" -eq 2 ]' \
    _ $rc "$m/err" "$(count_out "$m")" "$N" "$(quarantined "$m")"
run "$m"
rc=$?
check "and the run after takes nothing: every study is taken" \
    sh -c '[ "$1" -eq 0 ] && grep -q "^sluice: source .pacs.: [0-9]* studies found again" "$2" &&
           ! grep -q "attempt" "$2" && [ "$3" -eq "$4" ]' _ $rc "$m/err" "$(count_out "$m")" "$N"

# the C-MOVE receiver listens on listen-address only: Orthanc knows
# SLUICE2 at 127.0.0.2 and SLUICE at 127.0.0.1 (pacs_lib.sh)
a2="$T/addr2"
mkjob "$a2" 'retrieve="c-move" listen-port="11113" listen-address="127.0.0.2" calling-ae="SLUICE2"'
# what listens on port 11113 while the moves run (ss, every 10 ms)
run "$a2" &
rpid=$!
while kill -0 $rpid 2>/dev/null; do
    ss -ltnH "sport = :11113" >>"$a2/ss"
    sleep 0.01
done
wait $rpid
rc=$?
sort -u "$a2/ss" | sed 's/^/# ss: /'
check "ss: the C-MOVE receiver listened on 127.0.0.2:11113 only, never on every interface" \
    sh -c 'grep -q "127\.0\.0\.2:11113 " "$1" && ! grep -v "127\.0\.0\.2:11113 " "$1" | grep -q .' _ "$a2/ss"
[ $rc -eq 0 ] || sed 's/^/# /' "$a2/err" | head -n 5
check "listen-address=127.0.0.2, the PACS sends there: exit 0, the $N instances" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ]' _ $rc "$(count_out "$a2")" "$N"
a1="$T/addr1"
mkjob "$a1" 'retrieve="c-move" listen-port="11113" listen-address="127.0.0.2"'
run "$a1"
rc=$?
check "listen-address=127.0.0.2, the PACS sends to 127.0.0.1: nobody listens there (exit 2, nothing delivered, nothing quarantined)" \
    sh -c '[ "$1" -eq 2 ] && [ "$2" -eq 0 ] && [ "$4" -eq 0 ] &&
           grep -q "C-MOVE refused with status 0x[0-9A-F]*, it never called sluice.s receiver" "$3"' \
    _ $rc "$(count_out "$a1")" "$a1/err" "$(quarantined "$a1")"
sed 's/^/# /' "$a1/err" | head -n 3
a0="$T/addr0"
mkjob "$a0" 'retrieve="c-move" listen-port="11113" listen-address="0.0.0.0"'
run "$a0"
rc=$?
check "listen-address=0.0.0.0 (every interface): the PACS reaches it at 127.0.0.1, exit 0" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ]' _ $rc "$(count_out "$a0")" "$N"

# A study whose every instance the PACS cannot send (all of a private
# storage SOP class): the PACS is up and takes part, the study's transfer
# fails. By C-GET and by C-MOVE alike the study is retried, quarantined
# with the reason, and the run goes on with the other studies (exit 3):
# unlike a PACS that never reaches sluice's receiver (above, exit 2).
for i in 1 2; do
    cp "$f" "$T/all$i.dcm"
    dcmodify -nb -m "(0008,0016)=2.25.123456789012345678901234567890" \
        -m "(0008,0018)=2.25.5555000$i" -m "(0020,000d)=2.25.55550000" \
        -m "(0020,000e)=2.25.55550001" "$T/all$i.dcm"
    curl -sf -X POST --data-binary @"$T/all$i.dcm" "$ORTHANC_URL/instances" >/dev/null
done
for r in get move; do
    d="$T/all-$r"
    if [ $r = move ]; then mkjob "$d" 'retrieve="c-move" listen-port="11113"'; else mkjob "$d"; fi
    run "$d"
    rc=$?
    sed 's/^/# /' "$d/err" | head -n 4
    R=$(echo $r | tr a-z A-Z)
    check "C-$R, every instance of a study fails: exit 3, the other studies' $N instances delivered" \
        sh -c '[ "$1" -eq 3 ] && [ "$2" -eq "$3" ]' _ $rc "$(count_out "$d")" "$N"
    sluice -c "$d/sluice.xml" quarantine list >"$d/q" 2>&1
    check "C-$R: that study alone quarantined, with the reason (none of the 2 arrived)" \
        sh -c '[ "$(tail -n +2 "$1" | grep -c .)" -eq 1 ] &&
               grep -q "none of the 2 instances C-FIND listed arrived by C-$2 after 2 attempts" "$1"' \
        _ "$d/q" "$R"
done

# A study the PACS cannot read (its files removed from Orthanc's
# storage), dated after every other so that it comes last: Orthanc fails
# the C-MOVE before it calls sluice's receiver. The receiver was called
# for the studies before it in this run, so the route works: the study is
# quarantined and the run goes on (exit 3), as with C-GET.
for i in 1 2; do
    cp "$f" "$T/lost$i.dcm"
    dcmodify -nb -m "(0008,0018)=2.25.6666000$i" -m "(0020,000d)=2.25.66660000" \
        -m "(0020,000e)=2.25.66660001" -m "(0008,0020)=20991231" "$T/lost$i.dcm"
    id=$(curl -sf -X POST --data-binary @"$T/lost$i.dcm" "$ORTHANC_URL/instances" | jq -r .ID)
    u=$(curl -sf "$ORTHANC_URL/instances/$id/attachments/dicom/info" | jq -r .Uuid)
    rm -f "$T/pacs/db/$(echo "$u" | cut -c1-2)/$(echo "$u" | cut -c3-4)/$u"
done
for r in get move; do
    d="$T/lost-$r"
    if [ $r = move ]; then mkjob "$d" 'retrieve="c-move" listen-port="11113"'; else mkjob "$d"; fi
    run "$d"
    rc=$?
    sed 's/^/# /' "$d/err" | grep -v "study 2:" | head -n 3
    R=$(echo $r | tr a-z A-Z)
    sluice -c "$d/sluice.xml" quarantine list >"$d/q" 2>&1
    check "C-$R, a study the PACS cannot read (last): quarantined, the run goes on (exit 3, the $N others delivered)" \
        sh -c '[ "$1" -eq 3 ] && [ "$2" -eq "$3" ] && [ "$(tail -n +2 "$4" | grep -c .)" -eq 2 ] &&
               grep -q "none of the 2 instances C-FIND listed arrived by C-$5" "$4"' \
        _ $rc "$(count_out "$d")" "$N" "$d/q" "$R"
done
check "no patient name or id of the input in what the runs printed" \
    sh -c 'phi() { find "$1" -type f -exec dcmdump -q +P PatientName +P PatientID {} + 2>/dev/null |
                   sed -n "s/^[^[]*\[\(.*\)\].*$/\1/p" | sort -u; }
           phi "$1" >"$2/phi"; cat "$2"/*/err "$2"/*/out.log >"$2/msgs"
           while IFS= read -r v; do [ -n "$v" ] && grep -qF -- "$v" "$2/msgs" && exit 1; done <"$2/phi"; exit 0' \
    _ "$T/syn/dicom" "$T"
orthanc_stop
finish

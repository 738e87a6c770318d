#!/bin/sh
# pacs_listener.sh - the dicom-listener source: sluice as a C-STORE SCP on
# 127.0.0.1 in a private network namespace (pacs_lib.sh). DCMTK's
# storescu sends `sluice synth` studies to it while a job runs: the
# de-identified studies land in a DICOM folder; a caller not on the
# allow-list (wrong AE title, or right AE title from another address) is
# refused; the listener binds the configured address only; a sender
# offering only a transfer syntax the listener was not configured for is
# refused; with max-associations="2", two storescu senders held mid-
# association (SIGSTOP once storescu says "Association Accepted"), a third
# is refused while the two complete once let go; kill -9 of the run after
# the sender was told "stored", then a resume: every instance is
# delivered, none lost.
#
# Fixtures: `sluice synth` (fake patients), made by the test.
. "${top_srcdir:-.}/tests/integration/pacs_lib.sh"

plan 16
pacs_need 16

LPORT=11120
sluice synth --patients 3 --seed 9 -o "$T/syn" >/dev/null 2>&1
sluice keygen -o "$T/key" >/dev/null 2>&1
phi_values "$T/syn/dicom" >"$T/phi"
find "$T/syn/dicom" -type f -exec dcmdump -q +P SOPInstanceUID {} + |
    sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p' | sort >"$T/in-uids"
N=$(wc -l <"$T/in-uids")
NS=$(for f in $(find "$T/syn/dicom" -type f); do dcmdump -q +P 0020,000d "$f" | head -n 1; done | sort -u | wc -l)

# mkjob DIR [SOURCE-ATTRS]: a job listening on LPORT into DIR/out
mkjob() {
    mkdir -p "$1"
    cat >"$1/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:$T/key"/>
  <state path="state/state.db"/>
  <quarantine path="quarantine"/>
  <source id="inbox" type="dicom-listener" ae-title="SLUICE" port="$LPORT"
          allow="MODALITY@127.0.0.1 PACS@127.0.0.1" quiet-time="1" ${2:-}/>
  <target id="out" type="dicom-folder" path="out"/>
  <job id="t">
    <pull from="inbox"/>
    <deid profile="basic"/>
    <push to="out"/>
  </job>
</sluice>
EOC
}
count_out() { find "$1/out" -name '*.dcm' 2>/dev/null | wc -l; }
# send AE DIR [OPTIONS]: storescu from AE title AE sends the files of DIR
send() {
    local ae=$1 d=$2; shift 2
    storescu -aet "$ae" -aec SLUICE "$@" +sd +r 127.0.0.1 $LPORT "$d"
}
# run_bg DIR [ARGS]: the job in the background (SPID), until it listens
run_bg() {
    local d=$1; shift
    $SLUICE -c "$d/sluice.xml" run t --no-progress "$@" >"$d/out.log" 2>"$d/err" &
    SPID=$!
    local i=0
    while [ $i -lt 150 ]; do
        echoscu -aet MODALITY -aec SLUICE 127.0.0.1 $LPORT >/dev/null 2>&1 && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

b="$T/badconf"
mkjob "$b" 'address="localhost"'
sed -i 's/allow="MODALITY@127.0.0.1 PACS@127.0.0.1"/allow="MODALITY PACS@127.0.0.1"/' "$b/sluice.xml"
sluice -c "$b/sluice.xml" check-config >/dev/null 2>"$b/err"
check "check-config: an allow entry without @ADDRESS and a host name as address are named with their line" \
    sh -c '[ "$1" -eq 1 ] && grep -q "sluice.xml:7: source .inbox.: allow entry 1 must be AE@ADDRESS" "$2" &&
           grep -q "sluice.xml:7: source .inbox.: address must be an IPv4 address" "$2"' _ $? "$b/err"

o="$T/all"
mkjob "$o" 'idle-exit="8"'
run_bg "$o" || diag "the listener did not answer"
check "the listener is bound to 127.0.0.1 only, not every interface" \
    sh -c 'ss -ltnH "sport = :$1" | grep -q "127.0.0.1:$1" && ! ss -ltnH "sport = :$1" | grep -q "\*:$1\|0.0.0.0:$1"' _ $LPORT
send STRANGER "$T/syn/dicom" >/dev/null 2>"$o/stranger.err"
rs=$?
check "a calling AE title not on the allow-list is refused (storescu fails), nothing stored" \
    sh -c '[ "$1" -ne 0 ] && grep -qi "reject" "$2" && [ -z "$(find "$3/state/listener-inbox" -name "*.dcm")" ]' \
    _ $rs "$o/stranger.err" "$o"
send MODALITY "$T/syn/dicom" >/dev/null 2>"$o/send.err"
check "storescu from MODALITY sends the $N instances: every C-STORE answered success" test $? -eq 0
wait $SPID
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$o/err"
check "the run ends after idle-exit: exit 0, the $N instances in the folder" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ]' _ $rc "$(count_out "$o")" "$N"
find "$o/out" -name '*.dcm' -exec dcmdump -q +P SOPInstanceUID {} + |
    sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p' | sort >"$o/uids"
check "de-identified: new UIDs, no patient name or id of the input in the output" \
    sh -c '[ -z "$(comm -12 "$1" "$2")" ] && [ "$(grep -c "^2\.25\." "$1")" -eq "$3" ] && no_phi() { while IFS= read -r v; do [ -n "$v" ] && grep -rqF -- "$v" "$2" && return 1; done <"$1"; return 0; } && no_phi "$4" "$5"' \
    _ "$o/uids" "$T/in-uids" "$N" "$T/phi" "$o/out"
check "the log says each of the $NS studies complete, and the refused caller by AE title and address" \
    sh -c '[ "$(grep -c "study [0-9]* complete" "$1")" -eq "$2" ] &&
           grep -q "association from AE title .STRANGER. at 127.0.0.1 refused: not on the allow-list" "$1"' \
    _ "$o/err" "$NS"

# only JPEG Lossless accepted: storescu's uncompressed files are refused
x="$T/xfer"
mkjob "$x" 'idle-exit="6" transfer-syntaxes="jpeg-lossless"'
run_bg "$x" || diag "the listener did not answer"
send MODALITY "$T/syn/dicom" >/dev/null 2>"$x/send.err"
rs=$?
wait $SPID
rc=$?
check "transfer-syntaxes=jpeg-lossless: a sender with uncompressed instances only is rejected (no context it can use), nothing lands, the run ends well" \
    sh -c '[ "$1" -ne 0 ] && grep -q "Association Rejected" "$3" && [ "$2" -eq 0 ] && [ "$4" -eq 0 ]' _ $rs "$(count_out "$x")" "$x/send.err" $rc
mkjob "$x/bad" 'transfer-syntaxes="JPEGLossless"'
sluice -c "$x/bad/sluice.xml" run t --no-progress >/dev/null 2>"$x/bad/err"
check "an unknown transfer syntax name stops the run with exit 1, naming it" \
    sh -c '[ "$1" -eq 1 ] && grep -q "transfer-syntaxes: unknown name .JPEGLossless." "$2"' _ $? "$x/bad/err"

# max-associations="2": two storescu senders, each stopped (SIGSTOP) once
# its association is accepted and while it sends one instance 300 times,
# hold the two associations; a third sender is refused (DcmSCPPool
# rejects it, transient, "local limit exceeded") and nothing of it lands;
# the two, let go (SIGCONT), complete; then the third is accepted
a="$T/limit"
mkjob "$a" 'max-associations="2" timeout="120" idle-exit="4"'
set -- $(find "$T/syn/dicom" -type f | sort | head -n 3)
f1=$1 f2=$2 f3=$3
run_bg "$a" || diag "the listener did not answer"
# hold N FILE: storescu N sends FILE 300 times, stopped once its
# association is accepted (tried again if it ended first); pid in HOLDN
hold() {
    local try=0 i p
    while [ $try -lt 5 ]; do
        storescu -v -aet MODALITY -aec SLUICE --repeat 300 127.0.0.1 $LPORT "$2" >"$a/held$1.log" 2>&1 &
        p=$!
        i=0
        while kill -0 $p 2>/dev/null && [ $i -lt 1000 ]; do
            if grep -q "Association Accepted" "$a/held$1.log"; then
                kill -STOP $p
                eval HOLD$1=$p
                return 0
            fi
            sleep 0.01; i=$((i + 1))
        done
        wait $p
        try=$((try + 1))
    done
    return 1
}
hold 1 "$f1" && hold 2 "$f2"
held=$?
storescu -v -aet MODALITY -aec SLUICE 127.0.0.1 $LPORT "$f3" >"$a/third.log" 2>&1
r3=$?
sed -n '/Association Rejected/,+3p' "$a/third.log" | sed 's/^/# /'
check "max-associations=2, two held open: a third storescu is refused (association rejected, local limit exceeded)" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -ne 0 ] && grep -q "Association Rejected" "$3" &&
           grep -qi "local.limit.exceeded" "$3"' _ $held $r3 "$a/third.log"
kill -CONT $HOLD1 $HOLD2 2>/dev/null
wait $HOLD1; r1=$?
wait $HOLD2; r2=$?
check "the two held senders, let go, complete: every C-STORE answered success (exit 0)" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq 0 ] && ! grep -q "Store Failed\|Status: 0x[A-C]" "$3" "$4"' \
    _ $r1 $r2 "$a/held1.log" "$a/held2.log"
storescu -aet MODALITY -aec SLUICE 127.0.0.1 $LPORT "$f3" >/dev/null 2>"$a/third2.err"
r3=$?
check "once they are done the third sender is accepted" test $r3 -eq 0
wait $SPID
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$a/err"
check "the run ends well with the three instances in the folder (the refused try left nothing)" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq 3 ]' _ $rc "$(count_out "$a")"

# kill -9 while instances arrive (once 8 are through, up to 60 s on a
# loaded machine), then a resume: none lost
sluice synth --patients 12 --seed 21 -o "$T/big" >/dev/null 2>&1
NB=$(find "$T/big/dicom" -type f | wc -l)
k="$T/kill"
mkjob "$k" 'idle-exit="10"'  # room for the sender to come back on a loaded machine
run_bg "$k" --commit-every 3 || diag "the listener did not answer"
send MODALITY "$T/big/dicom" >/dev/null 2>"$k/send.err" &
SEND=$!
i=0
while [ "$(count_out "$k")" -lt 8 ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $SPID 2>/dev/null
wait $SPID 2>/dev/null
wait $SEND
sent_ok=$?
mid=$(count_out "$k")
if [ "$mid" -eq 0 ]; then
    diag "nothing delivered before the kill; the run and the sender said:"
    tail -n 5 "$k/err" "$k/send.err" | sed 's/^/# /'
    diag "inbox: $(find "$k/state" -name '*.dcm' 2>/dev/null | wc -l) files"
fi
check "the kill landed mid-transfer ($mid of $NB in the folder)" \
    sh -c '[ "$1" -gt 0 ] && [ "$1" -lt "$2" ]' _ "$mid" "$NB"
# what storescu was told is stored, sluice must deliver: the resume takes
# the inbox, then listens again for the rest (sent again by the sender)
run_bg "$k" || diag "the listener did not answer"
[ $sent_ok -eq 0 ] || send MODALITY "$T/big/dicom" >/dev/null 2>>"$k/send.err"
wait $SPID
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$k/err"
diag "resume: exit $rc, $(count_out "$k") of $NB"
check "resumed: exit 0, each of the $NB instances in the folder once" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ] && [ "$(find "$4/out" -name "*.dcm" -exec dcmdump -q +P SOPInstanceUID {} + | grep UI | sort | uniq -d | wc -l)" -eq 0 ]' \
    _ $rc "$(count_out "$k")" "$NB" "$k"
n2=$(find "$k/state/listener-inbox" -name '*.dcm' | wc -l)
$SLUICE -c "$k/sluice.xml" run t --no-progress >/dev/null 2>&1 &
SPID=$!
sleep 1
kill -TERM $SPID 2>/dev/null
wait $SPID 2>/dev/null
check "a later run removes from the inbox what the finished run delivered ($n2 before)" \
    test "$(find "$k/state/listener-inbox" -name '*.dcm' | wc -l)" -eq 0
finish

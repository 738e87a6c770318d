#!/bin/sh
# pacs_listener_tls.sh - DICOM TLS of the dicom-listener (tls-cert-file,
# tls-key-file, tls-ca-file) with DCMTK's storescu +tls as the sender, on
# 127.0.0.1 in a private network namespace (pacs_lib.sh). The
# certificates are made here with openssl: a test CA, sluice's server
# certificate and the sender's client certificate signed by it, and a
# second CA with a sender certificate of its own. Checked: a sender with a
# client certificate of the CA delivers every instance, de-identified; a
# sender whose certificate chains to another CA, one without a client
# certificate, and one not talking TLS deliver nothing; check-config says
# when TLS lacks sluice's own certificate.
#
# Fixtures: `sluice synth` (fake patients) and openssl keys, made by the
# test.
. "${top_srcdir:-.}/tests/integration/pacs_lib.sh"

plan 6
pacs_need 6
tls_need 6
mkca ca && mkca other && mkcert sluice ca && mkcert sender ca &&
    mkcert stranger other || diag "openssl failed"

LPORT=11121
sluice synth --patients 1 --seed 5 -o "$T/syn" >/dev/null 2>&1
sluice keygen -o "$T/key" >/dev/null 2>&1
N=$(find "$T/syn/dicom" -type f | wc -l)

# mkjob DIR TLS-ATTRS: a job listening on LPORT into DIR/out
mkjob() {
    mkdir -p "$1"
    cat >"$1/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:$T/key"/>
  <state path="state/state.db"/>
  <quarantine path="quarantine"/>
  <source id="inbox" type="dicom-listener" ae-title="SLUICE" port="$LPORT"
          allow="MODALITY@127.0.0.1" quiet-time="1" idle-exit="4" $2/>
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
TLS="tls-cert-file=\"$c/sluice.pem\" tls-key-file=\"$c/sluice.key\" tls-ca-file=\"$c/ca.pem\""

b="$T/badconf"
mkjob "$b" "tls-ca-file=\"$c/ca.pem\""
sluice -c "$b/sluice.xml" check-config >/dev/null 2>"$b/err"
check "check-config: TLS without the listener's own certificate is named with its line" \
    sh -c '[ "$1" -eq 1 ] && grep -q "sluice.xml:7: source .inbox.: a dicom-listener with TLS needs tls-cert-file and tls-key-file" "$2"' \
    _ $? "$b/err"

# run_bg DIR: the job in the background (SPID), until its port is open
run_bg() {
    $SLUICE -c "$1/sluice.xml" run t --no-progress >"$1/out.log" 2>"$1/err" &
    SPID=$!
    local i=0
    while [ $i -lt 150 ]; do
        ss -ltnH "sport = :$LPORT" | grep -q "127.0.0.1:$LPORT" && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
# send DIR [OPTIONS]: storescu (AE MODALITY) sends the synthetic study
send() {
    local d=$1; shift
    storescu -aet MODALITY -aec SLUICE "$@" +sd +r 127.0.0.1 $LPORT "$T/syn/dicom" \
        >>"$d/send.log" 2>&1
}

o="$T/tls"
mkjob "$o" "$TLS"
run_bg "$o" || diag "the listener did not open its port"
send "$o" +tls "$c/stranger.key" "$c/stranger.pem" +cf "$c/ca.pem"
r1=$?
send "$o" +tla +cf "$c/ca.pem"
r2=$?
send "$o"
r3=$?
send "$o" +tls "$c/sender.key" "$c/sender.pem" +cf "$c/ca.pem"
r4=$?
wait $SPID
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$o/err" | head -n 5
[ $r4 -eq 0 ] || sed 's/^/# send: /' "$o/send.log" | tail -n 5
check "a sender with a client certificate of tls-ca-file: every instance arrives over TLS (exit 0, $N)" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq 0 ] && [ "$3" -eq "$4" ]' _ $rc $r4 "$(count_out "$o")" "$N"
check "a client certificate of another CA is refused" test $r1 -ne 0
check "a sender without a client certificate is refused" test $r2 -ne 0
check "a sender not talking TLS is refused" test $r3 -ne 0
check "the instances that arrived are de-identified (new UIDs)" \
    sh -c '[ "$(find "$1/out" -name "*.dcm" -exec dcmdump -q +P SOPInstanceUID {} + | grep -c "\[2\.25\.")" -eq "$2" ]' \
    _ "$o" "$N"
finish

#!/bin/sh
# pacs_tls.sh - DICOM TLS (tls-ca-file, tls-cert-file, tls-key-file) of
# sluice echo and the dicom-store target against DCMTK's storescp with
# +tls on 127.0.0.1 in a private network namespace (pacs_lib.sh). The
# certificates are made here with openssl: a test CA, storescp's
# certificate and sluice's client certificate signed by it, and a second
# CA that signed nothing of these. Checked: echo and C-STORE over TLS with
# a client certificate (storescp requires one, its default); a node whose
# certificate does not chain to tls-ca-file is refused; a node that asks
# for a client certificate sluice does not have refuses sluice; a plain
# (non-TLS) sluice cannot talk to the TLS node.
#
# Fixtures: `sluice synth` (fake patients) and openssl keys, made by the
# test.
. "${top_srcdir:-.}/tests/integration/pacs_lib.sh"

plan 6
pacs_need 6
tls_need 6
mkca ca && mkca other && mkcert node ca && mkcert sluice ca || diag "openssl failed"

sluice synth --patients 1 --seed 4 -o "$T/syn" >/dev/null 2>&1
sluice keygen -o "$T/key" >/dev/null 2>&1
N=$(find "$T/syn/dicom" -type f | wc -l)

# mkjob DIR TLS-ATTRS: a job sending the synthetic DICOM to storescp
mkjob() {
    mkdir -p "$1"
    cat >"$1/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:$T/key"/>
  <state path="state/state.db"/>
  <quarantine path="quarantine"/>
  <source id="in" type="dicom-folder" path="$T/syn/dicom"/>
  <target id="node" type="dicom-store" host="127.0.0.1" port="$STORESCP_PORT"
          called-ae="STORESCP" calling-ae="SLUICE" timeout="10" max-attempts="1"
          $2/>
  <job id="t">
    <pull from="in"/>
    <deid profile="basic"/>
    <push to="node"/>
  </job>
</sluice>
EOC
}
# storescp with TLS (it requires a client certificate by default)
tls_scp() {
    local d=$1; shift
    mkdir -p "$d"
    storescp -aet STORESCP -od "$d" +tls "$c/node.key" "$c/node.pem" \
        +cf "$c/ca.pem" "$@" $STORESCP_PORT 2>>"$T/storescp.log" &
    SCP_PID=$!
    sleep 1
}

good="tls-ca-file=\"$c/ca.pem\" tls-cert-file=\"$c/sluice.pem\" tls-key-file=\"$c/sluice.key\""
o="$T/ok"
mkjob "$o" "$good"
tls_scp "$T/rx"
sluice -c "$o/sluice.xml" echo node >"$o/echo" 2>&1
check "echo over TLS with a client certificate: exit 0, the node takes Verification" \
    sh -c '[ "$1" -eq 0 ] && grep -q "C-ECHO to STORESCP@127.0.0.1:.*: success" "$2"' _ $? "$o/echo"
sluice -c "$o/sluice.xml" run t --no-progress >/dev/null 2>"$o/err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$o/err"
check "C-STORE over TLS: exit 0, the $N de-identified instances on the node" \
    sh -c '[ "$1" -eq 0 ] && [ "$(find "$2" -type f | wc -l)" -eq "$3" ]' _ $rc "$T/rx" "$N"

w="$T/wrongca"
mkjob "$w" "tls-ca-file=\"$c/other.pem\" tls-cert-file=\"$c/sluice.pem\" tls-key-file=\"$c/sluice.key\""
sluice -c "$w/sluice.xml" echo node >"$w/echo" 2>&1
check "a node whose certificate does not chain to tls-ca-file: echo exit 2" \
    sh -c '[ "$1" -eq 2 ] && grep -q "DICOM node 127.0.0.1:" "$2"' _ $? "$w/echo"

n="$T/nocert"
mkjob "$n" "tls-ca-file=\"$c/ca.pem\""
sluice -c "$n/sluice.xml" echo node >"$n/echo" 2>&1
check "a node that requires a client certificate refuses sluice without one: exit 2" \
    test $? -eq 2

p="$T/plain"
mkjob "$p" ""
sluice -c "$p/sluice.xml" echo node >"$p/echo" 2>&1
check "sluice without TLS cannot talk to the TLS node: exit 2" test $? -eq 2
scp_stop

b="$T/badconf"
mkjob "$b" "tls-cert-file=\"$c/sluice.pem\" tls-ca-file=\"$c/nosuch.pem\""
sluice -c "$b/sluice.xml" check-config >/dev/null 2>"$b/err"
check "check-config: a missing tls-ca-file and a certificate without its key are named with the line" \
    sh -c '[ "$1" -eq 1 ] && grep -q "sluice.xml:[0-9]*: target .node.: tls-ca-file .* does not exist" "$2" &&
           grep -q "sluice.xml:[0-9]*: target .node.: tls-cert-file and tls-key-file go together" "$2"' _ $? "$b/err"
finish

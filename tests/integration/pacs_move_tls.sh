#!/bin/sh
# pacs_move_tls.sh - DICOM TLS both ways of a C-MOVE: Orthanc 1.10 with
# DicomTlsEnabled (its own certificate, callers' certificates required)
# on 127.0.0.1 in a private network namespace (pacs_lib.sh), knowing
# SLUICE as a modality with UseDicomTls. The dimse source's C-FIND and
# C-MOVE request go over TLS with sluice's client certificate; Orthanc's
# association to sluice's C-MOVE receiver is TLS too, the receiver showing
# the same certificate and requiring Orthanc's. Checked: echo over TLS;
# every instance arrives by C-MOVE and by C-GET; a receiver without a
# certificate (plain) gets nothing from the TLS-only PACS.
#
# Fixtures: `sluice synth` (fake patients) and openssl keys, made by the
# test.
. "${top_srcdir:-.}/tests/integration/pacs_lib.sh"

plan 4
pacs_need 4
tls_need 4
mkca ca && mkcert orthanc ca && mkcert sluice ca || diag "openssl failed"

sluice synth --patients 1 --seed 4 -o "$T/syn" >/dev/null 2>&1
sluice keygen -o "$T/key" >/dev/null 2>&1
N=$(find "$T/syn/dicom" -type f | wc -l)

# Orthanc with DICOM TLS only (pacs_lib.sh's orthanc_start waits for a
# plain C-ECHO): started here, stopped by PID (orthanc_stop)
mkdir -p "$T/pacs/db"
cat >"$T/pacs/orthanc.json" <<EOJ
{
  "Name": "sluice-test-tls",
  "StorageDirectory": "$T/pacs/db", "IndexDirectory": "$T/pacs/db",
  "DicomAet": "ORTHANC", "DicomPort": $ORTHANC_DICOM, "HttpPort": $ORTHANC_HTTP,
  "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
  "DicomTlsEnabled": true,
  "DicomTlsCertificate": "$c/orthanc.pem", "DicomTlsPrivateKey": "$c/orthanc.key",
  "DicomTlsTrustedCertificates": "$c/ca.pem",
  "DicomTlsRemoteCertificateRequired": true,
  "DicomModalities": {
    "sluice": { "AET": "SLUICE", "Host": "127.0.0.1", "Port": 11113, "UseDicomTls": true } }
}
EOJ
Orthanc "$T/pacs/orthanc.json" >"$T/pacs/orthanc.log" 2>&1 &
ORTHANC_PID=$!
i=0
until curl -sf "$ORTHANC_URL/system" >/dev/null 2>&1 || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
for f in $(find "$T/syn/dicom" -type f); do
    curl -sf -X POST --data-binary @"$f" "$ORTHANC_URL/instances" >/dev/null
done

# mkjob DIR SOURCE-ATTRS: a job pulling from the TLS Orthanc into DIR/out
mkjob() {
    mkdir -p "$1"
    cat >"$1/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:$T/key"/>
  <state path="state/state.db"/>
  <quarantine path="quarantine"/>
  <source id="pacs" type="dimse" host="127.0.0.1" port="$ORTHANC_DICOM"
          called-ae="ORTHANC" timeout="10" max-attempts="1"
          tls-ca-file="$c/ca.pem" $2/>
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
CERT="tls-cert-file=\"$c/sluice.pem\" tls-key-file=\"$c/sluice.key\""

m="$T/move"
mkjob "$m" "$CERT retrieve=\"c-move\" listen-port=\"11113\""
sluice -c "$m/sluice.xml" echo pacs >"$m/echo" 2>&1
check "echo over TLS: exit 0" test $? -eq 0
sluice -c "$m/sluice.xml" run t --no-progress >"$m/out.log" 2>"$m/err"
rc=$?
[ $rc -eq 0 ] || { sed 's/^/# /' "$m/err" | head -n 5; grep '^E' "$T/pacs/orthanc.log" | tail -n 3 | sed 's/^/# orthanc: /'; }
check "C-MOVE with TLS both ways: exit 0, the $N instances" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ]' _ $rc "$(count_out "$m")" "$N"

g="$T/get"
mkjob "$g" "$CERT"
sluice -c "$g/sluice.xml" run t --no-progress >/dev/null 2>"$g/err"
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$g/err" | head -n 5
check "C-GET over TLS: exit 0, the $N instances" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ]' _ $rc "$(count_out "$g")" "$N"

# with a certificate the PACS's association can be TLS; without one the
# receiver is plain, and the C-FIND is refused first (Orthanc requires a
# client certificate): nothing arrives, the run says so (exit 2)
p="$T/plain"
mkjob "$p" 'retrieve="c-move" listen-port="11113"'
sluice -c "$p/sluice.xml" run t --no-progress >/dev/null 2>"$p/err"
rc=$?
check "without sluice's certificate: exit 2, nothing delivered" \
    sh -c '[ "$1" -eq 2 ] && [ "$2" -eq 0 ]' _ $rc "$(count_out "$p")"
sed 's/^/# /' "$p/err" | head -n 2
orthanc_stop
finish

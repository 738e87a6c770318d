# pacs_lib.sh - real DICOM peers for the PACS tests, started by the test
# and stopped by PID: DCMTK's storescp and Orthanc 1.10 (Debian's
# `orthanc`, with `orthanc-dicomweb`). Orthanc has no bind-address setting
# and listens on every interface, so each PACS test runs in a private
# network namespace holding only loopback (unshare -n): sluice and the
# peers see 127.0.0.1 and nothing else, and fixed ports cannot clash with
# anything outside the namespace.
#
# Source it first thing, before lib.sh: it re-runs the script inside the
# namespace. pacs_need N skips the N tests (and finishes) when a peer or
# the namespace truly cannot exist here.
if [ -z "${SL_PACS_NETNS:-}" ]; then
    # as root: -n; as another user: a user namespace too (-r)
    for sl_u in -n -rn; do
        if unshare $sl_u true 2>/dev/null; then
            SL_PACS_NETNS=1 exec unshare $sl_u sh -c 'ip link set lo up && exec sh "$0"' "$0"
        fi
    done
    SL_PACS_NETNS=none
fi
. "${top_srcdir:-.}/tests/integration/lib.sh"

STORESCP_PORT=11112
ORTHANC_DICOM=4242
ORTHANC_HTTP=8042
ORTHANC_URL="http://127.0.0.1:$ORTHANC_HTTP"
SCP_PID=
ORTHANC_PID=
pacs_stop() {
    scp_stop
    orthanc_stop
    cleanup_tmp
}
trap pacs_stop EXIT

pacs_need() {
    local n=$1 why= i tool
    [ "$SL_PACS_NETNS" = 1 ] || why="network namespaces are not allowed here (unshare -n failed): Orthanc would listen on every interface"
    for tool in storescp echoscu Orthanc curl jq dcmdump; do
        command -v $tool >/dev/null 2>&1 || why="${why:-needs $tool (build-aux/deps-debian.txt)}"
    done
    [ -f /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || why="${why:-needs orthanc-dicomweb}"
    if [ -n "$why" ]; then
        i=0; while [ $i -lt "$n" ]; do skip "$why"; i=$((i + 1)); done
        finish
    fi
}

# scp_start DIR [OPTIONS...]: storescp AE STORESCP on STORESCP_PORT,
# writing what it receives into DIR.
scp_start() {
    local d=$1; shift
    mkdir -p "$d"
    storescp -aet STORESCP -od "$d" "$@" $STORESCP_PORT 2>>"$T/storescp.log" &
    SCP_PID=$!
    pacs_wait_port $STORESCP_PORT STORESCP
}
scp_stop() {
    [ -n "$SCP_PID" ] && kill "$SCP_PID" 2>/dev/null && wait "$SCP_PID" 2>/dev/null
    SCP_PID=
}

# pacs_wait_port PORT AE: until the node answers a C-ECHO (DCMTK's
# echoscu) on 127.0.0.1:PORT (15 s).
pacs_wait_port() {
    local i=0
    while [ $i -lt 150 ]; do
        echoscu -aet SLUICE -aec "$2" 127.0.0.1 "$1" >/dev/null 2>&1 && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# orthanc_start DIR [LUA]: a fresh Orthanc (AE ORTHANC) storing in DIR,
# that knows sluice (AE SLUICE) as a modality; LUA a script of filters.
orthanc_start() {
    local d=$1 lua=${2:-}
    mkdir -p "$d/db"
    cat >"$d/orthanc.json" <<EOJ
{
  "Name": "sluice-test",
  "StorageDirectory": "$d/db",
  "IndexDirectory": "$d/db",
  "DicomAet": "ORTHANC",
  "DicomPort": $ORTHANC_DICOM,
  "HttpPort": $ORTHANC_HTTP,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "DicomCheckCalledAet": true,
  "DicomModalities": { "sluice": [ "SLUICE", "127.0.0.1", 11113 ],
                       "sluice2": [ "SLUICE2", "127.0.0.2", 11113 ] },
  "Plugins": [ "/usr/share/orthanc/plugins/libOrthancDicomWeb.so" ],
  "DicomWeb": { "Enable": true, "Root": "/dicom-web/" },
  "LuaScripts": [ $( [ -n "$lua" ] && printf '"%s"' "$lua" ) ],
  "StableAge": 1, ${ORTHANC_EXTRA:-}
  "HttpDescribeErrors": true
}
EOJ
    Orthanc "$d/orthanc.json" >"$d/orthanc.log" 2>&1 &
    ORTHANC_PID=$!
    local i=0
    while [ $i -lt 300 ]; do
        curl -sf "$ORTHANC_URL/system" >/dev/null 2>&1 && pacs_wait_port $ORTHANC_DICOM ORTHANC && return 0
        kill -0 "$ORTHANC_PID" 2>/dev/null || break
        sleep 0.1; i=$((i + 1))
    done
    diag "Orthanc did not start: $(tail -n 3 "$d/orthanc.log")"
    return 1
}
# SIGTERM, then up to 5 s for it to go
orthanc_stop() {
    local i=0
    [ -n "$ORTHANC_PID" ] || return 0
    kill "$ORTHANC_PID" 2>/dev/null
    while kill -0 "$ORTHANC_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$ORTHANC_PID" 2>/dev/null
    wait "$ORTHANC_PID" 2>/dev/null
    ORTHANC_PID=
}
# orthanc_count: instances Orthanc holds
orthanc_count() { curl -sf "$ORTHANC_URL/statistics" | jq -r '.CountInstances'; }

# phi_values DIR: the patient names and ids of the DICOM files under DIR,
# one a line (what must not leave).
phi_values() {
    find "$1" -type f -exec dcmdump -q +P PatientName +P PatientID {} + 2>/dev/null |
        sed -n 's/^[^[]*\[\(.*\)\].*$/\1/p' | sort -u
}
# no_phi VALUES DIR: none of the values appears in any file under DIR
no_phi() {
    local v
    while IFS= read -r v; do
        [ -n "$v" ] || continue
        if grep -rqF -- "$v" "$2"; then diag "a value from the input is in $2"; return 1; fi
    done <"$1"
    return 0
}

# tls_need N: skips the N tests of a script and finishes it when openssl
# is missing. Then, in $c (the folder $T/certs, made here):
#   mkca NAME       a self-signed test CA: $c/NAME.key, $c/NAME.pem
#   mkcert NAME CA  a key and a certificate signed by CA: $c/NAME.key,
#                   $c/NAME.pem (two days, CN=NAME)
tls_need() {
    if ! command -v openssl >/dev/null 2>&1; then
        i=0
        while [ $i -lt "$1" ]; do skip "needs openssl"; i=$((i + 1)); done
        finish
    fi
    c="$T/certs"
    mkdir -p "$c"
}
mkca() {
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$c/$1.key" -out "$c/$1.pem" \
        -days 2 -subj "/CN=sluice test $1" >/dev/null 2>&1
}
mkcert() {
    openssl req -newkey rsa:2048 -nodes -keyout "$c/$1.key" -out "$c/$1.csr" \
        -subj "/CN=$1" >/dev/null 2>&1 &&
        openssl x509 -req -in "$c/$1.csr" -CA "$c/$2.pem" -CAkey "$c/$2.key" \
            -CAcreateserial -out "$c/$1.pem" -days 2 >/dev/null 2>&1
}

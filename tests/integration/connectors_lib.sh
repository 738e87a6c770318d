# connectors_lib.sh - starts the test FHIR server (tests/fhir-server, the
# same real server deid_fhir_server.sh uses) and the fault proxy
# (tests/tools/fault_proxy.py) on 127.0.0.1 for the connector tests.
# Sourced after lib.sh. Both are stopped by PID at exit.
SRV_PID=
PROXY_PID=
conn_stop() {
    [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null
    [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null
    wait 2>/dev/null
    cleanup_tmp
}
trap conn_stop EXIT
# conn_need N: skips the N tests and finishes when node, npm, python3,
# curl, jq or openssl are absent, or the server cannot be installed.
conn_need() {
    local n=$1 i tool
    for tool in node npm python3 curl jq openssl; do
        if ! command -v $tool >/dev/null 2>&1; then
            i=0; while [ $i -lt "$n" ]; do skip "needs $tool"; i=$((i + 1)); done
            finish
        fi
    done
    mkdir -p "$T/server"
    cp "$top_srcdir/tests/fhir-server/package.json" \
       "$top_srcdir/tests/fhir-server/package-lock.json" \
       "$top_srcdir/tests/fhir-server/server.mjs" "$T/server/"
    if ! (cd "$T/server" && npm ci --no-audit --no-fund >"$T/npm.log" 2>&1); then
        diag "npm ci failed (offline?): $(tail -n 1 "$T/npm.log")"
        i=0; while [ $i -lt "$n" ]; do skip "the test FHIR server cannot be installed"; i=$((i + 1)); done
        finish
    fi
}
wait_file() {
    local i=0
    while [ ! -s "$1" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
    [ -s "$1" ]
}
# conn_start: a fresh server (empty repository) and a proxy before it;
# sets BASE (the server) and PROXY (the proxy).
conn_start() {
    rm -f "$T/port" "$T/pport"
    node "$T/server/server.mjs" "$T/port" 2>"$T/server.log" &
    SRV_PID=$!
    wait_file "$T/port" || return 1
    BASE="http://127.0.0.1:$(cat "$T/port")"
    python3 "$top_srcdir/tests/tools/fault_proxy.py" "$T/pport" "$BASE" 2>"$T/proxy.log" &
    PROXY_PID=$!
    wait_file "$T/pport" || return 1
    PROXY="http://127.0.0.1:$(cat "$T/pport")"
}

#!/bin/sh
# http_client.sh - the HTTP client (src/http) against the real test FHIR
# server, directly and through the fault proxy (429 with Retry-After in
# seconds and as a date, 503, a reset connection, a slow response), and
# over TLS with a CA and certificate made here by openssl: the cases are
# tests/unit/test_http.c, run here with SL_HTTP_TEST_PROXY set.
. "${top_srcdir:-.}/tests/integration/lib.sh"
. "${top_srcdir:-.}/tests/integration/connectors_lib.sh"

plan 4
RUN="${top_builddir:-.}/tests/unit/test_http"
if [ ! -x "$RUN" ]; then
    i=0; while [ $i -lt 4 ]; do skip "needs cmocka (tests/unit/test_http)"; i=$((i + 1)); done
    finish
fi
conn_need 4
check "the FHIR server and the fault proxy start" conn_start
# a CA and a certificate for 127.0.0.1 signed by it, for a TLS proxy
tls_up() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=sluice test CA" \
        -keyout "$T/ca.key" -out "$T/ca.pem" >/dev/null 2>&1 &&
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$T/srv.key" -out "$T/srv.csr" >/dev/null 2>&1 &&
    printf 'subjectAltName=IP:127.0.0.1\n' >"$T/san.ext" &&
    openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
        -CAcreateserial -days 2 -extfile "$T/san.ext" -out "$T/srv.pem" >/dev/null 2>&1 &&
    { python3 "$top_srcdir/tests/tools/fault_proxy.py" "$T/tport" "$BASE" \
        "$T/srv.pem" "$T/srv.key" 2>"$T/tproxy.log" & TLS_PID=$!; } &&
    wait_file "$T/tport"
}
TLS_PID=
check "a TLS proxy with a certificate from a test CA starts" tls_up
SL_HTTP_TEST_PROXY="$PROXY" SL_HTTP_TEST_TLS="https://127.0.0.1:$(cat "$T/tport" 2>/dev/null)" \
    SL_HTTP_TEST_CA="$T/ca.pem" CMOCKA_MESSAGE_OUTPUT=TAP "$RUN" >"$T/out" 2>&1
rc=$?
sed 's/^/# /' "$T/out"
check "every client case passes through the proxy" [ $rc -eq 0 ]
check "no case was skipped" sh -c '! grep -q SKIP "$1"' _ "$T/out"
[ -n "$TLS_PID" ] && kill "$TLS_PID" 2>/dev/null
finish

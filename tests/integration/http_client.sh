#!/bin/sh
# http_client.sh - the HTTP client (src/http) against the real test FHIR
# server, directly and through the fault proxy (429 with Retry-After in
# seconds and as a date, 503, a reset connection, a slow response): the
# cases are tests/unit/test_http.c, run here with SL_HTTP_TEST_PROXY set.
. "${top_srcdir:-.}/tests/integration/lib.sh"
. "${top_srcdir:-.}/tests/integration/connectors_lib.sh"

plan 3
RUN="${top_builddir:-.}/tests/unit/test_http"
if [ ! -x "$RUN" ]; then
    i=0; while [ $i -lt 3 ]; do skip "needs cmocka (tests/unit/test_http)"; i=$((i + 1)); done
    finish
fi
conn_need 3
check "the FHIR server and the fault proxy start" conn_start
SL_HTTP_TEST_PROXY="$PROXY" CMOCKA_MESSAGE_OUTPUT=TAP "$RUN" >"$T/out" 2>&1
rc=$?
sed 's/^/# /' "$T/out"
check "every client case passes through the proxy" [ $rc -eq 0 ]
check "no case was skipped" sh -c '! grep -q SKIP "$1"' _ "$T/out"
finish

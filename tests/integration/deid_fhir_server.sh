#!/bin/sh
# deid_fhir_server.sh - synthetic Bundles, de-identified by the FHIR engine
# (basic and safe-harbor), are accepted as transactions by a real FHIR
# server, and every reference in them resolves there. The server is
# @medplum/fhir-router 4.5.2 with MemoryRepository behind the node:http
# front in tests/fhir-server/server.mjs, installed with `npm ci` from the
# lockfile kept there, started on a free 127.0.0.1 port and stopped by PID.
# The engine is driven by the unit test program's --run mode (the
# `sluice deid` command is the CLI's). Skipped without node, npm, jq,
# curl, or when npm cannot install the server.
. "${top_srcdir:-.}/tests/integration/lib.sh"

plan 10
RUN="${top_builddir:-.}/tests/unit/test_deid_fhir"
for tool in node npm jq curl; do
    if ! command -v $tool >/dev/null 2>&1 || [ ! -x "$RUN" ]; then
        i=0; while [ $i -lt 10 ]; do skip "needs node, npm, jq, curl, cmocka"; i=$((i + 1)); done
        finish
    fi
done

mkdir -p "$T/server"
cp "$top_srcdir/tests/fhir-server/package.json" \
   "$top_srcdir/tests/fhir-server/package-lock.json" \
   "$top_srcdir/tests/fhir-server/server.mjs" "$T/server/"
if ! (cd "$T/server" && npm ci --no-audit --no-fund >"$T/npm.log" 2>&1); then
    diag "npm ci failed (offline?): $(tail -n 1 "$T/npm.log")"
    i=0; while [ $i -lt 10 ]; do skip "the test FHIR server cannot be installed"; i=$((i + 1)); done
    finish
fi
sluice synth --patients 6 -o "$T/syn" --seed 7 >/dev/null 2>&1
mkdir -p "$T/tx"
for f in "$T"/syn/fhir/*.json; do
    # a collection becomes a transaction of PUTs (test data preparation)
    jq '.type = "transaction" | .entry |= map(.request = {method: "PUT",
        url: (.resource.resourceType + "/" + .resource.id)})' "$f" \
        >"$T/tx/$(basename "$f")"
done

PID=
stop() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; cleanup_tmp; }
trap stop EXIT
for profile in basic safe-harbor; do
    # a new server (an empty repository) for each profile
    rm -f "$T/port"
    node "$T/server/server.mjs" "$T/port" 2>"$T/server.log" &
    PID=$!
    i=0
    while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    check "$profile: the FHIR server starts" [ -s "$T/port" ]
    BASE="http://127.0.0.1:$(cat "$T/port" 2>/dev/null)"
    mkdir -p "$T/$profile"
    bad=0
    for f in "$T"/tx/*.json; do
        o="$T/$profile/$(basename "$f")"
        "$RUN" --run "$top_srcdir/profiles/deid/$profile.xml" "$f" >"$o" 2>/dev/null || bad=1
        grep -q '^quarantine:' "$o" && bad=1
    done
    check "$profile: every Bundle de-identified" [ $bad -eq 0 ]
    bad=0
    for o in "$T"/$profile/*.json; do
        code=$(curl -s -o "$T/resp.json" -w '%{http_code}' -X POST \
            -H 'content-type: application/fhir+json' --data-binary @"$o" "$BASE/")
        if [ "$code" != 200 ] ||
           [ "$(jq -r '.type' "$T/resp.json")" != transaction-response ] ||
           jq -e '[.entry[].response.status | select(startswith("2") | not)] | length > 0' \
               "$T/resp.json" >/dev/null; then
            diag "$profile: HTTP $code: $(jq -c '.issue // empty' "$T/resp.json" 2>/dev/null | cut -c1-300)"
            bad=1
        fi
    done
    check "$profile: the server accepts every Bundle as a transaction" [ $bad -eq 0 ]
    jq -r '.. | objects | .reference? // empty' "$T"/$profile/*.json | sort -u >"$T/refs"
    bad=0
    while read -r ref; do
        code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/$ref")
        [ "$code" = 200 ] || { diag "$profile: a reference gives HTTP $code"; bad=1; }
    done <"$T/refs"
    check "$profile: every reference resolves on the server ($(wc -l <"$T/refs") refs)" \
        sh -c '[ "$1" -eq 0 ] && [ "$(wc -l <"$2")" -gt 6 ]' _ $bad "$T/refs"
    check "$profile: the server is stopped by its PID" kill "$PID"
    wait "$PID" 2>/dev/null
    PID=
done
finish

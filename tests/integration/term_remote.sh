#!/bin/sh
# The remote terminology client against a real server on 127.0.0.1: the
# test FHIR server (tests/fhir-server, @medplum/fhir-router) with its
# ConceptMap/$translate routed to @synanetics/fhir-translate (npm 1.2.0,
# an independent $translate, installed with --ignore-scripts), and
# CodeSystem/$lookup and ValueSet/$validate-code served by the server's
# test code over the CodeSystem and ValueSet stored in it.
# - sluice translate through the server gives the same files as through
#   the same maps loaded locally, on every coding of synthetic data, for a
#   full map and for a partial one (mapped and unmapped counts agree);
# - the cache: requests counted at the server (SLUICE_TEST_OPLOG), the
#   SQLite cache file answers a second run without any request;
# - the server stopped in the middle of a run (SLUICE_TEST_STOP_AFTER):
#   what it could not answer is quarantined with "could not translate",
#   nothing passes untranslated;
# - $lookup and $validate-code answers, cached.
. "${top_srcdir}/tests/integration/lib.sh"
. "${top_srcdir}/tests/integration/connectors_lib.sh"
plan 19
conn_need 19
mkdir -p "$T/server/translate"
cp "$top_srcdir/tests/fhir-server/translate/package.json" \
   "$top_srcdir/tests/fhir-server/translate/package-lock.json" "$T/server/translate/"
# its preinstall script asks for pnpm: installed without scripts
if ! (cd "$T/server/translate" && npm ci --ignore-scripts --no-audit --no-fund >"$T/npm2.log" 2>&1); then
    diag "npm ci failed (offline?): $(tail -n 1 "$T/npm2.log")"
    i=0; while [ $i -lt 19 ]; do skip "@synanetics/fhir-translate cannot be installed"; i=$((i + 1)); done
    finish
fi
TRY="$top_builddir/tests/tools/term_client_try"
LAB=http://hospital.example.org/lab-codes
FULL=urn:sluice:terminology:ConceptMap:lab-local-to-loinc
PART=http://example.org/fhir/ConceptMap/lab-partial
D="$top_srcdir/tests/data/terminology/remote"
export SLUICE_TEST_OPLOG="$T/oplog"

# start: a fresh server holding the maps, the CodeSystem and the ValueSet
start() {
    conn_start || return 1
    for f in "$top_srcdir/terminology/lab-local-to-loinc.json" "$D/lab-partial.json" \
             "$top_srcdir/terminology/condition-local-to-snomed.json" \
             "$D/lab-codes.CodeSystem.json" "$D/electrolytes.ValueSet.json"; do
        t=$(jq -r .resourceType "$f"); id=$(jq -r .id "$f")
        curl -sf -X PUT -H 'Content-Type: application/fhir+json' \
            --data-binary @"$f" "$BASE/$t/$id" >/dev/null || return 1
    done
    : >"$T/oplog"
}
stop() { kill "$SRV_PID" "$PROXY_PID" 2>/dev/null; wait 2>/dev/null; SRV_PID=; PROXY_PID=; }
remote() { # remote MAPURL OUT [more options]
    local map=$1 out=$2; shift 2
    sluice -j 1 translate --server "$BASE" --remote-map "$map" --remote-source "$LAB" \
        "$@" "$T/syn/fhir" -o "$T/$out" --quarantine "$T/$out.q" >"$T/$out.out" 2>"$T/$out.err"
}
sluice synth --patients 20 --seed 42 --no-dicom -o "$T/syn" >/dev/null 2>&1
start || { diag "the server did not start: $(tail -n 3 "$T/server.log")"; }

# the full map: local and remote give the same files
sluice translate --map lab-local-to-loinc "$T/syn/fhir" -o "$T/l1" >/dev/null 2>"$T/l1.err"
remote "$FULL" r1
rc=$?
check "translate through the server exits 0" [ $rc -eq 0 ]
check "the server's translation of every coding is sluice's local one (same files)" \
    diff -r "$T/l1" "$T/r1"
nl=$(sed -n 's/.*map lab-local-to-loinc: \([0-9]*\) mapped, 0 unmapped.*/\1/p' "$T/l1.err")
check "the same number of codings mapped ($nl)" \
    grep -q "map remote:lab-local-to-loinc: $nl mapped, 0 unmapped" "$T/r1.err"
# 5 local codes in the data: with -j 1, each asked once (batches of the
# codings of one Bundle), never more
nreq=$(wc -l <"$T/oplog")
check "the cache: at most 5 requests for $nl codings ($nreq)" \
    sh -c '[ "$1" -ge 1 ] && [ "$1" -le 5 ]' _ "$nreq"
check "the codings of one Bundle go in one batch Bundle" grep -q '^batch [2-9]' "$T/oplog"

# the partial map: mapped, unmatched and unlisted codes agree too
sluice translate --map "$D/lab-partial.json" "$T/syn/fhir" -o "$T/l2" >/dev/null 2>"$T/l2.err"
remote "$PART" r2
check "partial map: the same files locally and through the server" diff -r "$T/l2" "$T/r2"
counts=$(sed -n 's/.*map lab-partial: \([0-9]* mapped, [0-9]* unmapped\).*/\1/p' "$T/l2.err")
check "partial map: the same counts mapped and unmapped ($counts)" \
    sh -c '[ -n "$1" ] && grep -q "map remote:lab-partial: $1" "$2"' _ "$counts" "$T/r2.err"

# local condition codes to SNOMED CT: the same through the server
sluice synth --patients 20 --seed 42 --no-dicom --local-conditions -o "$T/lc" >/dev/null 2>&1
sluice translate --map condition-local-to-snomed "$T/lc/fhir" -o "$T/l6" >/dev/null 2>&1
sluice -j 1 translate --server "$BASE" --remote-map urn:sluice:terminology:ConceptMap:condition-local-to-snomed \
    --remote-source http://hospital.example.org/condition-codes "$T/lc/fhir" -o "$T/r6" >/dev/null 2>"$T/r6.err"
check "condition codes: the same files locally and through the server, 20 mapped" \
    sh -c 'diff -r "$1" "$2" && grep -q "map remote:condition-local-to-snomed: 20 mapped, 0 unmapped" "$3"' _ "$T/l6" "$T/r6" "$T/r6.err"

# the SQLite cache: a second run asks nothing
: >"$T/oplog"
remote "$FULL" r3 --cache "$T/cache.db"
first=$(wc -l <"$T/oplog")
: >"$T/oplog"
remote "$FULL" r4 --cache "$T/cache.db"
check "a second run with the cache file makes no request (first: $first)" \
    sh -c '[ "$1" -ge 1 ] && [ ! -s "$2" ] && diff -r "$3" "$4"' _ "$first" "$T/oplog" "$T/r3" "$T/r4"

# $lookup and $validate-code (served by test code over the stored resources)
"$TRY" --repeat 3 "$BASE" lookup "$LAB" NA-SER >"$T/lk1"
check "\$lookup finds NA-SER's display; 3 calls, 1 request" \
    sh -c 'grep -qx "found Sodium, serum" "$1" && grep -q "asked 3 hits 2 requests 1 failed 0" "$1"' _ "$T/lk1"
"$TRY" "$BASE" lookup "$LAB" NOPE >"$T/lk2"
check "\$lookup of an unknown code: not found" grep -qx "not-found" "$T/lk2"
"$TRY" "$BASE" validate http://example.org/fhir/ValueSet/electrolytes "$LAB" K-SER >"$T/v1"
"$TRY" "$BASE" validate http://example.org/fhir/ValueSet/electrolytes "$LAB" CRP-HS >"$T/v2"
"$TRY" "$BASE" validate http://example.org/fhir/ValueSet/electrolytes "$LAB" K-SER "Sodium, serum" >"$T/v3"
check "\$validate-code: in the value set, not in it, wrong display" \
    sh -c 'grep -qx valid "$1" && grep -q "^invalid: The code is not in the value set" "$2" && grep -q "^invalid: Wrong display" "$3"' _ "$T/v1" "$T/v2" "$T/v3"

# a job: <deid> then <translate> through the server, with its cache file
write_config "$T/job"
cp "$T"/syn/fhir/*.json "$T/job/in/fhir/"
sluice keygen >"$T/job/key"
sed -i 's|<state |<keys pseudonym="file:key"/>\n  <state |; s|<pull from="ehr pacs"/>|<pull from="ehr pacs"/>\n    <deid profile="basic"/>\n    <translate server="'"$BASE"'" remote-map="'"$FULL"'" remote-source="'"$LAB"'" cache="tx.db" policy="replace"/>|' "$T/job/sluice.xml"
sluice --config "$T/job/sluice.xml" check-config >"$T/cc.out" 2>&1
check "a job with a terminology server checks out" [ $? -eq 0 ]
: >"$T/oplog"
sluice -j 1 --config "$T/job/sluice.xml" run t --no-progress >"$T/job.out" 2>"$T/job.err"
rc=$?
check "the job translates through the server (exit 0): counted by map, no local lab code left, cache file made" \
    sh -c '[ "$1" -eq 0 ] && grep -Eq "translate +info +mapped:remote:lab-local-to-loinc +$2\$" "$3" && ! grep -rq "$4" "$5" && [ -s "$6" ] && [ -s "$7" ]' \
    _ $rc "$nl" "$T/job.out" "$LAB" "$T/job/out/fhir" "$T/job/tx.db" "$T/oplog"

# a server that wants a bearer token (the fault proxy's fbearer: 401
# unless the request says "Authorization: Bearer sekrit"): the job's
# <translate> takes an <auth> child as a fhir-rest source does
cp "$T/job/sluice.xml" "$T/job/noauth.xml"
sed -i 's|<translate server="[^"]*"|<translate server="'"$PROXY"'/fbearer-0-sekrit"|; s|cache="tx.db" policy="replace"/>|policy="replace"><auth type="bearer" token="env:TX_TOKEN"/></translate>|' "$T/job/sluice.xml"
sed -i 's|<translate server="[^"]*"|<translate server="'"$PROXY"'/fbearer-0-sekrit"|; s|cache="tx.db" ||' "$T/job/noauth.xml"
rm -rf "$T/job/out" "$T/job/state" "$T/job/quarantine"
TX_TOKEN=sekrit sluice -j 1 --config "$T/job/sluice.xml" run t --no-progress >"$T/job3.out" 2>"$T/job3.err"
rc=$?
check "<auth type=bearer> on <translate>: the job translates through a server that wants the token" \
    sh -c '[ "$1" -eq 0 ] && grep -Eq "translate +info +mapped:remote:lab-local-to-loinc +$2\$" "$3" && ! grep -q sekrit "$3" "$4"' \
    _ $rc "$nl" "$T/job3.out" "$T/job3.err"
rm -rf "$T/job/out" "$T/job/state" "$T/job/quarantine"
sluice -j 1 --config "$T/job/noauth.xml" run t --no-progress >"$T/job4.out" 2>"$T/job4.err"
rc=$?
sluice --config "$T/job/noauth.xml" quarantine list >"$T/q4.txt" 2>&1
grep -q "could not translate.*HTTP 401" "$T/q4.txt" || { diag "exit $rc"; head -n 3 "$T/q4.txt" | sed 's/^/# /'; }
check "without <auth>: refused (HTTP 401), the lab Observations quarantined as could not translate (exit 3)" \
    sh -c '[ "$1" -eq 3 ] && grep -q "could not translate.*HTTP 401" "$2"' _ $rc "$T/q4.txt"

# the server stops after answering 2 requests, in the middle of a run
stop
export SLUICE_TEST_STOP_AFTER=2
start
remote "$FULL" r5 --batch 0
rc=$?
unset SLUICE_TEST_STOP_AFTER
nq=$(ls "$T/r5.q" 2>/dev/null | grep -c 'reason')
nout=$(ls "$T/r5" 2>/dev/null | wc -l)
check "server gone mid-run: exit 3, written + quarantined = 20, some of each" \
    sh -c '[ "$1" -eq 3 ] && [ "$2" -gt 0 ] && [ "$3" -gt 0 ] && [ $(($2 + $3)) -eq 20 ]' _ $rc "$nq" "$nout"
check "each reason says could not translate, naming element, system and map, not the code" \
    sh -c 'for f in "$1"/*reason*; do grep -q "Observation.code.coding\[0\]: could not translate a code of http://hospital.example.org/lab-codes through map remote:lab-local-to-loinc" "$f" || exit 1; done; ! cat "$1"/*reason* | grep -q -e K-SER -e NA-SER -e CRP-HS -e TSH-3G -e LDL-CALC' _ "$T/r5.q"
# nothing that was written passed untranslated: every local coding written
# has its LOINC coding beside it
check "every local lab coding written has its LOINC coding beside it" \
    sh -c '[ "$(jq -c ".entry[].resource | select(.resourceType==\"Observation\") | select(.code.coding[0].system==\"$2\") | select((.code.coding | length) < 2)" "$1"/*.json | wc -l)" -eq 0 ] && grep -q "could not translate (server)" "$3"' _ "$T/r5" "$LAB" "$T/r5.err"
finish

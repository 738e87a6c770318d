#!/bin/sh
# translate_remote.sh - the remote terminology path of `sluice translate`
# on the FHIR of synthetic patients: the shipped lab map stored in the test
# FHIR server (tests/fhir-server, its ConceptMap/$translate routed to
# @synanetics/fhir-translate) on 127.0.0.1 and asked through --server,
# beside the same map loaded locally. Reported: codings asked, the cache's
# hit rate (issue 14's target: above 99%), the requests the server
# counted, and the time of each run. It measures, never fails on a time.
# Usage: translate_remote.sh BUILDDIR [PATIENTS] (default 1000; the issue's
# measurement is 10000). Needs node, npm (the registry, once) and jq.
set -eu
build=$1 patients=${2:-1000}
src=$(cd "$(dirname "$0")/../.." && pwd)
sluice="$build/sluice"
d=$(mktemp -d "${TMPDIR:-/tmp}/sluice-remote-bench.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$d"' EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

mkdir -p "$d/server/translate"
cp "$src/tests/fhir-server/package.json" "$src/tests/fhir-server/package-lock.json" \
   "$src/tests/fhir-server/server.mjs" "$d/server/"
cp "$src/tests/fhir-server/translate/package.json" \
   "$src/tests/fhir-server/translate/package-lock.json" "$d/server/translate/"
(cd "$d/server" && npm ci --no-audit --no-fund >/dev/null 2>&1)
(cd "$d/server/translate" && npm ci --ignore-scripts --no-audit --no-fund >/dev/null 2>&1)
SLUICE_TEST_OPLOG="$d/oplog" node "$d/server/server.mjs" "$d/port" 2>"$d/server.log" &
pid=$!
i=0
while [ ! -s "$d/port" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
base="http://127.0.0.1:$(cat "$d/port")"
curl -sf -X PUT -H 'Content-Type: application/fhir+json' \
    --data-binary @"$src/terminology/lab-local-to-loinc.json" \
    "$base/ConceptMap/lab-local-to-loinc" >/dev/null
: >"$d/oplog"

"$sluice" synth --patients "$patients" --no-dicom -o "$d/syn" --seed 11 >/dev/null 2>&1
t0=$(now)
"$sluice" translate --map lab-local-to-loinc "$d/syn/fhir" -o "$d/o.local" >/dev/null 2>&1
t1=$(now)
"$sluice" -v translate --server "$base" \
    --remote-map urn:sluice:terminology:ConceptMap:lab-local-to-loinc \
    --remote-source http://hospital.example.org/lab-codes \
    "$d/syn/fhir" -o "$d/o.remote" >/dev/null 2>"$d/err"
t2=$(now)
diff -r "$d/o.local" "$d/o.remote" >/dev/null && same=yes || same=NO
line=$(grep 'terminology server:' "$d/err" | tail -n 1)
echo "$patients patients; the same output locally and through the server: $same"
echo "  ${line#*terminology server: }"
echo "  requests the server counted: $(wc -l <"$d/oplog") ($(grep -c '^batch' "$d/oplog") batch Bundles)"
echo "  local map: $(secs "$t0" "$t1") s; through the server: $(secs "$t1" "$t2") s"

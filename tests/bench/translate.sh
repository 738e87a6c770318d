#!/bin/sh
# translate.sh - throughput of `sluice translate` with the shipped local
# map (lab-local-to-loinc) on the FHIR NDJSON of synthetic patients, as
# codings/s beside the baseline that only parses and re-serialises the
# same files with jansson (tests/tools/fhir_reserialise), run side by
# side, taking turns, outputs on tmpfs when there is one. Reported: codings
# in scope of the map, the best time of RUNS for each, codings/s, and the
# speed of sluice translate (-j 1 and the default --jobs) as a multiple of
# the baseline's (issue 14's target: at least 0.8x). It measures, never
# fails on a time.
# Usage: translate.sh BUILDDIR [PATIENTS] (default 1000; the issue's
# measurement is 10000). RUNS=N (default 3). Needs jq.
set -eu
build=$1 patients=${2:-1000} runs=${RUNS:-3}
sluice="$build/sluice"
base_tool="$build/tests/tools/fhir_reserialise"
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
d=$(mktemp -d "$base/sluice-translate-bench.XXXXXX")
trap 'rm -rf "$d"' EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }

"$sluice" synth --patients "$patients" --no-dicom -o "$d/syn" --seed 11 \
    >/dev/null 2>&1
mkdir -p "$d/in"
find "$d/syn/fhir" -name '*.json' -print0 | xargs -0 cat |
    jq -c '.entry[].resource' >"$d/all.ndjson"
for t in $(jq -r '.resourceType' "$d/all.ndjson" | sort -u); do
    jq -c "select(.resourceType == \"$t\")" "$d/all.ndjson" >"$d/in/$t.ndjson"
done
rm -rf "$d/syn" "$d/all.ndjson"
nres=$(cat "$d/in"/*.ndjson | wc -l)

measure() { # NAME COMMAND...: best time in $d/t.NAME
    name=$1
    shift
    rm -rf "$d/o.$name" "$d/o.$name.quarantine"
    t0=$(now)
    "$@" >/dev/null 2>"$d/err.$name" || true
    t1=$(now)
    echo "$(min "$(cat "$d/t.$name" 2>/dev/null || true)" "$(secs "$t0" "$t1")")" >"$d/t.$name"
    [ "$name" = base ] || cp "$d/err.$name" "$d/report"
    rm -rf "$d/o.$name" "$d/o.$name.quarantine"
}
i=0
while [ "$i" -lt "$runs" ]; do
    measure base "$base_tool" "$d/in" "$d/o.base"
    measure j1 "$sluice" -j 1 translate --map lab-local-to-loinc "$d/in" -o "$d/o.j1"
    measure jn "$sluice" translate --map lab-local-to-loinc "$d/in" -o "$d/o.jn"
    i=$((i + 1))
done
ncod=$(sed -n 's/.*map lab-local-to-loinc: \([0-9]*\) mapped, \([0-9]*\) unmapped/\1 \2/p' "$d/report" |
    awk '{ print $1 + $2 }')
tb=$(cat "$d/t.base") t1=$(cat "$d/t.j1") tn=$(cat "$d/t.jn")
echo "$patients patients, $nres resources, $ncod codings in scope of the map (best of $runs):"
echo "  baseline (jansson parse + serialise): $tb s, $(div "$ncod" "$tb") codings/s"
echo "  sluice translate -j 1: $t1 s, $(div "$ncod" "$t1") codings/s: $(div "$tb" "$t1") x the baseline"
echo "  sluice translate (--jobs $(nproc)): $tn s, $(div "$ncod" "$tn") codings/s: $(div "$tb" "$tn") x the baseline"

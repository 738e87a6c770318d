#!/bin/sh
# fhir-deid.sh - throughput of `sluice deid` on FHIR NDJSON as a ratio
# against a baseline that only parses and re-serialises the same files
# with jansson (tests/tools/fhir_reserialise), run side by side, outputs on
# tmpfs (/dev/shm) when there is one; then the same at 10 times the size,
# with the peak RSS of both sizes (it must stay flat: streams stay streams).
# Usage: fhir-deid.sh BUILDDIR [PATIENTS] (default 1000; the issue's
# measurement is 10000). Needs jq to turn synth's Bundles into NDJSON.
set -eu
build=$1 patients=${2:-1000}
sluice="$build/sluice"
base_tool="$build/tests/tools/fhir_reserialise"
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
d=$(mktemp -d "$base/sluice-fhir-bench.XXXXXX")
trap 'rm -rf "$d"' EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
time_of() { # COMMAND...: prints seconds, keeps the peak RSS in $d/rss
    t0=$(now)
    /usr/bin/time -f %M -o "$d/rss" "$@" >/dev/null 2>&1 || true
    t1=$(now)
    secs "$t0" "$t1"
}
"$sluice" keygen >"$d/key"

make_input() { # N DIR: synth N patients as NDJSON, one file per type
    "$sluice" synth --patients "$1" --no-dicom -o "$d/syn$1" --seed 11 >/dev/null
    mkdir -p "$2"
    find "$d/syn$1/fhir" -name '*.json' -print0 | xargs -0 cat |
        jq -c '.entry[].resource' >"$d/all.ndjson"
    for t in $(jq -r '.resourceType' "$d/all.ndjson" | sort -u); do
        jq -c "select(.resourceType == \"$t\")" "$d/all.ndjson" >"$2/$t.ndjson"
    done
    rm -f "$d/all.ndjson"
}

run() { # N
    in="$d/in$1"
    make_input "$1" "$in"
    nres=$(cat "$in"/*.ndjson | wc -l)
    tb=$(time_of "$base_tool" "$in" "$d/base$1")
    rb=$(cat "$d/rss")
    td=$(time_of "$sluice" deid --key-file "$d/key" -o "$d/out$1" "$in")
    rd=$(cat "$d/rss")
    echo "$1 patients, $nres resources: baseline $tb s ($(div "$nres" "$tb") res/s, $rb KiB)," \
        "sluice deid $td s ($(div "$nres" "$td") res/s, $rd KiB): speed $(div "$tb" "$td") x the baseline"
    echo "$rd" >"$d/rss$1"
    rm -rf "$d/base$1" "$d/out$1" "$d/syn$1"
}
run "$patients"
run $((patients * 10))
echo "peak RSS of sluice deid at 10x the input: $(div "$(cat "$d/rss$((patients * 10))")" "$(cat "$d/rss$patients")") x"

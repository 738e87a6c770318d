#!/bin/sh
# validate.sh - throughput of `sluice validate` against R4 core on the FHIR
# NDJSON of synthetic patients, as resources/s beside the baseline that
# only parses and re-serialises the same files with jansson
# (tests/tools/fhir_reserialise), run side by side, taking turns, on tmpfs
# when there is one. Reported: the best time of RUNS for each, resources/s,
# and the speed of sluice validate (-j 1 and the default --jobs) as a
# multiple of the baseline's (issue 15's target: at least 0.3x on one
# thread). It measures, never fails on a time.
# Then against a profile with slicing and invariants
# (tests/data/validate/bench-observation.json: Observation.category sliced
# by pattern, closed, and two FHIRPath invariants) on the Observations
# alone, beside R4 core and the baseline on the same file, with the
# findings counted (the synthetic Observations conform: 0 expected).
# With MEDPLUM_DIR=DIR (a folder where `npm ci` of tests/fhir-server was
# run: DIR/node_modules/@medplum/core), also Medplum's validateResource in
# node on the same resources, against core and against the profile
# (tests/bench/validate-medplum.mjs; its time includes loading its
# definitions), as a multiple of sluice's.
# Usage: validate.sh BUILDDIR [PATIENTS] (default 1000; the issue's
# measurement is 10000). RUNS=N (default 3). Needs jq.
set -eu
build=$1 patients=${2:-1000} runs=${RUNS:-3}
sluice="$build/sluice"
base_tool="$build/tests/tools/fhir_reserialise"
here=$(cd "$(dirname "$0")" && pwd)
profile=$here/../data/validate/bench-observation.json
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
d=$(mktemp -d "$base/sluice-validate-bench.XXXXXX")
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
mkdir -p "$d/obs"
cp "$d/in/Observation.ndjson" "$d/obs/"
nobs=$(wc -l <"$d/obs/Observation.ndjson")
[ -z "${MEDPLUM_DIR:-}" ] || cp "$here/validate-medplum.mjs" "$MEDPLUM_DIR/"

measure() { # NAME COMMAND...: best time in $d/t.NAME
    name=$1
    shift
    rm -rf "$d/o.$name"
    t0=$(now)
    "$@" >/dev/null 2>"$d/err.$name" || true
    t1=$(now)
    echo "$(min "$(cat "$d/t.$name" 2>/dev/null || true)" "$(secs "$t0" "$t1")")" >"$d/t.$name"
    rm -rf "$d/o.$name"
}
i=0
while [ "$i" -lt "$runs" ]; do
    measure base "$base_tool" "$d/in" "$d/o.base"
    measure j1 "$sluice" -j 1 validate "$d/in"
    measure jn "$sluice" validate "$d/in"
    measure obase "$base_tool" "$d/obs" "$d/o.obase"
    measure ocore "$sluice" -j 1 validate "$d/obs"
    measure oprof "$sluice" -j 1 validate --profile "$profile" "$d/obs"
    if [ -n "${MEDPLUM_DIR:-}" ]; then
        measure mp sh -c 'cd "$1" && exec node validate-medplum.mjs "$2"/*.ndjson' _ "$MEDPLUM_DIR" "$d/in"
        measure mpprof sh -c 'cd "$1" && exec node validate-medplum.mjs --profile "$3" "$2"/*.ndjson' _ "$MEDPLUM_DIR" "$d/obs" "$profile"
    fi
    i=$((i + 1))
done
tb=$(cat "$d/t.base") t1=$(cat "$d/t.j1") tn=$(cat "$d/t.jn")
echo "$patients patients, $nres resources (best of $runs):"
echo "  baseline (jansson parse + serialise): $tb s, $(div "$nres" "$tb") resources/s"
echo "  sluice validate -j 1: $t1 s, $(div "$nres" "$t1") resources/s: $(div "$tb" "$t1") x the baseline"
echo "  sluice validate (all cores): $tn s, $(div "$nres" "$tn") resources/s: $(div "$tb" "$tn") x the baseline"
if [ -n "${MEDPLUM_DIR:-}" ]; then
    tm=$(cat "$d/t.mp")
    echo "  Medplum validateResource (node): $tm s, $(div "$nres" "$tm") resources/s: sluice -j 1 is $(div "$tm" "$t1") x as fast"
    sed -n "s/^\\([0-9]* valid, [0-9]* invalid\\)\$/  Medplum: \\1/p" "$d/err.mp"
fi
sed -n 's/^sluice validate: /  last run: /p' "$d/err.jn"
tob=$(cat "$d/t.obase") toc=$(cat "$d/t.ocore") top=$(cat "$d/t.oprof")
echo "the $nobs Observations, against the profile (best of $runs):"
echo "  baseline (jansson parse + serialise): $tob s, $(div "$nobs" "$tob") resources/s"
echo "  sluice validate -j 1 (R4 core): $toc s, $(div "$nobs" "$toc") resources/s: $(div "$tob" "$toc") x the baseline"
echo "  sluice validate -j 1 --profile: $top s, $(div "$nobs" "$top") resources/s: $(div "$tob" "$top") x the baseline"
sed -n 's/^sluice validate: /  last run: /p' "$d/err.oprof"
if [ -n "${MEDPLUM_DIR:-}" ]; then
    tmp=$(cat "$d/t.mpprof")
    echo "  Medplum validateResource with the profile (node): $tmp s, $(div "$nobs" "$tmp") resources/s: sluice -j 1 is $(div "$tmp" "$top") x as fast"
    sed -n "s/^\\([0-9]* valid, [0-9]* invalid\\)\$/  Medplum: \\1/p" "$d/err.mpprof"
fi

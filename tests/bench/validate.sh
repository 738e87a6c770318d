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
# PROFILE=FILE benches another profile (a StructureDefinition in JSON) on
# the synthetic resources of its type. Afterwards three broken copies of
# the first resources of that type (a category of no slice, no value, no
# category: each breaks the bench's profile) are validated once, so that
# a profile that is not being enforced shows.
# With MEDPLUM_DIR=DIR (a folder where `npm ci` of tests/fhir-server was
# run: DIR/node_modules/@medplum/core), also Medplum's validateResource in
# node on the same resources, against core and against the profile
# (tests/bench/validate-medplum.mjs; its time includes loading its
# definitions), as a multiple of sluice's.
# Each figure is the best of RUNS, as wall time and as CPU time (user +
# system, all threads, from the shell's `times`: on a shared machine the
# steadier of the two). 10 ms is the CPU clock's step: use enough patients.
# Usage: validate.sh BUILDDIR [PATIENTS] (default 1000; the issue's
# measurement is 10000). RUNS=N (default 3). Needs jq.
set -eu
build=$1 patients=${2:-1000} runs=${RUNS:-3}
sluice="$build/sluice"
base_tool="$build/tests/tools/fhir_reserialise"
here=$(cd "$(dirname "$0")" && pwd)
profile=${PROFILE:-$here/../data/validate/bench-observation.json}
ptype=$(jq -r .type "$profile")
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
d=$(mktemp -d "$base/sluice-validate-bench.XXXXXX")
trap 'rm -rf "$d"' EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'; }
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
[ -s "$d/in/$ptype.ndjson" ] || { echo "validate.sh: no $ptype in the synthetic data for $profile" >&2; exit 1; }
cp "$d/in/$ptype.ndjson" "$d/obs/"
nobs=$(wc -l <"$d/obs/$ptype.ndjson")
[ -z "${MEDPLUM_DIR:-}" ] || cp "$here/validate-medplum.mjs" "$MEDPLUM_DIR/"

measure() { # NAME COMMAND...: best wall time in $d/t.NAME, best CPU in $d/c.NAME
    name=$1
    shift
    rm -rf "$d/o.$name"
    t0=$(now)
    # the shell's `times`, in a subshell of its own: the command's user
    # and system time (all its threads)
    c=$( ("$@" >/dev/null 2>"$d/err.$name" || true; times) | tail -n 1 |
        awk '{ n = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); n += a[1] * 60 + a[2] } printf "%.3f", n }')
    t1=$(now)
    echo "$(min "$(cat "$d/t.$name" 2>/dev/null || true)" "$(secs "$t0" "$t1")")" >"$d/t.$name"
    echo "$(min "$(cat "$d/c.$name" 2>/dev/null || true)" "$c")" >"$d/c.$name"
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
# LABEL NAME COUNT [BASE]: wall and CPU, resources/s of each, and with
# BASE the speed as a multiple of BASE's (BASE's time / this one's)
row() {
    t=$(cat "$d/t.$2") c=$(cat "$d/c.$2")
    line="  $1: wall $t s, $(div "$3" "$t") resources/s; CPU $c s, $(div "$3" "$c") resources/s"
    if [ -n "${4:-}" ]; then
        line="$line; $(div "$(cat "$d/t.$4")" "$t") x $4 (wall), $(div "$(cat "$d/c.$4")" "$c") x (CPU)"
    fi
    echo "$line"
}
faster() { # OTHER SLUICE: how many times as fast sluice's run is
    echo "    sluice ($2) is $(div "$(cat "$d/t.$1")" "$(cat "$d/t.$2")") x as fast (wall), $(div "$(cat "$d/c.$1")" "$(cat "$d/c.$2")") x (CPU)"
}
counts() { sed -n "s/^sluice validate: /    found: /p; s/^\\([0-9]* valid, [0-9]* invalid\\)\$/    found: \\1/p" "$d/err.$1"; }
echo "$patients patients, $nres resources (best of $runs; speed as a multiple of the named run's):"
row "baseline (jansson parse + serialise)" base "$nres"
row "sluice validate -j 1" j1 "$nres" base
counts j1
row "sluice validate (all cores, $(nproc 2>/dev/null || echo '?'))" jn "$nres" j1
if [ -n "${MEDPLUM_DIR:-}" ]; then
    row "Medplum validateResource (node)" mp "$nres"
    faster mp j1
    counts mp
fi
echo "the $nobs ${ptype}s, against R4 core and $(basename "$profile"):"
row "baseline (jansson parse + serialise)" obase "$nobs"
row "sluice validate -j 1 (R4 core)" ocore "$nobs" obase
row "sluice validate -j 1 --profile" oprof "$nobs" obase
counts oprof
if [ -n "${MEDPLUM_DIR:-}" ]; then
    row "Medplum validateResource with the profile (node)" mpprof "$nobs"
    faster mpprof oprof
    counts mpprof
fi

# the profile is enforced: broken copies must be found invalid
mkdir -p "$d/broken"
head -n 1 "$d/obs/$ptype.ndjson" >"$d/one.ndjson"
{
    jq -c '.category += [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "imaging"}]}]' "$d/one.ndjson"
    jq -c 'del(.valueQuantity, .valueCodeableConcept, .valueString, .component)' "$d/one.ndjson"
    jq -c 'del(.category)' "$d/one.ndjson"
} >"$d/broken/$ptype.ndjson"
"$sluice" -j 1 validate --profile "$profile" "$d/broken" >/dev/null 2>"$d/err.broken" || true
echo "3 broken copies (a category of no slice, no value, no category):"
counts broken
if [ -n "${MEDPLUM_DIR:-}" ]; then
    (cd "$MEDPLUM_DIR" && node validate-medplum.mjs --profile "$profile" "$d/broken/$ptype.ndjson") \
        >/dev/null 2>"$d/err.mpbroken" || true
    echo "  Medplum:"
    counts mpbroken
fi

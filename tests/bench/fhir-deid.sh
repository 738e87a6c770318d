#!/bin/sh
# fhir-deid.sh - throughput of `sluice deid` on FHIR NDJSON as a ratio
# against a baseline that only parses and re-serialises the same files
# with jansson (tests/tools/fhir_reserialise), run side by side, outputs on
# tmpfs (/dev/shm) when there is one: the default --jobs (the number of
# cores), -j 1 (the single-thread comparison) and -j 2, with the -j 1 to
# -j 2 speed-up, and `sluice run` of a job doing the same (files to files,
# with its state store); then the default at 10 times the size, with the
# peak RSS
# of both sizes (it must stay flat: streams stay streams).
# Usage: fhir-deid.sh BUILDDIR [PATIENTS] (default 1000; the issue's
# measurement is 10000). RUNS=N (default 3): each time is the best of N
# runs, the commands taking turns so that a drift of the machine's speed
# hits them alike. OLD=DIR (another build folder, e.g. of main before a
# change): its `sluice deid` (default --jobs and -j 1) takes turns with
# this build's in the same runs, on the same input, and the ratios of the
# two are printed beside the others. Needs jq to turn synth's Bundles
# into NDJSON, and /usr/bin/time (Debian's time package) for the peak RSS.
set -eu
build=$1 patients=${2:-1000} runs=${RUNS:-3} old=${OLD:-}
sluice="$build/sluice"
base_tool="$build/tests/tools/fhir_reserialise"
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
d=$(mktemp -d "$base/sluice-fhir-bench.XXXXXX")
trap 'rm -rf "$d"' EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b > a) ? b : a }'; }
"$sluice" keygen >"$d/key"

make_input() { # N DIR: synth N patients as NDJSON, one file per type
    "$sluice" synth --patients "$1" --no-dicom -o "$d/syn$1" --seed 11 \
        >/dev/null 2>&1
    mkdir -p "$2"
    find "$d/syn$1/fhir" -name '*.json' -print0 | xargs -0 cat |
        jq -c '.entry[].resource' >"$d/all.ndjson"
    for t in $(jq -r '.resourceType' "$d/all.ndjson" | sort -u); do
        jq -c "select(.resourceType == \"$t\")" "$d/all.ndjson" >"$2/$t.ndjson"
    done
    rm -f "$d/all.ndjson" && rm -rf "$d/syn$1"
}

# measure NAME COMMAND...: one run; keeps the best time in $d/t.NAME and
# the largest peak RSS (KiB) in $d/m.NAME. Outputs go to $d/o.NAME, removed
# before each run.
measure() {
    name=$1
    shift
    rm -rf "$d/o.$name" "$d/o.$name.quarantine"
    t0=$(now)
    /usr/bin/time -f %M -o "$d/rss" "$@" >/dev/null 2>&1 || true
    t1=$(now)
    t=$(secs "$t0" "$t1")
    echo "$(min "$(cat "$d/t.$name" 2>/dev/null || true)" "$t")" >"$d/t.$name"
    echo "$(max "$(cat "$d/m.$name" 2>/dev/null || true)" "$(cat "$d/rss")")" \
        >"$d/m.$name"
    rm -rf "$d/o.$name" "$d/o.$name.quarantine"
}

# write_job IN: a job doing what `sluice deid` does (basic, NDJSON out)
write_job() {
    mkdir -p "$d/job"
    cat >"$d/job/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:$d/key"/>
  <state path="state/sluice.db"/>
  <quarantine path="quarantine"/>
  <source id="in" type="fhir-files" path="$1"/>
  <target id="out" type="fhir-files" path="out" format="ndjson"/>
  <job id="b"><pull from="in"/><deid profile="basic"/><push to="out"/></job>
</sluice>
EOC
}

# run N FULL: N patients; FULL=1 also times -j 1 and -j 2
run() {
    n=$1 full=$2
    in="$d/in$n"
    make_input "$n" "$in"
    nres=$(cat "$in"/*.ndjson | wc -l)
    rm -f "$d"/t.* "$d"/m.*
    i=0
    while [ "$i" -lt "$runs" ]; do
        measure base "$base_tool" "$in" "$d/o.base"
        measure deid "$sluice" deid --key-file "$d/key" -o "$d/o.deid" "$in"
        # the same de-identification as a job: files to files, with its
        # state store and checkpoints (the pipeline issue: at least as fast)
        write_job "$in"
        rm -rf "$d/job/state" "$d/job/out" "$d/job/quarantine"
        measure run "$sluice" -c "$d/job/sluice.xml" -q run b --no-progress
        rm -rf "$d/job/state" "$d/job/out" "$d/job/quarantine"
        if [ "$full" = 1 ]; then
            measure j1 "$sluice" -j 1 deid --key-file "$d/key" -o "$d/o.j1" "$in"
            measure j2 "$sluice" -j 2 deid --key-file "$d/key" -o "$d/o.j2" "$in"
        fi
        if [ -n "$old" ]; then
            measure odeid "$old/sluice" deid --key-file "$d/key" \
                -o "$d/o.odeid" "$in"
            [ "$full" = 1 ] && measure oj1 "$old/sluice" -j 1 deid \
                --key-file "$d/key" -o "$d/o.oj1" "$in"
        fi
        i=$((i + 1))
    done
    tb=$(cat "$d/t.base") td=$(cat "$d/t.deid")
    echo "$n patients, $nres resources (best of $runs):" \
        "baseline $tb s ($(div "$nres" "$tb") res/s, $(cat "$d/m.base") KiB)," \
        "sluice deid $td s ($(div "$nres" "$td") res/s, $(cat "$d/m.deid") KiB):" \
        "speed $(div "$tb" "$td") x the baseline"
    tr=$(cat "$d/t.run")
    echo "  sluice run of the same job: $tr s: speed $(div "$tb" "$tr") x" \
        "the baseline, $(div "$td" "$tr") x sluice deid's"
    if [ "$full" = 1 ]; then
        t1=$(cat "$d/t.j1") t2=$(cat "$d/t.j2")
        echo "  -j 1: $t1 s ($(div "$nres" "$t1") res/s): speed" \
            "$(div "$tb" "$t1") x the baseline; -j 2: $t2 s: speed" \
            "$(div "$tb" "$t2") x; -j 1 to -j 2: $(div "$t1" "$t2") x faster"
    fi
    if [ -n "$old" ]; then
        to=$(cat "$d/t.odeid")
        echo "  OLD build: sluice deid $to s ($(cat "$d/m.odeid") KiB): speed" \
            "$(div "$tb" "$to") x the baseline; this build is" \
            "$(div "$to" "$td") x as fast"
        if [ "$full" = 1 ]; then
            to1=$(cat "$d/t.oj1")
            echo "  OLD build -j 1: $to1 s: speed $(div "$tb" "$to1") x the" \
                "baseline; this build's -j 1 is $(div "$to1" "$t1") x as fast"
        fi
        cp "$d/m.odeid" "$d/orss$n"
    fi
    cp "$d/m.deid" "$d/rss$n"
    rm -rf "$in"
}
run "$patients" 1
run $((patients * 10)) 0
echo "peak RSS of sluice deid at 10x the input: $(div "$(cat "$d/rss$((patients * 10))")" "$(cat "$d/rss$patients")") x"
if [ -n "$old" ]; then
    echo "peak RSS of the OLD build's sluice deid at 10x the input:" \
        "$(div "$(cat "$d/orss$((patients * 10))")" "$(cat "$d/orss$patients")") x"
fi

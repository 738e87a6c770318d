#!/bin/sh
# fhir-pull.sh - throughput of the fhir-rest source (`sluice pull`) as a
# ratio against curl fetching the very same pages, side by side: the test
# FHIR server (tests/fhir-server, started on 127.0.0.1 and stopped by PID)
# is loaded with synthetic resources, the pages a pull asks for are listed
# once (first page of each type, then each next link), and curl gets them
# in one process, one at a time over one kept-alive connection (what the
# source does: one request in flight), into /dev/null; sluice reads,
# parses and writes them as NDJSON. Then the data grows tenfold and the
# peak RSS of both pulls is printed: it must stay flat (one page in
# memory, never the result).
# Usage: fhir-pull.sh BUILDDIR [PATIENTS] (default 1000, about 10,000
# resources; x10 about 100,000). RUNS=N (default 3): each time is the
# median of N runs, the two commands taking turns. PAGE=N: page-size
# (default 500). Needs node, npm, jq, curl and /usr/bin/time.
set -eu
build=$1 patients=${2:-1000} runs=${RUNS:-3} page=${PAGE:-500}
top=$(cd "$(dirname "$0")/../.." && pwd)
sluice="$build/sluice"
d=$(mktemp -d "${TMPDIR:-/tmp}/sluice-pull-bench.XXXXXX")
SRV=
trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null; rm -rf "$d"' EXIT
TYPES="Patient Encounter Condition Observation DiagnosticReport MedicationRequest ImagingStudy"

mkdir -p "$d/server"
cp "$top/tests/fhir-server/package.json" "$top/tests/fhir-server/package-lock.json" \
   "$top/tests/fhir-server/server.mjs" "$d/server/"
(cd "$d/server" && npm ci --no-audit --no-fund >/dev/null 2>&1)
node --max-old-space-size=4096 "$d/server/server.mjs" "$d/port" 2>"$d/server.log" &
SRV=$!
i=0; while [ ! -s "$d/port" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
BASE="http://127.0.0.1:$(cat "$d/port")"

load() { # N SEED: N synthetic patients PUT as batch Bundles
    "$sluice" synth --patients "$1" --no-dicom --seed "$2" -o "$d/syn" >/dev/null 2>&1
    for f in "$d"/syn/fhir/*.json; do
        jq -c '.type = "batch" | .entry |= map(. + {request: {method: "PUT",
            url: (.resource.resourceType + "/" + .resource.id)}})' "$f"
    done | while read -r b; do
        printf '%s' "$b" | curl -s -o /dev/null -X POST \
            -H 'content-type: application/fhir+json' --data-binary @- "$BASE/"
    done
    rm -rf "$d/syn"
}
total() {
    n=0
    for t in $TYPES; do
        n=$((n + $(curl -s "$BASE/$t?_summary=count" | jq -r .total)))
    done
    echo $n
}
pages() { # the URLs a pull asks for, as a curl config
    : >"$d/pages.cfg"
    for t in $TYPES; do
        u="$BASE/$t?_count=$page"
        while [ -n "$u" ] && [ "$u" != null ]; do
            printf 'url = "%s"\noutput = "/dev/null"\n' "$u" >>"$d/pages.cfg"
            u=$(curl -s "$u" | jq -r '[.link[]? | select(.relation == "next") | .url][0]')
        done
    done
}
cat >"$d/sluice.xml" <<EOC
<sluice xmlns="urn:sluice:config:1">
  <source id="ehr" type="fhir-rest" base="$BASE" page-size="$page">
    <resources>$TYPES</resources>
  </source>
</sluice>
EOC
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

measure() { # LABEL: RUNS turns of curl then sluice; medians, ratio, RSS
    pages
    np=$(grep -c '^url' "$d/pages.cfg")
    n=$(total)
    : >"$d/t.curl"; : >"$d/t.sluice"; : >"$d/rss"
    k=0
    while [ $k -lt "$runs" ]; do
        t0=$(now); curl -s -K "$d/pages.cfg"; t1=$(now)
        secs "$t0" "$t1" >>"$d/t.curl"
        rm -rf "$d/out" "$d/out.quarantine"
        t0=$(now)
        /usr/bin/time -f %M -o "$d/rss1" "$sluice" -c "$d/sluice.xml" -q pull --source ehr -o "$d/out" 2>/dev/null
        t1=$(now)
        secs "$t0" "$t1" >>"$d/t.sluice"
        cat "$d/rss1" >>"$d/rss"
        k=$((k + 1))
    done
    got=$(cat "$d"/out/*.ndjson | wc -l)
    c=$(median <"$d/t.curl"); s=$(median <"$d/t.sluice"); r=$(median <"$d/rss")
    awk -v l="$1" -v n="$n" -v g="$got" -v p="$np" -v c="$c" -v s="$s" -v r="$r" 'BEGIN {
        printf "%s: %d resources (%d pulled) in %d pages: curl %.3f s (%.0f/s), sluice pull %.3f s (%.0f/s): %.2fx curl; peak RSS %d KiB\n",
            l, n, g, p, c, n / c, s, n / s, c / s, r }'
}
echo "bench: $patients patients, page-size $page, median of $runs"
load "$patients" 1
measure "x1"
load $((patients * 9)) 2
measure "x10"

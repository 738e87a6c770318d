#!/bin/sh
# fhir-push.sh - throughput of the fhir-store target (`sluice push`) as a
# ratio against curl sending the same requests, side by side in one run:
# the same Bundles (transaction, BUNDLE entries, urn:uuid fullUrls and
# references rewritten as sluice makes them), the same concurrency, to the
# same real test FHIR server (tests/fhir-server, started fresh on
# 127.0.0.1 for every run so that each starts from an empty store). curl
# 7.88 runs as one process with --parallel --parallel-max CONC over a
# config file of the requests, reusing connections: the fastest a client
# can send them. Then the peak RSS of sluice as the input grows x10
# (it must stay flat: the input is streamed) at N / 10 and N.
# Usage: fhir-push.sh BUILDDIR [N] [CONC] [BUNDLE] (defaults 10000, 4, 50;
# the issue's measurement is N=100000). RUNS=R rounds (default 3), curl
# and sluice taking turns so that a drift of the machine's speed hits both.
# Needs node and npm (the server), python3 (the baseline's Bundles),
# curl and /usr/bin/time.
set -eu
build=$1 n=${2:-10000} conc=${3:-4} bsize=${4:-50} runs=${RUNS:-3}
src=$(cd "$(dirname "$0")/../.." && pwd)
sluice="$build/sluice"
d=$(mktemp -d "${TMPDIR:-/tmp}/sluice-push-bench.XXXXXX")
srv=
stop() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null || :; srv=; }
trap 'stop; rm -rf "$d"' EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

mkdir -p "$d/server"
cp "$src/tests/fhir-server/package.json" "$src/tests/fhir-server/package-lock.json" \
   "$src/tests/fhir-server/server.mjs" "$d/server/"
(cd "$d/server" && npm ci --no-audit --no-fund >/dev/null 2>&1)
start() {
    rm -f "$d/port"
    node --max-old-space-size=4096 "$d/server/server.mjs" "$d/port" 2>"$d/server.log" &
    srv=$!
    i=0
    while [ ! -s "$d/port" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
    BASE="http://127.0.0.1:$(cat "$d/port")"
}

# input COUNT DIR: COUNT synthetic resources as NDJSON, a Patient and
# four Observations that refer to it, repeated (fake data)
input() {
    mkdir -p "$2"
    awk -v n="$1" 'BEGIN {
        for (i = 0; i < n; i++) {
            p = int(i / 5)
            if (i % 5 == 0)
                printf "{\"resourceType\":\"Patient\",\"id\":\"p%d\",\"gender\":\"%s\",\"birthDate\":\"19%02d-0%d-1%d\",\"identifier\":[{\"system\":\"urn:oid:1.2.36.146.595.217.0.1\",\"value\":\"MRN%08d\"}]}\n", p, (p % 2 ? "male" : "female"), p % 100, p % 9 + 1, p % 10, p
            else
                printf "{\"resourceType\":\"Observation\",\"id\":\"o%d\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8867-4\",\"display\":\"Heart rate\"}]},\"subject\":{\"reference\":\"Patient/p%d\"},\"effectiveDateTime\":\"2024-01-0%dT10:00:00Z\",\"valueQuantity\":{\"value\":%d,\"unit\":\"/min\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"/min\"}}\n", i, p, i % 9 + 1, 60 + i % 40
        }
    }' >"$2/in.ndjson"
}

echo "bench: $n resources, Bundles of $bsize, $conc in flight, $runs rounds, in $d"
input "$n" "$d/in"
# the baseline's requests: the Bundles sluice makes (fullUrl = urn:uuid:
# UUID v5 of Type/id in the URL namespace, references to an entry of the
# same Bundle rewritten to it), one file each, and curl's config
mkdir -p "$d/bundles"
python3 - "$d/in/in.ndjson" "$d/bundles" "$bsize" <<'PY'
import json, sys, uuid
src, out, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
def flush(rs, k):
    if not rs:
        return
    full = {f"{r['resourceType']}/{r['id']}": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, r['resourceType'] + '/' + r['id'])}" for r in rs}
    def fix(v):
        if isinstance(v, dict):
            return {a: (full.get(b, b) if a == 'reference' and isinstance(b, str) else fix(b)) for a, b in v.items()}
        if isinstance(v, list):
            return [fix(x) for x in v]
        return v
    b = {'resourceType': 'Bundle', 'type': 'transaction', 'entry': [
        {'fullUrl': full[f"{r['resourceType']}/{r['id']}"], 'resource': fix(r),
         'request': {'method': 'PUT', 'url': f"{r['resourceType']}/{r['id']}"}} for r in rs]}
    with open(f'{out}/b{k:06d}.json', 'w') as f:
        json.dump(b, f, separators=(',', ':'))
rs, k = [], 0
for line in open(src):
    rs.append(json.loads(line))
    if len(rs) == size:
        flush(rs, k); rs, k = [], k + 1
flush(rs, k)
PY
curl_conf() { # BASE
    sep=
    for f in "$d"/bundles/b*.json; do
        printf '%surl = "%s/"\nrequest = "POST"\nheader = "Content-Type: application/fhir+json"\ndata-binary = "@%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nsilent\n' "$sep" "$1" "$f"
        sep='next
'
    done
}
cat >"$d/sluice.xml" <<EOC
<sluice xmlns="urn:sluice:config:1">
  <target id="store" type="fhir-store" base="http://127.0.0.1:1/" bundle="transaction"
          bundle-size="$bsize" concurrency="$conc"/>
</sluice>
EOC

# one round: curl, then sluice, each against a fresh server; wall time
# and the client's own CPU (user + sys) and peak RSS from /usr/bin/time
printf '%-6s %10s %10s %8s %10s %10s\n' round curl_s sluice_s ratio curl_cpu sluice_cpu
r=1
while [ $r -le "$runs" ]; do
    start
    curl_conf "$BASE" >"$d/curl.conf"
    t0=$(now)
    /usr/bin/time -f '%U %S %M' -o "$d/curl.time" curl -s --no-progress-meter --parallel --parallel-max "$conc" \
        --config "$d/curl.conf" >"$d/curl.codes"
    t1=$(now)
    bad=$(grep -vc '^20[01]$' "$d/curl.codes" || :)
    [ "$bad" -eq 0 ] || { echo "bench: curl got $bad non-2xx answers" >&2; exit 1; }
    stop
    start
    sed "s|base=\"[^\"]*\"|base=\"$BASE/\"|" "$d/sluice.xml" >"$d/run.xml"
    rm -rf "$d/q"
    t2=$(now)
    /usr/bin/time -f '%U %S %M' -o "$d/sluice.time" "$sluice" -c "$d/run.xml" -q push \
        --target store --quarantine "$d/q" "$d/in" 2>"$d/sluice.err"
    t3=$(now)
    got=$(curl -s "$BASE/Observation?_summary=count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
    stop
    [ "$got" -eq $((n - (n + 4) / 5)) ] || { echo "bench: sluice left $got Observations" >&2; exit 1; }
    tc=$(secs "$t0" "$t1") ts=$(secs "$t2" "$t3")
    printf '%-6s %10s %10s %8s %10s %10s\n' "$r" "$tc" "$ts" \
        "$(awk -v a="$tc" -v b="$ts" 'BEGIN { printf "%.3f", a / b }')" \
        "$(awk '{ printf "%.2f", $1 + $2 }' "$d/curl.time")" \
        "$(awk '{ printf "%.2f", $1 + $2 }' "$d/sluice.time")"
    r=$((r + 1))
done
echo "ratio = curl's time / sluice's time = sluice's throughput in curl's (>= 0.9 wanted)"
echo "peak RSS (KiB): curl $(awk '{print $3}' "$d/curl.time"), sluice $(awk '{print $3}' "$d/sluice.time") at $n resources"

# memory as the input grows x10 (N / 10, then N): sluice alone, a fresh
# server each
for m in $((n / 10)) "$n"; do
    [ "$m" -eq "$n" ] || input "$m" "$d/in10"
    dir=$d/in; [ "$m" -eq "$n" ] || dir=$d/in10
    start
    sed "s|base=\"[^\"]*\"|base=\"$BASE/\"|" "$d/sluice.xml" >"$d/run.xml"
    rm -rf "$d/q"
    /usr/bin/time -f '%U %S %M' -o "$d/mem.time" "$sluice" -c "$d/run.xml" -q push \
        --target store --quarantine "$d/q" "$dir" 2>>"$d/sluice.err"
    stop
    echo "sluice push of $m resources: peak RSS $(awk '{print $3}' "$d/mem.time") KiB"
done

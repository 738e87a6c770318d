#!/bin/sh
# fhir-bulk.sh - throughput of the fhir-bulk source as a ratio against
# curl doing the same requests, side by side (hyperfine, the two taking
# turns): a system $export from the Bulk Data test harness
# (tests/fhir-server/bulk.mjs, over the real Medplum server's data) on
# 127.0.0.1, then
#   A. `sluice run` of a job fhir-bulk -> fhir-files (kick-off, status,
#      the files downloaded DOWNLOADS at once, each line parsed, NDJSON
#      written, checkpoints in the state store);
#   B. curl: the same kick-off and status requests, then the same files
#      with --compressed, DOWNLOADS at once (xargs -P), written to disk.
# Then A again on 10 times the data, with the peak RSS of both sizes from
# /usr/bin/time (it must stay flat: the files are streamed, never held).
# Usage: fhir-bulk.sh BUILDDIR [PATIENTS] (default 1000, about 12
# resources each). Needs node and npm (the harness), jq, curl, hyperfine
# and /usr/bin/time.
set -eu
build=$1 patients=${2:-1000} downloads=${DOWNLOADS:-2}
src=$(cd "$(dirname "$0")/../.." && pwd)
sluice="$build/sluice"
d=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bulk-bench.XXXXXX")
hpid=
trap '[ -n "$hpid" ] && kill $hpid; rm -rf "$d"' EXIT
cp "$src/tests/fhir-server/package.json" "$src/tests/fhir-server/package-lock.json" \
    "$src/tests/fhir-server/bulk.mjs" "$d/"
(cd "$d" && npm ci --no-audit --no-fund >/dev/null 2>&1)

# start PATIENTS: a harness loaded with PATIENTS synthetic patients
start() {
    [ -n "$hpid" ] && kill $hpid && wait $hpid 2>/dev/null || true
    rm -f "$d/port"
    BULK_POLLS=0 BULK_FILE_MAX=10000 node --max-old-space-size=4096 \
        "$d/bulk.mjs" "$d/port" 2>"$d/harness.log" &
    hpid=$!
    while [ ! -s "$d/port" ]; do sleep 0.1; done
    base="http://127.0.0.1:$(cat "$d/port")"
    rm -rf "$d/syn"
    "$sluice" synth --patients "$1" --seed 1 -o "$d/syn" >/dev/null
    for f in "$d"/syn/fhir/*.json; do
        jq '{resourceType: "Bundle", type: "batch", entry: [.entry[] |
              {resource: .resource, request: {method: "PUT",
               url: (.resource.resourceType + "/" + .resource.id)}}]}' "$f"
    done | jq -s -c '{resourceType: "Bundle", type: "batch",
                      entry: [.[].entry[]]}' |
        curl -s -o /dev/null -X POST -H 'content-type: application/fhir+json' \
            --data-binary @- "$base/"
    cat >"$d/sluice.xml" <<EOC
<sluice xmlns="urn:sluice:config:1">
  <state path="state.db"/>
  <source id="bulk" type="fhir-bulk" base="$base" downloads="$downloads"/>
  <target id="f" type="fhir-files" path="out"/>
  <job id="b"><pull from="bulk" since="all"/><push to="f"/></job>
</sluice>
EOC
    cat >"$d/curl.sh" <<EOC
#!/bin/sh
set -e
loc=\$(curl -s -D - -o /dev/null -H 'Prefer: respond-async' \\
    -H 'Accept: application/fhir+json' \\
    "$base/\\\$export?_outputFormat=application%2Ffhir%2Bndjson" |
    tr -d '\\r' | sed -n 's/^content-location: //Ip')
curl -s "\$loc" >"$d/copy/manifest.json"
jq -r '.output[].url' "$d/copy/manifest.json" |
    xargs -P $downloads -I{} sh -c 'curl -s --compressed -o "$d/copy/\$(basename {})" {}'
EOC
    chmod +x "$d/curl.sh"
}
clean="rm -rf $d/out $d/state.db $d/state.db-wal $d/state.db-shm $d/copy; mkdir -p $d/copy"

start "$patients"
n=$(jq -r '.entry | length' "$d"/syn/fhir/*.json | awk '{s += $1} END {print s}')
echo "bench: $patients patients, $n resources, $downloads downloads at once"
hyperfine --warmup 1 --runs "${RUNS:-5}" --prepare "$clean" \
    --export-markdown "$d/bulk.md" \
    -n "curl (baseline)" "$d/curl.sh" \
    -n "sluice run (fhir-bulk)" "$sluice --config $d/sluice.xml -q run b --no-progress"
cat "$d/bulk.md"
sh -c "$clean"
/usr/bin/time -f '%M' -o "$d/rss1" "$sluice" --config "$d/sluice.xml" -q run b --no-progress >/dev/null
start $((patients * 10))
sh -c "$clean"
/usr/bin/time -f '%M' -o "$d/rss10" "$sluice" --config "$d/sluice.xml" -q run b --no-progress >/dev/null
echo "peak RSS: $(cat "$d/rss1") KiB for $patients patients, $(cat "$d/rss10") KiB for $((patients * 10))"

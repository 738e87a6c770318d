#!/bin/sh
# pacs-cohort.sh - what taking a PACS source's cohort from the job's FHIR
# source (studies="source:ehr") costs against the same job reading the
# cohort from a file (studies="FILE", the ImagingStudy lines a `sluice
# pull` would have written), side by side on one corpus:
#   A  sluice run, studies="cohort.ndjson"   (the baseline)
#   B  sluice run, studies="source:ehr"      (the FHIR source read twice)
# Both jobs pull the FHIR Bundles (fhir-files) and the studies they name
# from Orthanc 1.10 (127.0.0.1, in a private network namespace), deid
# basic, into dicom-folder and fhir-files targets. Corpus: `sluice synth
# --patients N` (default 50), every study in Orthanc, every ImagingStudy in
# the cohort.
# Measured: instructions of the sluice process (valgrind --tool=callgrind,
# Orthanc not counted), which do not depend on the machine's load; the
# ratio B/A is printed. With SL_BENCH_WALL=1, also hyperfine's wall-clock
# ratio (RUNS rounds).
# Usage: pacs-cohort.sh BUILDDIR [N] [RUNS]
# Needs valgrind, orthanc, dcmtk, jq, unshare (util-linux); hyperfine for
# SL_BENCH_WALL=1.
set -eu
if [ -z "${SL_BENCH_NETNS:-}" ]; then
    SL_BENCH_NETNS=1 exec unshare -n sh -c 'ip link set lo up && exec sh "$0" "$@"' "$0" "$@"
fi
build=$(cd "$1" && pwd) n=${2:-50} runs=${3:-5}
TCP_NODELAY=1
export TCP_NODELAY
sluice="$build/sluice"
for t in valgrind Orthanc storescu jq; do
    command -v $t >/dev/null 2>&1 || { echo "bench: needs $t" >&2; exit 1; }
done
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
d=$(mktemp -d "$base/sluice-cohort-bench.XXXXXX")
opid=
cleanup() {
    [ -n "$opid" ] && kill "$opid" 2>/dev/null && wait "$opid" 2>/dev/null
    rm -rf "$d"
}
trap cleanup EXIT INT TERM

"$sluice" synth --patients "$n" --seed 3 -o "$d/syn" >/dev/null 2>&1
"$sluice" keygen -o "$d/key" >/dev/null 2>&1
jq -c '.entry[].resource | select(.resourceType == "ImagingStudy")' \
    "$d"/syn/fhir/*.json >"$d/cohort.ndjson"
mkdir -p "$d/pacs/db"
cat >"$d/pacs/orthanc.json" <<EOJ
{ "Name": "bench", "StorageDirectory": "$d/pacs/db",
  "IndexDirectory": "$d/pacs/db", "DicomAet": "ORTHANC",
  "DicomPort": 4242, "HttpPort": 8042, "RemoteAccessAllowed": false,
  "DicomModalities": { "sluice": [ "SLUICE", "127.0.0.1", 11113 ] } }
EOJ
Orthanc "$d/pacs/orthanc.json" >"$d/pacs/log" 2>&1 &
opid=$!
i=0
until echoscu -aec ORTHANC 127.0.0.1 4242 >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 300 ] || { echo "bench: Orthanc did not start" >&2; exit 1; }
    sleep 0.1
done
storescu -aec ORTHANC +sd +r 127.0.0.1 4242 "$d/syn/dicom" >/dev/null 2>&1

mkjob() { # DIR STUDIES
    mkdir -p "$1"
    cat >"$1/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:$d/key"/>
  <state path="state/state.db"/>
  <quarantine path="quarantine"/>
  <source id="ehr" type="fhir-files" path="$d/syn/fhir"/>
  <source id="pacs" type="dimse" host="127.0.0.1" port="4242"
          called-ae="ORTHANC" calling-ae="SLUICE" studies="$2"/>
  <target id="dicom" type="dicom-folder" path="out/dicom"/>
  <target id="fhir" type="fhir-files" path="out/fhir"/>
  <job id="t"><pull from="ehr pacs" since="all"/><deid profile="basic"/>
    <push to="dicom fhir"/></job>
</sluice>
EOC
}
mkjob "$d/a" "$d/cohort.ndjson"
mkjob "$d/b" "source:ehr"
# one run under callgrind each, from an empty state and output
ir() { # DIR
    rm -rf "$1/state" "$1/out" "$1/quarantine" "$1/cg.out"
    valgrind --tool=callgrind --callgrind-out-file="$1/cg.out" \
        "$sluice" -c "$1/sluice.xml" -q -j 1 run t --no-progress \
        >/dev/null 2>"$1/cg.err" || true
    sed -n 's/^summary: //p' "$1/cg.out"
}
ia=$(ir "$d/a") ib=$(ir "$d/b")
na=$(find "$d/a/out/dicom" -name '*.dcm' | wc -l)
nb=$(find "$d/b/out/dicom" -name '*.dcm' | wc -l)
echo "corpus: $n patients, $(wc -l <"$d/cohort.ndjson") studies, $na / $nb instances delivered (A / B)"
echo "instructions (callgrind, sluice only): A $ia  B $ib"
awk -v a="$ia" -v b="$ib" 'BEGIN { printf "B/A: %.3f\n", b / a }'
if [ "${SL_BENCH_WALL:-0}" = 1 ] && command -v hyperfine >/dev/null 2>&1; then
    hyperfine -r "$runs" -w 1 \
        -p "rm -rf $d/a/state $d/a/out $d/b/state $d/b/out" \
        -n A "$sluice -c $d/a/sluice.xml -q run t --no-progress" \
        -n B "$sluice -c $d/b/sluice.xml -q run t --no-progress"
fi

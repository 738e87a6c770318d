#!/bin/sh
# bench.sh - `make bench`: sluice's throughput as ratios against baselines
# run side by side with hyperfine, never as absolute times in a test.
#   1. `sluice run` (files to files, checkpoints, state) vs `cp -r` of the
#      same input: the cost of the pipeline over a plain copy;
#   2. `sluice run -j 1` vs `-j N`: how the worker pool scales.
# Usage: bench.sh SLUICE [PATIENTS]  (default 2000 patients)
set -eu
sluice=$1
n=${2:-2000}
if ! command -v hyperfine >/dev/null 2>&1; then
    echo "bench: hyperfine is not installed (Debian: apt-get install hyperfine)" >&2
    exit 1
fi
d=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX")
trap 'rm -rf "$d"' EXIT
echo "bench: $n synthetic patients in $d"
"$sluice" synth --patients "$n" --seed 1 -o "$d/in" >/dev/null
cat >"$d/sluice.xml" <<EOC
<sluice xmlns="urn:sluice:config:1">
  <state path="state.db"/>
  <source id="ehr" type="fhir-files" path="in/fhir"/>
  <source id="pacs" type="dicom-folder" path="in/dicom"/>
  <target id="f" type="fhir-files" path="out/fhir"/>
  <target id="d" type="dicom-folder" path="out/dicom"/>
  <job id="b"><pull from="ehr pacs"/><push fhir="f" dicom="d"/></job>
</sluice>
EOC
clean="rm -rf $d/out $d/state.db* $d/quarantine $d/copy"
hyperfine --warmup 1 --runs 5 --prepare "$clean" \
    --export-markdown "$d/copy.md" \
    -n "cp -r (baseline)" "cp -r $d/in $d/copy" \
    -n "sluice run" "$sluice --config $d/sluice.xml -q run b --no-progress"
cores=$(nproc)
hyperfine --warmup 1 --runs 5 --prepare "$clean" \
    --export-markdown "$d/jobs.md" \
    -n "sluice run -j 1" "$sluice --config $d/sluice.xml -q -j 1 run b --no-progress" \
    -n "sluice run -j $cores" "$sluice --config $d/sluice.xml -q -j $cores run b --no-progress"
cat "$d/copy.md" "$d/jobs.md"

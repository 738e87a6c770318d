#!/bin/sh
# demo.sh SLUICE CONFIG DIR - the `make demo` tour: makes synthetic data with
# fake patient identifiers (plus two broken files, to show quarantine), runs
# the example job of CONFIG from files to files with SQLite state, and says
# where everything went. No server needed.
set -eu
sluice=$1
conf=$2
dir=$3

rm -rf "$dir"
mkdir -p "$dir"
cp "$conf" "$dir/sluice.xml"
mkdir -p "$dir/keys"
"$sluice" keygen -o "$dir/keys/pseudonym.key"
echo "== sluice demo in $dir"
echo "== 1. synthetic data: 20 patients (FHIR Bundles and DICOM studies)"
"$sluice" synth --patients 20 --seed 42 -o "$dir/input"
# Two broken inputs, as real exports have: a bad NDJSON line and a DICOM
# file cut short. Both must end in quarantine while the run goes on.
printf '%s\n%s\n' '{"resourceType":"Patient","id":"broken-demo-1"}' \
    '{"resourceType":"Observation", "id": ' >"$dir/input/fhir/zz-broken-export.ndjson"
first_dcm=$(find "$dir/input/dicom" -type f | sort | head -n 1)
head -c 1000 "$first_dcm" >"$dir/input/dicom/zz-truncated.dcm"

echo "== 2. check the configuration"
"$sluice" --config "$dir/sluice.xml" check-config
echo "== 3. what would happen (dry run)"
"$sluice" --config "$dir/sluice.xml" --quiet run demo --dry-run || [ $? -eq 3 ]
echo "== 4. run the job"
rc=0
"$sluice" --config "$dir/sluice.xml" run demo || rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
    echo "demo: the run failed (exit $rc)" >&2
    exit $rc
fi
echo "== 5. runs and quarantine"
"$sluice" --config "$dir/sluice.xml" runs
"$sluice" --config "$dir/sluice.xml" quarantine list
cat <<EOT

Done. Look at:
  configuration  $dir/sluice.xml
  input          $dir/input
  output         $dir/output    (de-identified: FHIR NDJSON per run, DICOM by pseudonym/study/series)
  key            $dir/keys/pseudonym.key (the same key gives the same pseudonyms)
  quarantine     $dir/quarantine (never inside the output)
  state          $dir/state/sluice.db (runs, checkpoints, quarantine, audit)
Try: sluice --config $dir/sluice.xml quarantine show ID --content
EOT

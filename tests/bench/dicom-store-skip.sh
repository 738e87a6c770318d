#!/bin/sh
# dicom-store-skip.sh - what the dicom-store target's skip-existing costs
# and saves, against Orthanc 1.10 on 127.0.0.1 in a private network
# namespace. The corpus is `sluice synth` (PATIENTS fake patients, a few
# small studies each: the worst case for a C-FIND per study), sent by a
# job with a dicom-folder source and no stage, side by side (hyperfine,
# RUNS rounds each):
#   first run, the node empty (every instance sent):
#     A  skip-existing="yes"  (one C-FIND per study, then the C-STOREs)
#     B  skip-existing="no"
#   re-run, the node holding everything:
#     C  skip-existing="yes"  (C-FINDs only, nothing sent)
#     D  skip-existing="no"   (everything sent again)
# Each run starts from a new state store; for A and B, Orthanc is emptied
# first (in hyperfine's --prepare, outside the timing).
# Usage: dicom-store-skip.sh BUILDDIR [PATIENTS] [RUNS]
# Needs hyperfine, orthanc, curl, jq, unshare (util-linux).
set -eu
if [ -z "${SL_BENCH_NETNS:-}" ]; then
    SL_BENCH_NETNS=1 exec unshare -n sh -c 'ip link set lo up && exec sh "$0" "$@"' "$0" "$@"
fi
build=$(cd "$1" && pwd) patients=${2:-30} runs=${3:-5}
TCP_NODELAY=1 # see pacs-retrieve.sh: Orthanc links the system DCMTK
export TCP_NODELAY
sluice="$build/sluice"
for t in hyperfine Orthanc curl jq; do
    command -v $t >/dev/null 2>&1 || { echo "bench: needs $t" >&2; exit 1; }
done
d=$(mktemp -d "${TMPDIR:-/tmp}/sluice-store-bench.XXXXXX")
opid=
trap '[ -n "$opid" ] && kill $opid; wait; rm -rf "$d"' EXIT
"$sluice" synth --patients "$patients" --seed 5 -o "$d/syn" >/dev/null
"$sluice" keygen -o "$d/key" >/dev/null
n=$(find "$d/syn/dicom" -type f | wc -l)
mkdir -p "$d/db"
cat >"$d/orthanc.json" <<EOJ
{ "Name": "bench", "StorageDirectory": "$d/db", "IndexDirectory": "$d/db",
  "DicomAet": "ORTHANC", "DicomPort": 4242, "HttpPort": 8042,
  "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
  "DicomModalities": { "sluice": [ "SLUICE", "127.0.0.1", 11113 ] } }
EOJ
Orthanc "$d/orthanc.json" >"$d/orthanc.log" 2>&1 &
opid=$!
i=0
until curl -sf http://127.0.0.1:8042/system >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 300 ] || { echo "bench: Orthanc did not start" >&2; exit 1; }
    sleep 0.1
done
for skip in yes no; do
    cat >"$d/$skip.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:$d/key"/>
  <state path="$d/state-$skip/state.db"/>
  <quarantine path="$d/q-$skip"/>
  <source id="in" type="dicom-folder" path="$d/syn/dicom"/>
  <target id="node" type="dicom-store" host="127.0.0.1" port="4242"
          called-ae="ORTHANC" skip-existing="$skip"/>
  <job id="t"><pull from="in"/><push to="node"/></job>
</sluice>
EOC
done
# empties Orthanc and the state stores (run before each A and B)
cat >"$d/reset.sh" <<EOR
rm -rf "$d/state-yes" "$d/state-no"
curl -sf http://127.0.0.1:8042/patients | jq -r '.[]' | while read -r p; do
    curl -sf -X DELETE "http://127.0.0.1:8042/patients/\$p" >/dev/null
done
[ "\$(curl -sf http://127.0.0.1:8042/statistics | jq .CountInstances)" = 0 ]
EOR
echo "corpus: $n instances, $patients patients"
hyperfine -N -r "$runs" -w 1 \
    --prepare "sh $d/reset.sh" \
    -n "A first run, skip-existing=yes" "$sluice -q -c $d/yes.xml run t --no-progress" \
    -n "B first run, skip-existing=no" "$sluice -q -c $d/no.xml run t --no-progress"
"$sluice" -q -c "$d/no.xml" run t --no-progress >/dev/null 2>&1 || true
echo "node holds $(curl -sf http://127.0.0.1:8042/statistics | jq .CountInstances) of $n"
hyperfine -N -r "$runs" -w 1 \
    --prepare "rm -rf $d/state-yes $d/state-no" \
    -n "C re-run, skip-existing=yes" "$sluice -q -c $d/yes.xml run t --no-progress" \
    -n "D re-run, skip-existing=no" "$sluice -q -c $d/no.xml run t --no-progress"

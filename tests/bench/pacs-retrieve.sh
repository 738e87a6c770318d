#!/bin/sh
# pacs-retrieve.sh - retrieving studies from a PACS (Orthanc 1.10, on
# 127.0.0.1 in a private network namespace) with the dimse source, side by
# side in one run with DCMTK's getscu and movescu doing the plain retrieve
# of the same studies (one C-GET or C-MOVE per study, as sluice does), all
# into tmpfs (/dev/shm) so disk write-back does not swamp the ratios:
#   A  sluice run: C-FIND, C-GET, deid (basic), dicom-folder
#   A2 sluice run: the same without <deid> (what retrieval alone costs)
#   A3 sluice run with retrieve="c-move"
#   B  getscu per study       C  movescu per study (to a storescp)
# Corpus: MB MiB (default 64, a quick run; the issue's figure is 2048) of
# 512x512 16-bit CT slices (512 KiB each), PER a study (default 50), made
# from a `sluice synth` instance by pydicom with new UIDs.
# Ratios are hyperfine's, RUNS rounds (default 5), each run into an empty
# folder (storescp overwrites its files). Then the peak RSS of A
# (/usr/bin/time): run it with two sizes and two PER, it must not grow
# with the size of the pull nor of a study. SL_BENCH_RSS_ONLY=1 skips the
# timings (the peak RSS only).
# Usage: pacs-retrieve.sh BUILDDIR [MB] [RUNS] [PER]
# Needs hyperfine, orthanc, dcmtk, python3-pydicom, unshare (util-linux).
set -eu
if [ -z "${SL_BENCH_NETNS:-}" ]; then
    SL_BENCH_NETNS=1 exec unshare -n sh -c 'ip link set lo up && exec sh "$0" "$@"' "$0" "$@"
fi
build=$(cd "$1" && pwd) mb=${2:-64} runs=${3:-5} per=${4:-50}
# DCMTK leaves Nagle's algorithm on unless TCP_NODELAY=1 (sluice sets it
# for itself): the same for Orthanc (Debian's links the system DCMTK),
# getscu, movescu and storescp, or they wait on delayed ACKs
TCP_NODELAY=1
export TCP_NODELAY
sluice="$build/sluice"
PY=${PYTHON:-/usr/bin/python3}
for t in hyperfine Orthanc getscu movescu storescp storescu; do
    command -v $t >/dev/null 2>&1 || { echo "bench: needs $t" >&2; exit 1; }
done
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
d=$(mktemp -d "$base/sluice-pacs-bench.XXXXXX")
opid=
scpid=
trap '[ -n "$opid" ] && kill $opid; [ -n "$scpid" ] && kill $scpid; wait; rm -rf "$d"' EXIT
"$sluice" synth --patients 1 --seed 3 -o "$d/syn" >/dev/null
"$sluice" keygen -o "$d/key" >/dev/null
n=$((mb * 2))
"$PY" - "$d" "$n" "$(find "$d/syn/dicom" -type f | head -n 1)" "$per" <<'PY'
import os, sys
import pydicom
from pydicom.uid import generate_uid
out, n, src, per = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
ds = pydicom.dcmread(src)
ds.Rows = ds.Columns = 512
ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
ds.PixelRepresentation = 0
os.makedirs(out + "/corpus", exist_ok=True)
pix = bytes((i * 7) & 0xFF for i in range(512 * 512 * 2))
for i in range(n):
    if i % per == 0:
        ds.StudyInstanceUID = generate_uid()
        ds.SeriesInstanceUID = generate_uid()
        ds.PatientID = "BENCH%04d" % (i // per)
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.InstanceNumber = i % per + 1
    ds.PixelData = pix
    ds.save_as("%s/corpus/%06d.dcm" % (out, i), write_like_original=False)
PY
cat >"$d/orthanc.json" <<EOJ
{ "Name": "bench", "StorageDirectory": "$d/orthanc", "IndexDirectory": "$d/orthanc",
  "DicomAet": "ORTHANC", "DicomPort": 4242, "HttpPort": 8042,
  "RemoteAccessAllowed": false, "StorageCompression": false,
  "DicomModalities": { "sluice": ["SLUICE", "127.0.0.1", 11113],
                       "scp": ["MOVESCP", "127.0.0.1", 11114] } }
EOJ
Orthanc "$d/orthanc.json" >"$d/orthanc.log" 2>&1 &
opid=$!
i=0
until echoscu -aec ORTHANC 127.0.0.1 4242 >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 300 ] || { echo "bench: Orthanc did not start" >&2; exit 1; }
    sleep 0.1
done
storescu -aec ORTHANC +sd +r 127.0.0.1 4242 "$d/corpus"
rm -rf "$d/corpus"
mkdir -p "$d/moved"
storescp -aet MOVESCP -od "$d/moved" 11114 >"$d/storescp.log" 2>&1 &
scpid=$!
findscu -v -S -aet SLUICE -aec ORTHANC -k QueryRetrieveLevel=STUDY -k StudyInstanceUID \
    127.0.0.1 4242 2>&1 | sed -n 's/.*(0020,000d) UI \[\([0-9.]*\)\].*/\1/p' | sort -u >"$d/studies"
echo "bench: $n instances ($mb MiB) in $(wc -l <"$d/studies") studies"
cat >"$d/get.sh" <<EOS
mkdir -p "\$1"
while read -r u; do
    getscu -S -aet SLUICE -aec ORTHANC -od "\$1" -k QueryRetrieveLevel=STUDY -k StudyInstanceUID=\$u 127.0.0.1 4242
done <"$d/studies"
EOS
cat >"$d/move.sh" <<EOS
while read -r u; do
    movescu -S -aet SLUICE -aec ORTHANC -aem MOVESCP -k QueryRetrieveLevel=STUDY -k StudyInstanceUID=\$u 127.0.0.1 4242
done <"$d/studies"
EOS
for v in deid plain move; do
    extra='<deid profile="basic"/>' retr=
    [ $v = plain ] && extra=
    [ $v = move ] && retr='retrieve="c-move" listen-port="11113"'
    mkdir -p "$d/$v"
    cat >"$d/$v/sluice.xml" <<EOC
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:$d/key"/>
  <state path="state/state.db"/>
  <quarantine path="quarantine"/>
  <source id="pacs" type="dimse" host="127.0.0.1" port="4242" called-ae="ORTHANC" $retr/>
  <target id="out" type="dicom-folder" path="out" layout="flat"/>
  <job id="b"><pull from="pacs"/>$extra<push to="out"/></job>
</sluice>
EOC
done
clean="rm -rf $d/deid/out $d/deid/state $d/plain/out $d/plain/state $d/move/out $d/move/state $d/got"
[ "${SL_BENCH_RSS_ONLY:-0}" = 1 ] ||
hyperfine --warmup 1 --runs "$runs" --prepare "$clean" --export-markdown "$d/r.md" -N \
    -n "getscu per study" "sh $d/get.sh $d/got" \
    -n "movescu per study" "sh $d/move.sh" \
    -n "sluice run (C-GET + deid)" "$sluice -c $d/deid/sluice.xml -q run b --no-progress" \
    -n "sluice run (C-GET, no stage)" "$sluice -c $d/plain/sluice.xml -q run b --no-progress" \
    -n "sluice run (C-MOVE + deid)" "$sluice -c $d/move/sluice.xml -q run b --no-progress"
[ "${SL_BENCH_RSS_ONLY:-0}" = 1 ] || cat "$d/r.md"
sh -c "$clean"
/usr/bin/time -f "peak RSS of sluice run (C-GET + deid), $mb MiB, $per a study: %M KiB" \
    "$sluice" -c "$d/deid/sluice.xml" -q run b --no-progress

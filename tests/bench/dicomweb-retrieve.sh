#!/bin/sh
# dicomweb-retrieve.sh - retrieving studies from a PACS by DICOMweb
# (Orthanc 1.10 with its DICOMweb plugin, on 127.0.0.1 in a private
# network namespace) with the dicomweb source, side by side in one run
# with curl doing the plain WADO-RS retrieve of the same studies (one GET
# per study, the multipart answer written as it comes, not split), all
# into tmpfs (/dev/shm) so disk write-back does not swamp the ratios:
#   A  sluice run: QIDO-RS, WADO-RS, dicom-folder (no stage)
#   A2 sluice run: the same with <deid profile="basic">
#   B  curl per study (WADO-RS, Accept multipart/related; transfer-syntax=*)
#   C  sluice run: the dimse source by C-GET, no stage (the other protocol)
# Corpus: MB MiB (default 128) of 512x512 16-bit CT slices (512 KiB each),
# 50 a study, made from a `sluice synth` instance by pydicom with new UIDs.
# Ratios are hyperfine's, RUNS rounds (default 5), each run into an empty
# folder. Then the peak RSS of A2 (/usr/bin/time): run it with two sizes,
# it must not grow with the size of the pull.
# Usage: dicomweb-retrieve.sh BUILDDIR [MB] [RUNS]
# Needs hyperfine, orthanc, orthanc-dicomweb, dcmtk, curl, jq,
# python3-pydicom, unshare (util-linux).
set -eu
if [ -z "${SL_BENCH_NETNS:-}" ]; then
    SL_BENCH_NETNS=1 exec unshare -n sh -c 'ip link set lo up && exec sh "$0" "$@"' "$0" "$@"
fi
build=$(cd "$1" && pwd) mb=${2:-128} runs=${3:-5}
TCP_NODELAY=1 # as in pacs-retrieve.sh: Orthanc's DCMTK and storescu
export TCP_NODELAY
sluice="$build/sluice"
PY=${PYTHON:-/usr/bin/python3}
for t in hyperfine Orthanc storescu curl jq; do
    command -v $t >/dev/null 2>&1 || { echo "bench: needs $t" >&2; exit 1; }
done
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
d=$(mktemp -d "$base/sluice-dicomweb-bench.XXXXXX")
opid=
trap '[ -n "$opid" ] && kill $opid; wait; rm -rf "$d"' EXIT
"$sluice" synth --patients 1 --seed 3 -o "$d/syn" >/dev/null
"$sluice" keygen -o "$d/key" >/dev/null
n=$((mb * 2))
"$PY" - "$d" "$n" "$(find "$d/syn/dicom" -type f | head -n 1)" <<'PY'
import os, sys
import pydicom
from pydicom.uid import generate_uid
out, n, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ds = pydicom.dcmread(src)
ds.Rows = ds.Columns = 512
ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
ds.PixelRepresentation = 0
os.makedirs(out + "/corpus", exist_ok=True)
pix = bytes((i * 7) & 0xFF for i in range(512 * 512 * 2))
for i in range(n):
    if i % 50 == 0:
        ds.StudyInstanceUID = generate_uid()
        ds.SeriesInstanceUID = generate_uid()
        ds.PatientID = "BENCH%04d" % (i // 50)
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.InstanceNumber = i % 50 + 1
    ds.PixelData = pix
    ds.save_as("%s/corpus/%06d.dcm" % (out, i), write_like_original=False)
PY
cat >"$d/orthanc.json" <<EOJ
{ "Name": "bench", "StorageDirectory": "$d/orthanc", "IndexDirectory": "$d/orthanc",
  "DicomAet": "ORTHANC", "DicomPort": 4242, "HttpPort": 8042,
  "RemoteAccessAllowed": false, "StorageCompression": false,
  "Plugins": [ "/usr/share/orthanc/plugins/libOrthancDicomWeb.so" ],
  "DicomWeb": { "Enable": true, "Root": "/dicom-web/" },
  "DicomModalities": { "sluice": ["SLUICE", "127.0.0.1", 11113] } }
EOJ
Orthanc "$d/orthanc.json" >"$d/orthanc.log" 2>&1 &
opid=$!
i=0
until curl -sf http://127.0.0.1:8042/system >/dev/null 2>&1 &&
      echoscu -aec ORTHANC 127.0.0.1 4242 >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 300 ] || { echo "bench: Orthanc did not start" >&2; exit 1; }
    sleep 0.1
done
storescu -aec ORTHANC +sd +r 127.0.0.1 4242 "$d/corpus"
rm -rf "$d/corpus"
curl -sf 'http://127.0.0.1:8042/dicom-web/studies?limit=100000' |
    jq -r '.[]["0020000D"].Value[0]' >"$d/studies"
echo "bench: $n instances ($mb MiB) in $(wc -l <"$d/studies") studies"
cat >"$d/curl.sh" <<EOS
mkdir -p "\$1"
while read -r u; do
    curl -sf -H 'Accept: multipart/related; type="application/dicom"; transfer-syntax=*' \
        -o "\$1/\$u.multipart" "http://127.0.0.1:8042/dicom-web/studies/\$u"
done <"$d/studies"
EOS
for v in web webdeid get; do
    extra= src='type="dicomweb" base="http://127.0.0.1:8042/dicom-web"'
    [ $v = webdeid ] && extra='<deid profile="basic"/>'
    [ $v = get ] && src='type="dimse" host="127.0.0.1" port="4242" called-ae="ORTHANC"'
    mkdir -p "$d/$v"
    cat >"$d/$v/sluice.xml" <<EOC
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:$d/key"/>
  <state path="state/state.db"/>
  <quarantine path="quarantine"/>
  <source id="pacs" $src/>
  <target id="out" type="dicom-folder" path="out" layout="flat"/>
  <job id="b"><pull from="pacs"/>$extra<push to="out"/></job>
</sluice>
EOC
done
clean="rm -rf $d/web/out $d/web/state $d/webdeid/out $d/webdeid/state $d/get/out $d/get/state $d/got"
hyperfine --warmup 1 --runs "$runs" --prepare "$clean" --export-markdown "$d/r.md" -N \
    -n "curl WADO-RS per study" "sh $d/curl.sh $d/got" \
    -n "sluice run (dicomweb, no stage)" "$sluice -c $d/web/sluice.xml -q run b --no-progress" \
    -n "sluice run (dicomweb + deid)" "$sluice -c $d/webdeid/sluice.xml -q run b --no-progress" \
    -n "sluice run (dimse C-GET, no stage)" "$sluice -c $d/get/sluice.xml -q run b --no-progress"
cat "$d/r.md"
sh -c "$clean"
/usr/bin/time -f "peak RSS of sluice run (dicomweb + deid), $mb MiB: %M KiB" \
    "$sluice" -c "$d/webdeid/sluice.xml" -q run b --no-progress

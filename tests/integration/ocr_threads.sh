#!/bin/sh
# ocr_threads.sh - OCR never runs more threads than --jobs (issue 11):
# Tesseract's OpenMP would start a team per core in every engine; sluice
# limits each engine to its own thread, whatever OMP_NUM_THREADS and
# OMP_THREAD_LIMIT say. Six 1024x768 captures with text (rendered with
# ImageMagick and Debian's DejaVu font, wrapped with pydicom) go through
# `sluice deid -j N` while the process's thread count is sampled from
# /proc: it never exceeds N workers plus sluice's main and reader
# threads (an OpenMP team of four would add three per engine).
. "${top_srcdir}/tests/integration/lib.sh"
F=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
PY=/usr/bin/python3
if ! command -v convert >/dev/null 2>&1 || [ ! -f "$F" ] ||
    ! $PY -c 'import pydicom' 2>/dev/null || [ ! -d /proc/self ]; then
    echo "1..0 # SKIP needs ImageMagick, fonts-dejavu-core, python3-pydicom and /proc"
    exit 0
fi
SLUICE_PROFILE_DIR="$top_srcdir/profiles/deid"; export SLUICE_PROFILE_DIR
plan 3
sluice keygen >"$T/key"
cat >"$T/ocr.xml" <<'XEOF'
<?xml version="1.0" encoding="UTF-8"?>
<profile xmlns="urn:sluice:deid:1" name="ocr-test" version="1" extends="basic">
  <dicom clean-pixel-data="ocr"/>
</profile>
XEOF
convert -size 1024x768 xc:gray60 -font "$F" -pointsize 22 -fill black \
    -annotate +300+400 'Wexford Infirmary' -pointsize 10 -fill white \
    -annotate +6+760 'QUIMBY 2023/01/05' -depth 8 "$T/sc.pgm"
mkdir -p "$T/in"
$PY - "$T/sc.pgm" "$T/in" <<'PYEOF'
import sys, warnings
warnings.simplefilter("ignore")
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
data = open(sys.argv[1], "rb").read()
parts = data.split(maxsplit=4)
w, h = int(parts[1]), int(parts[2])
for i in range(6):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientName, ds.PatientID = "OT", "QUIMBY^ZANZIBAR", "48213377"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = h, w, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelRepresentation, ds.BitsAllocated, ds.BitsStored, ds.HighBit = 0, 8, 8, 7
    ds.PixelData = parts[4][:w * h]
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as("%s/%d.dcm" % (sys.argv[2], i), write_like_original=False)
PYEOF
# most JOBS: the largest thread count of `sluice deid -j JOBS` (sampled)
most() {
    rm -rf "$T/out" "$T/q"
    OMP_NUM_THREADS=4 OMP_THREAD_LIMIT=8 $SLUICE deid -j "$1" \
        --profile "$T/ocr.xml" --key-file "$T/key" -o "$T/out" \
        --quarantine "$T/q" "$T/in" >"$T/deid$1.out" 2>&1 &
    pid=$!
    max=0
    while kill -0 $pid 2>/dev/null; do
        t=$(awk '/^Threads:/ { print $2 }' /proc/$pid/status 2>/dev/null)
        [ -n "$t" ] && [ "$t" -gt "$max" ] && max=$t
        sleep 0.01
    done
    wait $pid
    echo "$? $max"
}
r1=$(most 1)
diag "-j 1: exit and most threads: $r1"
check "-j 1 with OMP_NUM_THREADS=4: every capture de-identified" \
    sh -c "[ '${r1% *}' = 0 ] && [ \$(find '$T/out' -name '*.dcm' | wc -l) = 6 ]"
check "-j 1: never more than 3 threads (main, reader, one worker)" \
    [ "${r1#* }" -le 3 ]
r2=$(most 2)
diag "-j 2: exit and most threads: $r2"
check "-j 2: never more than 4 threads" \
    sh -c "[ '${r2% *}' = 0 ] && [ '${r2#* }' -le 4 ]"
finish

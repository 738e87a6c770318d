#!/bin/sh
# burnedin_cine.sh - burned-in text in a long cine (issue 11): under
# clean-pixel-data="ocr" `sluice deid` reads a sample of the frames (8
# spread over the loop, the first and last among them) and then only the
# frames whose text layout is not covered by the boxes found so far
# (docs/deid.md, "Multi-frame"). The fixture is made here: 24 frames of
# an ultrasound-like loop whose background moves, rendered with
# ImageMagick and Debian's DejaVu font (fonts-dejavu-core, Bitstream Vera
# licence) and wrapped into DICOM with pydicom; nothing downloaded. Every
# frame carries the patient's name and a clock that ticks (same place,
# other digits); frame 14 alone adds the patient ID elsewhere and frame
# 17 alone a longer line (the accession after the name): neither is in
# the sample. Asserted: fewer frames are read than the loop has, frames
# 14 and 17 among them (--explain names their attributes there); OCR of
# every frame of the output finds none of the words, clock included;
# `sluice inspect-pixels` (a review) still reads every frame.
. "${top_srcdir}/tests/integration/lib.sh"
F=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
PY=/usr/bin/python3
if ! command -v convert >/dev/null 2>&1 || [ ! -f "$F" ] ||
    ! $PY -c 'import pydicom' 2>/dev/null; then
    echo "1..0 # SKIP needs ImageMagick, fonts-dejavu-core and python3-pydicom"
    exit 0
fi
SLUICE_PROFILE_DIR="$top_srcdir/profiles/deid"; export SLUICE_PROFILE_DIR
plan 7
sluice keygen >"$T/key"
cat >"$T/ocr.xml" <<'XEOF'
<?xml version="1.0" encoding="UTF-8"?>
<profile xmlns="urn:sluice:deid:1" name="ocr-test" version="1" extends="basic">
  <dicom clean-pixel-data="ocr"/>
</profile>
XEOF
N=24
i=0
frames=
while [ $i -lt $N ]; do
    fr=$((i + 1))
    line='QUIMBY ZANZIBAR'
    [ $fr = 17 ] && line='QUIMBY ZANZIBAR ACC77102'
    set -- -pointsize 12 -fill white -annotate +10+20 "$line" \
        -annotate +250+20 "$(printf '12:04:%02d' $((i * 2)))"
    [ $fr = 14 ] && set -- "$@" -annotate +200+225 'ID 48213377'
    # a soft bright blob that moves across a dark sector, frame by frame
    convert -size 320x240 gradient:gray5-gray30 \
        -fill gray45 -draw "circle $((60 + i * 8)),140 $((90 + i * 8)),140" \
        -blur 0x8 -font "$F" "$@" -depth 8 "$T/f$fr.pgm"
    frames="$frames $T/f$fr.pgm"
    i=$((i + 1))
done
mkdir -p "$T/in"
$PY - "$T/in/cine.dcm" $frames <<'PYEOF'
import sys, warnings
warnings.simplefilter("ignore")
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
def pnm(name):
    data = open(name, "rb").read()
    parts = data.split(maxsplit=3)
    w, h = int(parts[1]), int(parts[2])
    # the samples end the file (a sample may look like white space)
    return w, h, data[len(data) - w * h:]
fr = [pnm(f) for f in sys.argv[2:]]
ds = Dataset()
ds.file_meta = FileMetaDataset()
ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.3.1"
ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
ds.SOPInstanceUID = generate_uid()
ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
ds.Modality = "US"
ds.PatientName, ds.PatientID = "QUIMBY^ZANZIBAR", "48213377"
ds.AccessionNumber = "ACC77102"
ds.Rows, ds.Columns = fr[0][1], fr[0][0]
ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
ds.PixelRepresentation = 0
ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
ds.NumberOfFrames = len(fr)
ds.PixelData = b"".join(f[2] for f in fr)
ds.is_little_endian, ds.is_implicit_VR = True, False
ds.save_as(sys.argv[1], write_like_original=False)
PYEOF

sluice deid --profile "$T/ocr.xml" --key-file "$T/key" -o "$T/out" \
    --quarantine "$T/q" --explain "$T/in" >"$T/deid.out" 2>"$T/deid.err"
rc=$?
out=$(find "$T/out" -name '*.dcm' | head -n 1)
check "a 24-frame cine is de-identified (exit 0)" \
    sh -c "[ $rc = 0 ] && [ -n '$out' ]"
nread=$(sed -n 's/.*24 frame(s), \([0-9]*\) read by OCR.*/\1/p' "$T/deid.out")
diag "frames read by OCR: ${nread:-all}"
check "a sample and the frames whose layout differs are read: 11 to 14 of 24" \
    sh -c "[ -n '$nread' ] && [ '$nread' -ge 11 ] && [ '$nread' -le 14 ]"
check "the ID that only frame 14 shows is found and blanked there" \
    grep -q 'text matching PatientID found and blanked in frame 14$' "$T/deid.out"
check "the longer line of frame 17 is read: its accession found there" \
    grep -q 'text matching AccessionNumber found and blanked in frame 17$' "$T/deid.out"
sluice inspect-pixels --show-text --min-confidence 0 "$out" >"$T/after.insp" 2>&1
check "OCR of every frame of the output finds no word, the clock included" \
    sh -c "grep -q '^file 1: 24 frame(s)' '$T/after.insp' && ! grep -i -e QUIMBY -e ZANZIBAR -e 48213377 -e ACC77102 -e '12:04' -e 'text \"[0-9:]\\{4,\\}' '$T/after.insp'"
sluice inspect-pixels "$T/in/cine.dcm" >"$T/in.insp" 2>&1
every_frame() {
    i=1
    while [ $i -le $N ]; do
        grep -q "^  frame $i: " "$T/in.insp" || return 1
        i=$((i + 1))
    done
}
check "inspect-pixels reads every frame: boxes listed in all 24" every_frame
check "--explain and the log never show the text" \
    sh -c "! grep -q -i -e QUIMBY -e ZANZIBAR -e 48213377 -e ACC77102 '$T/deid.out' '$T/deid.err'"
finish

#!/bin/sh
# burnedin.sh - the cost of clean-pixel-data="ocr" (issue 11), measured
# with `sluice deid`, the command a user runs:
#   - OCR throughput, instances per second, on N 512x512 ultrasound frames
#     (8-bit grey) and N 1024x768 RGB screen captures, each with a few
#     overlay words (sluice runs each OCR engine in one thread itself);
#   - a mixed study: CT CT_N 512x512 16-bit slices and CAP_N captures
#     (under 5% of the instances), `sluice deid` with basic (the captures
#     go to quarantine) and with the option (they are OCR'd and blanked),
#     side by side.
# Images are rendered with ImageMagick (DejaVu) and wrapped with pydicom.
# Measures; never fails on a timing. docs/deid.md quotes its output.
# Usage: burnedin.sh BUILDDIR SRCDIR [N] [CT_N] [CAP_N]
set -eu
PY=${PYTHON:-/usr/bin/python3}
build=$1 src=$2 n=${3:-20} ct_n=${4:-200} cap_n=${5:-8}
sluice="$build/sluice"
F=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
SLUICE_PROFILE_DIR="$src/profiles/deid"
export SLUICE_PROFILE_DIR
d=$(mktemp -d "${TMPDIR:-/tmp}/sluice-ocr-bench.XXXXXX")
trap 'rm -rf "$d"' EXIT
"$sluice" keygen >"$d/key"
cat >"$d/ocr.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<profile xmlns="urn:sluice:deid:1" name="ocr-bench" version="1" extends="basic">
  <dicom clean-pixel-data="ocr"/>
</profile>
EOF
convert -size 512x512 gradient:gray10-gray40 -font "$F" -pointsize 11 \
    -fill white -annotate +8+16 'QUIMBY ZANZIBAR' \
    -annotate +380+500 'ID 48213377' -depth 8 "$d/us.pgm"
convert -size 1024x768 xc:gray60 -type TrueColor -font "$F" -pointsize 22 \
    -fill black -annotate +300+400 'Wexford Infirmary' -pointsize 10 \
    -fill white -annotate +6+760 'QUIMBY 2023/01/05' -depth 8 "$d/sc.ppm"
# make KIND IMAGE COUNT DIR [STUDY]: COUNT instances of IMAGE (ct: a
# 512x512 16-bit slice of noise) in DIR, one study.
$PY - "$d" "$n" "$ct_n" "$cap_n" <<'PYEOF'
import os, random, sys, warnings
warnings.simplefilter("ignore")
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
d, n, ct_n, cap_n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def pnm(name):
    data = open(name, "rb").read()
    parts = data.split(maxsplit=4)
    w, h = int(parts[1]), int(parts[2])
    spp = 3 if parts[0] == b"P6" else 1
    return w, h, spp, parts[4][:w * h * spp]
def save(path, cls, mod, w, h, spp, bits, px, study, series):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = cls
    ds.SOPClassUID = cls
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.Modality = mod
    ds.PatientName, ds.PatientID = "QUIMBY^ZANZIBAR", "48213377"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = h, w, spp
    ds.PhotometricInterpretation = "RGB" if spp == 3 else "MONOCHROME2"
    if spp == 3:
        ds.PlanarConfiguration = 0
    ds.PixelRepresentation = 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = (16, 12, 11) if bits == 16 else (8, 8, 7)
    ds.PixelData = px
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(path, write_like_original=False)
US, SC, CT = ("1.2.840.10008.5.1.4.1.1.6.1", "1.2.840.10008.5.1.4.1.1.7",
              "1.2.840.10008.5.1.4.1.1.2")
us, sc = pnm(d + "/us.pgm"), pnm(d + "/sc.ppm")
for sub in ("us", "sc", "mixed"):
    os.makedirs(d + "/" + sub)
st, se = generate_uid(), generate_uid()
for i in range(n):
    save("%s/us/%d.dcm" % (d, i), US, "US", us[0], us[1], 1, 8, us[3], st, se)
    save("%s/sc/%d.dcm" % (d, i), SC, "OT", sc[0], sc[1], 3, 8, sc[3], st, se)
rnd = random.Random(1)
slice_px = bytes(rnd.getrandbits(8) & (0x0F if k % 2 else 0xFF) for k in range(512 * 512 * 2))
st, ct_se, cap_se = generate_uid(), generate_uid(), generate_uid()
for i in range(ct_n):
    save("%s/mixed/ct%d.dcm" % (d, i), CT, "CT", 512, 512, 1, 16, slice_px, st, ct_se)
for i in range(cap_n):
    save("%s/mixed/sc%d.dcm" % (d, i), SC, "OT", sc[0], sc[1], 3, 8, sc[3], st, cap_se)
PYEOF
# run LABEL DIR PROFILE [ENV]: seconds of one `sluice deid`
run() {
    rm -rf "$d/out" "$d/q"
    t0=$(date +%s.%N)
    env $4 "$sluice" deid --profile "$3" --key-file "$d/key" -o "$d/out" \
        --quarantine "$d/q" "$2" >/dev/null 2>&1 || true
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
for set in us sc; do
    s=$(run $set "$d/$set" "$d/ocr.xml" "")
    printf '%s: %d instances: %.2f s, %.2f instances/s\n' \
        "$set" "$n" "$s" "$(echo "$n / $s" | bc -l)"
done
b=$(run basic "$d/mixed" basic "")
o=$(run ocr "$d/mixed" "$d/ocr.xml" "")
printf 'mixed study (%d CT + %d captures): basic %.2f s, clean-pixel-data=ocr %.2f s (+%.0f%%)\n' \
    "$ct_n" "$cap_n" "$b" "$o" "$(echo "100 * ($o - $b) / $b" | bc -l)"

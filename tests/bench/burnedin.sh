#!/bin/sh
# burnedin.sh - the cost of clean-pixel-data="ocr" (issue 11), measured
# with `sluice deid`, the command a user runs:
#   - OCR throughput, instances per second, on N 512x512 ultrasound frames
#     (8-bit grey) and N 1024x768 RGB screen captures, each with a few
#     overlay words (sluice runs each OCR engine in one thread itself);
#   - a mixed study: CT CT_N 512x512 16-bit slices and CAP_N captures
#     (under 5% of the instances), `sluice deid` with basic (the captures
#     go to quarantine) and with the option (they are OCR'd and blanked),
#     side by side, PAIRS times alternated: CPU time (from wait4) and
#     wall time, medians and the ratio pair by pair;
#   - the same on the CT slices alone (the option, with nothing to read).
# Images are rendered with ImageMagick (DejaVu) and wrapped with pydicom.
# Measures; never fails on a timing. docs/deid.md quotes its output.
# Usage: burnedin.sh BUILDDIR SRCDIR [N] [CT_N] [CAP_N] [PAIRS]
set -eu
PY=${PYTHON:-/usr/bin/python3}
build=$1 src=$2 n=${3:-20} ct_n=${4:-200} cap_n=${5:-8} PAIRS=${6:-5}
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
for sub in ("us", "sc", "mixed", "ct"):
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
    os.link("%s/mixed/ct%d.dcm" % (d, i), "%s/ct/ct%d.dcm" % (d, i))
for i in range(cap_n):
    save("%s/mixed/sc%d.dcm" % (d, i), SC, "OT", sc[0], sc[1], 3, 8, sc[3], st, cap_se)
PYEOF
# run DIR PROFILE: "CPU WALL" seconds of one `sluice deid` (CPU: user +
# system time of the process and its threads, from wait4, which the
# machine's load hardly changes; wall: noisy on a shared machine).
run() {
    rm -rf "$d/out" "$d/q"
    $PY - "$sluice" "$2" "$d" "$1" <<'PYEOF'
import os, sys, time
sl, prof, d, src = sys.argv[1:5]
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.execv(sl, [sl, "deid", "--profile", prof, "--key-file", d + "/key",
                  "-o", d + "/out", "--quarantine", d + "/q", src])
_, _, ru = os.wait4(pid, 0)
print("%.3f %.3f" % (ru.ru_utime + ru.ru_stime, time.monotonic() - t0))
PYEOF
}
for set in us sc; do
    r=$(run "$d/$set" "$d/ocr.xml")
    printf '%s: %d instances: %.2f s CPU (%.1f instances/s), %.2f s wall\n' \
        "$set" "$n" "${r% *}" "$(echo "$n / ${r% *}" | bc -l)" "${r#* }"
done
# pairs LABEL DIR: PAIRS runs of `basic` and of the option, alternated;
# the medians of each and of the ratios option/basic pair by pair.
pairs() {
    : >"$d/pairs"
    i=0
    while [ $i -lt "$PAIRS" ]; do
        echo "$(run "$2" basic) $(run "$2" "$d/ocr.xml")" >>"$d/pairs"
        i=$((i + 1))
    done
    $PY - "$1" "$d/pairs" <<'PYEOF'
import statistics as st, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[2])]
med = lambda k: st.median(r[k] for r in rows)
ratio = lambda a, b: st.median(r[b] / r[a] for r in rows)
print("%s, %d pairs, medians: basic %.2f s CPU (%.2f wall), "
      "clean-pixel-data=ocr %.2f s CPU (%.2f wall); option/basic %.2f CPU, "
      "%.2f wall" % (sys.argv[1], len(rows), med(0), med(1), med(2), med(3),
                     ratio(0, 2), ratio(1, 3)))
PYEOF
}
pairs "mixed study ($ct_n CT + $cap_n captures)" "$d/mixed"
pairs "plain CT ($ct_n slices, no capture)" "$d/ct"

#!/bin/sh
# burnedin_layouts.sh - burned-in text (issue 11) in the pixel layouts a
# viewer must turn into grey before OCR and that blanking must write
# back in their own terms: MONOCHROME1 (inverted), PALETTE COLOR (whose
# darkest entry is not index 0 here), YBR_FULL_422 native (a pair of
# pixels shares its colour), RGB with Planar Configuration 1, and a
# 4-frame cine with text in frames 1 and 3 only. Fixtures are made here:
# text rendered with ImageMagick and Debian's DejaVu font (fonts-dejavu-
# core, Bitstream Vera licence), wrapped into DICOM with pydicom; nothing
# downloaded. Asserted: every planted word is found where it was put;
# `sluice deid` with clean-pixel-data="ocr" de-identifies all five; OCR of
# every output finds none of the words; the blanked samples hold the
# value a viewer shows as black in that layout; every sample outside the
# boxes (grown by the margin, and to whole pairs under 4:2:2) is
# unchanged, in every frame.
. "${top_srcdir}/tests/integration/lib.sh"
F=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
PY=/usr/bin/python3
if ! command -v convert >/dev/null 2>&1 || [ ! -f "$F" ] ||
    ! $PY -c 'import pydicom' 2>/dev/null; then
    echo "1..0 # SKIP needs ImageMagick, fonts-dejavu-core and python3-pydicom"
    exit 0
fi
SLUICE_PROFILE_DIR="$top_srcdir/profiles/deid"; export SLUICE_PROFILE_DIR
plan 14
sluice keygen >"$T/key"
cat >"$T/ocr.xml" <<'XEOF'
<?xml version="1.0" encoding="UTF-8"?>
<profile xmlns="urn:sluice:deid:1" name="ocr-test" version="1" extends="basic">
  <dicom clean-pixel-data="ocr"/>
</profile>
XEOF
# make.py KIND OUT IMAGE...: a native DICOM file of layout KIND.
cat >"$T/make.py" <<'PYEOF'
import sys, warnings
warnings.simplefilter("ignore")
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

def pnm(name):
    data = open(name, "rb").read()
    parts = data.split(maxsplit=4)
    w, h = int(parts[1]), int(parts[2])
    spp = 3 if parts[0] == b"P6" else 1
    return w, h, spp, parts[4][:w * h * spp]

def base(w, h, cls, mod):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = cls
    ds.SOPClassUID = cls
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = mod
    ds.PatientName = "QUIMBY^ZANZIBAR"
    ds.PatientID = "48213377"
    ds.Rows, ds.Columns = h, w
    ds.PixelRepresentation = 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.is_little_endian, ds.is_implicit_VR = True, False
    return ds

US, SC = "1.2.840.10008.5.1.4.1.1.6.1", "1.2.840.10008.5.1.4.1.1.7"
kind, out = sys.argv[1], sys.argv[2]
if kind == "mono1":
    w, h, _, px = pnm(sys.argv[3])
    ds = base(w, h, US, "US")
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.PixelData = bytes(255 - b for b in px)
elif kind == "palette":
    w, h, _, px = pnm(sys.argv[3])
    ds = base(w, h, US, "US")
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "PALETTE COLOR"
    # index i shows grey 255 - i, tinted: index 0 is white, 255 black
    red = [(255 - i) * 257 for i in range(256)]
    green = [(255 - i) * 257 for i in range(256)]
    blue = [((255 - i) * 3 // 4) * 257 for i in range(256)]
    for tag, lut in (("Red", red), ("Green", green), ("Blue", blue)):
        setattr(ds, tag + "PaletteColorLookupTableDescriptor", [256, 0, 16])
        setattr(ds, tag + "PaletteColorLookupTableData",
                b"".join(v.to_bytes(2, "little") for v in lut))
        ds[tag + "PaletteColorLookupTableData"].VR = "OW"
    ds.PixelData = bytes(255 - b for b in px)
elif kind == "ybr422":
    w, h, _, px = pnm(sys.argv[3])
    ds = base(w, h, SC, "OT")
    ds.SamplesPerPixel = 3
    ds.PlanarConfiguration = 0
    ds.PhotometricInterpretation = "YBR_FULL_422"
    buf = bytearray()
    clamp = lambda v: max(0, min(255, int(round(v))))
    for y in range(h):
        for x in range(0, w, 2):
            ys, cbs, crs = [], [], []
            for xx in (x, x + 1):
                r, g, b = px[(y * w + xx) * 3:(y * w + xx) * 3 + 3]
                ys.append(clamp(0.299 * r + 0.587 * g + 0.114 * b))
                cbs.append(-0.168736 * r - 0.331264 * g + 0.5 * b + 128)
                crs.append(0.5 * r - 0.418688 * g - 0.081312 * b + 128)
            buf += bytes([ys[0], ys[1], clamp(sum(cbs) / 2), clamp(sum(crs) / 2)])
    ds.PixelData = bytes(buf)
elif kind == "planar":
    w, h, _, px = pnm(sys.argv[3])
    ds = base(w, h, SC, "OT")
    ds.SamplesPerPixel = 3
    ds.PlanarConfiguration = 1
    ds.PhotometricInterpretation = "RGB"
    ds.PixelData = px[0::3] + px[1::3] + px[2::3]
elif kind == "frames":
    frames = [pnm(f) for f in sys.argv[3:]]
    w, h = frames[0][0], frames[0][1]
    ds = base(w, h, US, "US")
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.NumberOfFrames = len(frames)
    ds.PixelData = b"".join(f[3] for f in frames)
ds.save_as(out, write_like_original=False)
PYEOF
# check.py IN OUT BOXES KIND: prints "N differ, M outside, K not black":
# samples of OUT that differ from IN, those outside every box of BOXES
# (inspect-pixels' lines, grown by the margin; to whole pairs for 4:2:2),
# and samples inside the boxes that are not the layout's black.
cat >"$T/check.py" <<'PYEOF'
import re, sys, warnings
warnings.simplefilter("ignore")
import pydicom
a, b = pydicom.dcmread(sys.argv[1]), pydicom.dcmread(sys.argv[2])
kind = sys.argv[4]
boxes = []
for line in open(sys.argv[3]):
    m = re.search(r"x (\d+) y (\d+) w (\d+) h (\d+)", line)
    if m:
        x, y, w, h = map(int, m.groups())
        g = max(2, h // 4)
        boxes.append((x - g, y - g, x + w + g, y + h + g))
rows, cols = a.Rows, a.Columns
frames = int(getattr(a, "NumberOfFrames", 1) or 1)
pa, pb = a.PixelData, b.PixelData
def where(i):
    """(x, y, sample) of byte i of a frame in this layout"""
    if kind == "ybr422":
        r, off = divmod(i, cols * 2)
        pair, k = divmod(off, 4)
        return 2 * pair, r, k
    if kind == "planar":
        s, p = divmod(i, rows * cols)
        return p % cols, p // cols, s
    return i % cols, i // cols, 0
black = {"mono1": lambda k: 255, "palette": lambda k: 255,
         "ybr422": lambda k: 0 if k < 2 else 128,
         "planar": lambda k: 0, "frames": lambda k: 0}[kind]
fb = len(pa) // frames
diff = outside = notblack = 0
for i in range(min(len(pa), len(pb))):
    x, y, k = where(i % fb)
    inside = any(x0 <= x < x1 and y0 <= y < y1 for x0, y0, x1, y1 in boxes)
    if kind == "ybr422" and not inside:  # the pair's other pixel
        inside = any(x0 <= x + 1 < x1 and y0 <= y < y1 for x0, y0, x1, y1 in boxes)
    if pa[i] != pb[i]:
        diff += 1
        outside += not inside
    # well inside a box (not its grown edge): black
    core = any(x0 + 3 <= x < x1 - 3 and y0 + 3 <= y < y1 - 3
               for x0, y0, x1, y1 in boxes)
    if core and pb[i] != black(k):
        notblack += 1
print(diff, "differ,", outside, "outside,", notblack, "not black")
PYEOF

mkdir -p "$T/in"
# grey: white 12-point text on a dark gradient, a name top-left and an
# ID bottom-right; colour: black 16-point text on grey and a yellow ID.
convert -size 512x384 gradient:gray15-gray45 -font "$F" -pointsize 12 \
    -fill white -annotate +10+20 'QUIMBY ZANZIBAR' \
    -annotate +360+370 'ID 48213377' -depth 8 "$T/g.pgm"
convert -size 640x480 xc:gray60 -type TrueColor -font "$F" -pointsize 16 \
    -fill black -annotate +40+60 'QUIMBY ZANZIBAR' -fill yellow \
    -pointsize 12 -annotate +420+460 'ID 48213377' -depth 8 "$T/c.ppm"
convert -size 320x240 gradient:gray10-gray30 -depth 8 "$T/f0.pgm"
convert -size 320x240 gradient:gray10-gray30 -font "$F" -pointsize 12 \
    -fill white -annotate +8+18 'QUIMBY ZANZIBAR' -depth 8 "$T/f1.pgm"
convert -size 320x240 gradient:gray10-gray30 -font "$F" -pointsize 12 \
    -fill white -annotate +200+228 'ID 48213377' -depth 8 "$T/f3.pgm"
$PY "$T/make.py" mono1 "$T/in/mono1.dcm" "$T/g.pgm" &&
    $PY "$T/make.py" palette "$T/in/palette.dcm" "$T/g.pgm" &&
    $PY "$T/make.py" ybr422 "$T/in/ybr422.dcm" "$T/c.ppm" &&
    $PY "$T/make.py" planar "$T/in/planar.dcm" "$T/c.ppm" &&
    $PY "$T/make.py" frames "$T/in/frames.dcm" "$T/f1.pgm" "$T/f0.pgm" \
        "$T/f3.pgm" "$T/f0.pgm" || { echo "Bail out! fixtures not made"; exit 1; }

# at FILE X Y...: every point (X, Y) lies in a word box of FILE
at() {
    f=$1
    shift
    while [ $# -ge 2 ]; do
        awk -v x="$1" -v y="$2" '
            /frame/ { for (i = 1; i < NF; i++) v[$i] = $(i + 1)
                      if (v["x"] <= x && x < v["x"] + v["w"] &&
                          v["y"] <= y && y < v["y"] + v["h"]) ok = 1 }
            END { exit !ok }' "$f" || return 1
        shift 2
    done
}
for k in mono1 palette ybr422 planar frames; do
    sluice inspect-pixels "$T/in/$k.dcm" >"$T/$k.insp" 2>&1
done
G_AT="20 14 90 14 366 364 420 364"
C_AT="60 52 150 52 426 454 480 454"
check "MONOCHROME1 (stored inverted): every word found" at "$T/mono1.insp" $G_AT
check "PALETTE COLOR: every word found" at "$T/palette.insp" $G_AT
check "YBR_FULL_422 native: every word found" at "$T/ybr422.insp" $C_AT
check "RGB, Planar Configuration 1: every word found" at "$T/planar.insp" $C_AT
frames_found() {
    grep -q 'frame 1: x [0-9]* y [0-9]* .*PatientName' "$T/frames.insp" &&
        grep -q 'frame 3: x [0-9]* y [0-9]* .*PatientID' "$T/frames.insp" &&
        ! grep -q -e 'frame 2:' -e 'frame 4:' "$T/frames.insp"
}
check "4 frames: the name found in frame 1, the ID in frame 3, nothing in 2 and 4" \
    frames_found

sluice deid --profile "$T/ocr.xml" --key-file "$T/key" -o "$T/out" \
    --quarantine "$T/q" --explain "$T/in" >"$T/deid.out" 2>"$T/deid.err"
rc=$?
check "deid: all five de-identified (exit 0), none quarantined" \
    sh -c "[ $rc = 0 ] && [ \$(find '$T/out' -name '*.dcm' | wc -l) = 5 ]"
check "--explain: the cine's name blanked in frame 1, its ID in frame 3" \
    sh -c "grep -q 'text matching PatientName found and blanked in frame 1$' '$T/deid.out' && grep -q 'text matching PatientID found and blanked in frame 3$' '$T/deid.out'"
for o in $(find "$T/out" -name '*.dcm'); do
    sluice inspect-pixels --show-text --min-confidence 0 "$o"
done >"$T/after.insp" 2>&1
check "OCR of every output (any confidence) finds none of the words" \
    sh -c "! grep -i -e QUIMBY -e ZANZIBAR -e 48213377 '$T/after.insp'"
# each output by its layout
out_of() { # KIND
    for o in $(find "$T/out" -name '*.dcm'); do
        l=$($PY -c "
import sys, pydicom
d = pydicom.dcmread(sys.argv[1], stop_before_pixels=True)
pi = d.PhotometricInterpretation
k = {'MONOCHROME1': 'mono1', 'PALETTE COLOR': 'palette',
     'YBR_FULL_422': 'ybr422'}.get(pi)
if pi == 'RGB' and int(getattr(d, 'PlanarConfiguration', 0)) == 1:
    k = 'planar'
if pi == 'MONOCHROME2' and int(getattr(d, 'NumberOfFrames', 1) or 1) == 4:
    k = 'frames'
print(k)" "$o")
        [ "$l" = "$1" ] && echo "$o" && return 0
    done
    return 1
}
layout_ok() { # KIND: text blanked to black, nothing outside changed
    o=$(out_of "$1") || return 1
    r=$($PY "$T/check.py" "$T/in/$1.dcm" "$o" "$T/$1.insp" "$1")
    diag "$1: $r"
    case $r in "0 differ"*) return 1 ;; *" 0 outside, 0 not black") return 0 ;; *) return 1 ;; esac
}
check "MONOCHROME1: blanked to the largest value (black), the rest unchanged" \
    layout_ok mono1
check "PALETTE COLOR: blanked to the index of the palette's black entry, the rest unchanged" \
    layout_ok palette
check "YBR_FULL_422: whole pairs blanked to Y 0 and no colour, the rest unchanged" \
    layout_ok ybr422
check "RGB planar: every plane blanked to 0, the rest unchanged" \
    layout_ok planar
check "4 frames: the boxes blanked in every frame, the rest of every frame unchanged" \
    layout_ok frames
# A palette whose tables are missing cannot say which index is black:
# quarantined with that reason, never blanked to a guess.
$PY - "$T/in/palette.dcm" "$T/badpal/p.dcm" <<'PYEOF'
import os, sys, warnings
warnings.simplefilter("ignore")
import pydicom
from pydicom.uid import generate_uid
d = pydicom.dcmread(sys.argv[1])
del d.BluePaletteColorLookupTableData
d.SOPInstanceUID = generate_uid()
d.file_meta.MediaStorageSOPInstanceUID = d.SOPInstanceUID
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
d.save_as(sys.argv[2])
PYEOF
sluice deid --profile "$T/ocr.xml" --key-file "$T/key" -o "$T/pout" \
    --quarantine "$T/pq" "$T/badpal" >"$T/pal.out" 2>&1
rc=$?
check "PALETTE COLOR without its Blue table: quarantined (exit 3), the reason named" \
    sh -c "[ $rc = 3 ] && grep -q 'Palette Color Lookup Table' '$T/pal.out' && [ -z \"\$(find '$T/pout' -name '*.dcm' 2>/dev/null)\" ]"
finish

#!/bin/sh
# burnedin_colour.sh - burned-in text whose colour has its background's
# luminance (issue 11's limit: frames were read in grey, and green text
# on mid-grey is flat there). An RGB capture made here with ImageMagick
# and Debian's DejaVu font: the patient's name in green, the id in red
# and the institution in blue, each at the grey background's BT.601
# luminance and drawn without anti-aliasing (so no edge is brighter or
# darker), beside black text and a coloured box without text; wrapped as
# SC by DCMTK's img2dcm, and an RLE copy (dcmcrle). Asserted: every word
# is found; after `sluice deid` with clean-pixel-data="ocr" OCR finds
# none of them, neither sluice's nor Tesseract's own command on each
# colour channel of DCMTK's rendering; the box and the background outside
# the words' boxes are unchanged.
. "${top_srcdir}/tests/integration/lib.sh"
F=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
PY=/usr/bin/python3
if ! command -v convert >/dev/null 2>&1 || [ ! -f "$F" ] ||
    ! $PY -c 'import pydicom' 2>/dev/null || ! command -v img2dcm >/dev/null 2>&1 ||
    ! command -v tesseract >/dev/null 2>&1; then
    echo "1..0 # SKIP needs ImageMagick, fonts-dejavu-core, python3-pydicom, dcmtk (img2dcm) and tesseract-ocr"
    exit 0
fi
SLUICE_PROFILE_DIR="$top_srcdir/profiles/deid"; export SLUICE_PROFILE_DIR
plan 7
sluice keygen >"$T/key"
cat >"$T/ocr.xml" <<'EOP'
<?xml version="1.0" encoding="UTF-8"?>
<profile xmlns="urn:sluice:deid:1" name="ocr-test" version="1" extends="basic">
  <dicom clean-pixel-data="ocr"/>
</profile>
EOP
# a colour of the grey's luminance: R and B given, G solved (BT.601)
iso() { $PY -c "r,b=$1,$2; g=round((128*1000-299*r-114*b)/587); assert (299*r+587*g+114*b+500)//1000==128; print('rgb(%d,%d,%d)'%(r,g,b))"; }
GREEN=$(iso 40 60) RED=$(iso 230 105) BLUE=$(iso 70 255)
mkdir -p "$T/in"
convert -size 800x600 'xc:rgb(128,128,128)' +antialias -font "$F" -type TrueColor \
    -pointsize 28 -fill "$GREEN" -annotate +80+150 'QUIMBY ZANZIBAR' \
    -fill "$RED" -annotate +80+300 'ID 48213377' \
    -fill "$BLUE" -annotate +80+450 'Wexford Infirmary' \
    -fill black -annotate +500+300 'Report' \
    -fill 'rgb(200,40,40)' -draw 'rectangle 600,420 760,560' \
    -depth 8 "$T/sc.ppm"
convert "$T/sc.ppm" -type TrueColor -compress None "BMP3:$T/sc.bmp"
img2dcm -q -i BMP -k "SOPClassUID=1.2.840.10008.5.1.4.1.1.7" -k "Modality=OT" \
    -k "PatientName=QUIMBY^ZANZIBAR" -k "PatientID=48213377" \
    -k "InstitutionName=Wexford Infirmary" "$T/sc.bmp" "$T/in/sc.dcm"
dcmcrle "$T/in/sc.dcm" "$T/in/sc-rle.dcm"
dcmodify -q -nb -gin "$T/in/sc-rle.dcm" 2>/dev/null

sluice inspect-pixels --show-text "$T/in" >"$T/before.insp" 2>&1
found() { # WORD: in both instances' findings
    [ "$(grep -c "text \"$1\"" "$T/before.insp")" -eq 2 ]
}
check "green, red and blue words at the background's luminance: all found in native and RLE" \
    sh -c 'for w in QUIMBY ZANZIBAR 48213377 Wexford Infirmary Report; do [ "$(grep -c "text \"$w\"" "$1")" -eq 2 ] || exit 1; done' _ "$T/before.insp"
check "... each matched to its attribute" \
    sh -c 'grep -q "matches PatientName text \"QUIMBY\"" "$1" && grep -q "matches PatientID text \"48213377\"" "$1" && grep -q "matches InstitutionName text \"Wexford\"" "$1"' _ "$T/before.insp"

sluice deid --profile "$T/ocr.xml" --key-file "$T/key" -o "$T/out" "$T/in" >"$T/deid.out" 2>"$T/deid.err"
check "deid with clean-pixel-data=\"ocr\": exit 0, both de-identified" \
    sh -c '[ $1 -eq 0 ] && [ "$(find "$2" -name "*.dcm" | wc -l)" -eq 2 ]' _ $? "$T/out"
for o in $(find "$T/out" -name '*.dcm'); do
    sluice inspect-pixels --show-text --min-confidence 0 "$o"
done >"$T/after.insp" 2>&1
check "OCR of the outputs (sluice, any confidence) finds no planted word" \
    sh -c "! grep -i -e QUIMBY -e ZANZIBAR -e 48213377 -e wexford -e infirmary -e report '$T/after.insp'"
# Tesseract's own command on each channel of DCMTK's rendering
n=0
: >"$T/indep.txt"
for o in $(find "$T/out" -name '*.dcm'); do
    dcmj2pnm -q "$o" "$T/r$n.ppm" 2>/dev/null || continue
    for c in R G B; do
        convert "$T/r$n.ppm" -channel $c -separate -depth 8 "$T/r$n$c.pgm"
        tesseract "$T/r$n$c.pgm" - 2>/dev/null >>"$T/indep.txt"
    done
    n=$((n + 1))
done
check "... nor Tesseract on each colour channel of DCMTK's rendering" \
    sh -c "[ $n = 2 ] && ! grep -i -e QUIMBY -e ZANZIBAR -e 48213377 -e wexford -e infirmary '$T/indep.txt'"
# what must survive: every pixel outside the words (the box, the
# background) as it was; the words' pixels blanked black
cat >"$T/cmp.py" <<'PYEOF'
import sys, warnings
warnings.simplefilter("ignore")
import pydicom
def rgb(name): # native pixel data as rows of (r, g, b), without numpy
    d = pydicom.dcmread(name)
    w, h, px = d.Columns, d.Rows, d.PixelData
    planar = int(getattr(d, "PlanarConfiguration", 0))
    def at(x, y):
        if planar:
            return tuple(px[c * w * h + y * w + x] for c in range(3))
        return tuple(px[3 * (y * w + x):3 * (y * w + x) + 3])
    return w, h, at
w, h, a = rgb(sys.argv[1])
for out in sys.argv[2:]:
    w2, h2, b = rgb(out)
    assert (w, h) == (w2, h2)
    box = all(a(x, y) == b(x, y) for y in range(420, 561) for x in range(600, 761))
    quiet = all(a(x, y) == b(x, y) for y in list(range(0, 100)) + list(range(170, 260)) + list(range(330, 410)) for x in range(0, w, 3))
    changed = [(x, y) for y in range(0, h) for x in range(0, 560) if a(x, y) != b(x, y)]
    black = all(b(x, y) == (0, 0, 0) for x, y in changed)
    print(out, "box", box, "quiet", quiet, "black", black, "changed", len(changed))
    if not (box and quiet and black and len(changed) > 1000):
        sys.exit(1)
PYEOF
# (the RLE output decoded by DCMTK's dcmdrle first)
for o in $(find "$T/out" -name '*.dcm'); do
    dcmdrle -q "$o" "$o.native" 2>/dev/null || cp "$o" "$o.native"
done
$PY "$T/cmp.py" "$T/in/sc.dcm" $(find "$T/out" -name '*.native') >"$T/cmp.out" 2>&1
check "the red box and the background away from the words unchanged; the words blanked black" \
    sh -c '[ $1 -eq 0 ] || { sed "s/^/# /" "$2"; exit 1; }' _ $? "$T/cmp.out"
check "the log and --explain never show the text" \
    sh -c "! grep -q -i -e QUIMBY -e ZANZIBAR -e 48213377 -e wexford '$T/deid.out' '$T/deid.err'"
finish

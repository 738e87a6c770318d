#!/bin/sh
# burnedin.sh - burned-in text (issue 11): clean-pixel-data="ocr" and
# sluice inspect-pixels on images made here. Text is rendered with
# ImageMagick and Debian's DejaVu font into grey and RGB images (white on
# a dark gradient, black on grey, small overlay fonts in corners, text
# turned 90 degrees), wrapped into DICOM with DCMTK's img2dcm as US, SC
# and XA, each also compressed with DCMTK's own encoders (dcmcrle,
# dcmcjpls, dcmcjpeg: RLE, JPEG-LS lossless, JPEG baseline); a 16-bit XA
# and a cine, which img2dcm cannot make, are wrapped with pydicom.
# Asserted: every planted word is found; after `sluice deid` OCR of the
# output (by sluice and by DCMTK's dcmj2pnm with the OCR tool) finds none
# of it; samples outside the word boxes (with their margin) are
# unchanged, for JPEG baseline against the input as DCMTK decodes it;
# compressed pixel data stays lossless; clean images (native, JPEG
# baseline, RLE) pass with pixel data and transfer syntax unchanged;
# JPEG 2000 (lossless, grey and RGB with the reversible colour transform,
# encoded by OpenJPEG's opj_compress) is decoded through sluice's OpenJPEG
# codec, its words found and blanked, and written JPEG-LS lossless; a
# damaged JPEG 2000 codestream is quarantined with OpenJPEG's reason;
# --explain names the matched attribute, never the text.
. "${top_srcdir}/tests/integration/lib.sh"
OCR="${top_builddir}/tests/tools/ocr_words"
F=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
PY=/usr/bin/python3
if ! command -v convert >/dev/null 2>&1 || [ ! -f "$F" ] ||
    ! $PY -c 'import pydicom' 2>/dev/null || ! command -v dcmcjpls >/dev/null 2>&1 ||
    ! command -v img2dcm >/dev/null 2>&1 || ! command -v opj_compress >/dev/null 2>&1; then
    echo "1..0 # SKIP needs ImageMagick, fonts-dejavu-core, python3-pydicom, dcmtk (img2dcm) and libopenjp2-tools"
    exit 0
fi
SLUICE_PROFILE_DIR="$top_srcdir/profiles/deid"; export SLUICE_PROFILE_DIR
plan 35
sluice keygen >"$T/key"
cat >"$T/ocr.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<profile xmlns="urn:sluice:deid:1" name="ocr-test" version="1" extends="basic">
  <dicom clean-pixel-data="ocr"/>
</profile>
EOF

# wrap IMG OUT KIND BITS: a native DICOM file from a PGM/PPM image.
# KIND: us, sc or xa; BITS 8, or 16 (12 stored: samples times 16).
cat >"$T/wrap.py" <<'PYEOF'
import sys, warnings
warnings.simplefilter("ignore")
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
img, out, kind, bits = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def read_pnm(name):
    data = open(name, "rb").read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    magic, w, h = fields[0], int(fields[1]), int(fields[2])
    spp = 3 if magic == b"P6" else 1
    return w, h, spp, data[pos:pos + w * h * spp]
w, h, spp, px = read_pnm(img)
# more images after BITS: further frames of the same size
for extra in sys.argv[5:]:
    px += read_pnm(extra)[3]
cls = {"us": "1.2.840.10008.5.1.4.1.1.6.1", "sc": "1.2.840.10008.5.1.4.1.1.7",
       "xa": "1.2.840.10008.5.1.4.1.1.12.1"}[kind]
ds = Dataset()
ds.file_meta = FileMetaDataset()
ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds.file_meta.MediaStorageSOPClassUID = cls
ds.SOPClassUID = cls
ds.SOPInstanceUID = generate_uid()
ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
ds.StudyInstanceUID = generate_uid()
ds.SeriesInstanceUID = generate_uid()
ds.Modality = {"us": "US", "sc": "OT", "xa": "XA"}[kind]
ds.PatientName = "QUIMBY^ZANZIBAR"
ds.PatientID = "48213377"
ds.AccessionNumber = "ACC77102"
ds.StudyDate = "20230105"
ds.InstitutionName = "Wexford Infirmary"
ds.Rows, ds.Columns = h, w
ds.SamplesPerPixel = spp
ds.PhotometricInterpretation = "RGB" if spp == 3 else "MONOCHROME2"
if spp == 3:
    ds.PlanarConfiguration = 0
ds.PixelRepresentation = 0
if len(sys.argv) > 5:
    ds.NumberOfFrames = len(sys.argv) - 4
if bits == 16:
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    px = b"".join((b * 16).to_bytes(2, "little") for b in px)
else:
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
ds.PixelData = px
ds.is_little_endian, ds.is_implicit_VR = True, False
ds.save_as(out, write_like_original=False)
PYEOF

# pixdiff A B INSPECT: A and B native; every sample that differs lies in
# a box listed by `sluice inspect-pixels` (INSPECT) grown by its margin,
# and some sample differs. Prints "N differ, M outside".
cat >"$T/pixdiff.py" <<'PYEOF'
import re, sys, warnings
warnings.simplefilter("ignore")
import pydicom
a, b = pydicom.dcmread(sys.argv[1]), pydicom.dcmread(sys.argv[2])
boxes = []
for line in open(sys.argv[3]):
    m = re.search(r"x (\d+) y (\d+) w (\d+) h (\d+)", line)
    if m:
        x, y, w, h = map(int, m.groups())
        g = max(2, h // 4, w // 4 if w < h else 0)
        boxes.append((x - g, y - g, x + w + g, y + h + g))
pa, pb = a.PixelData, b.PixelData
cols, rows, spp = a.Columns, a.Rows, a.SamplesPerPixel
bpp = a.BitsAllocated // 8
per = spp * bpp
diff = outside = 0
for i in range(min(len(pa), len(pb), rows * cols * per)):
    if pa[i] != pb[i]:
        diff += 1
        p = i // per
        x, y = p % cols, p // cols
        if not any(x0 <= x < x1 and y0 <= y < y1 for x0, y0, x1, y1 in boxes):
            outside += 1
print(diff, "differ,", outside, "outside")
PYEOF

img() { # NAME SIZE BACKGROUND TYPE ARGS...
    n=$1 s=$2 b=$3 t=$4
    shift 4
    convert -size "$s" "$b" -font "$F" "$@" -depth 8 "$T/$n.$t"
}
# bmp NAME: NAME.pgm or NAME.ppm as the uncompressed BMP img2dcm reads
# (grey: an 8-bit palette of greys, which img2dcm writes MONOCHROME2).
bmp() {
    if [ -f "$T/$1.pgm" ]; then
        convert "$T/$1.pgm" -type Palette -colors 256 -compress None \
            "BMP3:$T/$1.bmp"
    else
        convert "$T/$1.ppm" -type TrueColor -compress None "BMP3:$T/$1.bmp"
    fi
}
# dcm IMAGE OUT KIND: DCMTK's img2dcm wraps IMAGE (BMP: native pixel
# data; JPEG: its bytes as JPEG baseline) as KIND (us, sc or xa), with
# the identifying attributes the text repeats.
dcm() {
    case $3 in
    us) cls=1.2.840.10008.5.1.4.1.1.6.1 mod=US ;;
    xa) cls=1.2.840.10008.5.1.4.1.1.12.1 mod=XA ;;
    *) cls=1.2.840.10008.5.1.4.1.1.7 mod=OT ;;
    esac
    case $1 in *.bmp) fmt=BMP ;; *) fmt=JPEG ;; esac
    img2dcm -q -i $fmt -k "SOPClassUID=$cls" -k "Modality=$mod" \
        -k "PatientName=QUIMBY^ZANZIBAR" -k "PatientID=48213377" \
        -k "AccessionNumber=ACC77102" -k "StudyDate=20230105" \
        -k "InstitutionName=Wexford Infirmary" "$1" "$2"
}
mkdir -p "$T/in" "$T/clean"
# US, 8 bits: an 11-point overlay top-left on a dark sector-like gradient,
# an ID bottom-right, an 8-point accession top-right.
img us 512x512 gradient:gray10-gray40 pgm -pointsize 11 -fill white \
    -annotate +8+16 'QUIMBY ZANZIBAR' -annotate +380+500 'ID 48213377' \
    -pointsize 9 -annotate +420+12 'ACC77102'
# SC, RGB 1024x768: black text on grey, and a 10-point corner overlay.
img sc 1024x768 xc:gray60 ppm -type TrueColor -pointsize 22 -fill black \
    -annotate +300+400 'Wexford Infirmary' -pointsize 10 -fill white \
    -annotate +6+760 'QUIMBY 2023/01/05'
# XA, 8 bits: a label running down the side.
img xa 512x512 gradient:gray20-gray50 pgm -pointsize 14 -fill white \
    -annotate 90x90+480+100 'ZANZIBAR QUIMBY'
for k in us sc xa; do
    bmp $k
    dcm "$T/$k.bmp" "$T/in/$k.dcm" $k
    # compressed copies with DCMTK's own encoders, each its own instance
    # (new SOP Instance UIDs): RLE, JPEG-LS lossless, JPEG baseline
    dcmcrle "$T/in/$k.dcm" "$T/in/$k-rle.dcm"
    dcmcjpls "$T/in/$k.dcm" "$T/in/$k-jls.dcm"
    dcmcjpeg +eb "$T/in/$k.dcm" "$T/in/$k-jpeg.dcm"
    for f in $k-rle $k-jls $k-jpeg; do
        dcmodify -q -nb -gin "$T/in/$f.dcm" 2>/dev/null
    done
done
# XA, 16 bits (12 stored), which img2dcm cannot make: pydicom.
$PY "$T/wrap.py" "$T/xa.pgm" "$T/in/xa16.dcm" xa 16
# US cine, 3 frames: text only in the second.
convert -size 256x256 gradient:gray10-gray30 -depth 8 "$T/f1.pgm"
img f2 256x256 gradient:gray10-gray30 pgm -pointsize 12 -fill white \
    -annotate +10+20 'ZANZIBAR'
$PY "$T/wrap.py" "$T/f1.pgm" "$T/in/cine.dcm" us 8 "$T/f2.pgm" "$T/f1.pgm"
# Clean images (no text): a native US, an RGB capture img2dcm wraps as
# JPEG baseline straight from a JPEG file, an RLE XA.
convert -size 512x512 gradient:black-gray50 -depth 8 "$T/clean.pgm"
bmp clean
dcm "$T/clean.bmp" "$T/clean/clean.dcm" us
convert -size 640x480 gradient:gray30-gray70 -type TrueColor -quality 90 \
    "$T/cleansc.jpg"
dcm "$T/cleansc.jpg" "$T/clean/clean-sc-jpeg.dcm" sc
convert -size 512x512 gradient:gray40-gray10 -depth 8 "$T/cleanxa.pgm"
bmp cleanxa
dcm "$T/cleanxa.bmp" "$T/cleanxa.dcm" xa
dcmcrle "$T/cleanxa.dcm" "$T/clean/clean-xa-rle.dcm"

# ---- the planted words are found --------------------------------------
KINDS="us sc xa"
ENCS=" -rle -jls -jpeg"
for k in $KINDS; do
    for e in "" $ENCS; do
        sluice inspect-pixels --show-text "$T/in/$k$e.dcm" >"$T/$k$e.insp" 2>&1
    done
done
sluice inspect-pixels --show-text "$T/in/xa16.dcm" >"$T/xa16.insp" 2>&1
# at FILE X Y...: every point (X, Y) lies in a word box of FILE (a word
# is found where it was planted, whatever OCR read it as)
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
US_AT="20 12 80 12 440 8 386 496 420 496"
SC_AT="340 392 450 392 20 756 75 756"
XA_AT="484 140 484 220"
check "US, white 11- and 9-point overlays on a gradient: every word found" \
    at "$T/us.insp" $US_AT
check "... and said to match PatientName, PatientID and AccessionNumber" \
    sh -c "grep -q 'matches PatientName' '$T/us.insp' && grep -q 'matches PatientID' '$T/us.insp' && grep -q 'matches AccessionNumber' '$T/us.insp'"
check "SC RGB, black on grey and a 10-point corner overlay: every word found" \
    at "$T/sc.insp" $SC_AT
check "... matching InstitutionName, PatientName and StudyDate (2023/01/05)" \
    sh -c "grep -q 'matches InstitutionName' '$T/sc.insp' && grep -q 'matches PatientName' '$T/sc.insp' && grep -q 'matches StudyDate' '$T/sc.insp'"
xa_found() { at "$T/xa.insp" $XA_AT && at "$T/xa16.insp" $XA_AT; }
check "XA 8 and 16 bits, text turned 90 degrees: found" xa_found
compressed_found() { # ENC: every word found in the ENC copy of each kind
    at "$T/us$1.insp" $US_AT && at "$T/sc$1.insp" $SC_AT &&
        at "$T/xa$1.insp" $XA_AT
}
check "RLE copies of US, SC and XA: every word found" compressed_found -rle
check "JPEG-LS copies: every word found" compressed_found -jls
check "JPEG baseline copies: every word found" compressed_found -jpeg
sluice inspect-pixels "$T/in/us.dcm" >"$T/us.noshow" 2>&1
check "inspect-pixels prints no text without --show-text" \
    sh -c "! grep -q -e QUIMBY -e ZANZIBAR -e 48213377 '$T/us.noshow' && grep -q 'word box' '$T/us.noshow'"

# ---- deid blanks it ---------------------------------------------------
NIN=$(find "$T/in" -name '*.dcm' | wc -l)
sluice deid --profile "$T/ocr.xml" --key-file "$T/key" -o "$T/out" \
    --quarantine "$T/q" --explain "$T/in" >"$T/deid.out" 2>"$T/deid.err"
rc=$?
check "deid with clean-pixel-data=\"ocr\": all $NIN instances de-identified" \
    sh -c "[ $NIN = 14 ] && [ $rc = 0 ] && [ \$(find '$T/out' -name '*.dcm' | wc -l) = $NIN ]"
check "a cine loop: every frame read, the text of frame 2 named in --explain" \
    grep -q '3 frame(s), 1 text box(es) blanked' "$T/deid.out"
check "... and matched to PatientName in frame 2 only" \
    grep -q 'text matching PatientName found and blanked in frame 2$' "$T/deid.out"
check "--explain: text matching PatientName found and blanked in frame 1" \
    grep -q 'text matching PatientName found and blanked in frame 1' "$T/deid.out"
check "--explain and the log never show the text" \
    sh -c "! grep -q -i -e QUIMBY -e ZANZIBAR -e 48213377 -e wexford '$T/deid.out' '$T/deid.err'"
for o in $(find "$T/out" -name '*.dcm'); do
    sluice inspect-pixels --show-text --min-confidence 0 "$o"
done >"$T/after.insp" 2>&1
check "OCR of every output (sluice, any confidence) finds no planted word" \
    sh -c "! grep -i -e QUIMBY -e ZANZIBAR -e 48213377 -e ACC77102 -e wexford -e infirmary -e 2023/01/05 '$T/after.insp'"
# DCMTK's own renderer and the OCR tool on every output.
n=0
: >"$T/indep.txt"
for o in $(find "$T/out" -name '*.dcm'); do
    dcmj2pnm -q +Wm "$o" "$T/r$n.pgm" 2>/dev/null ||
        dcml2pnm -q +Wm "$o" "$T/r$n.pgm" 2>/dev/null || continue
    convert "$T/r$n.pgm" -colorspace Gray -depth 8 "$T/r$n.pgm"
    $SLUICE_WRAP "$OCR" --rotated "$T/r$n.pgm" >>"$T/indep.txt"
    n=$((n + 1))
done
check "... and DCMTK's dcmj2pnm/dcml2pnm with the OCR tool find none either" \
    sh -c "[ $n = $NIN ] && ! grep -i -e QUIMBY -e ZANZIBAR -e 48213377 -e ACC77102 -e wexford -e infirmary '$T/indep.txt'"
tag() { # FILE TAG: dcmdump's line for TAG
    dcmdump -q +P "$2" "$1" 2>/dev/null
}
all_out() { # CMD: CMD FILE true for every output
    for o in $(find "$T/out" -name '*.dcm'); do "$@" "$o" || return 1; done
}
has_cpd() { tag "$1" 0008,0100 | grep -q 113101; }
check "every output records Clean Pixel Data (113101) in (0012,0064)" \
    all_out has_cpd
bia_no() { tag "$1" 0028,0301 | grep -q '\[NO\]'; }
check "... and Burned In Annotation NO" all_out bia_no
# The output of each input: outputs are named by new UIDs, so go by
# transfer syntax, modality (US, OT, XA), geometry and whether the
# Derivation Description records a re-encoding (R) or not (N).
xfer_of() { dcmdump -q +P 0002,0010 "$1" 2>/dev/null | sed 's/.*=\([^ ]*\).*/\1/'; }
sig() { # FILE: "XFER MODALITY ROWS BITS SAMPLES R|N"
    r=N
    tag "$1" 0008,2111 | grep -q 're-encoded losslessly' && r=R
    echo "$(xfer_of "$1") $(tag "$1" 0008,0060 | sed 's/.*\[\(.*\)\].*/\1/') $(tag "$1" 0028,0010 | awk '{print $3}') $(tag "$1" 0028,0100 | awk '{print $3}') $(tag "$1" 0028,0002 | awk '{print $3}') $r"
}
for o in $(find "$T/out" -name '*.dcm'); do
    echo "$(sig "$o") $o"
done | sort >"$T/outs"
diag "outputs: $(cut -d' ' -f1-6 "$T/outs" | tr '\n' ';')"
has_outs() { # SIG...: an output with each signature
    for s in "$@"; do grep -q "^$s " "$T/outs" || return 1; done
}
check "RLE stays RLE, JPEG-LS stays JPEG-LS (lossless syntaxes kept)" \
    has_outs "RLELossless US 512 8 1 N" "RLELossless OT 768 8 3 N" \
    "RLELossless XA 512 8 1 N" "JPEGLSLossless US 512 8 1 N" \
    "JPEGLSLossless OT 768 8 3 N" "JPEGLSLossless XA 512 8 1 N"
check "JPEG baseline (lossy) is written JPEG-LS lossless, never lossy again" \
    sh -c "grep -q '^JPEGLSLossless US 512 8 1 R ' '$T/outs' && grep -q '^JPEGLSLossless OT 768 8 3 R ' '$T/outs' && grep -q '^JPEGLSLossless XA 512 8 1 R ' '$T/outs' && ! grep -q JPEGBaseline '$T/outs'"
check "the re-encoding is recorded in (0008,2111) Derivation Description" \
    sh -c "[ \$(grep -c ' R ' '$T/outs') = 3 ]"

# Samples outside the boxes unchanged: input and output decoded to native
# by DCMTK's tools and compared sample by sample. For JPEG baseline
# (lossy) inputs the reference is the input as DCMTK decodes it, the same
# decoder sluice uses: sluice blanks the decoded samples and encodes them
# losslessly, so outside the boxes the output decodes to exactly those
# samples; no second lossy step.
native() { # IN OUT
    dcmconv -q +te "$1" "$2" 2>/dev/null ||
        dcmdjpls -q "$1" "$2" 2>/dev/null || dcmdrle -q "$1" "$2" 2>/dev/null ||
        dcmdjpeg -q "$1" "$2"
}
outside_ok() { # INPUT OUTPUT: some samples changed, none outside the boxes
    native "$1" "$T/a.dcm" && native "$2" "$T/b.dcm" || return 1
    sluice inspect-pixels "$1" >"$T/boxes" 2>&1
    r=$($PY "$T/pixdiff.py" "$T/a.dcm" "$T/b.dcm" "$T/boxes")
    diag "$(basename "$1"): $r"
    case $r in "0 differ"*) return 1 ;; *" 0 outside") return 0 ;; *) return 1 ;; esac
}
out_for() { # SIG: the output with that signature
    grep "^$1 " "$T/outs" | head -n 1 | cut -d' ' -f7
}
all_outside_ok() { # ENC XFER R|N: the three kinds in that encoding
    outside_ok "$T/in/us$1.dcm" "$(out_for "$2 US 512 8 1 $3")" &&
        outside_ok "$T/in/sc$1.dcm" "$(out_for "$2 OT 768 8 3 $3")" &&
        outside_ok "$T/in/xa$1.dcm" "$(out_for "$2 XA 512 8 1 $3")"
}
check "US, SC RGB, XA native: text blanked, every sample outside the boxes unchanged" \
    all_outside_ok "" LittleEndianExplicit N
check "XA 16 bits native: the same" \
    outside_ok "$T/in/xa16.dcm" "$(out_for 'LittleEndianExplicit XA 512 16 1 N')"
check "RLE: the same, after decoding" all_outside_ok -rle RLELossless N
check "JPEG-LS: the same, after decoding" all_outside_ok -jls JPEGLSLossless N
check "JPEG baseline: the same, against the input as DCMTK decodes it" \
    all_outside_ok -jpeg JPEGLSLossless R
blank_dark() { # the blanked samples are black (0) in the US output
    native "$(out_for 'LittleEndianExplicit US 512 8 1 N')" "$T/c.dcm" &&
        $PY -c "
import sys, pydicom
d = pydicom.dcmread('$T/c.dcm')
p = d.PixelData
# top-left word box: well inside the blanked margin
sys.exit(0 if all(p[14 * 512 + x] == 0 for x in range(10, 60)) else 1)"
}
check "blanked samples are the darkest value (0 under MONOCHROME2)" blank_dark

# ---- clean images, JPEG 2000, the option off -----------------------------
sluice deid --profile "$T/ocr.xml" --key-file "$T/key" -o "$T/cout" \
    --explain "$T/clean" >"$T/clean.out" 2>&1
rc=$?
check "clean US, SC (JPEG baseline) and XA (RLE) pass (exit 0): no text found" \
    sh -c "[ $rc = 0 ] && [ \$(grep -c 'no text found' '$T/clean.out') = 3 ] && [ \$(find '$T/cout' -name '*.dcm' | wc -l) = 3 ]"
# clean_same: each output's pixel data (encapsulated or not) and transfer
# syntax byte for byte those of the input of its modality
clean_same() {
    $PY - "$T/clean" "$T/cout" <<'PYEOF'
import glob, sys, warnings
warnings.simplefilter("ignore")
import pydicom
ins = {}
for f in glob.glob(sys.argv[1] + "/*.dcm"):
    d = pydicom.dcmread(f)
    ins[d.Modality] = d
n = 0
for f in glob.glob(sys.argv[2] + "/**/*.dcm", recursive=True):
    d = pydicom.dcmread(f)
    a = ins[d.Modality]
    if (a.file_meta.TransferSyntaxUID != d.file_meta.TransferSyntaxUID or
            a.PixelData != d.PixelData):
        sys.exit(1)
    n += 1
sys.exit(0 if n == 3 else 1)
PYEOF
}
clean_ok() { clean_same && all_cout has_cpd; }
all_cout() {
    for o in $(find "$T/cout" -name '*.dcm'); do "$@" "$o" || return 1; done
}
check "... with pixel data and transfer syntax unchanged, and 113101 recorded" clean_ok
# JPEG 2000, which Debian's DCMTK cannot decode (sluice decodes it with
# OpenJPEG): the US and SC images encoded losslessly by opj_compress (the
# SC with the reversible colour transform, YBR_RCT), wrapped by pydicom.
cat >"$T/j2k.py" <<'PYEOF'
import sys, warnings
warnings.simplefilter("ignore")
import pydicom
from pydicom.encaps import encapsulate
from pydicom.uid import generate_uid
d = pydicom.dcmread(sys.argv[1])
d.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.90"
d.SOPInstanceUID = generate_uid()
d.file_meta.MediaStorageSOPInstanceUID = d.SOPInstanceUID
d.PhotometricInterpretation = sys.argv[4]
d.PixelData = encapsulate([open(sys.argv[2], "rb").read()])
d["PixelData"].VR = "OB"
d["PixelData"].is_undefined_length = True
d.is_implicit_VR, d.is_little_endian = False, True
d.save_as(sys.argv[3])
PYEOF
mkdir -p "$T/j2in"
$PY "$T/wrap.py" "$T/us.pgm" "$T/us-native.dcm" us 8
$PY "$T/wrap.py" "$T/sc.ppm" "$T/sc-native.dcm" sc 8
opj_compress -i "$T/us.pgm" -o "$T/us.j2k" >/dev/null 2>&1
opj_compress -i "$T/sc.ppm" -o "$T/sc.j2k" -mct 1 >/dev/null 2>&1
$PY "$T/j2k.py" "$T/us-native.dcm" "$T/us.j2k" "$T/j2in/us-j2k.dcm" MONOCHROME2
$PY "$T/j2k.py" "$T/sc-native.dcm" "$T/sc.j2k" "$T/j2in/sc-j2k.dcm" YBR_RCT
sluice inspect-pixels --show-text "$T/j2in/us-j2k.dcm" >"$T/us-j2k.insp" 2>&1
sluice inspect-pixels --show-text "$T/j2in/sc-j2k.dcm" >"$T/sc-j2k.insp" 2>&1
j2k_found() { at "$T/us-j2k.insp" $US_AT && at "$T/sc-j2k.insp" $SC_AT; }
check "JPEG 2000 lossless, grey and RGB (YBR_RCT): decoded, every word found" j2k_found
sluice deid --profile "$T/ocr.xml" --key-file "$T/key" -o "$T/j2out" \
    --quarantine "$T/j2q" "$T/j2in" >"$T/j2.out" 2>&1
rc=$?
find "$T/j2out" -name '*.dcm' | while read -r o; do echo "$(sig "$o") $o"; done | sort >"$T/j2outs"
diag "JPEG 2000 outputs: $(cut -d' ' -f1-6 "$T/j2outs" | tr '\n' ';')"
check "... de-identified (exit 0), written JPEG-LS lossless, re-encoding recorded" \
    sh -c "[ $rc = 0 ] && grep -q '^JPEGLSLossless US 512 8 1 R ' '$T/j2outs' && grep -q '^JPEGLSLossless OT 768 8 3 R ' '$T/j2outs'"
j2k_blanked() {
    for o in $(cut -d' ' -f7 "$T/j2outs"); do
        sluice inspect-pixels --show-text --min-confidence 0 "$o"
    done >"$T/j2after.insp" 2>&1
    ! grep -i -e QUIMBY -e ZANZIBAR -e 48213377 -e ACC77102 -e wexford -e infirmary "$T/j2after.insp" &&
        outside_ok "$T/us-native.dcm" "$(grep '^JPEGLSLossless US' "$T/j2outs" | cut -d' ' -f7)" &&
        outside_ok "$T/sc-native.dcm" "$(grep '^JPEGLSLossless OT' "$T/j2outs" | cut -d' ' -f7)"
}
check "... OCR of the outputs finds no word; samples outside the boxes are the input's" j2k_blanked
# A damaged JPEG 2000 codestream: sluice must say so, not pass it.
$PY - "$T/in/us.dcm" "$T/j2k/us-j2k.dcm" <<'PYEOF'
import os, sys, warnings
warnings.simplefilter("ignore")
import pydicom
from pydicom.encaps import encapsulate
from pydicom.uid import generate_uid
d = pydicom.dcmread(sys.argv[1])
d.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.90"
d.SOPInstanceUID = generate_uid()
d.file_meta.MediaStorageSOPInstanceUID = d.SOPInstanceUID
d.PixelData = encapsulate([b"\xff\x4f\xff\x51" + bytes(60)])
d["PixelData"].VR = "OB"
d["PixelData"].is_undefined_length = True
d.is_implicit_VR, d.is_little_endian = False, True
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
d.save_as(sys.argv[2])
PYEOF
sluice deid --profile "$T/ocr.xml" --key-file "$T/key" -o "$T/jout" \
    --quarantine "$T/jq" "$T/j2k" >"$T/j2k.out" 2>&1
rc=$?
check "a damaged JPEG 2000 codestream is quarantined (exit 3) with that reason" \
    sh -c "[ $rc = 3 ] && grep -q 'JPEG 2000' '$T/j2k.out' && [ -z \"\$(find '$T/jout' -name '*.dcm' 2>/dev/null)\" ]"
sluice deid --key-file "$T/key" -o "$T/bout" --quarantine "$T/bq" \
    "$T/in/us.dcm" >"$T/basic.out" 2>&1
rc=$?
check "without the option, an ultrasound is still quarantined (basic)" \
    sh -c "[ $rc = 3 ] && grep -q 'ultrasound' '$T/basic.out'"
sed 's/clean-pixel-data="ocr"/clean-pixel-data="yes"/' "$T/ocr.xml" >"$T/bad.xml"
sluice deid --profile "$T/bad.xml" --key-file "$T/key" -o "$T/badout" \
    "$T/in/us.dcm" >"$T/bad.out" 2>&1
rc=$?
check "a bad clean-pixel-data value: exit 1, the file, line and attribute named" \
    sh -c "[ $rc = 1 ] && grep -q 'bad.xml:3: <dicom clean-pixel-data> must be' '$T/bad.out'"
finish

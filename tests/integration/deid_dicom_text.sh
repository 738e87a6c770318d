#!/bin/sh
# deid_dicom_text.sh - DICOM text outside PS3.15 Table E.1-1, and overlay
# bits in pixel data (issue 10, section 6), through `sluice deid` on
# instances made here with pydicom:
# - free text in attributes the table does not list (LT, ST, UT, a
#   Waveform Annotation Sequence item's Unformatted Text Value) loses the
#   patient's name and id, and the instance is not quarantined; without
#   the scrub (a site profile keeping such text) the leak scan quarantines
#   it;
# - attributes of the safe list (code meanings, manufacturer) come out
#   unchanged;
# - a presentation state's text object follows Clean Graphics: replaced
#   under basic, scrubbed under clean-graphics;
# - 16-bit native pixel data with Bits Stored 12: bits above High Bit
#   zeroed (signed: copies of the sign bit), the 12 stored bits exact, in
#   explicit and implicit little endian and big endian, in instances
#   small enough to be read whole and in ones whose pixel data is read
#   from the file when written (over 64 KiB), and in one whose pixel data
#   is not a whole number of 16-byte words; nothing changes
#   when nothing is above High Bit, when Bits Stored is 16, when the profile keeps the unused bits, or
#   when the pixel data is compressed (RLE).
. "$top_srcdir/tests/integration/lib.sh"
SLUICE_PROFILE_DIR="$top_srcdir/profiles/deid"; export SLUICE_PROFILE_DIR
PY=/usr/bin/python3
if ! $PY -c 'import pydicom' 2>/dev/null; then
    echo "1..0 # SKIP python3-pydicom is not installed (apt-get install python3-pydicom)"
    exit 0
fi
plan 31
sluice keygen >"$T/key"
mkdir -p "$T/in"

# The instances (synthetic, made here).
$PY - "$T/in" <<'PYEOF' || { echo "Bail out! cannot make the instances"; exit 1; }
import sys
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, \
    ExplicitVRBigEndian
import struct

out = sys.argv[1]
CT = "1.2.840.10008.5.1.4.1.1.2"
PR = "1.2.840.10008.5.1.4.1.1.11.1"


def base(n, sop_class, name, pid):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.9.6363.%d.1.1" % n
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.9.6363.%d" % n
    ds.SeriesInstanceUID = "1.2.826.0.1.3680043.9.6363.%d.1" % n
    ds.Modality = "CT" if sop_class == CT else "PR"
    ds.PatientName = name
    ds.PatientID = pid
    return ds


def code(value, scheme, meaning):
    c = Dataset()
    c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning = value, scheme, meaning
    return c


# side x side words: 64 x 64 is 8 KiB, read with the rest of the file;
# 256 x 256 (128 KiB) is read from the file again when it is written.
def words(signed, overlay=True, side=64):
    w = []
    for i in range(side * side):
        v = (i * 37) & 0x0FFF
        if signed and i % 5 == 0:
            v = (v | 0x0800) | 0xF000  # negative, sign-extended
        if overlay and i % 3 == 0:
            v ^= 0x2000  # an overlay bit
        if overlay and i % 7 == 0:
            v |= 0x8000
        w.append(v & 0xFFFF)
    return w


def image(ds, bits_stored=12, signed=False, overlay=True, side=64):
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = side
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelData = struct.pack("<%dH" % (side * side),
                               *words(signed, overlay, side))


def save(ds, name, syntax=ExplicitVRLittleEndian):
    ds.file_meta.TransferSyntaxUID = syntax
    ds.is_little_endian = syntax != ExplicitVRBigEndian
    ds.is_implicit_VR = syntax == ImplicitVRLittleEndian
    if not ds.is_little_endian and "PixelData" in ds:
        n = len(ds.PixelData) // 2
        ds.PixelData = struct.pack(">%dH" % n,
                                   *struct.unpack("<%dH" % n, ds.PixelData))
    ds.save_as("%s/%s.dcm" % (out, name), write_like_original=False)


# Text the table does not list, beside attributes of the safe list.
ds = base(1, CT, "Textor^Tess", "TXT-4242")
ds.Manufacturer = "ACME Medical"
ds.InterventionDescription = "Intervention on Tess Textor"        # ST
ds.add_new(0x0018990F, "UT", "Planned with TXT-4242 in mind")      # UT
ds.CommentsOnTheScheduledProcedureStep = "Ask TEXTOR, not Tess"    # LT
ann = Dataset()
ann.ConceptNameCodeSequence = Sequence([code("8867-4", "LN", "Heart rate")])
ann.UnformattedTextValue = "Tess Textor moved here (TXT-4242)"
ds.WaveformAnnotationSequence = Sequence([ann])
image(ds)
save(ds, "text")

# A presentation state with a text object.
ds = base(2, PR, "Graphic^Gail", "GSPS-77")
txt = Dataset()
txt.UnformattedTextValue = "Gail GSPS-77: lesion"
txt.BoundingBoxTopLeftHandCorner = [10.0, 10.0]
txt.BoundingBoxBottomRightHandCorner = [60.0, 30.0]
txt.BoundingBoxTextHorizontalJustification = "LEFT"
layer = Dataset()
layer.GraphicLayer = "LAYER1"
layer.TextObjectSequence = Sequence([txt])
ds.GraphicAnnotationSequence = Sequence([layer])
save(ds, "gsps")

# Pixel data alone, in three encodings, signed, and 16 bits stored; small
# and large.
for n, name, syntax, bs, signed, side in (
        (3, "px-le", ExplicitVRLittleEndian, 12, False, 64),
        (4, "px-implicit", ImplicitVRLittleEndian, 12, False, 64),
        (5, "px-big", ExplicitVRBigEndian, 12, False, 64),
        (6, "px-signed", ExplicitVRLittleEndian, 12, True, 64),
        (7, "px-16", ExplicitVRLittleEndian, 16, False, 64),
        (9, "px-implicit-large", ImplicitVRLittleEndian, 12, False, 256),
        (10, "px-signed-large", ExplicitVRLittleEndian, 12, True, 256),
        (11, "px-big-signed-large", ExplicitVRBigEndian, 12, True, 256),
        # 65 x 65 words: not a whole number of 16 or 8 bytes, so the
        # last samples are masked one by one
        (12, "px-big-signed-odd", ExplicitVRBigEndian, 12, True, 65)):
    ds = base(n, CT, "Pixel^Pat", "PX-%d" % n)
    image(ds, bs, signed, side=side)
    save(ds, name, syntax)
ds = base(8, CT, "Pixel^Pat", "PX-8")
image(ds, 12, False, overlay=False)
save(ds, "px-clean")
PYEOF

# deid NAME PROFILE [FILE]: one `sluice deid`; $T/NAME.dcm is the output.
deid() {
    f=${3:-$T/in/$1.dcm}
    sluice deid --profile "$2" --key-file "$T/key" -o "$T/o-$1" "$f" \
        >"$T/$1.log" 2>&1
    rc=$?
    out=$(find "$T/o-$1/dicom" -name '*.dcm' 2>/dev/null | head -n 1)
    [ -n "$out" ] && cp "$out" "$T/$1.dcm"
    return $rc
}
# no_phi FILE VALUE...: none of the values in the file's bytes
no_phi() {
    f=$1
    shift
    for v in "$@"; do
        if grep -aqiF -- "$v" "$f"; then
            echo "# found: $v"
            return 1
        fi
    done
    return 0
}
# get FILE KEYWORD-PATH: a value by pydicom (seq[0].attr paths)
get() {
    $PY -c 'import sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
v = eval("ds." + sys.argv[2])
print(v)' "$1" "$2" 2>/dev/null
}

deid text basic
check "text: de-identified under basic, not quarantined (exit $rc)" test $rc = 0
check "text: the patient's name and id are gone from every attribute" \
    no_phi "$T/text.dcm" Textor Tess TXT-4242
check "text: LT, ST, UT outside the table are kept, scrubbed" \
    test "$(get "$T/text.dcm" InterventionDescription)|$(get "$T/text.dcm" CommentsOnTheScheduledProcedureStep)" = \
    "Intervention on XXXX XXXXXX|Ask XXXXXX, not XXXX"
check "text: the Waveform Annotation text is kept, scrubbed" \
    test "$(get "$T/text.dcm" 'WaveformAnnotationSequence[0].UnformattedTextValue')" = \
    "XXXX XXXXXX moved here (XXXXXXXX)"
check "text: the safe list survives unchanged (Code Meaning, Manufacturer)" \
    test "$(get "$T/text.dcm" 'WaveformAnnotationSequence[0].ConceptNameCodeSequence[0].CodeMeaning')|$(get "$T/text.dcm" Manufacturer)" = \
    "Heart rate|ACME Medical"

# Without the scrub, the leak scan is what stops the instance.
cat >"$T/keep-text.xml" <<'EOF'
<profile xmlns="urn:sluice:deid:1" name="keep-text" version="1" extends="basic">
  <dicom>
    <rule vr="ST" action="K"/><rule vr="LT" action="K"/><rule vr="UT" action="K"/>
  </dicom>
</profile>
EOF
deid keep "$T/keep-text.xml" "$T/in/text.dcm"
check "text kept whole by a site rule: quarantined by the leak scan (exit $rc)" \
    sh -c "[ $rc = 3 ] && grep -q 'leak scan' '$T/o-keep.quarantine'/*.reason.txt"

deid gsps basic
check "presentation state: de-identified under basic (exit $rc)" test $rc = 0
check "presentation state, basic: the text object's text replaced" \
    test "$(get "$T/gsps.dcm" 'GraphicAnnotationSequence[0].TextObjectSequence[0].UnformattedTextValue')" = ANONYMIZED
cat >"$T/graphics.xml" <<'EOF'
<profile xmlns="urn:sluice:deid:1" name="graphics" version="1" extends="basic">
  <dicom options="clean-graphics"/>
</profile>
EOF
deid gsps-cg "$T/graphics.xml" "$T/in/gsps.dcm"
check "presentation state, clean-graphics: the text object's text scrubbed" \
    test "$(get "$T/gsps-cg.dcm" 'GraphicAnnotationSequence[0].TextObjectSequence[0].UnformattedTextValue')" = \
    "XXXX XXXXXXX: lesion"
check "presentation state: the name and id are gone (both profiles)" \
    sh -c "$(command -v grep) -aqF -e Gail -e GSPS-77 '$T/gsps.dcm' '$T/gsps-cg.dcm'; [ \$? = 1 ]"

# pixels IN OUT: each output word against its input word.
pixels() {
    $PY - "$1" "$2" <<'PYEOF'
import struct, sys
import pydicom
a, b = pydicom.dcmread(sys.argv[1]), pydicom.dcmread(sys.argv[2])
def w(ds):
    n = len(ds.PixelData) // 2
    return struct.unpack(("<" if ds.is_little_endian else ">") + "%dH" % n,
                         ds.PixelData)
wa, wb = w(a), w(b)
bs, hb, signed = a.BitsStored, a.HighBit, a.PixelRepresentation == 1
keep = ((1 << bs) - 1) << (hb + 1 - bs)
bad = above = 0
for x, y in zip(wa, wb):
    if x & keep != y & keep:
        bad += 1
    hi = y >> (hb + 1)
    want = ((1 << (15 - hb)) - 1) if signed and (y >> hb) & 1 else 0
    if hi != want:
        above += 1
ok = len(wa) == len(wb) and bad == 0 and above == 0
print("# %s: stored bits changed in %d words, bits above High Bit wrong in %d"
      % ("ok" if ok else "not ok", bad, above))
sys.exit(0 if ok else 1)
PYEOF
}
# same_pixels IN OUT: the pixel data bytes are identical
same_pixels() {
    $PY -c 'import sys, pydicom
a, b = (pydicom.dcmread(p) for p in sys.argv[1:3])
sys.exit(0 if a.PixelData == b.PixelData else 1)' "$1" "$2"
}

check "text: its pixel data's overlay bits zeroed, stored bits exact" \
    pixels "$T/in/text.dcm" "$T/text.dcm"
for n in px-le px-implicit px-big px-signed px-implicit-large \
    px-signed-large px-big-signed-large px-big-signed-odd; do
    deid $n basic
    check "$n: de-identified (exit $rc)" test $rc = 0
    check "$n: bits above High Bit cleared (signed: the sign), 12 stored bits exact" \
        pixels "$T/in/$n.dcm" "$T/$n.dcm"
done
deid px-16 basic
check "px-16: Bits Stored = Bits Allocated: pixel data byte-identical" \
    same_pixels "$T/in/px-16.dcm" "$T/px-16.dcm"
deid px-clean basic
check "px-clean: Bits Stored 12, nothing above High Bit: byte-identical (exit $rc)" \
    sh -c "[ $rc = 0 ] && $PY -c 'import sys, pydicom
a, b = (pydicom.dcmread(p) for p in sys.argv[1:3])
sys.exit(0 if a.PixelData == b.PixelData else 1)' '$T/in/px-clean.dcm' '$T/px-clean.dcm'"
cat >"$T/keep-bits.xml" <<'EOF'
<profile xmlns="urn:sluice:deid:1" name="keep-bits" version="1" extends="basic">
  <dicom><unused-pixel-bits action="keep"/></dicom>
</profile>
EOF
deid px-keep "$T/keep-bits.xml" "$T/in/px-le.dcm"
check "a profile keeping the unused bits: pixel data byte-identical" \
    same_pixels "$T/in/px-le.dcm" "$T/px-keep.dcm"
if command -v dcmcrle >/dev/null; then
    dcmcrle "$T/in/px-le.dcm" "$T/rle.in.dcm"
    deid px-rle basic "$T/rle.in.dcm"
    check "RLE-compressed: left as it is (exit $rc, pixel data byte-identical)" \
        same_pixels "$T/rle.in.dcm" "$T/px-rle.dcm"
else
    skip "dcmtk's dcmcrle is not installed"
fi
finish

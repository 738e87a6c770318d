#!/bin/sh
# The OCR module (src/ocr/, Tesseract) finds burned-in words where they
# were planted: small overlay fonts (8 to 11 points) in the corners of a
# dark image, dark text on grey, text running up the side of an image
# (only when asked to look for turned text); a clean gradient gives none.
# The images are rendered here with ImageMagick and Debian's DejaVu font.
. "${top_srcdir}/tests/integration/lib.sh"
OCR="${top_builddir}/tests/tools/ocr_words"
F=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
if ! command -v convert >/dev/null 2>&1 || [ ! -f "$F" ]; then
    echo "1..0 # SKIP needs ImageMagick and fonts-dejavu-core"
    exit 0
fi
plan 7
img() { # NAME SIZE BACKGROUND ARGS...: an 8-bit grey PGM
    n=$1 s=$2 b=$3
    shift 3
    convert -size "$s" "xc:$b" -font "$F" "$@" -depth 8 "$T/$n.pgm"
}
# word FILE WORD X Y: WORD found in a box that holds the point (X, Y)
word() {
    awk -v w="$2" -v x="$3" -v y="$4" '
        $7 == w && $5 >= 80 && $1 <= x && x < $1 + $3 && $2 <= y && y < $2 + $4 { ok = 1 }
        END { exit !ok }' "$1"
}
words() { # FILE WORD X Y WORD X Y
    word "$1" "$2" "$3" "$4" && word "$1" "$5" "$6" "$7"
}
img corners 512x512 black -pointsize 11 -fill white \
    -annotate +8+16 'JOHN DOE' -annotate +380+500 'MRN 48213'
$SLUICE_WRAP "$OCR" "$T/corners.pgm" >"$T/corners.txt"
check "an 11-point overlay in the top-left corner is read where it is" \
    words "$T/corners.txt" JOHN 15 12 DOE 50 12
check "... and one in the bottom-right corner" \
    words "$T/corners.txt" MRN 390 496 48213 420 496
img tiny 640x480 black -pointsize 8 -fill white -annotate +4+12 'ACC 77102'
$SLUICE_WRAP "$OCR" "$T/tiny.pgm" >"$T/tiny.txt"
check "an 8-point overlay is read" \
    words "$T/tiny.txt" ACC 8 8 77102 30 8
img grey 1024x768 gray60 -pointsize 22 -fill black \
    -annotate +300+400 'Quimby Zanzibar'
$SLUICE_WRAP "$OCR" "$T/grey.pgm" >"$T/grey.txt"
check "dark text on grey is read" \
    words "$T/grey.txt" Quimby 320 392 Zanzibar 420 392
img side 512x512 black -pointsize 14 -fill white \
    -annotate 90x90+480+100 'ROTATED LABEL'
$SLUICE_WRAP "$OCR" "$T/side.pgm" >"$T/side.txt"
$SLUICE_WRAP "$OCR" --rotated "$T/side.pgm" >"$T/side-rot.txt"
check "text running down the side is not read unless asked" \
    sh -c "! grep -q -e ROTATED -e LABEL '$T/side.txt'"
check "... and read, in a tall box where it is, when asked" \
    words "$T/side-rot.txt" ROTATED 484 130 LABEL 484 190
convert -size 512x512 gradient:black-white -depth 8 "$T/clean.pgm"
$SLUICE_WRAP "$OCR" --rotated "$T/clean.pgm" >"$T/clean.txt"
check "a clean gradient gives no word" [ ! -s "$T/clean.txt" ]
finish

#!/bin/sh
# dicom-deid.sh - DICOM de-identification throughput of `sluice deid`, the
# command a user runs, side by side in one run with GDCM's gdcmanon (basic
# profile, throwaway certificate) and with `cp -r` of the same files (the
# I/O floor), outputs on tmpfs (/dev/shm) so disk write-back does not swamp
# the ratio. Two corpora, as the issue asks:
#   - large: LARGE_MB MiB (default 2048), half 512x512 CT slices (one frame,
#     512 KiB), half 512x512 multi-frame images (100 frames, 50 MiB);
#   - small: SMALL instances (default 20000): RT plans and RT structure sets
#     (sequences nested three deep, no pixel data) and 64x64 MR images
#     (8 KiB of pixel data), 20 per series, 3 series per study, 2 studies
#     per patient, each patient, study, series and instance with its own
#     identifiers and UIDs.
# Times are the medians of RUNS runs (default 5) of hyperfine, each run into
# an empty output folder (sluice deid would otherwise compare with what an
# earlier run left there). sluice runs with its default --jobs (the number
# of cores) and with -j 1. Then the peak RSS of sluice deid (/usr/bin/time)
# on half of each corpus and on all of it: it must not grow with the corpus.
# Usage: dicom-deid.sh BUILDDIR SRCDIR [LARGE_MB] [SMALL] [RUNS]
# Needs hyperfine, python3-pydicom, openssl and gdcmanon (libgdcm-tools;
# without it the gdcmanon ratios are left out).
set -eu
PY=${PYTHON:-/usr/bin/python3}
build=$1 src=$2 large_mb=${3:-2048} small=${4:-20000} runs=${5:-5}
sluice="$build/sluice"
SLUICE_PROFILE_DIR="$src/profiles/deid"
export SLUICE_PROFILE_DIR
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
d=$(mktemp -d "$base/sluice-dicom-bench.XXXXXX")
trap 'rm -rf "$d"' EXIT
"$sluice" keygen >"$d/key"
have_gdcm=0
if command -v gdcmanon >/dev/null && command -v openssl >/dev/null; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key.pem" \
        -out "$d/cert.pem" -subj /CN=bench -days 1 >/dev/null 2>&1 &&
        have_gdcm=1
fi

"$PY" - "$d" "$large_mb" "$small" <<'PY'
import os, random, sys
import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ImplicitVRLittleEndian

out, large_mb, small = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
root = "1.2.826.0.1.3680043.10.543."

def uid(*parts):
    return root + ".".join(str(p) for p in parts)

def person(ds, p):
    ds.PatientID = "MRN%07d" % (p * 7919 % 10000000)
    ds.PatientName = "Doe%d^Jane%d" % (p, p % 97)
    ds.PatientBirthDate = "19%02d%02d%02d" % (40 + p % 60, 1 + p % 12,
                                              1 + p % 28)
    ds.AccessionNumber = "ACC%06d" % p

def save(ds, corpus, p, series, n, study):
    ds.StudyInstanceUID = uid(1, study)
    ds.SeriesInstanceUID = uid(2, series)
    ds.FrameOfReferenceUID = uid(4, study)
    ds.InstanceNumber = n + 1
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    d = "%s/%s/p%05d/s%06d" % (out, corpus, p, series)
    os.makedirs(d, exist_ok=True)
    ds.save_as("%s/%03d.dcm" % (d, n), write_like_original=False)

seeds = [pydicom.dcmread(get_testdata_file(n), force=True)
         for n in ("rtplan.dcm", "rtstruct.dcm", "MR_small.dcm")]
for ds in seeds:
    if "TransferSyntaxUID" not in ds.file_meta:  # rtstruct.dcm has none
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
        ds.preamble = b"\0" * 128
for i in range(small):
    series, n = divmod(i, 20)
    study = series // 3
    ds = seeds[series % 3]
    person(ds, study // 2)
    ds.SOPInstanceUID = uid(3, i)
    save(ds, "small", study // 2, series, n, study)

ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
ds.Rows = ds.Columns = 512
ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
random.seed(1)
frame = bytes(b & 0x0F if k % 2 else b
              for k, b in enumerate(random.randbytes(512 * 512 * 2)))
slices, multi = max(1, large_mb), max(1, large_mb // 100)
for i in range(slices + multi):
    ds.SOPInstanceUID = uid(3, i)
    if i < slices:  # 100 slices a series, 2 series a study and patient
        series, n = divmod(i, 100)
        if "NumberOfFrames" in ds:
            del ds.NumberOfFrames
        ds.PixelData = frame
    else:  # a series of its own
        series, n = 100000 + i, 0
        ds.NumberOfFrames = 100
        ds.PixelData = frame * 100
    person(ds, (series % 100000) // 2)
    save(ds, "large", (series % 100000) // 2, series, n, series // 2)
PY

# median NAME: the median seconds of command NAME in $d/times.json
median() {
    "$PY" -c 'import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    if r["command"] == sys.argv[2]:
        print("%.3f" % r["median"])' "$d/times.json" "$1"
}
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

bench() { # NAME: times the corpus $d/NAME, prints the ratios
    name=$1 in="$d/$1"
    echo "bench: $name: $(find "$in" -name '*.dcm' | wc -l) instances," \
        "$(du -sm "$in" | cut -f1) MiB"
    set -- -n cp "cp -r '$in' '$d/out-cp'" \
        -n sluice "'$sluice' -q deid --key-file '$d/key' -o '$d/out-s' '$in'" \
        -n sluice-j1 \
        "'$sluice' -q -j 1 deid --key-file '$d/key' -o '$d/out-1' '$in'"
    if [ $have_gdcm = 1 ]; then
        set -- "$@" -n gdcmanon "mkdir '$d/out-g' && gdcmanon -e -c \
'$d/cert.pem' -r --continue -i '$in' -o '$d/out-g' >/dev/null 2>&1"
    fi
    hyperfine --style basic --runs "$runs" --warmup 1 \
        --prepare "rm -rf '$d'/out-*" --export-json "$d/times.json" "$@"
    rm -rf "$d"/out-*
    tc=$(median cp) ts=$(median sluice) t1=$(median sluice-j1)
    printf '%s: sluice deid %.2fx the throughput of cp -r (-j 1: %.2fx)\n' \
        "$name" "$(div "$tc" "$ts")" "$(div "$tc" "$t1")"
    if [ $have_gdcm = 1 ]; then
        tg=$(median gdcmanon)
        printf '%s: gdcmanon %.2fx cp -r; sluice deid %.2fx gdcmanon' \
            "$name" "$(div "$tc" "$tg")" "$(div "$tg" "$ts")"
        printf ' (-j 1: %.2fx)\n' "$(div "$tg" "$t1")"
    fi
}

rss() { # NAME: peak RSS of sluice deid on half of the corpus, then all
    in="$d/$1"
    n=$(ls "$in" | wc -l)
    half=$(ls "$in" | head -n $((n / 2)) | sed "s|^|$in/|")
    # shellcheck disable=SC2086 # the folder names have no spaces
    /usr/bin/time -f %M -o "$d/rss-half" "$sluice" -q deid \
        --key-file "$d/key" -o "$d/out-r" $half 2>"$d/log"
    rm -rf "$d/out-r"
    /usr/bin/time -f %M -o "$d/rss-all" "$sluice" -q deid \
        --key-file "$d/key" -o "$d/out-r" "$in" 2>"$d/log"
    rm -rf "$d/out-r"
    printf '%s: sluice deid peak RSS %s KB on half the corpus, %s KB on all\n' \
        "$1" "$(tail -n 1 "$d/rss-half")" "$(tail -n 1 "$d/rss-all")"
}

bench large
bench small
rss large
rss small

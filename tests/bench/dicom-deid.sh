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
# RUNS rounds (default 7) of hyperfine, one run of each command in turn,
# each run into an empty output folder (sluice deid would otherwise compare
# with what an earlier run left there); ratios are the medians of the
# round-by-round ratios, of wall time and of CPU time (user + system: what
# a loaded machine cannot blur). sluice runs with its default --jobs (the
# number of cores) and with -j 1. Then the peak RSS of sluice deid (/usr/bin/time)
# on half of each corpus and on all of it: it must not grow with the corpus.
# Usage: dicom-deid.sh BUILDDIR SRCDIR [LARGE_MB] [SMALL] [RUNS]
# docs/deid.md (DICOM, "Speed") quotes its output: update both together.
# Needs hyperfine, python3-pydicom, openssl and gdcmanon (libgdcm-tools;
# without it the gdcmanon ratios are left out).
set -eu
PY=${PYTHON:-/usr/bin/python3}
build=$1 src=$2 large_mb=${3:-2048} small=${4:-20000} runs=${5:-7}
sluice="$build/sluice"
if ! command -v hyperfine >/dev/null 2>&1; then
    echo "bench: hyperfine is not installed (Debian: apt-get install hyperfine)" >&2
    exit 1
fi
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

# summary NAME FILES...: from hyperfine's JSON of each round, the median
# wall and CPU (user + system) seconds of each command and the median of
# the per-round ratios that the bench reports.
summary() {
    "$PY" - "$@" <<'PY'
import json, statistics, sys
name, files = sys.argv[1], sys.argv[2:]
runs = {}
for f in files:
    for r in json.load(open(f))["results"]:
        runs.setdefault(r["command"], []).append(
            (r["median"], r["user"] + r["system"]))
med = lambda v: statistics.median(v)
for c, v in runs.items():
    print("%s: %-9s wall %.3f s, cpu %.3f s (medians of %d)"
          % (name, c, med([w for w, _ in v]), med([u for _, u in v]), len(v)))
def ratio(a, b, i):  # b's time over a's, round by round: a's speed vs b
    return med([y[i] / x[i] for x, y in zip(runs[a], runs[b])])
def line(what, a, b):
    if a in runs and b in runs:
        print("%s: %s %.2fx %s (%.2fx by CPU time)"
              % (name, a, ratio(a, b, 0), what, ratio(a, b, 1)))
line("the throughput of cp -r", "sluice", "cp")
line("the throughput of cp -r", "sluice-j1", "cp")
line("the throughput of cp -r", "gdcmanon", "cp")
line("the throughput of gdcmanon", "sluice", "gdcmanon")
line("the throughput of gdcmanon", "sluice-j1", "gdcmanon")
PY
}

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
    # Rounds of one run of each command in turn, so that a change in the
    # load of a shared machine hits all of them alike; the ratios are
    # taken round by round. One round first to warm the caches, untimed.
    hyperfine --style none --runs 1 --prepare "rm -rf '$d'/out-*" "$@" \
        >/dev/null
    r=1
    while [ $r -le "$runs" ]; do
        hyperfine --style none --runs 1 --prepare "rm -rf '$d'/out-*" \
            --export-json "$d/round-$name-$r.json" "$@" >/dev/null
        r=$((r + 1))
    done
    rm -rf "$d"/out-*
    summary "$name" "$d"/round-"$name"-*.json
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

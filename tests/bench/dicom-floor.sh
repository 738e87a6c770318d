#!/bin/sh
# dicom-floor.sh - the engine's own cost on DICOM: `sluice deid` (the one
# engine: files source, deid stage, dicom-folder target) side by side with
# the I/O floor, copy_floor (../shared/tools/copy_floor.c: every file copied
# with copy_file_range on two threads, which no de-identifier that writes
# every byte can beat), outputs on tmpfs (/dev/shm) so that disk write-back
# does not swamp the ratio. Two corpora:
#   - large: LARGE instances (default 1000) of 512x512 16-bit CT (512 KiB);
#   - small: SMALL instances (default 5000) of 100x100 16-bit CT (20 KiB),
#     100 a series, each patient, study, series and instance its own.
# RUNS rounds (default 5) of hyperfine, the two commands in turn, each into
# an empty folder; the ratio is the median of the round-by-round ratios of
# wall time. The issue's targets: at most 1.5x the floor on large
# instances, 2x on small ones.
# Usage: dicom-floor.sh BUILDDIR [COPY_FLOOR_C] [LARGE] [SMALL] [RUNS]
# Needs hyperfine, a C compiler and Debian's python3-pydicom.
set -eu
PY=${PYTHON:-/usr/bin/python3}
build=$1
floor_c=${2:-$(dirname "$0")/../../../shared/tools/copy_floor.c}
large=${3:-1000} small=${4:-5000} runs=${5:-5}
sluice="$build/sluice"
for t in hyperfine cc; do
    command -v $t >/dev/null 2>&1 || { echo "bench: $t is not installed" >&2; exit 1; }
done
[ -f "$floor_c" ] || { echo "bench: no copy_floor.c at $floor_c" >&2; exit 1; }
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
d=$(mktemp -d "$base/sluice-floor-bench.XXXXXX")
[ -n "${KEEP:-}" ] || trap 'rm -rf "$d"' EXIT
cc -O2 -pthread -o "$d/copy_floor" "$floor_c"
"$sluice" keygen >"$d/key"
"$PY" - "$d" "$large" "$small" <<'PY'
import os, random, sys, warnings
warnings.filterwarnings("ignore")
import pydicom
from pydicom.data import get_testdata_file
out, large, small = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
root = "1.2.826.0.1.3680043.10.543."
ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
random.seed(1)
def corpus(name, n, side):
    ds.Rows = ds.Columns = side
    ds.PixelData = bytes(b & 0x0F if k % 2 else b
                         for k, b in enumerate(random.randbytes(side * side * 2)))
    for i in range(n):
        series, k = divmod(i, 100)
        p = series // 2
        ds.PatientID = "MRN%07d" % (p * 7919 % 10000000)
        ds.PatientName = "Doe%d^Jane%d" % (p, p % 97)
        ds.StudyInstanceUID = root + "1.%s.%d" % (name, series // 2)
        ds.SeriesInstanceUID = root + "2.%s.%d" % (name, series)
        ds.SOPInstanceUID = root + "3.%s.%d" % (name, i)
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = k + 1
        dd = "%s/%s/p%05d/s%06d" % (out, name, p, series)
        os.makedirs(dd, exist_ok=True)
        ds.save_as("%s/%03d.dcm" % (dd, k), write_like_original=False)
corpus("large", large, 512)
corpus("small", small, 100)
PY
for c in large small; do
    n=$(find "$d/$c" -type f | wc -l)
    mb=$(du -sm "$d/$c" | cut -f1)
    hyperfine -N --runs "$runs" --export-json "$d/$c.json" \
        --prepare "rm -rf $d/out $d/out.quarantine" \
        -n floor "$d/copy_floor $d/$c $d/out 2" \
        -n "sluice deid" "$sluice deid --key-file $d/key -o $d/out $d/$c" \
        >/dev/null
    "$PY" - "$d/$c.json" "$c" "$n" "$mb" <<'PY'
import json, statistics, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
f, s = r["floor"]["times"], r["sluice deid"]["times"]
ratios = [b / a for a, b in zip(f, s)]
print("%s: %s instances, %s MB: floor %.3f s, sluice deid %.3f s: %.2fx the floor"
      % (sys.argv[2], sys.argv[3], sys.argv[4], statistics.median(f),
         statistics.median(s), statistics.median(ratios)))
PY
done

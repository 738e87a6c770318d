#!/bin/sh
# dicom-floor.sh - the engine's own cost on DICOM: `sluice deid` (the one
# engine: files source, deid stage, dicom-folder target) side by side with
# the I/O floor, copy_floor (../shared/tools/copy_floor.c: every file copied
# with copy_file_range on two threads, which no de-identifier that writes
# every byte can beat), outputs on tmpfs (/dev/shm) so that disk write-back
# does not swamp the ratio. Three corpora, made here:
#   - large: LARGE instances (default 1000) of 512x512 16-bit CT (512 KiB),
#     the pipeline issue's "large CT instances";
#   - small: SMALL instances (default 5000) of 100x100 16-bit CT (20 KiB),
#     the issue's "small ones".
#     Both are plain CT as `sluice synth` writes it (its header: some 60
#     elements, one code sequence, one private group of 3 elements;
#     unsigned samples, 12 of 16 bits stored, nothing above High Bit),
#     100 instances a series, two series a study and patient.
#   - small-private: SMALL instances of the same size from pydicom's
#     CT_small.dcm (some 170 private GE elements an instance, all parsed
#     to be removed; signed samples): an extra row, heavier per instance
#     than anything the issue names.
# RUNS rounds (default 5): in each, hyperfine runs every command once, in
# turn, each into an empty folder; the ratio is the median of the
# round-by-round ratios of wall time, CPU times (user + system) medians,
# and in brackets the median of the round-by-round ratios of CPU time
# (the steadier figure on a loaded machine). The issue's targets: at
# most 1.5x the floor on large instances, 2x on small ones.
# Usage: dicom-floor.sh BUILDDIR [COPY_FLOOR_C] [LARGE] [SMALL] [RUNS]
# CORPORA="large small" (say) runs only those; KEEP=1 keeps the folder;
# BEFORE=/path/to/an/older/sluice runs it too, in the same rounds, and
# prints its ratio beside the build's.
# Needs hyperfine, a C compiler and Debian's python3-pydicom.
set -eu
PY=${PYTHON:-/usr/bin/python3}
build=$1
floor_c=${2:-$(dirname "$0")/../../../shared/tools/copy_floor.c}
large=${3:-1000} small=${4:-5000} runs=${5:-5}
corpora=${CORPORA:-large small small-private}
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
# The plain corpora's header: one instance of `sluice synth`.
"$sluice" synth -n 1 --series 1 --instances 1 -o "$d/synth" >/dev/null
"$PY" - "$d" "$large" "$small" "$corpora" <<'PY'
import glob, os, random, sys, warnings
warnings.filterwarnings("ignore")
import pydicom
from pydicom.data import get_testdata_file
out, large, small, corpora = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split()
root = "1.2.826.0.1.3680043.10.543."
plain = pydicom.dcmread(glob.glob(out + "/synth/dicom/*/*/*.dcm")[0])
heavy = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
heavy.BitsAllocated, heavy.BitsStored, heavy.HighBit = 16, 12, 11
random.seed(1)
def corpus(ds, name, n, side):
    ds.Rows = ds.Columns = side
    # 12-bit samples, little endian: the high byte's top four bits clear.
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
if "large" in corpora:
    corpus(plain, "large", large, 512)
if "small" in corpora:
    corpus(plain, "small", small, 100)
if "small-private" in corpora:
    corpus(heavy, "small-private", small, 100)
PY
for c in $corpora; do
    n=$(find "$d/$c" -type f | wc -l)
    kb=$(find "$d/$c" -type f -printf '%s\n' | awk -v n="$n" '{s += $1} END {printf "%.1f", s / n / 1024}')
    set -- -n floor "$d/copy_floor $d/$c $d/out 2" \
        -n "sluice deid" "$sluice deid --key-file $d/key -o $d/out $d/$c"
    [ -z "${BEFORE:-}" ] ||
        set -- "$@" -n before "$BEFORE deid --key-file $d/key -o $d/out $d/$c"
    # One run of each command a round, in turn, so that a ratio compares
    # runs made under the same load.
    r=1
    while [ $r -le "$runs" ]; do
        hyperfine -N --runs 1 --export-json "$d/$c.$r.json" \
            --prepare "rm -rf $d/out $d/out.quarantine" "$@" >/dev/null
        r=$((r + 1))
    done
    "$PY" - "$c" "$n" "$kb" "$d/$c".*.json <<'PY'
import json, statistics, sys
rounds = [{x["command"]: x for x in json.load(open(p))["results"]}
          for p in sys.argv[4:]]
wall = lambda name: [r[name]["times"][0] for r in rounds]
cpus = lambda name: [r[name]["user"] + r[name]["system"] for r in rounds]
cpu = lambda name: statistics.median(cpus(name))
f = wall("floor")
line = "%s: %s instances of %s KiB, %d rounds: floor %.3f s (CPU %.2f s)" % (
    sys.argv[1], sys.argv[2], sys.argv[3], len(rounds), statistics.median(f),
    cpu("floor"))
fc = cpus("floor")
for name in ("sluice deid", "before"):
    if name in rounds[0]:
        s = wall(name)
        line += "; %s %.3f s (CPU %.2f s): %.2fx the floor (%.2fx its CPU)" % (
            name, statistics.median(s), cpu(name),
            statistics.median(b / a for a, b in zip(f, s)),
            statistics.median(b / a for a, b in zip(fc, cpus(name))))
print(line)
PY
done

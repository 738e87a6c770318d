#!/bin/sh
# dicom-deid.sh - throughput of the DICOM de-identification engine as
# ratios against baselines run side by side on the same files, outputs on
# tmpfs (/dev/shm) so disk write-back does not swamp the ratio:
#   - large instances (512x512 CT frames, multi-frame, LARGE_MB in all),
#     against `cp -r` (the I/O floor) and GDCM's gdcmanon (basic profile,
#     throwaway certificate) when installed;
#   - many small instances (SMALL copies of an RT plan: deep sequences, no
#     pixel data), against the same.
# Peak RSS of the engine is printed for both: it must not grow with size.
# Usage: dicom-deid.sh BUILDDIR SRCDIR [LARGE_MB] [SMALL]
# (the engine runs through tests/tools/dicom_deid_run until `sluice deid`
# drives it). Needs python3-pydicom and numpy to make the large files.
set -eu
PY=${PYTHON:-/usr/bin/python3}
build=$1 src=$2 large_mb=${3:-2048} small=${4:-20000}
run="$build/tests/tools/dicom_deid_run"
prof="$src/tests/data/deid/dicom/profiles/basic.xml"
SLUICE_PROFILE_DIR="$src/profiles/deid"; export SLUICE_PROFILE_DIR
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
d=$(mktemp -d "$base/sluice-dicom-bench.XXXXXX")
trap 'rm -rf "$d"' EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# time_of LABEL COMMAND...: prints seconds, keeps the peak RSS in $d/rss
time_of() {
    t0=$(now)
    /usr/bin/time -f %M -o "$d/rss" "$@" >/dev/null 2>&1 || true
    t1=$(now)
    secs "$t0" "$t1"
}
have_gdcm=0
if command -v gdcmanon >/dev/null && command -v openssl >/dev/null; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key.pem" \
        -out "$d/cert.pem" -subj /CN=bench -days 1 >/dev/null 2>&1 && have_gdcm=1
fi

bench() { # NAME INPUT-DIR
    name=$1 in=$2
    rm -rf "$d/o" "$d/c" "$d/g"; mkdir -p "$d/o" "$d/g"
    tc=$(time_of cp -r "$in" "$d/c")
    # shellcheck disable=SC2046
    ts=$(time_of sh -c "find '$in' -name '*.dcm' | sort | xargs '$run' -p '$prof' '$d/o'")
    rss=$(cat "$d/rss")
    printf '%s: cp %.2fs, sluice %.2fs (%.2fx cp), peak RSS %s KB\n' \
        "$name" "$tc" "$ts" "$(div "$tc" "$ts")" "$rss"
    if [ $have_gdcm = 1 ]; then
        tg=$(time_of gdcmanon -e -c "$d/cert.pem" -r --continue -i "$in" -o "$d/g")
        printf '%s: gdcmanon %.2fs (%.2fx cp); sluice is %.2fx gdcmanon\n' \
            "$name" "$tg" "$(div "$tc" "$tg")" "$(div "$tg" "$ts")"
    fi
}

mkdir -p "$d/large" "$d/small"
"$PY" - "$d/large" "$large_mb" <<'PY'
import sys, numpy as np, pydicom
from pydicom.data import get_testdata_file
out, mb = sys.argv[1], int(sys.argv[2])
ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
ds.Rows = ds.Columns = 512
frames = 100  # 50 MiB a file
ds.NumberOfFrames = frames
ds.PixelData = (np.arange(512 * 512 * frames, dtype=np.uint32) % 4096).astype(np.uint16).tobytes()
n = max(1, mb // 50)
for i in range(n):
    ds.SOPInstanceUID = "1.2.826.0.1.3680043.9.1.%d" % (i + 1)
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as("%s/%05d.dcm" % (out, i))
PY
seed=$("$PY" -c 'from pydicom.data import get_testdata_file as g; print(g("rtplan.dcm"))')
i=0
while [ $i -lt "$small" ]; do
    cp "$seed" "$d/small/$i.dcm"
    i=$((i + 1))
done
echo "bench: $(du -sm "$d/large" | cut -f1) MB of large instances, $small small ones, in $d"
bench large "$d/large"
bench small "$d/small"

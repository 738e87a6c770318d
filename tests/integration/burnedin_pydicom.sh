#!/bin/sh
# burnedin_pydicom.sh - clean-pixel-data="ocr" on Debian's python3-pydicom
# test files (the .dcm files of test_files and charset_files, read where
# Debian installs them), in one `sluice deid` over a folder of them, as
# the issue measures it: how many distinct instances (SOP Instance UIDs)
# come out de-identified, and OCR of every output finds no word of three
# or more letters or digits that is an identifying value of any input
# (PatientName parts, PatientID, OtherPatientIDs, AccessionNumber,
# InstitutionName words, dates).
. "${top_srcdir}/tests/integration/lib.sh"
DATA=/usr/lib/python3/dist-packages/pydicom/data
PY=/usr/bin/python3
if [ ! -d "$DATA/test_files" ] || ! $PY -c 'import pydicom' 2>/dev/null; then
    echo "1..0 # SKIP python3-pydicom is not installed"
    exit 0
fi
SLUICE_PROFILE_DIR="$top_srcdir/profiles/deid"; export SLUICE_PROFILE_DIR
plan 4
sluice keygen >"$T/key"
cat >"$T/ocr.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<profile xmlns="urn:sluice:deid:1" name="ocr-corpus" version="1" extends="basic">
  <dicom clean-pixel-data="ocr"/>
</profile>
EOF
mkdir -p "$T/in"
n=0
for f in "$DATA"/test_files/*.dcm "$DATA"/charset_files/*.dcm; do
    n=$((n + 1))
    cp "$f" "$T/in/$n.dcm"
done
timeout 900 $SLUICE_WRAP "$SLUICE" deid --profile "$T/ocr.xml" \
    --key-file "$T/key" -o "$T/out" --quarantine "$T/q" --explain "$T/in" \
    >"$T/deid.out" 2>"$T/deid.err"
rc=$?
check "one run over $n files ends (exit 0 or 3, no crash)" \
    sh -c "[ $rc = 0 ] || [ $rc = 3 ]"
find "$T/out" -name '*.dcm' >"$T/outs"
$PY - "$T/in" <<'PYEOF' >"$T/ids"
import glob, re, sys, warnings
warnings.simplefilter("ignore")
import pydicom
uids, tokens = set(), set()
for f in glob.glob(sys.argv[1] + "/*.dcm"):
    try:
        d = pydicom.dcmread(f, force=True, stop_before_pixels=True)
    except Exception:
        continue
    u = str(d.get("SOPInstanceUID", "") or "")
    if u:
        uids.add(u)
    for kw in ("PatientName", "PatientID", "OtherPatientIDs",
               "AccessionNumber", "InstitutionName", "PatientBirthDate",
               "StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate"):
        try:
            v = d.get(kw)
        except Exception:
            continue
        if v is None:
            continue
        for t in re.split(r"[^0-9A-Za-z]+", str(v)):
            if len(t) >= 3:
                tokens.add(t.upper())
print("distinct", len(uids))
for t in sorted(tokens):
    print("token", t)
PYEOF
distinct=$(sed -n 's/^distinct //p' "$T/ids")
done_n=$(wc -l <"$T/outs")
pct=$((100 * done_n / distinct))
diag "$done_n of $distinct distinct instances de-identified ($pct%), $n files"
grep 'clean pixel data' "$T/deid.out" | sed 's/^/# /'
sed -n 's/.*quarantined [^ ]* (file [0-9]*): //p' "$T/deid.err" |
    sed 's/[0-9.]*$//' | sort | uniq -c | sort -rn | sed 's/^/# /'
# The issue's target; 39 of 45 (86%) when this test was written. What
# keeps the rest in quarantine is listed above and in docs/deid.md.
check "at least 80% of the distinct instances de-identified" [ "$pct" -ge 80 ]
: >"$T/words"
while IFS= read -r o; do
    $SLUICE_WRAP "$SLUICE" inspect-pixels --show-text --min-confidence 0 "$o"
done <"$T/outs" | sed -n 's/.* text "\(.*\)"$/\1/p' >"$T/words"
check "OCR read the outputs (inspect-pixels ran on every one)" \
    [ "$done_n" -gt 0 ]
leaks() {
    $PY - "$T/ids" "$T/words" <<'PYEOF'
import re, sys
tokens = {l.split(" ", 1)[1].strip() for l in open(sys.argv[1])
          if l.startswith("token ")}
bad = 0
for w in open(sys.argv[2], encoding="utf-8", errors="replace"):
    for t in re.split(r"[^0-9A-Za-z]+", w.strip()):
        if len(t) >= 3 and t.upper() in tokens:
            bad += 1
print(bad)
sys.exit(1 if bad else 0)
PYEOF
}
check "OCR of every output finds no word matching an identifying value of any input" \
    leaks
finish

#!/bin/sh
# deid_dicom_pydicom.sh - Debian's python3-pydicom test files (85 DICOM
# files from many writers) through the DICOM de-identification engine,
# read from where Debian installs them: no crash or hang; each one
# de-identified (the output parses, pixel data byte-identical) or
# quarantined with a reason; at least 80% de-identified under a site
# profile that accepts the corpus' reviewed screen captures.
. "$top_srcdir/tests/integration/lib.sh"
DATA=/usr/lib/python3/dist-packages/pydicom/data
RUN="$top_builddir/tests/tools/dicom_deid_run"
PROFILES="$top_srcdir/tests/data/deid/dicom/profiles"
SLUICE_PROFILE_DIR="$top_srcdir/profiles/deid"; export SLUICE_PROFILE_DIR
PY=/usr/bin/python3
if [ ! -d "$DATA/test_files" ] || ! $PY -c 'import pydicom' 2>/dev/null; then
    echo "1..0 # SKIP python3-pydicom is not installed (apt-get install python3-pydicom)"
    exit 0
fi
find "$DATA/test_files" "$DATA/charset_files" -name '*.dcm' | sort >"$T/list"
N=$(wc -l <"$T/list")
plan $((2 * N + 5))

for prof in basic pydicom-corpus; do
    mkdir -p "$T/$prof"
    # One process for the whole corpus; timeout catches a hang.
    # shellcheck disable=SC2046
    timeout 300 $SLUICE_WRAP "$RUN" -p "$PROFILES/basic.xml" \
        $( [ $prof = basic ] || echo "-p $PROFILES/$prof.xml" ) \
        "$T/$prof" $(cat "$T/list") >"$T/$prof.res" 2>"$T/$prof.err"
    echo $? >"$T/$prof.rc"
done
check "basic: the engine finished the corpus (no crash, no hang)" \
    test "$(cat "$T/basic.rc")" = 0
check "site profile: the engine finished the corpus" \
    test "$(cat "$T/pydicom-corpus.rc")" = 0

# Per file, under the site profile: de-identified and verified, or
# quarantined with a reason.
$PY - "$T/list" "$T/pydicom-corpus.res" "$T/pydicom-corpus" >"$T/verify" <<'PYEOF'
import hashlib, sys
import pydicom
files = open(sys.argv[1]).read().split("\n")
for line in open(sys.argv[2]).read().splitlines():
    n, status, rest = (line.split(" ", 2) + [""])[:3]
    name = files[int(n) - 1].rsplit("/", 1)[-1]
    if status == "quarantined":
        print("ok - %s: quarantined: %s" % (name, rest) if rest else
              "not ok - %s: quarantined without a reason" % name)
        continue
    if status != "ok":
        print("not ok - %s: %s %s" % (name, status, rest))
        continue
    try:
        a = pydicom.dcmread(files[int(n) - 1], force=True)
        b = pydicom.dcmread("%s/%s.dcm" % (sys.argv[3], n))
        pa, pb = a.get("PixelData"), b.get("PixelData")
        same = (pa is None and pb is None) or (
            pa is not None and pb is not None and
            hashlib.sha256(pa).digest() == hashlib.sha256(pb).digest())
        problems = []
        if not same:
            problems.append("pixel data differs")
        for kw in ("Rows", "Columns", "Modality", "SOPClassUID",
                   "PixelSpacing", "SliceThickness", "BitsAllocated"):
            if a.get(kw) != b.get(kw):
                problems.append(kw + " changed")
        if b.get("PatientIdentityRemoved") != "YES":
            problems.append("no Patient Identity Removed")
        if a.get("PatientName") and str(a.PatientName) == str(b.get("PatientName")):
            problems.append("Patient's Name kept")
        if problems:
            print("not ok - %s: %s" % (name, ", ".join(problems)))
        else:
            print("ok - %s: de-identified, parses, pixel data identical" % name)
    except Exception as e:
        print("not ok - %s: output does not parse: %s" % (name, type(e).__name__))
PYEOF
while IFS= read -r line; do
    case $line in
    "ok - "*) ok "${line#ok - }" ;;
    *) not_ok "${line#not ok - }" ;;
    esac
done <"$T/verify"
# Files the engine gave no line for.
missing=$((N - $(wc -l <"$T/verify")))
i=0
while [ $i -lt $missing ]; do not_ok "a file got no result"; i=$((i + 1)); done

# Under the basic profile: each file de-identified or quarantined with a
# reason (no "error").
while IFS= read -r line; do
    case $line in
    *" ok "* | *" quarantined "?*) ok "basic: file ${line%% *}: ${line#* }" ;;
    *) not_ok "basic: file ${line%% *}: no result or an error" ;;
    esac
done <"$T/basic.res"
missing=$((N - $(wc -l <"$T/basic.res")))
i=0
while [ $i -lt $missing ]; do not_ok "basic: a file got no result"; i=$((i + 1)); done

# dciodvfy on every output: no error the input did not have (values,
# which change, taken out of the messages).
iod_errors() {
    # dciodvfy aborts on some odd inputs: the shell's notice is dropped.
    sh -c 'dciodvfy "$1" 2>&1' _ "$1" 2>/dev/null | grep '^Error' |
        sed 's/<[^>]*>//g' | sort -u
}
if command -v dciodvfy >/dev/null; then
    bad=
    while read -r n status rest; do
        [ "$status" = ok ] || continue
        iod_errors "$(sed -n "${n}p" "$T/list")" >"$T/iod.in"
        iod_errors "$T/pydicom-corpus/$n.dcm" >"$T/iod.out"
        if [ -n "$(comm -13 "$T/iod.in" "$T/iod.out")" ]; then
            bad="$bad $n"
            comm -13 "$T/iod.in" "$T/iod.out" | sed "s/^/# file $n: /"
        fi
    done <"$T/pydicom-corpus.res"
    check "dciodvfy reports no new error in any output${bad:+ (files$bad)}" \
        test -z "$bad"
else
    skip "dciodvfy (dicom3tools) is not installed"
fi

okb=$(grep -c ' ok ' "$T/basic.res")
oks=$(grep -c ' ok ' "$T/pydicom-corpus.res")
diag "basic profile: $okb of $N de-identified ($((100 * okb / N))%); the rest quarantined with a reason"
diag "site profile: $oks of $N de-identified ($((100 * oks / N))%)"
check "at least 80% de-identified under the site profile ($oks of $N)" \
    test $((100 * oks)) -ge $((80 * N))
check "reasons name tags, never the input path" \
    sh -c "! grep -q '$DATA' '$T/basic.res' '$T/pydicom-corpus.res'"
finish

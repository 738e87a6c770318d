#!/bin/sh
# deid_dicom_pydicom.sh - Debian's python3-pydicom test files (86 DICOM
# files from many writers) through `sluice deid`, read from where Debian
# installs them: no crash or hang; each one de-identified (the output
# parses, pixel data byte-identical) or quarantined with a reason (a .dcm
# file that is not DICOM too, never skipped); at least 80% de-identified under a
# site profile that accepts the corpus' reviewed screen captures (the
# basic profile quarantines every secondary capture for burned-in text:
# 41 of the 86 files are secondary captures).
#
# Each file goes through its own `sluice deid`: the corpus holds the same
# instance in several encodings (one SOP Instance UID, different bytes),
# which one run over them all rightly quarantines as conflicting
# duplicates; that run is checked too, for its counts.
. "$top_srcdir/tests/integration/lib.sh"
DATA=/usr/lib/python3/dist-packages/pydicom/data
PROFILES="$top_srcdir/tests/data/deid/dicom/profiles"
SLUICE_PROFILE_DIR="$top_srcdir/profiles/deid"; export SLUICE_PROFILE_DIR
PY=/usr/bin/python3
if [ ! -d "$DATA/test_files" ] || ! $PY -c 'import pydicom' 2>/dev/null; then
    echo "1..0 # SKIP python3-pydicom is not installed (apt-get install python3-pydicom)"
    exit 0
fi
find "$DATA/test_files" "$DATA/charset_files" -name '*.dcm' | sort >"$T/list"
N=$(wc -l <"$T/list")
plan $((2 * N + 13))
sluice keygen >"$T/key"

# deid_one PROFILE N FILE: one `sluice deid`; prints the result line
# "N ok OUTPUT", "N quarantined REASON", "N skipped" or "N error ...".
deid_one() {
    o="$T/$1/$2"
    timeout 60 $SLUICE_WRAP "$SLUICE" deid --profile "$PROFILES/$1.xml" \
        --key-file "$T/key" -o "$o" "$3" >"$o.log" 2>&1
    rc=$?
    out=$(find "$o/dicom" -name '*.dcm' 2>/dev/null | head -n 1)
    reason=$(sed -n 's/^reason: //p' "$o.quarantine"/*.reason.txt 2>/dev/null | head -n 1)
    if [ $rc = 0 ] && [ -n "$out" ]; then
        echo "$2 ok $out"
    elif [ $rc = 3 ] && [ -n "$reason" ]; then
        echo "$2 quarantined $reason"
    elif [ $rc = 0 ] && grep -q 'neither FHIR nor DICOM: skipped' "$o.log"; then
        echo "$2 skipped neither FHIR nor DICOM"
    else
        echo "$2 error exit status $rc"
    fi
}
for prof in basic pydicom-corpus; do
    mkdir -p "$T/$prof"
    n=0
    while IFS= read -r f; do
        n=$((n + 1))
        deid_one $prof $n "$f"
    done <"$T/list" >"$T/$prof.res"
done
check "basic: every file got a result (no crash, no hang)" \
    sh -c "! grep -q ' error ' '$T/basic.res'"
check "site profile: every file got a result (no crash, no hang)" \
    sh -c "! grep -q ' error ' '$T/pydicom-corpus.res'"
grep ' error ' "$T/basic.res" "$T/pydicom-corpus.res" | sed 's/^/# /'

# Per file, under the site profile: de-identified and verified, or
# quarantined with a reason.
$PY - "$T/list" "$T/pydicom-corpus.res" >"$T/verify" <<'PYEOF'
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
    if status == "skipped":
        print("not ok - %s: skipped, neither de-identified nor quarantined" % name)
        continue
    if status != "ok":
        print("not ok - %s: %s %s" % (name, status, rest))
        continue
    try:
        a = pydicom.dcmread(files[int(n) - 1], force=True)
        b = pydicom.dcmread(rest)
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
# reason (not skipped: a .dcm file that is not DICOM is quarantined).
while IFS= read -r line; do
    case $line in
    *" ok "*) ok "basic: file ${line%% *}: de-identified" ;;
    *" quarantined "?*) ok "basic: file ${line%% *}: ${line#* }" ;;
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
        iod_errors "$rest" >"$T/iod.out"
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

# Files without preamble and meta information are recognised by content.
for f in ExplVR_LitEndNoMeta.dcm ExplVR_BigEndNoMeta.dcm; do
    n=$(grep -n "/$f\$" "$T/list" | cut -d: -f1)
    grep -q "^$n ok " "$T/basic.res" || nometa_bad="${nometa_bad:-} $f"
done
check "datasets without meta information are de-identified (basic)" \
    test -z "${nometa_bad:-}"

# The whole corpus in one run, as a user would point sluice at a folder
# of exports: it finishes, exit status 3 (some quarantined), and its
# counts add up with what is on disk.
timeout 300 $SLUICE_WRAP "$SLUICE" deid --key-file "$T/key" -o "$T/all" \
    "$DATA/test_files" "$DATA/charset_files" >"$T/all.log" 2>&1
rc=$?
check "one run over the corpus: exit status 3 (some quarantined; was $rc)" test $rc = 3
sum=$(grep '^sluice deid: ' "$T/all.log")
nd=$(echo "$sum" | sed -n 's/^sluice deid: \([0-9]*\) de-identified.*/\1/p')
nq=$(echo "$sum" | sed -n 's/.* \([0-9]*\) quarantined.*/\1/p')
ns=$(echo "$sum" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
nall=$(find "$DATA/test_files" "$DATA/charset_files" -type f | wc -l)
check "one run: de-identified + quarantined + skipped = every input file ($nd + $nq + $ns = $nall)" \
    test "$((${nd:-0} + ${nq:-0} + ${ns:-0}))" = "$nall"
check "one run: as many files written as reported ($nd)" \
    test "$(find "$T/all/dicom" -name '*.dcm' | wc -l)" = "${nd:-x}"
check "one run: every quarantined item has its reason file ($nq)" \
    test "$(grep -l '^reason: ..' "$T/all.quarantine"/*.reason.txt | wc -l)" = "${nq:-x}"
check "one run: nothing printed names an input path" \
    sh -c "! grep -q '$DATA' '$T/all.log'"
diag "one run over the corpus: $sum"
ndd=$(find "$DATA/test_files" -name 'DICOMDIR*' -type f | wc -l)
check "one run: each of the $ndd DICOMDIRs quarantined as a DICOMDIR" \
    test "$(grep -l '^reason: .*a DICOMDIR (a media directory' "$T/all.quarantine"/*.reason.txt | wc -l)" = "$ndd"
# longitudinal shifts dates: an empty date (693_J2KI.dcm) stays empty and
# a change DCMTK refuses quarantines that instance, never ends the run
timeout 300 $SLUICE_WRAP "$SLUICE" deid --profile longitudinal --key-file "$T/key" \
    -o "$T/long" "$DATA/test_files" "$DATA/charset_files" >"$T/long.log" 2>&1
rc=$?
check "one run under longitudinal: exit status 3, not a failed run (was $rc)" test $rc = 3

okb=$(grep -c ' ok ' "$T/basic.res")
oks=$(grep -c ' ok ' "$T/pydicom-corpus.res")
diag "basic profile: $okb of $N de-identified ($((100 * okb / N))%); the rest quarantined with a reason"
diag "site profile: $oks of $N de-identified ($((100 * oks / N))%)"
check "at least 80% de-identified under the site profile ($oks of $N)" \
    test $((100 * oks)) -ge $((80 * N))
check "reasons name tags, never the input path" \
    sh -c "! grep -q '$DATA' '$T/basic.res' '$T/pydicom-corpus.res'"
finish

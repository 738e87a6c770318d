#!/bin/sh
# deid_dicom_export.sh - sluice export-dicom: de-identified instances laid
# out as folders or a DICOMDIR, with manifests whose SHA-256 match the
# files; names never from input names; instances not de-identified
# refused by position.
. "$top_srcdir/tests/integration/lib.sh"
D="$top_srcdir/tests/data/deid/dicom"
RUN="$top_builddir/tests/tools/dicom_deid_run"
SLUICE_PROFILE_DIR="$top_srcdir/profiles/deid"; export SLUICE_PROFILE_DIR
if ! command -v dump2dcm >/dev/null; then
    echo "1..0 # SKIP dcmtk's dump2dcm is not installed"
    exit 0
fi
plan 18
mkdir -p "$T/raw" "$T/deid" "$T/in"
dump2dcm -q "$D/input/ct.dump" "$T/raw/ct.dcm"
dump2dcm -q "$D/input/sr.dump" "$T/raw/sr.dcm"
dump2dcm -q "$D/input/latin1.dump" "$T/raw/latin1.dcm"
"$RUN" -p "$D/profiles/basic.xml" -p "$D/profiles/clean-structured.xml" \
    "$T/deid" "$T/raw/ct.dcm" "$T/raw/sr.dcm" "$T/raw/latin1.dcm" >"$T/deid.res"
# Input names that name the patient, as PACS exports do.
i=0
for f in "$T"/deid/*.dcm; do
    i=$((i + 1))
    cp "$f" "$T/in/DOE_JANE_MRN-4711_$i.dcm"
done

sluice export-dicom -o "$T/out" "$T/in" >"$T/out.txt" 2>&1
check "folders: exit 0" test $? = 0
n=$(find "$T/out" -name '*.dcm' | wc -l)
check "folders: the 3 instances exported ($n)" test "$n" = 3
check "folders: no output name comes from an input name" \
    sh -c "! find '$T/out' | grep -q -e DOE -e MRN"
( cd "$T/out" && tail -n +2 manifest.csv | while IFS=, read -r path rest; do
    want=${rest##*,}
    got=$(sha256sum "$path" | cut -d' ' -f1)
    [ "$want" = "$got" ] || echo "bad $path"
done ) >"$T/sha.txt"
check "folders: manifest.csv SHA-256 match the files" test ! -s "$T/sha.txt"
if command -v jq >/dev/null; then
    check "folders: manifest.json lists 3 patients, 3 studies, 3 instances" \
        test "$(jq -r '"\(.patients) \(.studies|length) \(.instances)"' "$T/out/manifest.json")" = "3 3 3"
else
    skip "jq is not installed"
fi
check "folders: exported files are the de-identified bytes" \
    sh -c "cmp -s '$T/deid/1.dcm' \"\$(find '$T/out' -name \"\$(sed -n '1s/.* \\([^ ]*\\)\$/\\1/p' '$T/deid.res').dcm\")\""

sluice export-dicom --layout dicomdir -o "$T/dd" "$T/in" >"$T/dd.txt" 2>&1
check "dicomdir: exit 0" test $? = 0
n=$(dcmdump "$T/dd/DICOMDIR" 2>/dev/null | grep -c ReferencedFileID)
check "dicomdir: the DICOMDIR references the 3 instances ($n)" test "$n" = 3

sluice export-dicom -o "$T/bad" "$T/raw/ct.dcm" >"$T/bad.txt" 2>&1
rc=$?
check "a file not de-identified is refused (exit $rc)" test $rc = 2
check "the refusal names the input by position, not by path" \
    sh -c "grep -q 'input 1' '$T/bad.txt' && ! grep -q '$T' '$T/bad.txt'"
sluice export-dicom -o "$T/out" "$T/in" >/dev/null 2>&1
rc=$?
check "a folder that is not empty is a usage error (exit $rc)" test $rc = 1

# zip: the folder layout and the manifests in one archive.
sluice export-dicom --layout zip -o "$T/x.zip" "$T/in" >"$T/zip.txt" 2>&1
check "zip: exit 0" test $? = 0
if command -v unzip >/dev/null; then
    unzip -l "$T/x.zip" >"$T/zip.list" 2>&1
    n=$(grep -c '\.dcm$' "$T/zip.list")
    check "zip: unzip -l lists the 3 instances ($n)" test "$n" = 3
    check "zip: unzip -l lists both manifests" \
        sh -c "grep -q ' manifest.json\$' '$T/zip.list' && grep -q ' manifest.csv\$' '$T/zip.list'"
    mkdir -p "$T/zx" && (cd "$T/zx" && unzip -q "$T/x.zip")
    ( cd "$T/zx" && tail -n +2 manifest.csv | while IFS=, read -r path rest; do
        want=${rest##*,}
        got=$(sha256sum "$path" | cut -d' ' -f1)
        [ "$want" = "$got" ] || echo "bad $path"
    done ) >"$T/zsha.txt"
    check "zip: extracted files' SHA-256 equal manifest.csv" \
        sh -c "test ! -s '$T/zsha.txt' && test \$(tail -n +2 '$T/zx/manifest.csv' | wc -l) = 3"
else
    skip "unzip is not installed"
    skip "unzip is not installed"
    skip "unzip is not installed"
fi
mkdir -p "$T/zd"
sluice export-dicom --layout zip -o "$T/zd" "$T/in" >/dev/null 2>&1
check "zip: -o OUTDIR writes OUTDIR/export.zip" \
    sh -c "test \$? = 0 && test -s '$T/zd/export.zip'"
sluice export-dicom --layout zip -o "$T/bad.zip" "$T/raw/ct.dcm" >"$T/zbad.txt" 2>&1
rc=$?
check "zip: a file not de-identified is refused (exit $rc)" test $rc = 2
sluice export-dicom --layout zip -o "$T/x.zip" "$T/in" >/dev/null 2>&1
rc=$?
check "zip: an existing zip is a usage error (exit $rc)" test $rc = 1
finish

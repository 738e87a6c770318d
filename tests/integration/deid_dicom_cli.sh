#!/bin/sh
# deid_dicom_cli.sh - how sluice deid puts DICOM outputs in place: the
# result does not depend on --jobs, outputs are owner and group only (as
# a copy into the folder makes them), no temporary file stays behind, a
# second run into the same OUTDIR finds everything already there, and a
# second instance with the same SOP Instance UID is left alone when it
# has the same bytes and quarantined when it does not; an output without
# a Study Instance UID is quarantined with the reason a reader of it gives.
. "$top_srcdir/tests/integration/lib.sh"
SLUICE_PROFILE_DIR="$top_srcdir/profiles/deid"; export SLUICE_PROFILE_DIR
if ! command -v dcmodify >/dev/null; then
    echo "1..0 # SKIP dcmtk's dcmodify is not installed"
    exit 0
fi
plan 11
umask 022
sluice synth --patients 3 --seed 5 -o "$T/syn" >/dev/null 2>&1
in="$T/syn/dicom"
n=$(find "$in" -name '*.dcm' | wc -l)
sluice keygen >"$T/key"
deid() { sluice "$@" >/dev/null 2>"$T/err"; }

deid -j 1 deid --key-file "$T/key" -o "$T/o1" "$in"
r1=$?
deid -j 3 deid --key-file "$T/key" -o "$T/o3" "$in"
r3=$?
check "exit 0 with -j 1 and -j 3" [ "$r1$r3" = 00 ]
check "the same files with -j 1 and -j 3" diff -r "$T/o1" "$T/o3"
check "$n instances written" [ "$(find "$T/o3/dicom" -name '*.dcm' | wc -l)" -eq "$n" ]
check "outputs are rw-r----- under umask 022" \
    sh -c "[ -z \"\$(find '$T/o3/dicom' -name '*.dcm' ! -perm 0640)\" ]"
check "no temporary or hidden file left" \
    sh -c "[ -z \"\$(find '$T/o3' -name '.*')\" ]"

(cd "$T/o3" && find . -type f -exec sha256sum {} + | sort) >"$T/o3.sums"
deid deid --key-file "$T/key" -o "$T/o3" "$in"
check "a second run into the same OUTDIR: refused (exit 1), the folder as it was" \
    sh -c "[ $? -eq 1 ] && (cd '$T/o3' && find . -type f -exec sha256sum {} + | sort) | cmp -s - '$T/o3.sums'"

# one instance twice with the same bytes, once more with other content
one=$(find "$in" -name '*.dcm' | head -n 1)
mkdir -p "$T/dup/a" "$T/dup/b" "$T/dup/c"
cp "$one" "$T/dup/a/x.dcm"
cp "$one" "$T/dup/b/x.dcm"
cp "$one" "$T/dup/c/x.dcm"
dcmodify -nb -i "(0018,0050)=9.5" "$T/dup/c/x.dcm" >/dev/null 2>&1
deid -j 1 deid --key-file "$T/key" -o "$T/od" "$T/dup/a" "$T/dup/b"
check "the same instance twice: exit 0, written once, then unchanged" \
    sh -c "[ $? -eq 0 ] && grep -q '\"written\": 1, \"unchanged\": 1' '$T/od/dicom/manifest.json'"
deid -j 1 deid --key-file "$T/key" -o "$T/oq" "$T/dup/a" "$T/dup/c"
check "the same SOP Instance UID with other content: quarantined, exit 3" \
    sh -c "[ $? -eq 3 ] && grep -q 'duplicate SOP Instance UID' '$T'/oq.quarantine/*.reason.txt"

# Which of them is kept does not depend on the threads or on file sizes:
# the first input wins. c is made larger so that it is taken first.
cp "$one" "$T/dup/d.dcm"
dcmodify -nb -i "(0008,103E)=a longer series description to make it big" \
    "$T/dup/c/x.dcm" >/dev/null 2>&1
for k in 1 2 3 4 5 6; do
    deid -j 3 deid --key-file "$T/key" -o "$T/or$k" "$T/dup/d.dcm" "$T/dup/c/x.dcm"
    echo $? >>"$T/or.rc"
    (cd "$T/or$k" && find . -name '*.dcm' -exec sha256sum {} + | sort) >"$T/or$k.sums"
    sed -n 's/^item: //p' "$T/or$k.quarantine"/*.reason.txt >>"$T/or.q"
done
check "duplicates under -j 3, six runs: always the first input written, the later one quarantined" \
    sh -c "[ \"\$(sort -u '$T/or.rc')\" = 3 ] && [ \"\$(sort -u '$T/or.q')\" = in000002 ] &&
           for k in 2 3 4 5 6; do cmp -s '$T/or1.sums' '$T/or'\$k.sums || exit 1; done"
deid -j 1 deid --key-file "$T/key" -o "$T/os" "$T/dup/d.dcm"
check "... and what is written is the first input's output" \
    sh -c "(cd '$T/os' && find . -name '*.dcm' -exec sha256sum {} + | sort) | cmp -s - '$T/or1.sums'"

cp "$one" "$T/nostudy.dcm"
dcmodify -nb -ea "(0020,000D)" "$T/nostudy.dcm" >/dev/null 2>&1
deid deid --key-file "$T/key" -o "$T/on" "$T/nostudy.dcm"
check "no Study Instance UID: quarantined, naming the tag, exit 3" \
    sh -c "[ $? -eq 3 ] && grep -q '^reason: (0020,000D) Study Instance UID: required attribute missing or empty' '$T'/on.quarantine/*.reason.txt"
finish

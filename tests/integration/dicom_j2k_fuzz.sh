#!/bin/sh
# dicom_j2k_fuzz.sh - the JPEG 2000 decoder's fuzz target replays its seeds
# (tests/fuzz/corpus/dicom_j2k: codestreams made with opj_compress, lossless,
# lossy, tiled, of the wrong size, truncated) without a crash, a sanitizer
# report or a failed check. Works with the plain driver and with libFuzzer
# binaries.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
F="${top_builddir}/tests/fuzz/fuzz_dicom_j2k"
set -- $(find "$top_srcdir/tests/fuzz/corpus/dicom_j2k" -type f ! -name '.*' ! -name README | LC_ALL=C sort)
n=$#
$SLUICE_WRAP "$F" "$@" >"$T/out" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
if [ $rc -ne 0 ] || [ "$ran" -ne "$n" ]; then
    diag "exit $rc, $ran of $n inputs ran"
    sed 's/^/# /' "$T/out" | tail -n 40
fi
check "fuzz_dicom_j2k replays its $n seeds without a crash" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ]' _ $rc "$ran" $n
finish

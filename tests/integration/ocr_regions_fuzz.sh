#!/bin/sh
# ocr_regions_fuzz.sh - the text-region search's fuzz target replays its
# seeds (tests/fuzz/corpus/ocr_regions: overlays rendered with ImageMagick,
# speckle, a flat and a striped image, each as two width bytes and rows)
# without a crash, a sanitizer report or a failed check. Works with the
# plain driver and with libFuzzer binaries.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
F="${top_builddir}/tests/fuzz/fuzz_ocr_regions"
set -- $(find "$top_srcdir/tests/fuzz/corpus/ocr_regions" -type f ! -name '.*' ! -name README | LC_ALL=C sort)
n=$#
$SLUICE_WRAP "$F" "$@" >"$T/out" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
if [ $rc -ne 0 ] || [ "$ran" -ne "$n" ]; then
    diag "exit $rc, $ran of $n inputs ran"
    sed 's/^/# /' "$T/out" | tail -n 40
fi
check "fuzz_ocr_regions replays its $n seeds without a crash" \
    sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ]' _ $rc "$ran" $n
finish

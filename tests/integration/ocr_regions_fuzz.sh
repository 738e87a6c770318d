#!/bin/sh
# ocr_regions_fuzz.sh - the text-region search's fuzz target replays its
# seeds (tests/fuzz/corpus/ocr_regions: overlays rendered with ImageMagick,
# speckle, a flat and a striped image, each as two width bytes and rows)
# without a crash, a sanitizer report or a failed check. Works with the
# plain driver and with libFuzzer binaries.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay ocr_regions
finish

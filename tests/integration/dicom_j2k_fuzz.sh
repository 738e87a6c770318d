#!/bin/sh
# dicom_j2k_fuzz.sh - the JPEG 2000 decoder's fuzz target replays its seeds
# (tests/fuzz/corpus/dicom_j2k: codestreams made with opj_compress, lossless,
# lossy, tiled, of the wrong size, truncated) without a crash, a sanitizer
# report or a failed check. Works with the plain driver and with libFuzzer
# binaries.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay dicom_j2k
finish

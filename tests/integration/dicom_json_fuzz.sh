#!/bin/sh
# The DICOMweb reader (dicom_json) replays its seed corpus
# (tests/fuzz/corpus/dicom_json/: answers as servers send them, cut,
# refused and malformed ones; written for the corpus, the project's
# licence) without a crash or a
# broken promise (tests/fuzz/fuzz_dicom_json.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay dicom_json
finish

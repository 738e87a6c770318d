#!/bin/sh
# The DICOMweb reader (multipart) replays its seed corpus
# (tests/fuzz/corpus/multipart/: answers as servers send them, cut,
# refused and malformed ones; written for the corpus, the project's
# licence) without a crash or a
# broken promise (tests/fuzz/fuzz_multipart.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay multipart
finish

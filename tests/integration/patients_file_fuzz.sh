#!/bin/sh
# The fhir-rest source's patient list file reader
# (src/sources/fhir_rest_list.c) replays its seed corpus
# (tests/fuzz/corpus/patients_file/: lists, comments, CRLF, bad lines,
# UTF-16, a NUL byte) without a crash or a broken promise
# (tests/fuzz/fuzz_patients_file.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay patients_file
finish

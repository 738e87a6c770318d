#!/bin/sh
# The reader of a response header line (src/http/http.c,
# sl_http_header_value) replays its seed corpus
# (tests/fuzz/corpus/http_header/: the headers the fhir-bulk source keeps,
# and lines that are not them) without a crash or a broken promise
# (tests/fuzz/fuzz_http_header.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay http_header
finish

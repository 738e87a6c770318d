#!/bin/sh
# The fhir-rest source's page reader replays its seed corpus
# (tests/fuzz/corpus/rest_page/: search pages as servers send them, cut,
# refused and malformed ones, and FHIR instants) without a crash or a
# broken promise (tests/fuzz/fuzz_rest_page.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay rest_page
finish

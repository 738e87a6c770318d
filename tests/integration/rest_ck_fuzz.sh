#!/bin/sh
# The fhir-rest source's checkpoint readers (src/sources/fhir_rest.c:
# sl_rest_resume_at, sl_rest_since) replay their seed corpus
# (tests/fuzz/corpus/rest_ck/: mid-run and end-of-run checkpoints, broken
# ones) without a crash or a broken promise (tests/fuzz/fuzz_rest_ck.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay rest_ck
finish

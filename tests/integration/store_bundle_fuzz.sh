#!/bin/sh
# The fhir-store target's Bundle text writer replays its seed corpus
# (tests/fuzz/corpus/store_bundle/: resources with references to rewrite,
# with spaces, escapes, duplicate keys and look-alikes inside strings,
# written for this corpus) without a crash or a broken promise.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay store_bundle
finish

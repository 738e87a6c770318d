#!/bin/sh
# The reader of FHIR resources in XML (src/validate/val_xml.c) replays its
# seed corpus (tests/fuzz/corpus/val_xml/: resources, other namespaces,
# cut files, entities) without a crash or a broken promise
# (tests/fuzz/fuzz_val_xml.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
fuzz_replay val_xml
finish

#!/bin/sh
# The reader of FHIR resources in XML (src/validate/val_xml.c) replays its
# seed corpus (tests/fuzz/corpus/val_xml/: resources, other namespaces,
# cut files, entities) without a crash or a broken promise
# (tests/fuzz/fuzz_val_xml.c).
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
F="${top_builddir}/tests/fuzz/fuzz_val_xml"
C="${top_srcdir}/tests/fuzz/corpus/val_xml"
set -- $(find "$C" -type f ! -name '.*' | LC_ALL=C sort)
$SLUICE_WRAP "$F" "$@" >"$T/out" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
[ $rc -eq 0 ] && [ "$ran" -eq $# ] || sed 's/^/# /' "$T/out" | tail -n 20
check "fuzz_val_xml replays its $# seeds without a crash (exit $rc, $ran ran)" \
    sh -c "[ $rc -eq 0 ] && [ '$ran' -eq $# ]"
finish

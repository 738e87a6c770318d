#!/bin/sh
# The reader of DCMTK text data dictionaries (src/dicom/dicom_dict.cc)
# replays its seed corpus (tests/fuzz/corpus/dicom_dict/: the forms the
# dictionaries use, and lines it must leave to DCMTK) and the installed
# dictionaries, each compared with what DCMTK's own loader makes of it.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
F="${top_builddir}/tests/fuzz/fuzz_dicom_dict"
C="${top_srcdir}/tests/fuzz/corpus/dicom_dict"
set -- $(find "$C" -type f -name '*.dic' | LC_ALL=C sort) \
    $(ls /usr/share/libdcmtk*/*.dic 2>/dev/null)
$SLUICE_WRAP "$F" "$@" >"$T/out" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
[ $rc -eq 0 ] && [ "$ran" -eq $# ] || sed 's/^/# /' "$T/out" | tail -n 20
check "fuzz_dicom_dict replays its $# seeds without a crash (exit $rc, $ran ran)" \
    sh -c "[ $rc -eq 0 ] && [ '$ran' -eq $# ]"
finish

#!/bin/sh
# deid_dicom_fuzz.sh - mutated DICOM files (bit flips, cuts, extreme
# lengths) through the whole engine: every one de-identified or
# quarantined, none crashing, erring or hanging.
. "$top_srcdir/tests/integration/lib.sh"
D="$top_srcdir/tests/data/deid/dicom"
FUZZ="$top_builddir/tests/fuzz/fuzz_dicom_deid"
SLUICE_PROFILE_DIR="$top_srcdir/profiles/deid"; export SLUICE_PROFILE_DIR
if ! command -v dump2dcm >/dev/null; then
    echo "1..0 # SKIP dcmtk's dump2dcm is not installed"
    exit 0
fi
plan 2
for s in ct sr us; do dump2dcm -q "$D/input/$s.dump" "$T/$s.dcm"; done
dump2dcm -q +tb "$D/input/ct.dump" "$T/ct-big.dcm"
dump2dcm -q +ti "$D/input/ct.dump" "$T/ct-implicit.dcm"
timeout 300 $SLUICE_WRAP "$FUZZ" -n 300 "$D/profiles/basic.xml" \
    "$T"/*.dcm >"$T/basic.out" 2>&1
rc=$?
check "basic: 1500 mutated files de-identified or quarantined ($(tail -1 "$T/basic.out"))" \
    test $rc = 0
timeout 300 $SLUICE_WRAP "$FUZZ" -n 200 "$D/profiles/longitudinal.xml" \
    "$T/sr.dcm" "$T/ct.dcm" >"$T/long.out" 2>&1
rc=$?
check "longitudinal: 400 mutated files ($(tail -1 "$T/long.out"))" test $rc = 0
finish

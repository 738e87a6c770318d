#!/bin/sh
# deid_dicom_profile.sh - profiles/deid/dicom-basic.xml is what the
# generator makes of the PS3.15 tables (when ../shared holds them), it
# follows its schema, and every row of Table E.1-1 is in it by name.
. "$top_srcdir/tests/integration/lib.sh"
STD="$top_srcdir/../shared/standards/dicom"
GEN="$top_srcdir/build-aux/gen-dicom-profile.py"
XML="$top_srcdir/profiles/deid/dicom-basic.xml"
XSD="$top_srcdir/profiles/deid/dicom-profile.xsd"
plan 4
if [ -f "$STD/annexE_table_E1-1_2023b.csv" ] && command -v python3 >/dev/null; then
    python3 "$GEN" "$STD/annexE_table_E1-1_2023b.csv" \
        "$STD/safe_private_attributes.csv" "$T/dicom-basic.xml" 2>"$T/gen.err"
    check "dicom-basic.xml is the generator's output (regenerate it if not)" \
        cmp -s "$T/dicom-basic.xml" "$XML"
    rows=$(($(wc -l <"$STD/annexE_table_E1-1_2023b.csv") - 1))
    n=$(grep -c 'src="PS3.15 2023b Table E.1-1"' "$XML")
    check "every row of Table E.1-1 is a rule ($n of $rows)" test "$n" = "$rows"
else
    skip "the PS3.15 tables are not beside the tree (../shared)"
    skip "the PS3.15 tables are not beside the tree (../shared)"
fi
if command -v xmllint >/dev/null; then
    check "dicom-basic.xml follows dicom-profile.xsd" \
        sh -c "xmllint --noout --schema \"$XSD\" \"$XML\" 2>/dev/null"
else
    skip "xmllint is not installed"
fi
n=$(grep -c '<safe-private ' "$XML")
check "the 479 safe private attributes are in it ($n)" test "$n" = 479
finish

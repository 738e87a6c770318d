#!/bin/sh
# The fhir-store target's Bundle text writer replays its seed corpus
# (tests/fuzz/corpus/store_bundle/: resources with references to rewrite,
# with spaces, escapes, duplicate keys and look-alikes inside strings,
# written for this corpus) without a crash or a broken promise.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
F="${top_builddir}/tests/fuzz/fuzz_store_bundle"
C="${top_srcdir}/tests/fuzz/corpus/store_bundle"
set -- $(find "$C" -type f ! -name '.*' | LC_ALL=C sort)
$SLUICE_WRAP "$F" "$@" >"$T/out" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
[ $rc -eq 0 ] && [ "$ran" -eq $# ] || sed 's/^/# /' "$T/out" | tail -n 20
check "fuzz_store_bundle replays its $# seeds without a crash (exit $rc, $ran ran)" \
    sh -c "[ $rc -eq 0 ] && [ '$ran' -eq $# ]"
finish

#!/bin/sh
# The dicom-folder sink's journal parser replays its seed corpus
# (tests/fuzz/corpus/sink_journal/: journals the sink wrote, and lines
# that must be refused: paths out of the folder, bad hashes, missing
# fields) without a crash or a broken promise.
. "${top_srcdir}/tests/integration/lib.sh"
plan 1
F="${top_builddir}/tests/fuzz/fuzz_sink_journal"
C="${top_srcdir}/tests/fuzz/corpus/sink_journal"
set -- $(find "$C" -type f ! -name '.*' | LC_ALL=C sort)
$SLUICE_WRAP "$F" "$@" >"$T/out" 2>&1
rc=$?
ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
[ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
[ $rc -eq 0 ] && [ "$ran" -eq $# ] || sed 's/^/# /' "$T/out" | tail -n 20
check "fuzz_sink_journal replays its $# seeds without a crash (exit $rc, $ran ran)" \
    sh -c "[ $rc -eq 0 ] && [ '$ran' -eq $# ]"
finish

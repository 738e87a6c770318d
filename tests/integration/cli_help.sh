#!/bin/sh
# Every command answers --help with its usage and exits 0; bad usage exits
# 1 with a hint; --version prints the version.
. "${top_srcdir}/tests/integration/lib.sh"
cmds="check-config run jobs runs quarantine synth keygen deid export-dicom reid push echo pull translate daemon audit report fhirpath validate timeline"
plan 29
for c in $cmds; do
    out=$(sluice "$c" --help 2>&1)
    rc=$?
    if [ $rc -eq 0 ] && printf '%s' "$out" | grep -q "^usage: sluice $c" &&
        printf '%s' "$out" | grep -q 'Exit status'; then
        ok "sluice $c --help"
    else
        not_ok "sluice $c --help (exit $rc)"
    fi
done
out=$(sluice --help 2>&1); rc=$?
n=0; for c in $cmds; do printf '%s' "$out" | grep -q "^  $c " && n=$((n + 1)); done
ncmds=$(echo $cmds | wc -w)
check "sluice --help lists every command" [ $rc -eq 0 -a $n -eq $ncmds ]
check "sluice help run" sh -c "$SLUICE_WRAP '$SLUICE' help run | grep -q 'usage: sluice run'"
check "sluice --version" sh -c "$SLUICE_WRAP '$SLUICE' --version | grep -q '^sluice [0-9]'"
sluice frobnicate >/dev/null 2>&1
check "unknown command exits 1" [ $? -eq 1 ]
sluice >/dev/null 2>&1
check "no command exits 1" [ $? -eq 1 ]
sluice run >/dev/null 2>"$T/e"
check "run without a job exits 1 with a hint" [ $? -eq 1 ] && grep -q "sluice run --help" "$T/e"
sluice --jobs zero run x >/dev/null 2>&1
check "bad --jobs exits 1" [ $? -eq 1 ]
# global options in their attached forms, anywhere on the line
check "-j2 (attached) is taken as --jobs 2" \
    sh -c "'$SLUICE' synth -j2 --patients 1 --no-dicom -o '$T/syn' >/dev/null 2>&1"
check "-j0 is refused as a bad --jobs" \
    sh -c "'$SLUICE' -j0 synth --patients 1 -o '$T/syn0' 2>&1 | grep -q 'jobs wants a number'"
finish

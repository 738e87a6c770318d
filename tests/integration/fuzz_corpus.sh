#!/bin/sh
# Every fuzz target replays its seed corpus (tests/fuzz/corpus/TARGET/,
# including the inputs that once crashed a parser) without a crash, a
# sanitizer report or a failed check; DICOM also gets synth output and cuts
# of it. Works with the plain driver (standalone.c) and with libFuzzer
# binaries (--enable-fuzzing), which run each file given once.
. "${top_srcdir}/tests/integration/lib.sh"
plan 6
F="${top_builddir}/tests/fuzz"
C="${top_srcdir}/tests/fuzz/corpus"

# libFuzzer binaries take flags; the DICOM one needs the malloc limit of
# `make fuzz` (see FUZZ_FLAGS_dicom in tests/fuzz.mk).
libfuzzer=0
"$F/fuzz_config" -help=1 2>&1 | grep -q 'To run fuzzing' && libfuzzer=1
flags() {
    [ $libfuzzer = 1 ] && [ "$1" = dicom ] && echo "-malloc_limit_mb=4608"
}

# replay TARGET FILE...: runs the target over the files; ok when it exits 0
# having run every one of them.
replay() {
    t=$1
    shift
    n=$#
    # shellcheck disable=SC2046 # no flag, or one without spaces
    $SLUICE_WRAP "$F/fuzz_$t" $(flags "$t") "$@" >"$T/$t.out" 2>&1
    rc=$?
    ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/$t.out")
    [ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/$t.out")
    if [ $rc -eq 0 ] && [ "$ran" -eq "$n" ]; then
        return 0
    fi
    diag "fuzz_$t: exit $rc, $ran of $n inputs ran"
    sed 's/^/# /' "$T/$t.out" | tail -n 40
    return 1
}

# seeds TARGET: the files of a corpus folder, sorted, as arguments
seeds() { find "$C/$1" -type f ! -name '.*' | LC_ALL=C sort; }

for t in fhir_files dicom config pdf; do
    # shellcheck disable=SC2046 # corpus file names have no spaces
    check "fuzz_$t replays its $(seeds $t | wc -l) seeds without a crash" \
        replay $t $(seeds $t)
done

sluice synth --patients 1 --seed 5 -o "$T/syn" >/dev/null 2>&1
one=$(find "$T/syn/dicom" -type f | LC_ALL=C sort | head -n 1)
mkdir -p "$T/cuts"
if [ -n "$one" ]; then
    size=$(wc -c <"$one")
    for c in 0 1 128 131 132 140 200 300 400 600 1000 $((size / 2)) $((size - 1)); do
        [ "$c" -lt "$size" ] && head -c "$c" "$one" >"$T/cuts/cut-$c.dcm"
    done
fi
# shellcheck disable=SC2046
check "fuzz_dicom reads synth output and $(ls "$T/cuts" | wc -l) cuts of it" \
    replay dicom "$one" $(find "$T/cuts" -type f | LC_ALL=C sort)

# The driver itself must not pass by accident: an input it cannot read is
# an error, and a folder is walked.
"$F/fuzz_config" "$T/no-such-input" >"$T/missing.out" 2>&1
rc=$?
if [ $libfuzzer = 0 ]; then
    check "the driver fails on an unreadable input" [ $rc -ne 0 ]
else
    skip "libFuzzer build: the plain driver is not linked"
fi
finish

#!/bin/sh
# check-asan.sh: `make check-asan` (docs/fuzzing.md, "Sanitizers and
# valgrind"). Builds a second tree with AddressSanitizer and
# UndefinedBehaviorSanitizer (./configure --enable-sanitizers) beside the
# ordinary one and runs `make check` in it, then fails if any sanitizer
# wrote a report, even one a test did not notice (many tests keep a
# command's stderr in a scratch file: the reports go to files instead).
#
# The source is copied with `make distdir` (times kept, so a second run
# only rebuilds what changed): configure refuses a VPATH build of a source
# tree configured in place, which the ordinary build usually is.
#
# Environment (from tests/sanitize.mk): MAKE, ASAN_DIR (default
# ./build-asan), ASAN_CONFIGURE_FLAGS (default CFLAGS='-O1 -g'
# CXXFLAGS='-O1 -g'), ASAN_JOBS (default 2), TESTS (a subset, as for make
# check; empty: all).
set -u
srcdir=$(cd "${1:?usage: check-asan.sh SRCDIR}" && pwd)
MAKE=${MAKE:-make}
dir=${ASAN_DIR:-build-asan}
mkdir -p "$dir" || exit 2
dir=$(cd "$dir" && pwd)
jobs=${ASAN_JOBS:-2}
conf=${ASAN_CONFIGURE_FLAGS:-"CFLAGS='-O1 -g' CXXFLAGS='-O1 -g'"}

echo "check-asan: copying the source to $dir/src"
$MAKE distdir distdir="$dir/src" top_distdir="$dir/src" >"$dir/distdir.log" 2>&1 ||
    { cat "$dir/distdir.log" >&2; echo "check-asan: make distdir failed" >&2; exit 2; }
# tests that use the standards and corpora beside the source tree
if [ -d "$srcdir/../shared" ] && [ ! -e "$dir/shared" ]; then
    ln -s "$srcdir/../shared" "$dir/shared"
fi
mkdir -p "$dir/build" || exit 2
cd "$dir/build" || exit 2
if [ ! -f config.status ]; then
    echo "check-asan: configuring $dir/build (--enable-sanitizers $conf)"
    eval "../src/configure --enable-sanitizers $conf" >configure.out 2>&1 ||
        { tail -20 configure.out >&2; echo "check-asan: configure failed ($dir/build/configure.out)" >&2; exit 2; }
fi
echo "check-asan: building"
$MAKE -j"$jobs" >build.out 2>&1 ||
    { tail -30 build.out >&2; echo "check-asan: build failed ($dir/build/build.out)" >&2; exit 2; }

logs=$dir/logs
rm -rf "$logs"
mkdir -p "$logs"
supp=$srcdir/tests/sanitize
# halt on the first error of either kind; every report to a file, named
# by process id, so that none is lost in a test's scratch folder
ASAN_OPTIONS=detect_leaks=1:log_path=$logs/asan
LSAN_OPTIONS=suppressions=$supp/lsan.supp:print_suppressions=0
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp:log_path=$logs/ubsan
export ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
echo "check-asan: make check${TESTS:+ TESTS='$TESTS'} (reports in $logs)"
if [ -n "${TESTS:-}" ]; then
    $MAKE -j"$jobs" check TESTS="$TESTS"
else
    $MAKE -j"$jobs" check
fi
rc=$?
n=$(find "$logs" -type f | wc -l)
if [ "$n" -gt 0 ]; then
    for f in "$logs"/*; do
        echo "==== $f"
        head -60 "$f"
    done
    echo "check-asan: $n sanitizer report(s) in $logs" >&2
    exit 1
fi
[ $rc -eq 0 ] && echo "check-asan: no sanitizer reports, make check passed"
exit $rc

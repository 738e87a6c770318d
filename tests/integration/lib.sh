# lib.sh - tiny TAP helpers for integration tests (sourced).
set -u
TAP_N=0
TAP_FAILED=0
: "${SLUICE:?SLUICE must name the sluice binary}"
: "${SLUICE_WRAP:=}"
# A scratch folder per test script, removed at exit unless KEEP_TMP=1.
T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-test.XXXXXX")
cleanup_tmp() { [ "${KEEP_TMP:-0}" = 1 ] || rm -rf "$T"; }
trap cleanup_tmp EXIT
sluice() { $SLUICE_WRAP "$SLUICE" "$@"; }
plan() { echo "1..$1"; }
ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=1; echo "not ok $TAP_N - $*"; }
skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - # SKIP $*"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
diag() { echo "# $*"; }

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

# write_config DIR [JOB-EXTRA]: a config in DIR/sluice.xml that reads
# DIR/in/fhir and DIR/in/dicom and writes DIR/out/{fhir,dicom}.
write_config() {
    local d=$1 fmt=${2:-ndjson}
    mkdir -p "$d/in/fhir" "$d/in/dicom"
    cat >"$d/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <state path="state/sluice.db"/>
  <quarantine path="quarantine"/>
  <source id="ehr" type="fhir-files" path="in/fhir"/>
  <source id="pacs" type="dicom-folder" path="in/dicom"/>
  <target id="fhir-out" type="fhir-files" path="out/fhir" format="$fmt" bundle-size="50"/>
  <target id="dicom-out" type="dicom-folder" path="out/dicom"/>
  <job id="t">
    <pull from="ehr pacs"/>
    <push fhir="fhir-out" dicom="dicom-out"/>
  </job>
</sluice>
EOC
}

# count_entries DIR: FHIR resources in the synthetic Bundles under DIR.
count_entries() {
    find "$1" -name '*.json' -exec cat {} + | grep -o '"resource" *: *{' | wc -l
}

# finish: ends the TAP stream with the right status.
finish() { exit $TAP_FAILED; }

# fhir_phi MINLEN BUNDLE...: what identifies the patients of the FHIR
# Bundles (sluice synth's), one value a line, each at least MINLEN long:
# every Patient's names, identifiers, birth date, address lines, city,
# phone and e-mail. For `grep -F -f`: none of it may leave.
fhir_phi() {
    python3 - "$@" <<'PY'
import json, sys
vals = set()
for p in sys.argv[2:]:
    for e in json.load(open(p)).get("entry", []):
        r = e.get("resource", {})
        if r.get("resourceType") != "Patient":
            continue
        for nm in r.get("name", []):
            vals.update([nm.get("family", "")] + nm.get("given", []))
        for i in r.get("identifier", []):
            vals.add(i.get("value", ""))
        vals.add(r.get("birthDate", ""))
        for a in r.get("address", []):
            vals.update(a.get("line", []) + [a.get("city", "")])
        for t in r.get("telecom", []):
            vals.add(t.get("value", ""))
for v in sorted(v for v in vals if len(v) >= int(sys.argv[1])):
    print(v)
PY
}

# fuzz_replay TARGET [CORPUS]: one test: tests/fuzz/fuzz_TARGET runs over
# the seeds of tests/fuzz/corpus/CORPUS (default TARGET; its README is
# no seed), each once, and
# exits 0 having run all of them (no crash, no sanitizer report, no broken
# promise). Works with the plain driver and with libFuzzer binaries.
fuzz_replay() {
    local t=$1 f="${top_builddir}/tests/fuzz/fuzz_$1"
    local c="${top_srcdir}/tests/fuzz/corpus/${2:-$1}" n rc ran
    # shellcheck disable=SC2046 # seed names have no spaces
    set -- $(find "$c" -type f ! -name '.*' ! -name README | LC_ALL=C sort)
    n=$#
    rc=0
    $SLUICE_WRAP "$f" "$@" >"$T/out" 2>&1 || rc=$?
    ran=$(sed -n 's/.*: \([0-9]*\) input(s) ran$/\1/p' "$T/out")
    [ -n "$ran" ] || ran=$(grep -c '^Executed ' "$T/out")
    if [ $rc -ne 0 ] || [ "$ran" -ne "$n" ]; then
        diag "exit $rc, $ran of $n inputs ran"
        sed 's/^/# /' "$T/out" | tail -n 40
    fi
    check "fuzz_$t replays its $n seeds without a crash" \
        sh -c '[ "$1" -eq 0 ] && [ "$2" -eq "$3" ]' _ $rc "$ran" $n
}

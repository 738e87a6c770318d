#!/bin/sh
# config_cli.sh - check-config, jobs and keygen as a user runs them.
. "$top_srcdir/tests/integration/lib.sh"
D=$top_srcdir/tests/data/config
plan 28

# The example that `make demo` runs is valid once its folders and key
# exist, wherever it is copied and from whatever folder sluice is run:
# paths are relative to the config file's folder.
mkdir -p "$T/demo/input/fhir" "$T/demo/input/dicom" "$T/demo/keys" "$T/elsewhere"
cp "$top_srcdir/conf/sluice.xml" "$T/demo/sluice.xml"
check "keygen -o writes the demo key" sluice keygen -o "$T/demo/keys/pseudonym.key"
out=$(cd "$T/elsewhere" && sluice check-config --config ../demo/sluice.xml 2>&1)
rc=$?
if [ $rc = 0 ] && [ "$out" = "../demo/sluice.xml: ok (2 sources, 2 targets, 1 job)" ]; then
    ok "conf/sluice.xml is valid"
else
    diag "$out"; not_ok "conf/sluice.xml is valid (exit $rc)"
fi

out=$(sluice check-config --config "$D/ok-full.xml" 2>&1)
check "a full configuration with defaults is valid" \
    test "$out" = "$D/ok-full.xml: ok (2 sources, 3 targets, 2 jobs)"

# --config wins over $SLUICE_CONFIG, which wins over the default.
out=$(env SLUICE_CONFIG="$D/bad-enum.xml" $SLUICE_WRAP "$SLUICE" check-config --config "$D/ok-minimal.xml" 2>&1)
check "--config wins over \$SLUICE_CONFIG" \
    test "$out" = "$D/ok-minimal.xml: ok (0 sources, 0 targets, 0 jobs)"
out=$(env SLUICE_CONFIG="$D/ok-minimal.xml" $SLUICE_WRAP "$SLUICE" check-config 2>&1)
check "\$SLUICE_CONFIG is used without --config" \
    test "$out" = "$D/ok-minimal.xml: ok (0 sources, 0 targets, 0 jobs)"
out=$(env -u SLUICE_CONFIG $SLUICE_WRAP "$SLUICE" check-config 2>&1)
case $out in
/etc/sluice/sluice.xml:*) ok "without either, /etc/sluice/sluice.xml" ;;
*) diag "$out"; not_ok "without either, /etc/sluice/sluice.xml" ;;
esac
out=$(sluice check-config -c "$T/none.xml" 2>&1)
rc=$?
case "$rc:$out" in
"1:$T/none.xml: cannot open: No such file or directory") ok "a missing file: exit 1, named" ;;
*) diag "$rc $out"; not_ok "a missing file: exit 1, named" ;;
esac
: >"$T/empty.xml"
out=$(sluice check-config -c "$T/empty.xml" 2>&1)
check "an empty file: exit 1, said so" test "$?:$out" = "1:$T/empty.xml: the file is empty"
out=$(sluice check-config -c "$T/demo" 2>&1)
check "a folder: exit 1, said so" \
    test "$?:$out" = "1:$T/demo: is a folder, not a configuration file"
sluice check-config --frobnicate >/dev/null 2>&1
check "a bad argument is a usage error (exit 1)" test $? = 1

# --options prints the reference as Markdown, one row per attribute.
sluice check-config --options >"$T/opts" 2>&1
check "--options exits 0" test $? = 0
check "--options lists bundle-size with its bounds" \
    grep -q '^| `bundle-size` | fhir-files | integer 1\.\.100000 | `200` |' "$T/opts"

# sluice jobs: one line per job with schedule, sources, targets, stages.
sluice jobs --config "$D/ok-full.xml" >"$T/jobs" 2>&1
check "jobs exits 0" test $? = 0
check "jobs shows the nightly job" \
    grep -Eq '^nightly +30 1 \* \* 1-5 +20[0-9]{2}-[0-9]{2}-[0-9]{2}T01:30\+0[12]:00 +ehr pacs +fhir-out dicom-out +deid:longitudinal +never$' "$T/jobs"
check "jobs shows the manual job and its stages" \
    grep -Eq '^manual +manual +- +ehr +fhir-bundles +deid:site-profile.xml translate:2 validate:1 +never$' "$T/jobs"
check "jobs without a state store does not create one" \
    test ! -e "$D/sluice-state.db"
# After a run, its status and start time.
echo '{"resourceType":"Patient","id":"p1"}' >"$T/demo/input/fhir/p.ndjson"
sluice run demo --config "$T/demo/sluice.xml" >/dev/null 2>&1
sluice jobs --config "$T/demo/sluice.xml" >"$T/jobs" 2>&1
check "jobs shows the last run of a job" \
    grep -Eq '^demo +.* finished 20[0-9-]+T[0-9:]+Z$' "$T/jobs"
# The next run is a weekday (the schedule says 1-5) in the job's zone.
nd=$(sed -n 's/^nightly .* \(20[0-9-]*\)T01:30.*/\1/p' "$T/jobs")
check "jobs' next run of the nightly job falls on a weekday" \
    sh -c "test \"\$(date -d '$nd' +%u)\" -le 5"
sed 's/timezone="Europe\/Berlin"/timezone="Mars\/Olympus_Mons"/' \
    "$D/ok-full.xml" >"$T/bad-tz.xml"
sluice check-config --config "$T/bad-tz.xml" >"$T/bad-tz.out" 2>&1
check "check-config refuses an unknown time zone (exit 1)" test $? = 1
check "the error names the line and the zone" \
    grep -q "bad-tz.xml:10: .*timezone.*Mars/Olympus_Mons" "$T/bad-tz.out"
sluice jobs --config "$D/bad-enum.xml" >/dev/null 2>&1
check "jobs on a bad configuration exits 1" test $? = 1

# keygen: 64 hex characters and a newline, new each time, never
# overwriting a key file.
k1=$(sluice keygen)
k2=$(sluice keygen)
check "keygen prints 64 hex characters" \
    sh -c 'printf "%s\n" "$1" | grep -Eqx "[0-9a-f]{64}"' sh "$k1"
check "two keys differ" test "$k1" != "$k2"
sluice keygen -o "$T/demo/keys/pseudonym.key" 2>/dev/null
check "keygen -o never overwrites a key" test $? != 0
(umask 022; sluice keygen >"$T/redirected.key")
check "keygen > FILE leaves FILE readable by its owner only" \
    [ "$(stat -c %a "$T/redirected.key")" = 600 ]
# a key file others can read is refused, as OpenSSH refuses a private key
sluice keygen -o "$T/open.key"
chmod 644 "$T/open.key"
mkdir -p "$T/kin"
printf '{"resourceType":"Patient","id":"p"}\n' >"$T/kin/p.ndjson"
sluice deid --key-file "$T/open.key" -o "$T/kout" "$T/kin" >/dev/null 2>"$T/kerr"
rc=$?
check "sluice deid refuses a key file others can read (exit $rc), with advice" \
    sh -c "[ $rc -eq 1 ] && grep -q 'chmod 600' '$T/kerr' && ! grep -qF \"\$(cat '$T/open.key')\" '$T/kerr'"
chmod 600 "$T/open.key"
sluice deid --key-file "$T/open.key" -o "$T/kout2" "$T/kin" >/dev/null 2>&1
check "the same key, made private, is taken" [ $? -eq 0 ]
if command -v script >/dev/null 2>&1; then
    script -qec "$SLUICE keygen" /dev/null >"$T/tty.out" 2>&1
    check "keygen refuses to print a key on a terminal" \
        sh -c "grep -q 'not writing a key to a terminal' '$T/tty.out' && ! grep -Eq '^[0-9a-f]{64}' '$T/tty.out'"
else
    skip "script (util-linux) not installed"
fi
exit $TAP_FAILED

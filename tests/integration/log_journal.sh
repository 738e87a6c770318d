#!/bin/sh
# Logs to the systemd journal (`--log journal`), read back with journalctl.
# The peer is a real systemd-journald (Debian systemd), started by this
# test in a private mount namespace (unshare -m) whose /run/systemd and
# /run/log are empty tmpfs mounts, so it listens on the standard socket
# /run/systemd/journal/socket without touching the machine's journal; it
# is stopped by PID. A job runs on synthetic data with a quarantined item
# whose text holds a made-up name: the entries carry the levels as syslog
# priorities and the events as fields, and no patient data.
. "${top_srcdir}/tests/integration/lib.sh"
JOURNALD=/lib/systemd/systemd-journald
[ -x "$JOURNALD" ] || JOURNALD=/usr/lib/systemd/systemd-journald
if [ "${SL_JOURNAL_NS:-}" != 1 ]; then
    why=""
    [ -x "$JOURNALD" ] || why="systemd-journald not installed (Debian package systemd)"
    command -v journalctl >/dev/null 2>&1 || why="journalctl not installed (Debian package systemd)"
    if [ -z "$why" ]; then
        if unshare -m true 2>/dev/null; then
            SL_JOURNAL_NS=1 exec unshare -m sh "$0"
        fi
        why="mount namespaces are not allowed here (unshare -m failed; run as root)"
    fi
    plan 8
    for i in 1 2 3 4 5 6 7 8; do skip "$why"; done
    finish
fi
plan 8
# private, empty /run/systemd and /run/log: no journald listens yet
mount --make-rprivate / 2>/dev/null
mkdir -p /run/systemd /run/log
mount -t tmpfs tmpfs /run/systemd && mount -t tmpfs tmpfs /run/log || {
    for i in 1 2 3 4 5 6 7 8; do skip "cannot mount a tmpfs on /run/systemd"; done
    finish
}
[ -d /var/log/journal ] && mount -t tmpfs tmpfs /var/log/journal

sluice --log journal keygen -o "$T/k0" 2>"$T/err0"
rc=$?
check "no journal to reach: exit 2 naming the socket (exit $rc)" \
    sh -c "[ $rc -eq 2 ] && grep -q '/run/systemd/journal/socket' '$T/err0'"

mkdir -p /run/systemd/journal
$JOURNALD >"$T/journald.out" 2>&1 &
jpid=$!
stop_journald() { kill "$jpid" 2>/dev/null; wait "$jpid" 2>/dev/null; }
trap 'stop_journald; cleanup_tmp' EXIT
i=0
while [ ! -S /run/systemd/journal/socket ] && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1))
done

d=$T/d
mkdir -p "$d/in/fhir"
sluice synth --patients 3 --seed 61 --no-dicom -o "$T/syn" >/dev/null 2>&1
cp "$T"/syn/fhir/*.json "$d/in/fhir/"
printf '{"resourceType":"Patient","name":[{"family":"Qwertyzz"}],"BROKEN\n' >"$d/in/fhir/zz.ndjson"
sluice keygen -o "$d/key" >/dev/null 2>&1
cat >"$d/sluice.xml" <<EOC
<?xml version="1.0"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:key"/>
  <state path="state/sluice.db"/>
  <source id="ehr" type="fhir-files" path="in/fhir"/>
  <target id="fhir-out" type="fhir-files" path="out/fhir"/>
  <job id="trial">
    <pull from="ehr"/>
    <deid profile="basic"/>
    <push to="fhir-out"/>
  </job>
</sluice>
EOC
sluice --config "$d/sluice.xml" --log journal -v run trial --no-progress \
    >"$T/run.out" 2>"$T/run.err"
rc=$?
check "a run with --log journal works (exit $rc: 3, an item quarantined)" [ $rc -eq 3 ]
sluice --config "$d/sluice.xml" --log=journal run no-such-job 2>"$T/err2"
sluice --config "$d/sluice.xml" --log journal daemon --once 2>"$T/err3"
sleep 1
journalctl -D /run/log/journal --no-pager -o json SYSLOG_IDENTIFIER=sluice \
    >"$T/j.json" 2>"$T/jctl.err"
python3 - "$T/j.json" >"$T/j.sum" <<'PY'
import json, sys
prios = {}
events = set()
for line in open(sys.argv[1]):
    e = json.loads(line)
    prios.setdefault(e.get("PRIORITY"), 0)
    prios[e.get("PRIORITY")] += 1
    if "SLUICE_EVENT" in e:
        events.add(e["SLUICE_EVENT"])
print("prios", " ".join("%s:%d" % (k, v) for k, v in sorted(prios.items())))
print("events", " ".join(sorted(events)))
PY
while read -r l; do diag "$l"; done <"$T/j.sum"
check "journalctl reads sluice's entries back" \
    sh -c "[ \$(wc -l <'$T/j.json') -gt 2 ]"
check "debug lines (-v) are priority 7" grep -q 'prios.* 7:' "$T/j.sum"
check "an error (an unknown job) is priority 3, its message whole" \
    sh -c "grep -q 'prios.* 3:' '$T/j.sum' && grep -q 'no-such-job' '$T/j.json'"
check "the daemon's events are priority 6 with their fields" \
    sh -c "grep -q 'prios.* 6:' '$T/j.sum' && grep -q 'events.*daemon-start' '$T/j.sum' && grep -q '\"SLUICE_MODE\":\"once\"' '$T/j.json'"
check "nothing went to stderr meanwhile" \
    sh -c "! grep -q . '$T/run.err' && ! grep -q . '$T/err2' && ! grep -q . '$T/err3'"
check "no PHI of the input in the journal" \
    sh -c "! grep -q 'Qwertyzz' '$T/j.json'"
finish

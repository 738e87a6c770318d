#!/bin/sh
# state_cli.sh - `sluice runs` and `sluice quarantine` on a state store:
# sluice creates the schema, the sqlite3 tool plays the pipeline's part.
. "$top_srcdir/tests/integration/lib.sh"

NTESTS=28
plan $NTESTS
if ! command -v sqlite3 >/dev/null 2>&1; then
    i=0
    while [ $i -lt $NTESTS ]; do skip "sqlite3 tool not installed"; i=$((i + 1)); done
    exit 0
fi

DB=$T/state.db
OUT=$T/out
ERR=$T/err
sql() { sqlite3 -cmd '.timeout 2000' "$DB" "$@"; }
# status WANT CMD...: runs CMD (stdout to $OUT, stderr to $ERR) and
# succeeds when its exit status is WANT.
status() {
    local want=$1 got
    shift
    "$@" >"$OUT" 2>"$ERR"
    got=$?
    [ "$got" -eq "$want" ] || { diag "exit $got, wanted $want: $*"; sed 's/^/# /' "$ERR"; return 1; }
}
has() { grep -q -- "$1" "$2"; }
hasnt() { ! grep -q -- "$1" "$2"; }

status 2 sluice runs --state "$DB"; rc=$?
check "runs on a missing store: exit 2, nothing created" \
    sh -c "[ $rc -eq 0 ] && [ ! -e '$DB' ] && grep -q 'no state store' '$ERR'"

: >"$DB"
status 0 sluice runs --state "$DB"
check "runs on an empty file creates the schema" test "$(sql 'PRAGMA user_version')" -ge 1
check "the empty table still has its header" has '^RUN ' "$OUT"

sql "INSERT INTO runs (id, job, status, started, finished, count_in, count_out, count_quarantined)
     VALUES ('run-20261101-020000-aaaaaa', 'trial-42', 'finished', '2026-11-01T02:00:00Z', '2026-11-01T02:10:00Z', 120, 117, 3);
     INSERT INTO runs (id, job, status, started)
     VALUES ('run-20261102-020000-bbbbbb', 'trial-7', 'running', '2026-11-02T02:00:00Z');
     INSERT INTO quarantine (run_id, job, source, pos, stage, reason, origin, kind, data, created)
     VALUES ('run-20261101-020000-aaaaaa', 'trial-42', 'ehr', 'line 17', 'deid', 'identifier left in narrative',
             '/in/Doe_Jane_export.ndjson', 'fhir', '{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Doe\"}]}', '2026-11-01T02:03:00Z'),
            ('run-20261101-020000-aaaaaa', 'trial-42', 'pacs', 'study 2 instance 9', 'deid', 'burned-in annotation',
             '/in/DOE^JANE/IM9.dcm', 'dicom', NULL, '2026-11-01T02:04:00Z'),
            ('run-20261101-020000-aaaaaa', 'trial-42', 'ehr', 'line 40', 'validate', 'profile violation',
             '/in/Doe_Jane_export.ndjson', 'raw', 'not json', '2026-11-01T02:05:00Z');"

status 0 sluice runs --state "$DB"
check "runs lists the newest run first" \
    sh -c "sed -n 2p '$OUT' | grep -q run-20261102-020000-bbbbbb && sed -n 3p '$OUT' | grep -q run-20261101-020000-aaaaaa"
check "runs shows status and counts" \
    sh -c "grep run-20261101 '$OUT' | grep finished | grep -q ' 120 .* 117 .* 3  -\$'"
status 0 sluice runs --state "$DB" --job trial-42
check "runs --job keeps one job" sh -c "[ \$(grep -c '^run-' '$OUT') -eq 1 ] && grep -q trial-42 '$OUT'"
status 0 sluice runs --state "$DB" --limit 1
check "runs --limit 1 shows one run" sh -c "[ \$(grep -c '^run-' '$OUT') -eq 1 ]"
status 0 sluice runs --state "$DB" --json
check "runs --json is an array of both runs" \
    sh -c "head -c1 '$OUT' | grep -q '\\[' && [ \$(grep -c '\"id\": \"run-' '$OUT') -eq 2 ] && grep -q '\"in\": 120' '$OUT'"
status 1 sluice runs --state "$DB" --limit lots
check "runs --limit with a non-number is a usage error" has 'limit' "$ERR"

# Without --state, both commands use the store the configuration names.
mkdir -p "$T/keys"
head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/keys/pseudonym.key"
chmod 600 "$T/keys/pseudonym.key"
cat >"$T/sluice.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<sluice xmlns="urn:sluice:config:1">
  <keys pseudonym="file:keys/pseudonym.key"/>
  <state path="$DB"/>
</sluice>
EOF
if sluice check-config -c "$T/sluice.xml" >/dev/null 2>&1; then
    status 0 sluice runs -c "$T/sluice.xml"
    check "runs -c CONFIG reads the configured store" has run-20261102-020000-bbbbbb "$OUT"
    SLUICE_CONFIG=$T/sluice.xml; export SLUICE_CONFIG
    status 0 sluice quarantine list
    check "quarantine list with \$SLUICE_CONFIG reads the configured store" has 'line 17' "$OUT"
    unset SLUICE_CONFIG
else
    skip "configuration loading is not in this build"
    skip "configuration loading is not in this build"
fi

status 0 sluice quarantine list --state "$DB"
check "quarantine list shows the open items" sh -c "[ \$(grep -c 'trial-42' '$OUT') -eq 3 ] && grep -q 'line 17' '$OUT'"
check "quarantine list shows neither origin nor data" \
    sh -c "! grep -qi 'doe' '$OUT' && ! grep -q resourceType '$OUT'"
status 0 sluice quarantine list --json --state "$DB"
check "quarantine list --json has ids and no origin" \
    sh -c "[ \$(grep -c '\"id\":' '$OUT') -eq 3 ] && ! grep -qi 'doe' '$OUT'"

status 0 sluice quarantine show 1 --content --state "$DB"
check "show prints the origin and the FHIR data" \
    sh -c "grep -q '^origin: *.*Doe_Jane_export.ndjson' '$OUT' && grep -q '\"family\":\"Doe\"' '$OUT'"
check "show warns on stderr that the output may hold patient data" has 'patient data' "$ERR"
status 0 sluice quarantine show 2 --content --state "$DB"
check "show of a DICOM item does not dump data" \
    sh -c "grep -q '^kind: *dicom' '$OUT' && grep -q '^data: *0 bytes' '$OUT'"
status 1 sluice quarantine show 99 --state "$DB"
check "show of an unknown id: exit 1, clear message" has 'no quarantined item 99' "$ERR"

status 1 sluice quarantine release 1 99 --state "$DB"
check "release with an unknown id changes nothing (exit 1)" \
    test "$(sql "SELECT status FROM quarantine WHERE id = 1")" = open
status 0 sluice quarantine release 2 --state "$DB"
check "release marks the item released" \
    test "$(sql "SELECT status FROM quarantine WHERE id = 2")" = released
check "release is in the audit trail" \
    test "$(sql "SELECT count(*) FROM audit WHERE action = 'quarantine-released' AND details LIKE '%\"id\":2%'")" -eq 1
status 0 sluice quarantine list --state "$DB"
check "a released item leaves the open list" sh -c "! grep -q 'study 2 instance 9' '$OUT' && [ \$(grep -c trial-42 '$OUT') -eq 2 ]"
status 0 sluice quarantine list --all --state "$DB"
check "list --all shows it as released" sh -c "grep 'study 2 instance 9' '$OUT' | grep -q released"
status 1 sluice quarantine release 2 --state "$DB"
check "releasing it again: exit 1, says it is not open" has 'not open' "$ERR"

status 1 sluice quarantine replay 99 --state "$DB"
check "replay of an unknown id: exit 1" has 'no quarantined item 99' "$ERR"
SLUICE_CONFIG=$T/missing.xml status 1 sluice quarantine replay 1 --state "$DB"
check "replay needs the job's configuration: exit 1 naming it" has 'missing.xml' "$ERR"

check "the audit trail refuses UPDATE and DELETE" \
    sh -c "! sqlite3 '$DB' \"UPDATE audit SET action = 'x'\" 2>/dev/null && ! sqlite3 '$DB' 'DELETE FROM audit' 2>/dev/null && [ \$(sqlite3 '$DB' 'SELECT count(*) FROM audit') -eq 1 ]"

status 0 sluice quarantine --help
check "quarantine --help names its subcommands" sh -c "grep -q release '$OUT' && grep -q replay '$OUT'"

exit $TAP_FAILED

/* test_state.c - the state store: schema, runs, commits, quarantine,
 * audit trail, and consistency after a kill -9. */
#include "config.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "state/state.h"

struct fixture {
    char dir[64];
    char path[128];
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "%s", "/tmp/sluice-state.XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/sub/state.db", f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    const char *sfx[] = { "", "-wal", "-shm", "-journal" };
    char p[160];
    size_t i;

    for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", f->path, sfx[i]);
        unlink(p);
    }
    snprintf(p, sizeof(p), "%s/sub", f->dir);
    rmdir(p);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- raw SQLite access, as another process or an intruder would have ----- */

static sqlite3 *
raw_open(const char *path)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL),
                     SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    return db;
}

static long long
raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    long long v;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static char *
raw_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    char *v;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    v = sl_strdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return v;
}

static struct sl_state *
open_ok(const char *path)
{
    struct sl_state *st = NULL;
    struct sl_err err = { 0 };

    if (sl_state_open(path, &st, &err) != SL_OK)
        fail_msg("open: %s", err.msg);
    return st;
}

static void
start_ok(struct sl_state *st, const char *job, char id[64])
{
    struct sl_err err = { 0 };

    if (sl_state_run_start(st, job, "/etc/sluice/sluice.xml", "abc123", id,
                           &err) != SL_OK)
        fail_msg("run_start: %s", err.msg);
}

static void
commit_ok(struct sl_state *st, const char *run_id, uint64_t seq,
          const struct sl_qitem *q, size_t nq)
{
    struct sl_checkpoint ck = { "{\"ehr\":\"p1\"}", "{}", "{\"Patient\":1}",
                                seq };
    struct sl_err err = { 0 };

    if (sl_state_commit(st, run_id, &ck, q, nq, &err) != SL_OK)
        fail_msg("commit: %s", err.msg);
}

/* ---- tests --------------------------------------------------------------- */

static void
test_open_create_reopen(void **state)
{
    struct fixture *f = *state;
    struct sl_state *st;
    struct stat sb;
    sqlite3 *db;
    char *mode;

    st = open_ok(f->path);
    assert_string_equal(sl_state_path(st), f->path);
    sl_state_close(st);
    /* Quarantine data is PHI: the store is private to its owner. */
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    db = raw_open(f->path);
    assert_int_equal(raw_int(db, "PRAGMA user_version"),
                     SL_STATE_SCHEMA_VERSION);
    mode = raw_text(db, "PRAGMA journal_mode");
    assert_string_equal(mode, "wal");
    free(mode);
    sqlite3_close(db);

    st = open_ok(f->path); /* reopening changes nothing */
    sl_state_close(st);
    db = raw_open(f->path);
    assert_int_equal(raw_int(db, "PRAGMA user_version"),
                     SL_STATE_SCHEMA_VERSION);
    sqlite3_close(db);
    sl_state_close(NULL); /* NULL-safe */
}

static void
test_migrates_old_schema(void **state)
{
    struct fixture *f = *state;
    struct sl_state *st;
    sqlite3 *db;

    /* Make a version-1 store: version 2 added the indexes, 3 the leases
     * and schedule tables and the audit chain's columns. */
    sl_state_close(open_ok(f->path));
    db = raw_open(f->path);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP INDEX runs_job_started;"
                                  "DROP INDEX runs_started;"
                                  "DROP INDEX quarantine_status;"
                                  "DROP INDEX quarantine_run;"
                                  "DROP TABLE leases;"
                                  "DROP TABLE schedule;"
                                  "ALTER TABLE audit DROP COLUMN prev_hash;"
                                  "ALTER TABLE audit DROP COLUMN hash;"
                                  "ALTER TABLE audit DROP COLUMN mac;"
                                  "PRAGMA user_version = 1;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    st = open_ok(f->path);
    sl_state_close(st);
    db = raw_open(f->path);
    assert_int_equal(raw_int(db, "PRAGMA user_version"),
                     SL_STATE_SCHEMA_VERSION);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE"
                                 " type = 'table' AND name IN"
                                 " ('leases', 'schedule')"),
                     2);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE"
                                 " type = 'index' AND name IN"
                                 " ('runs_job_started', 'runs_started',"
                                 " 'quarantine_status', 'quarantine_run')"),
                     4);
    sqlite3_close(db);
}

static void
test_refuses_newer_schema(void **state)
{
    struct fixture *f = *state;
    struct sl_state *st = NULL;
    struct sl_err err = { 0 };
    sqlite3 *db;

    sl_state_close(open_ok(f->path));
    db = raw_open(f->path);
    assert_int_equal(
        sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(sl_state_open(f->path, &st, &err), SL_ESTATE);
    assert_null(st);
    assert_non_null(strstr(err.msg, f->path));
    assert_non_null(strstr(err.msg, "newer"));
}

static void
test_run_round_trip(void **state)
{
    struct fixture *f = *state;
    struct sl_state *st = open_ok(f->path);
    struct sl_qitem q[2] = { { 0 }, { 0 } };
    struct sl_checkpoint ck = { 0 };
    struct sl_run_rec r, *runs = NULL;
    struct sl_err err = { 0 };
    char id[64];
    size_t n;
    sqlite3 *db;

    assert_int_equal(sl_state_run_unfinished(st, "trial-42", &r, &err),
                     SL_ENOTFOUND);
    start_ok(st, "trial-42", id);
    /* run-YYYYMMDD-HHMMSS-xxxxxx */
    assert_int_equal(strlen(id), 26);
    assert_memory_equal(id, "run-", 4);
    assert_int_equal(id[12], '-');
    assert_int_equal(id[19], '-');

    assert_int_equal(sl_state_run_unfinished(st, "trial-42", &r, &err), SL_OK);
    assert_string_equal(r.id, id);
    assert_string_equal(r.status, "running");
    assert_int_equal(r.attempts, 1);
    assert_int_equal(sl_state_checkpoint_get(st, id, &ck, &err), SL_ENOTFOUND);

    q[0].source = "ehr";
    q[0].pos = "page 3 item 7";
    q[0].stage = "deid";
    q[0].reason = "identifier left in narrative";
    q[0].kind = "fhir";
    q[0].data = "{\"resourceType\":\"Patient\"}";
    q[0].data_len = strlen(q[0].data);
    q[1].source = "pacs";
    q[1].pos = "study 2 instance 5";
    q[1].stage = "validate";
    q[1].reason = "burned-in annotation";
    q[1].kind = "dicom";
    q[1].path = "/var/lib/sluice/quarantine/5.dcm";
    commit_ok(st, id, 3, q, 2);
    assert_int_equal(sl_state_checkpoint_get(st, id, &ck, &err), SL_OK);
    assert_string_equal(ck.sources, "{\"ehr\":\"p1\"}");
    assert_string_equal(ck.sinks, "{}");
    assert_string_equal(ck.counts, "{\"Patient\":1}");
    assert_int_equal(ck.seq, 3);
    sl_checkpoint_clear(&ck);
    assert_null(ck.sources);
    sl_checkpoint_clear(NULL);

    /* A second commit replaces the checkpoint. */
    commit_ok(st, id, 5, NULL, 0);
    assert_int_equal(sl_state_checkpoint_get(st, id, &ck, &err), SL_OK);
    assert_int_equal(ck.seq, 5);
    sl_checkpoint_clear(&ck);

    /* The process died: the next one resumes the run. */
    sl_state_close(st);
    st = open_ok(f->path);
    assert_int_equal(sl_state_run_unfinished(st, "trial-42", &r, &err), SL_OK);
    assert_string_equal(r.id, id);
    assert_int_equal(sl_state_run_resume(st, id, &err), SL_OK);
    assert_int_equal(
        sl_state_run_end(st, id, "finished", 10, 8, 2, "{\"ok\":true}", &err),
        SL_OK);
    assert_int_equal(sl_state_run_unfinished(st, "trial-42", &r, &err),
                     SL_ENOTFOUND);
    /* A finished run is not resumed. */
    assert_int_equal(sl_state_run_resume(st, id, &err), SL_ENOTFOUND);
    assert_int_equal(sl_state_run_end(st, id, "done", 0, 0, 0, NULL, &err),
                     SL_EUSAGE);
    assert_int_equal(
        sl_state_run_end(st, "run-nope", "failed", 0, 0, 0, NULL, &err),
        SL_ENOTFOUND);

    assert_int_equal(sl_state_runs_list(st, NULL, 0, &runs, &n, &err), SL_OK);
    assert_int_equal(n, 1);
    assert_string_equal(runs[0].id, id);
    assert_string_equal(runs[0].job, "trial-42");
    assert_string_equal(runs[0].status, "finished");
    assert_int_equal(runs[0].attempts, 2);
    assert_int_equal(runs[0].in, 10);
    assert_int_equal(runs[0].out, 8);
    assert_int_equal(runs[0].quarantined, 2);
    assert_true(runs[0].finished[0] != '\0');
    sl_run_recs_free(runs, n);
    sl_state_close(st);

    /* Each step left its audit row, attributed to a user and host. */
    db = raw_open(f->path);
    {
        sqlite3_stmt *s = NULL;
        const char *want[] = { "run-start", "run-resume", "run-end" };
        size_t i = 0;

        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT action, run_id, job,"
                                            " user, host, details FROM audit"
                                            " ORDER BY id",
                                            -1, &s, NULL),
                         SQLITE_OK);
        while (sqlite3_step(s) == SQLITE_ROW) {
            assert_true(i < 3);
            assert_string_equal(sqlite3_column_text(s, 0), want[i]);
            assert_string_equal(sqlite3_column_text(s, 1), id);
            assert_string_equal(sqlite3_column_text(s, 2), "trial-42");
            assert_non_null(sqlite3_column_text(s, 3));
            assert_non_null(sqlite3_column_text(s, 4));
            if (i == 2)
                assert_non_null(strstr((const char *)sqlite3_column_text(s, 5),
                                       "\"quarantined\":2"));
            i++;
        }
        assert_int_equal(i, 3);
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
}

static void
test_interrupted_run_resumes(void **state)
{
    struct fixture *f = *state;
    struct sl_state *st = open_ok(f->path);
    struct sl_err err = { 0 };
    struct sl_run_rec r;
    char old[64], id[64];

    /* An older finished run and a newer interrupted one: the interrupted
     * one is what the next start resumes. */
    start_ok(st, "j", old);
    assert_int_equal(sl_state_run_end(st, old, "finished", 1, 1, 0, NULL, &err),
                     SL_OK);
    start_ok(st, "j", id);
    assert_int_equal(
        sl_state_run_end(st, id, "interrupted", 5, 4, 0, NULL, &err), SL_OK);
    assert_int_equal(sl_state_run_unfinished(st, "j", &r, &err), SL_OK);
    assert_string_equal(r.id, id);
    assert_string_equal(r.status, "interrupted");
    assert_int_equal(sl_state_run_unfinished(st, "other", &r, &err),
                     SL_ENOTFOUND);
    assert_int_equal(sl_state_run_resume(st, id, &err), SL_OK);
    assert_int_equal(sl_state_run_unfinished(st, "j", &r, &err), SL_OK);
    assert_string_equal(r.status, "running");
    assert_string_equal(r.finished, "");
    assert_int_equal(r.attempts, 2);
    assert_int_equal(sl_state_run_resume(st, "run-unknown", &err),
                     SL_ENOTFOUND);
    sl_state_close(st);
}

static void
test_commit_is_atomic(void **state)
{
    struct fixture *f = *state;
    struct sl_state *st = open_ok(f->path);
    struct sl_qitem q[2] = { { 0 }, { 0 } };
    struct sl_checkpoint ck = { "{\"ehr\":\"p9\"}", NULL, NULL, 2 };
    struct sl_checkpoint got = { 0 };
    struct sl_err err = { 0 };
    char id[64];
    sqlite3 *db;

    start_ok(st, "j", id);
    q[0].pos = "1";
    q[0].kind = "raw";
    q[0].reason = "unparsable";
    commit_ok(st, id, 1, q, 1);

    /* The second item breaks a constraint: the first item and the new
     * checkpoint must not land either. */
    q[1].pos = "2";
    q[1].kind = "bogus";
    assert_int_equal(sl_state_commit(st, id, &ck, q, 2, &err), SL_ESTATE);
    assert_memory_equal(err.msg, f->path, strlen(f->path));
    assert_int_equal(sl_state_checkpoint_get(st, id, &got, &err), SL_OK);
    assert_int_equal(got.seq, 1);
    assert_string_equal(got.sources, "{\"ehr\":\"p1\"}");
    sl_checkpoint_clear(&got);
    db = raw_open(f->path);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM quarantine"), 1);
    sqlite3_close(db);

    /* The store is still usable after the failed commit. */
    q[1].kind = "raw";
    commit_ok(st, id, 3, q, 2);
    db = raw_open(f->path);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM quarantine"), 3);
    assert_int_equal(raw_int(db, "SELECT seq FROM checkpoints"), 3);
    sqlite3_close(db);
    sl_state_close(st);
}

/* With a quarantine key, a checkpoint's positions (input file names) are
 * sealed in the store and opened by checkpoint_get; without the key, or
 * with another, the error says so and names no position. */
static void
test_checkpoint_sealed(void **state)
{
    struct fixture *f = *state;
    struct sl_state *st = open_ok(f->path);
    struct sl_checkpoint ck = { "{\"ehr\":\"3\\tSmith_John/b.json\"}", NULL,
                                NULL, 1 };
    struct sl_checkpoint got = { 0 };
    struct sl_err err = { 0 };
    const char *k1 = "0123456789abcdef0123456789abcdef";
    const char *k2 = "fedcba9876543210fedcba9876543210";
    char id[64], *raw;
    sqlite3 *db;

    sl_state_quarantine_key(st, k1, strlen(k1));
    start_ok(st, "j", id);
    assert_int_equal(sl_state_commit(st, id, &ck, NULL, 0, &err), SL_OK);
    db = raw_open(f->path);
    raw = raw_text(db, "SELECT sources FROM checkpoints");
    sqlite3_close(db);
    assert_memory_equal(raw, "sealed:", 7);
    assert_null(strstr(raw, "Smith"));
    free(raw);
    assert_int_equal(sl_state_checkpoint_get(st, id, &got, &err), SL_OK);
    assert_string_equal(got.sources, ck.sources);
    sl_checkpoint_clear(&got);

    sl_state_quarantine_key(st, k2, strlen(k2));
    assert_int_equal(sl_state_checkpoint_get(st, id, &got, &err), SL_EKEY);
    assert_null(got.sources);
    assert_non_null(strstr(err.msg, "<quarantine key>"));
    assert_null(strstr(err.msg, "Smith"));
    sl_state_close(st);

    st = open_ok(f->path); /* no key at all */
    assert_int_equal(sl_state_checkpoint_get(st, id, &got, &err), SL_EKEY);
    sl_state_close(st);
}

static void
test_commit_when_locked(void **state)
{
    struct fixture *f = *state;
    struct sl_state *st = open_ok(f->path);
    struct sl_qitem q = { 0 };
    struct sl_checkpoint ck = { "{\"ehr\":\"p2\"}", NULL, NULL, 2 };
    struct sl_checkpoint got = { 0 };
    struct sl_err err = { 0 };
    char id[64];
    sqlite3 *db;

    start_ok(st, "j", id);
    q.pos = "1";
    commit_ok(st, id, 1, &q, 1);

    /* Another process holds the write lock past our patience. */
    db = raw_open(f->path);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                     SQLITE_OK);
    sl_state_busy_timeout(st, 50);
    q.pos = "2";
    assert_int_equal(sl_state_commit(st, id, &ck, &q, 1, &err), SL_ESTATE);
    assert_memory_equal(err.msg, f->path, strlen(f->path));
    assert_non_null(strstr(err.msg, "locked"));
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);

    assert_int_equal(sl_state_checkpoint_get(st, id, &got, &err), SL_OK);
    assert_int_equal(got.seq, 1);
    sl_checkpoint_clear(&got);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM quarantine"), 1);

    /* Once the lock is gone the same commit goes through. */
    assert_int_equal(sl_state_commit(st, id, &ck, &q, 1, &err), SL_OK);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM quarantine"), 2);
    sqlite3_close(db);
    sl_state_close(st);
}

static void
test_errors_hold_no_values(void **state)
{
    struct fixture *f = *state;
    struct sl_state *st = open_ok(f->path);
    struct sl_qitem q = { 0 };
    struct sl_checkpoint ck = { NULL, NULL, NULL, 1 };
    struct sl_err err = { 0 };

    /* An unknown run breaks the foreign key; the message names the store
     * and the constraint, not what the item held. */
    q.reason = "SECRET-REASON";
    q.origin = "/data/Doe_John.ndjson";
    q.kind = "fhir";
    q.data = "{\"name\":\"Doe\"}";
    q.data_len = strlen(q.data);
    assert_int_equal(sl_state_commit(st, "run-unknown", &ck, &q, 1, &err),
                     SL_ESTATE);
    assert_memory_equal(err.msg, f->path, strlen(f->path));
    assert_null(strstr(err.msg, "Doe"));
    assert_null(strstr(err.msg, "SECRET"));
    sl_state_close(st);
}

static void
test_audit_is_append_only(void **state)
{
    struct fixture *f = *state;
    struct sl_state *st = open_ok(f->path);
    struct sl_err err = { 0 };
    sqlite3 *db;

    assert_int_equal(sl_state_audit(st, "config-check", "j", NULL,
                                    "{\"sha256\":\"ab\"}", &err),
                     SL_OK);
    assert_int_equal(sl_state_audit(st, "keygen", NULL, NULL, NULL, &err),
                     SL_OK);
    sl_state_close(st);

    db = raw_open(f->path);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit"), 2);
    assert_int_not_equal(
        sqlite3_exec(db, "UPDATE audit SET action = 'x'", NULL, NULL, NULL),
        SQLITE_OK);
    assert_non_null(strstr(sqlite3_errmsg(db), "append-only"));
    assert_int_not_equal(
        sqlite3_exec(db, "DELETE FROM audit", NULL, NULL, NULL), SQLITE_OK);
    assert_int_not_equal(
        sqlite3_exec(db, "DELETE FROM audit WHERE id = 1", NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit"), 2);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE"
                                 " action = 'config-check'"),
                     1);
    sqlite3_close(db);
}

static void
test_runs_list_order_and_limit(void **state)
{
    struct fixture *f = *state;
    struct sl_state *st = open_ok(f->path);
    struct sl_run_rec *runs = NULL;
    struct sl_err err = { 0 };
    char ids[5][64];
    size_t n, i;

    /* Several runs start within one second: newest first all the same. */
    for (i = 0; i < 5; i++)
        start_ok(st, i % 2 ? "odd" : "even", ids[i]);
    assert_int_equal(sl_state_runs_list(st, NULL, 0, &runs, &n, &err), SL_OK);
    assert_int_equal(n, 5);
    for (i = 0; i < 5; i++)
        assert_string_equal(runs[i].id, ids[4 - i]);
    sl_run_recs_free(runs, n);

    assert_int_equal(sl_state_runs_list(st, NULL, 2, &runs, &n, &err), SL_OK);
    assert_int_equal(n, 2);
    assert_string_equal(runs[0].id, ids[4]);
    assert_string_equal(runs[1].id, ids[3]);
    sl_run_recs_free(runs, n);

    assert_int_equal(sl_state_runs_list(st, "odd", 0, &runs, &n, &err), SL_OK);
    assert_int_equal(n, 2);
    assert_string_equal(runs[0].id, ids[3]);
    assert_string_equal(runs[1].id, ids[1]);
    sl_run_recs_free(runs, n);

    runs = NULL;
    assert_int_equal(sl_state_runs_list(st, "none", 0, &runs, &n, &err), SL_OK);
    assert_int_equal(n, 0);
    sl_run_recs_free(runs, n);
    sl_state_close(st);
}

static void
test_quarantine_list_get_status(void **state)
{
    struct fixture *f = *state;
    struct sl_state *st = open_ok(f->path);
    static const char bin[] = { 'D', 'I', 0, 'C', 'M', 0 };
    struct sl_qitem q[3] = { { 0 }, { 0 }, { 0 } }, *items = NULL, it;
    struct sl_err err = { 0 };
    char id[64];
    size_t n, i;
    sqlite3 *db;

    start_ok(st, "trial-42", id);
    for (i = 0; i < 3; i++) {
        q[i].job = "trial-42";
        q[i].source = "ehr";
        q[i].stage = "deid";
        q[i].reason = "leak";
        q[i].origin = "/in/export.ndjson";
        q[i].kind = "raw";
    }
    q[0].pos = "line 1";
    q[1].pos = "line 2";
    q[2].pos = "line 3";
    q[2].data = (char *)bin;
    q[2].data_len = sizeof(bin);
    commit_ok(st, id, 3, q, 3);

    assert_int_equal(sl_state_quarantine_list(st, "open", &items, &n, &err),
                     SL_OK);
    assert_int_equal(n, 3);
    for (i = 0; i < n; i++) {
        assert_string_equal(items[i].status, "open");
        assert_string_equal(items[i].run_id, id);
        assert_null(items[i].data); /* list never loads data */
    }
    assert_true(items[0].id < items[1].id && items[1].id < items[2].id);
    assert_string_equal(items[1].pos, "line 2");
    assert_int_equal(items[2].data_len, sizeof(bin));

    memset(&it, 0, sizeof(it));
    assert_int_equal(sl_state_quarantine_get(st, items[2].id, &it, &err),
                     SL_OK);
    assert_int_equal(it.data_len, sizeof(bin));
    assert_memory_equal(it.data, bin, sizeof(bin));
    assert_string_equal(it.origin, "/in/export.ndjson");
    assert_string_equal(it.kind, "raw");
    assert_non_null(it.created);
    sl_qitem_clear(&it);
    assert_null(it.data);
    sl_qitem_clear(NULL);

    assert_int_equal(
        sl_state_quarantine_set_status(st, items[0].id, "released", &err),
        SL_OK);
    assert_int_equal(
        sl_state_quarantine_set_status(st, items[1].id, "replayed", &err),
        SL_OK);
    assert_int_equal(sl_state_quarantine_set_status(st, 9999, "released", &err),
                     SL_ENOTFOUND);
    assert_int_equal(
        sl_state_quarantine_set_status(st, items[2].id, "deleted", &err),
        SL_EUSAGE);
    for (i = 0; i < n; i++)
        sl_qitem_clear(&items[i]);
    free(items);

    assert_int_equal(sl_state_quarantine_list(st, "open", &items, &n, &err),
                     SL_OK);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].pos, "line 3");
    sl_qitem_clear(&items[0]);
    free(items);
    assert_int_equal(sl_state_quarantine_list(st, NULL, &items, &n, &err),
                     SL_OK);
    assert_int_equal(n, 3);
    assert_string_equal(items[0].status, "released");
    assert_string_equal(items[1].status, "replayed");
    for (i = 0; i < n; i++)
        sl_qitem_clear(&items[i]);
    free(items);

    memset(&it, 0, sizeof(it));
    assert_int_equal(sl_state_quarantine_get(st, 9999, &it, &err),
                     SL_ENOTFOUND);
    sl_state_close(st);

    db = raw_open(f->path);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE"
                                 " action = 'quarantine-released'"
                                 " AND job = 'trial-42'"),
                     1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE"
                                 " action = 'quarantine-replayed'"),
                     1);
    sqlite3_close(db);
}

/* The child commits forever: checkpoint seq i together with the i-th
 * quarantine item, whose position is i. */
static void __attribute__((noreturn))
crash_child(const char *path, int ready_fd)
{
    struct sl_state *st = NULL;
    struct sl_err err = { 0 };
    struct sl_qitem q = { 0 };
    struct sl_checkpoint ck = { 0 };
    char id[64], pos[32], counts[64];
    uint64_t i;

    if (sl_state_open(path, &st, &err) != SL_OK ||
        sl_state_run_start(st, "crash", NULL, NULL, id, &err) != SL_OK)
        _exit(1);
    q.source = "ehr";
    q.stage = "deid";
    q.reason = "test";
    q.kind = "raw";
    q.pos = pos;
    ck.counts = counts;
    ck.sources = "{}";
    for (i = 1;; i++) {
        snprintf(pos, sizeof(pos), "%llu", (unsigned long long)i);
        snprintf(counts, sizeof(counts), "{\"n\":%llu}", (unsigned long long)i);
        ck.seq = i;
        if (sl_state_commit(st, id, &ck, &q, 1, &err) != SL_OK)
            _exit(2);
        if (i == 1 && (write(ready_fd, "x", 1) != 1 || close(ready_fd) != 0))
            _exit(3);
    }
}

static void
test_crash_consistency(void **state)
{
    struct fixture *f = *state;
    int round;

    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (round = 0; round < 5; round++) {
        struct sl_state *st;
        struct sl_run_rec *runs = NULL;
        struct sl_checkpoint ck = { 0 };
        struct sl_err err = { 0 };
        struct timespec ts;
        int fds[2], status;
        char c;
        pid_t pid;
        size_t n;
        sqlite3 *db;
        sqlite3_stmt *s = NULL;
        char *ic;

        assert_int_equal(pipe(fds), 0);
        /* The child must not start with a store open in the parent. */
        if (round == 0)
            sl_state_close(open_ok(f->path));
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            crash_child(f->path, fds[1]);
        }
        close(fds[1]);
        assert_int_equal(read(fds[0], &c, 1), 1);
        close(fds[0]);
        ts.tv_sec = 0;
        ts.tv_nsec = (long)(rand() % 150 + 1) * 1000000L;
        nanosleep(&ts, NULL);
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        st = open_ok(f->path);
        assert_int_equal(sl_state_runs_list(st, "crash", 1, &runs, &n, &err),
                         SL_OK);
        assert_int_equal(n, 1);
        assert_string_equal(runs[0].status, "running");
        assert_int_equal(sl_state_checkpoint_get(st, runs[0].id, &ck, &err),
                         SL_OK);
        assert_true(ck.seq >= 1);

        db = raw_open(f->path);
        ic = raw_text(db, "PRAGMA integrity_check");
        assert_string_equal(ic, "ok");
        free(ic);
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT count(*),"
                                            " max(CAST(pos AS INTEGER))"
                                            " FROM quarantine"
                                            " WHERE run_id = ?",
                                            -1, &s, NULL),
                         SQLITE_OK);
        sqlite3_bind_text(s, 1, runs[0].id, -1, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        /* The checkpoint and its items landed together, every time. */
        assert_int_equal(sqlite3_column_int64(s, 0), (long long)ck.seq);
        assert_int_equal(sqlite3_column_int64(s, 1), (long long)ck.seq);
        sqlite3_finalize(s);
        sqlite3_close(db);
        print_message("# round %d: killed after %llu commits\n", round,
                      (unsigned long long)ck.seq);
        sl_checkpoint_clear(&ck);
        sl_run_recs_free(runs, n);
        sl_state_close(st);
    }
}

/* One run of a job at a time: the lease, held by this process, by another
 * live one (this test's parent, on this host), by a dead one (a pid that
 * is not running), and by a process on another host, within its time and
 * after it. */
static void
test_lease(void **state)
{
    struct fixture *f = *state;
    struct sl_state *st = open_ok(f->path);
    struct sl_lease me, who;
    struct sl_err err = { 0 };
    char sql[1024];
    sqlite3 *db;
    pid_t child;
    int status;

    sl_lease_self(&me);
    assert_true(me.start > 0);
    assert_int_equal(sl_state_lease_take(st, "nightly", 60, &who, &err),
                     SL_OK);
    /* renewing our own lease */
    assert_int_equal(sl_state_lease_take(st, "nightly", 60, &who, &err),
                     SL_OK);
    /* another job is free */
    assert_int_equal(sl_state_lease_take(st, "weekly", 60, &who, &err), SL_OK);

    /* a child process (alive, same host) cannot take it and is told who */
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct sl_state *c = NULL;
        struct sl_lease w;
        struct sl_err e = { 0 };
        int rc;

        if (sl_state_open(f->path, &c, &e) != SL_OK)
            _exit(10);
        rc = sl_state_lease_take(c, "nightly", 60, &w, &e);
        if (rc != SL_EBUSY || w.pid != (long)getppid() ||
            strstr(e.msg, "nightly") == NULL)
            _exit(11);
        sl_state_close(c);
        _exit(0);
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* released: free again */
    assert_int_equal(sl_state_lease_release(st, "nightly", &err), SL_OK);
    db = raw_open(f->path);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM leases WHERE job ="
                                 " 'nightly'"),
                     0);

    /* a dead holder on this host: taken over, and audited from whom */
    snprintf(sql, sizeof(sql),
             "INSERT INTO leases VALUES ('nightly', 'op', '%s', 999999, 1,"
             " '2026-01-01T00:00:00Z', '2999-01-01T00:00:00Z')",
             me.host);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sl_state_lease_take(st, "nightly", 60, &who, &err),
                     SL_OK);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM audit WHERE action ="
                                 " 'lease-take' AND job = 'nightly' AND"
                                 " details LIKE '%999999%'"),
                     1);
    assert_int_equal(sl_state_lease_release(st, "nightly", &err), SL_OK);

    /* another host, not expired: busy; expired: taken */
    assert_int_equal(
        sqlite3_exec(db,
                     "INSERT INTO leases VALUES ('nightly', 'op',"
                     " 'elsewhere.example', 42, 7, '2026-01-01T00:00:00Z',"
                     " '2999-01-01T00:00:00Z')",
                     NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(sl_state_lease_take(st, "nightly", 60, &who, &err),
                     SL_EBUSY);
    assert_string_equal(who.host, "elsewhere.example");
    assert_int_equal(who.pid, 42);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE leases SET expires ="
                                  " '2000-01-01T00:00:00Z'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sl_state_lease_take(st, "nightly", 60, &who, &err),
                     SL_OK);
    sqlite3_close(db);
    sl_state_close(st);
}

/* The audit trail is a hash chain with an HMAC per record: intact, it
 * verifies; one record edited (after dropping the trigger, as an intruder
 * with sqlite3 would), one removed, or checked with another key, and
 * verify names the first broken record. */
static void
test_audit_chain(void **state)
{
    struct fixture *f = *state;
    struct sl_state *st = open_ok(f->path);
    struct sl_audit_check ck;
    struct sl_err err = { 0 };
    static const char key[] = "an audit key of thirty-two bytes!";
    static const char other[] = "another key, also thirty-two byte";
    char details[64];
    sqlite3 *db;
    int i;

    sl_state_audit_key(st, key, sizeof(key) - 1);
    for (i = 1; i <= 6; i++) {
        snprintf(details, sizeof(details), "{\"n\":%d}", i);
        assert_int_equal(sl_state_audit(st, "test", "job", NULL, details,
                                        &err),
                         SL_OK);
    }
    assert_int_equal(
        sl_state_audit_verify(st, key, sizeof(key) - 1, &ck, &err), SL_OK);
    assert_int_equal(ck.bad_id, 0);
    assert_int_equal(ck.records, 6);
    assert_int_equal(ck.macs, 6);
    /* without the key: the chain alone */
    assert_int_equal(sl_state_audit_verify(st, NULL, 0, &ck, &err), SL_OK);
    assert_int_equal(ck.bad_id, 0);
    assert_int_equal(ck.macs, 0);
    /* the wrong key: the first record's HMAC fails */
    assert_int_equal(
        sl_state_audit_verify(st, other, sizeof(other) - 1, &ck, &err),
        SL_OK);
    assert_int_equal(ck.bad_id, 1);
    assert_non_null(strstr(ck.why, "HMAC"));

    db = raw_open(f->path);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TRIGGER audit_no_update;"
                                  "UPDATE audit SET details = '{\"n\":33}'"
                                  " WHERE id = 3;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sl_state_audit_verify(st, NULL, 0, &ck, &err), SL_OK);
    assert_int_equal(ck.bad_id, 3);
    assert_non_null(strstr(ck.why, "changed"));
    assert_int_equal(ck.records, 2);
    /* put it back, then remove record 5 */
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE audit SET details = '{\"n\":3}'"
                                  " WHERE id = 3;"
                                  "DROP TRIGGER audit_no_delete;"
                                  "DELETE FROM audit WHERE id = 5;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sl_state_audit_verify(st, key, sizeof(key) - 1, &ck,
                                           &err),
                     SL_OK);
    assert_int_equal(ck.bad_id, 6);
    assert_non_null(strstr(ck.why, "removed"));
    sqlite3_close(db);
    sl_state_close(st);
}

/* The daemon's schedule slot per job. */
static void
test_schedule_slot(void **state)
{
    struct fixture *f = *state;
    struct sl_state *st = open_ok(f->path);
    struct sl_err err = { 0 };
    int64_t slot = 0;

    assert_int_equal(sl_state_slot_get(st, "nightly", &slot, &err),
                     SL_ENOTFOUND);
    assert_int_equal(sl_state_slot_set(st, "nightly", 1790000000, &err),
                     SL_OK);
    assert_int_equal(sl_state_slot_set(st, "nightly", 1790003600, &err),
                     SL_OK);
    assert_int_equal(sl_state_slot_get(st, "nightly", &slot, &err), SL_OK);
    assert_int_equal(slot, 1790003600);
    sl_state_close(st);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_create_reopen, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_migrates_old_schema, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refuses_newer_schema, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_run_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupted_run_resumes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_commit_is_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_sealed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_commit_when_locked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_errors_hold_no_values, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_is_append_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_runs_list_order_and_limit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_quarantine_list_get_status, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lease, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schedule_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_consistency, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}

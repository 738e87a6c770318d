/* state.c - the state store over SQLite.
 *
 * Durability: WAL with synchronous=FULL, so a committed transaction
 * survives a crash or a power cut, and a kill -9 at any moment leaves the
 * store as of the last commit. Every change that must be audited writes its
 * audit row in the same transaction. Every value goes through a bound
 * parameter; the only SQL text built here is static. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "state/state.h"

#define STATE_BUSY_MS 5000

struct sl_state {
    sqlite3 *db;
    char *path;
    char user[64];
    char host[256];
};

/* Schema migrations: migrations[v] takes a store from version v to v + 1,
 * inside one transaction with the user_version bump. Never edit a
 * released step; add a new one. */
static const char *const migrations[] = {
    /* 0 -> 1: the tables. */
    "CREATE TABLE runs ("
    " id TEXT PRIMARY KEY,"
    " job TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN"
    "  ('running', 'finished', 'failed', 'interrupted')),"
    " started TEXT NOT NULL,"
    " finished TEXT,"
    " config_path TEXT,"
    " config_sha256 TEXT,"
    " attempts INTEGER NOT NULL DEFAULT 1,"
    " count_in INTEGER NOT NULL DEFAULT 0,"
    " count_out INTEGER NOT NULL DEFAULT 0,"
    " count_quarantined INTEGER NOT NULL DEFAULT 0,"
    " summary TEXT,"
    " user TEXT,"
    " host TEXT);"
    "CREATE TABLE checkpoints ("
    " run_id TEXT PRIMARY KEY REFERENCES runs(id),"
    " sources TEXT,"
    " sinks TEXT,"
    " counts TEXT,"
    " seq INTEGER NOT NULL DEFAULT 0,"
    " updated TEXT NOT NULL);"
    "CREATE TABLE quarantine ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " run_id TEXT REFERENCES runs(id),"
    " job TEXT,"
    " source TEXT,"
    " pos TEXT,"
    " stage TEXT,"
    " reason TEXT,"
    " origin TEXT,"
    " kind TEXT CHECK (kind IN ('fhir', 'dicom', 'raw')),"
    " data BLOB,"
    " path TEXT,"
    " created TEXT NOT NULL,"
    " status TEXT NOT NULL DEFAULT 'open' CHECK (status IN"
    "  ('open', 'replayed', 'released')));"
    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " time TEXT NOT NULL,"
    " user TEXT,"
    " host TEXT,"
    " action TEXT NOT NULL,"
    " job TEXT,"
    " run_id TEXT,"
    " details TEXT);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
    "PRAGMA user_version = 1;",
    /* 1 -> 2: indexes for the queries the CLI and the daemon make. */
    "CREATE INDEX runs_job_started ON runs(job, started);"
    "CREATE INDEX runs_started ON runs(started);"
    "CREATE INDEX quarantine_status ON quarantine(status, id);"
    "CREATE INDEX quarantine_run ON quarantine(run_id);"
    "PRAGMA user_version = 2;",
};
#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

_Static_assert(NMIGRATIONS == SL_STATE_SCHEMA_VERSION,
               "one migration step per schema version");

static const char run_cols[] =
    "id, job, status, started, finished, count_in, count_out,"
    " count_quarantined, attempts";

static const char qitem_cols[] =
    "id, run_id, job, source, pos, stage, reason, origin, kind, path,"
    " created, status, length(data)";

/* ---- helpers ------------------------------------------------------------- */

/* The store's error as an sl_err: the path and SQLite's message, which
 * names tables, columns and constraints but never values. */
static int
db_err(struct sl_state *st, struct sl_err *err)
{
    return SL_ERR(err, SL_ESTATE, "%s: %s", st->path, sqlite3_errmsg(st->db));
}

static int
exec_sql(struct sl_state *st, const char *sql, struct sl_err *err)
{
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_err(st, err);
    return SL_OK;
}

static int
prepare(struct sl_state *st, const char *sql, sqlite3_stmt **out,
        struct sl_err *err)
{
    if (sqlite3_prepare_v2(st->db, sql, -1, out, NULL) != SQLITE_OK) {
        *out = NULL;
        return db_err(st, err);
    }
    return SL_OK;
}

static int
begin(struct sl_state *st, struct sl_err *err)
{
    return exec_sql(st, "BEGIN IMMEDIATE", err);
}

static int
commit(struct sl_state *st, struct sl_err *err)
{
    return exec_sql(st, "COMMIT", err);
}

/* Undoes an open transaction after a failure; keeps the first error. */
static void
rollback(struct sl_state *st)
{
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Binds a string, or NULL when s is NULL. SQLITE_TRANSIENT: SQLite copies
 * it, so the caller's buffer may go away before the step. */
static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v == NULL)
        return sqlite3_bind_null(s, i);
    return sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

static char *
col_strdup(sqlite3_stmt *s, int i)
{
    const unsigned char *v = sqlite3_column_text(s, i);

    return v ? sl_strdup((const char *)v) : NULL;
}

static void
col_copy(sqlite3_stmt *s, int i, char *buf, size_t len)
{
    const unsigned char *v = sqlite3_column_text(s, i);

    snprintf(buf, len, "%s", v ? (const char *)v : "");
}

static uint64_t
col_u64(sqlite3_stmt *s, int i)
{
    sqlite3_int64 v = sqlite3_column_int64(s, i);

    return v < 0 ? 0 : (uint64_t)v;
}

/* Binds a count: SQLite integers are signed 64-bit. */
static int
bind_u64(sqlite3_stmt *s, int i, uint64_t v)
{
    return sqlite3_bind_int64(s, i,
                              v > INT64_MAX ? INT64_MAX : (sqlite3_int64)v);
}

static void
identity_init(struct sl_state *st)
{
    struct passwd *pw = getpwuid(geteuid());
    const char *u = pw ? pw->pw_name : getenv("USER");

    if (u != NULL && *u)
        snprintf(st->user, sizeof(st->user), "%s", u);
    else
        snprintf(st->user, sizeof(st->user), "uid:%lu",
                 (unsigned long)geteuid());
    if (gethostname(st->host, sizeof(st->host)) != 0)
        snprintf(st->host, sizeof(st->host), "unknown");
    st->host[sizeof(st->host) - 1] = '\0';
}

/* Appends one audit row; the caller holds the transaction when the row
 * must land with a change. Takes nothing. */
static int
audit_insert(struct sl_state *st, const char *action, const char *job,
             const char *run_id, const char *details_json, struct sl_err *err)
{
    sqlite3_stmt *s = NULL;
    char now[32];
    int rc;

    sl_time_iso(now, sizeof(now));
    if ((rc = prepare(st,
                      "INSERT INTO audit (time, user, host, action, job,"
                      " run_id, details) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      &s, err)) != SL_OK)
        goto out;
    bind_text(s, 1, now);
    bind_text(s, 2, st->user);
    bind_text(s, 3, st->host);
    bind_text(s, 4, action);
    bind_text(s, 5, job);
    bind_text(s, 6, run_id);
    bind_text(s, 7, details_json);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = db_err(st, err);
        goto out;
    }
    rc = SL_OK;
out:
    sqlite3_finalize(s);
    return rc;
}

/* Serialises an audit details object and appends the row. Consumes o. */
static int
audit_json(struct sl_state *st, const char *action, const char *job,
           const char *run_id, json_t *o, struct sl_err *err)
{
    char *details = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    int rc;

    rc = audit_insert(st, action, job, run_id, details, err);
    free(details);
    json_decref(o);
    return rc;
}

/* ---- open, schema -------------------------------------------------------- */

static int
schema_version(struct sl_state *st, int *out, struct sl_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc;

    if ((rc = prepare(st, "PRAGMA user_version", &s, err)) != SL_OK)
        return rc;
    if (sqlite3_step(s) != SQLITE_ROW) {
        rc = db_err(st, err);
        goto out;
    }
    *out = sqlite3_column_int(s, 0);
    rc = SL_OK;
out:
    sqlite3_finalize(s);
    return rc;
}

/* Brings the schema to SL_STATE_SCHEMA_VERSION, one step per transaction,
 * re-reading the version under the write lock so that two processes
 * opening a new store at once do not both migrate it. */
static int
schema_upgrade(struct sl_state *st, struct sl_err *err)
{
    int rc, v = 0;

    for (;;) {
        if ((rc = begin(st, err)) != SL_OK)
            return rc;
        if ((rc = schema_version(st, &v, err)) != SL_OK)
            goto fail;
        if (v > SL_STATE_SCHEMA_VERSION) {
            rc = SL_ERR(err, SL_ESTATE,
                        "%s: schema version %d is newer than this sluice "
                        "knows (%d); upgrade sluice",
                        st->path, v, SL_STATE_SCHEMA_VERSION);
            goto fail;
        }
        if (v < 0) {
            rc = SL_ERR(err, SL_ESTATE, "%s: bad schema version %d", st->path,
                        v);
            goto fail;
        }
        if (v == SL_STATE_SCHEMA_VERSION)
            return commit(st, err);
        if ((rc = exec_sql(st, migrations[v], err)) != SL_OK)
            goto fail;
        if ((rc = commit(st, err)) != SL_OK)
            goto fail;
        sl_log(SL_LOG_DEBUG, "%s: state schema upgraded to version %d",
               st->path, v + 1);
    }
fail:
    rollback(st);
    return rc;
}

/* Creates a missing store file 0600 (SQLite would use 0644, and the WAL
 * and shm files copy the store's mode). */
static int
create_private(const char *path, struct sl_err *err)
{
    char *dir;
    int fd, rc = SL_OK;

    if (path[0] == ':' || strncmp(path, "file:", 5) == 0 ||
        sl_path_exists(path))
        return SL_OK;
    dir = sl_path_dir(path);
    if (dir && *dir && !sl_path_is_dir(dir))
        rc = sl_mkdir_p(dir, err);
    free(dir);
    if (rc != SL_OK)
        return rc;
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return SL_ERR(err, SL_ESTATE, "%s: cannot create: %s", path,
                      strerror(errno));
    close(fd);
    return SL_OK;
}

static int
set_pragmas(struct sl_state *st, struct sl_err *err)
{
    sqlite3_stmt *s = NULL;
    const unsigned char *mode;
    int rc;

    sqlite3_busy_timeout(st->db, STATE_BUSY_MS);
    if ((rc = prepare(st, "PRAGMA journal_mode = WAL", &s, err)) != SL_OK)
        return rc;
    if (sqlite3_step(s) != SQLITE_ROW) {
        rc = db_err(st, err);
        goto out;
    }
    mode = sqlite3_column_text(s, 0);
    /* An in-memory store reports "memory"; a file must really be in WAL. */
    if (mode == NULL || (strcmp((const char *)mode, "wal") != 0 &&
                         strcmp((const char *)mode, "memory") != 0)) {
        rc = SL_ERR(err, SL_ESTATE, "%s: cannot switch to WAL mode", st->path);
        goto out;
    }
    if ((rc = exec_sql(st,
                       "PRAGMA synchronous = FULL;"
                       "PRAGMA foreign_keys = ON;",
                       err)) != SL_OK)
        goto out;
    rc = SL_OK;
out:
    sqlite3_finalize(s);
    return rc;
}

int
sl_state_open(const char *path, struct sl_state **out, struct sl_err *err)
{
    struct sl_state *st = NULL;
    int rc;

    if ((rc = create_private(path, err)) != SL_OK)
        goto out;
    st = sl_calloc(1, sizeof(*st));
    st->path = sl_strdup(path);
    identity_init(st);
    if (sqlite3_open_v2(path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_URI,
                        NULL) != SQLITE_OK) {
        if (st->db == NULL)
            rc = SL_ERR(err, SL_ENOMEM, "%s: out of memory", path);
        else
            rc = db_err(st, err);
        goto out;
    }
    sqlite3_extended_result_codes(st->db, 1);
    if ((rc = set_pragmas(st, err)) != SL_OK)
        goto out;
    if ((rc = schema_upgrade(st, err)) != SL_OK)
        goto out;
    *out = st;
    st = NULL; /* ownership moves to the caller */
out:
    sl_state_close(st);
    return rc;
}

void
sl_state_close(struct sl_state *st)
{
    if (st == NULL)
        return;
    sqlite3_close(st->db); /* NULL-safe; all statements are finalized */
    free(st->path);
    free(st);
}

const char *
sl_state_path(const struct sl_state *st)
{
    return st->path;
}

void
sl_state_busy_timeout(struct sl_state *st, int ms)
{
    sqlite3_busy_timeout(st->db, ms);
}

/* ---- runs ---------------------------------------------------------------- */

static void
run_from_row(sqlite3_stmt *s, struct sl_run_rec *r)
{
    memset(r, 0, sizeof(*r));
    col_copy(s, 0, r->id, sizeof(r->id));
    col_copy(s, 1, r->job, sizeof(r->job));
    col_copy(s, 2, r->status, sizeof(r->status));
    col_copy(s, 3, r->started, sizeof(r->started));
    col_copy(s, 4, r->finished, sizeof(r->finished));
    r->in = col_u64(s, 5);
    r->out = col_u64(s, 6);
    r->quarantined = col_u64(s, 7);
    r->attempts = sqlite3_column_int(s, 8);
}

int
sl_state_run_unfinished(struct sl_state *st, const char *job,
                        struct sl_run_rec *out, struct sl_err *err)
{
    sqlite3_stmt *s = NULL;
    char sql[512];
    int rc;

    snprintf(sql, sizeof(sql),
             "SELECT %s FROM runs WHERE job = ? AND status IN"
             " ('running', 'interrupted', 'failed')"
             " ORDER BY started DESC, rowid DESC LIMIT 1",
             run_cols);
    if ((rc = prepare(st, sql, &s, err)) != SL_OK)
        goto out;
    bind_text(s, 1, job);
    switch (sqlite3_step(s)) {
    case SQLITE_ROW:
        run_from_row(s, out);
        rc = SL_OK;
        break;
    case SQLITE_DONE:
        rc = SL_ERR(err, SL_ENOTFOUND, "%s: job %s has no unfinished run",
                    st->path, job);
        break;
    default:
        rc = db_err(st, err);
        break;
    }
out:
    sqlite3_finalize(s);
    return rc;
}

/* run-YYYYMMDD-HHMMSS-xxxxxx: sortable by start, unique by the suffix. */
static int
run_id_make(char id[64], struct sl_err *err)
{
    unsigned char r[3];
    char now[32];

    if (RAND_bytes(r, sizeof(r)) != 1)
        return SL_ERR(err, SL_EINTERNAL, "no random bytes for a run id");
    sl_time_iso(now, sizeof(now)); /* YYYY-MM-DDTHH:MM:SSZ */
    snprintf(id, 64, "run-%.4s%.2s%.2s-%.2s%.2s%.2s-%02x%02x%02x", now, now + 5,
             now + 8, now + 11, now + 14, now + 17, r[0], r[1], r[2]);
    return SL_OK;
}

int
sl_state_run_start(struct sl_state *st, const char *job,
                   const char *config_path, const char *config_sha256,
                   char run_id[64], struct sl_err *err)
{
    sqlite3_stmt *s = NULL;
    char id[64], now[32];
    int rc, step, tries;

    if ((rc = prepare(st,
                      "INSERT INTO runs (id, job, status, started,"
                      " config_path, config_sha256, attempts, user, host)"
                      " VALUES (?, ?, 'running', ?, ?, ?, 1, ?, ?)",
                      &s, err)) != SL_OK)
        goto out;
    if ((rc = begin(st, err)) != SL_OK)
        goto out;
    /* A clash of the random suffix within one second is unlikely; retry
     * a few times rather than fail a run on it. */
    for (tries = 0;; tries++) {
        if ((rc = run_id_make(id, err)) != SL_OK)
            goto out;
        sl_time_iso(now, sizeof(now));
        sqlite3_reset(s);
        bind_text(s, 1, id);
        bind_text(s, 2, job);
        bind_text(s, 3, now);
        bind_text(s, 4, config_path);
        bind_text(s, 5, config_sha256);
        bind_text(s, 6, st->user);
        bind_text(s, 7, st->host);
        step = sqlite3_step(s);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_CONSTRAINT_PRIMARYKEY || tries >= 5) {
            rc = db_err(st, err);
            goto out;
        }
    }
    if ((rc = audit_json(st, "run-start", job, id,
                         json_pack("{s:s?}", "config_sha256", config_sha256),
                         err)) != SL_OK)
        goto out;
    if ((rc = commit(st, err)) != SL_OK)
        goto out;
    memcpy(run_id, id, sizeof(id));
out:
    sqlite3_finalize(s);
    rollback(st);
    return rc;
}

/* The job of a run, for the audit row; SL_ENOTFOUND for an unknown run. */
static int
run_job(struct sl_state *st, const char *run_id, char **job, struct sl_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc;

    if ((rc = prepare(st, "SELECT job FROM runs WHERE id = ?", &s, err)) !=
        SL_OK)
        return rc;
    bind_text(s, 1, run_id);
    switch (sqlite3_step(s)) {
    case SQLITE_ROW:
        *job = col_strdup(s, 0);
        rc = SL_OK;
        break;
    case SQLITE_DONE:
        rc = SL_ERR(err, SL_ENOTFOUND, "%s: no run %s", st->path, run_id);
        break;
    default:
        rc = db_err(st, err);
        break;
    }
    sqlite3_finalize(s);
    return rc;
}

int
sl_state_run_resume(struct sl_state *st, const char *run_id, struct sl_err *err)
{
    sqlite3_stmt *s = NULL;
    char *job = NULL;
    int rc, attempts;

    if ((rc = begin(st, err)) != SL_OK)
        goto out;
    if ((rc = run_job(st, run_id, &job, err)) != SL_OK)
        goto out;
    if ((rc = prepare(st,
                      "UPDATE runs SET status = 'running', finished = NULL,"
                      " attempts = attempts + 1 WHERE id = ? AND status IN"
                      " ('running', 'interrupted', 'failed')",
                      &s, err)) != SL_OK)
        goto out;
    bind_text(s, 1, run_id);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = db_err(st, err);
        goto out;
    }
    if (sqlite3_changes(st->db) == 0) {
        rc = SL_ERR(err, SL_ENOTFOUND, "%s: run %s is finished", st->path,
                    run_id);
        goto out;
    }
    sqlite3_finalize(s);
    s = NULL;
    if ((rc = prepare(st, "SELECT attempts FROM runs WHERE id = ?", &s, err)) !=
        SL_OK)
        goto out;
    bind_text(s, 1, run_id);
    if (sqlite3_step(s) != SQLITE_ROW) {
        rc = db_err(st, err);
        goto out;
    }
    attempts = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    s = NULL;
    if ((rc = audit_json(st, "run-resume", job, run_id,
                         json_pack("{s:i}", "attempts", attempts), err)) !=
        SL_OK)
        goto out;
    rc = commit(st, err);
out:
    sqlite3_finalize(s);
    rollback(st);
    free(job);
    return rc;
}

int
sl_state_run_end(struct sl_state *st, const char *run_id, const char *status,
                 uint64_t in, uint64_t out, uint64_t quarantined,
                 const char *summary_json, struct sl_err *err)
{
    sqlite3_stmt *s = NULL;
    char *job = NULL;
    char now[32];
    int rc;

    if (status == NULL ||
        (strcmp(status, "finished") != 0 && strcmp(status, "failed") != 0 &&
         strcmp(status, "interrupted") != 0))
        return SL_ERR(err, SL_EUSAGE,
                      "a run ends finished, failed or "
                      "interrupted");
    if ((rc = begin(st, err)) != SL_OK)
        goto done;
    if ((rc = run_job(st, run_id, &job, err)) != SL_OK)
        goto done;
    sl_time_iso(now, sizeof(now));
    if ((rc = prepare(st,
                      "UPDATE runs SET status = ?, finished = ?,"
                      " count_in = ?, count_out = ?, count_quarantined = ?,"
                      " summary = ? WHERE id = ?",
                      &s, err)) != SL_OK)
        goto done;
    bind_text(s, 1, status);
    bind_text(s, 2, now);
    bind_u64(s, 3, in);
    bind_u64(s, 4, out);
    bind_u64(s, 5, quarantined);
    bind_text(s, 6, summary_json);
    bind_text(s, 7, run_id);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = db_err(st, err);
        goto done;
    }
    if ((rc = audit_json(st, "run-end", job, run_id,
                         json_pack("{s:s, s:I, s:I, s:I}", "status", status,
                                   "in", (json_int_t)in, "out", (json_int_t)out,
                                   "quarantined", (json_int_t)quarantined),
                         err)) != SL_OK)
        goto done;
    rc = commit(st, err);
done:
    sqlite3_finalize(s);
    rollback(st);
    free(job);
    return rc;
}

int
sl_state_runs_list(struct sl_state *st, const char *job, size_t limit,
                   struct sl_run_rec **out, size_t *n, struct sl_err *err)
{
    sqlite3_stmt *s = NULL;
    struct sl_run_rec *v = NULL;
    size_t nv = 0, cap = 0;
    char sql[512];
    int rc, step;

    snprintf(sql, sizeof(sql),
             "SELECT %s FROM runs WHERE ?1 IS NULL OR job = ?1"
             " ORDER BY started DESC, rowid DESC LIMIT ?2",
             run_cols);
    if ((rc = prepare(st, sql, &s, err)) != SL_OK)
        goto out;
    bind_text(s, 1, job);
    sqlite3_bind_int64(
        s, 2, limit == 0 || limit > INT64_MAX ? -1 : (sqlite3_int64)limit);
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        if (nv == cap) {
            cap = cap ? cap * 2 : 16;
            v = sl_realloc(v, cap * sizeof(*v));
        }
        run_from_row(s, &v[nv++]);
    }
    if (step != SQLITE_DONE) {
        rc = db_err(st, err);
        goto out;
    }
    *out = v;
    *n = nv;
    v = NULL;
    rc = SL_OK;
out:
    sqlite3_finalize(s);
    free(v);
    return rc;
}

/* ---- checkpoints and commits --------------------------------------------- */

int
sl_state_checkpoint_get(struct sl_state *st, const char *run_id,
                        struct sl_checkpoint *out, struct sl_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc;

    if ((rc = prepare(st,
                      "SELECT sources, sinks, counts, seq FROM checkpoints"
                      " WHERE run_id = ?",
                      &s, err)) != SL_OK)
        return rc;
    bind_text(s, 1, run_id);
    switch (sqlite3_step(s)) {
    case SQLITE_ROW:
        out->sources = col_strdup(s, 0);
        out->sinks = col_strdup(s, 1);
        out->counts = col_strdup(s, 2);
        out->seq = col_u64(s, 3);
        rc = SL_OK;
        break;
    case SQLITE_DONE:
        rc = SL_ERR(err, SL_ENOTFOUND, "%s: run %s has no checkpoint", st->path,
                    run_id);
        break;
    default:
        rc = db_err(st, err);
        break;
    }
    sqlite3_finalize(s);
    return rc;
}

void
sl_checkpoint_clear(struct sl_checkpoint *c)
{
    if (c == NULL)
        return;
    free(c->sources);
    free(c->sinks);
    free(c->counts);
    memset(c, 0, sizeof(*c));
}

static int
qitem_insert(struct sl_state *st, sqlite3_stmt *s, const char *run_id,
             const struct sl_qitem *q, const char *now, struct sl_err *err)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    bind_text(s, 1, q->run_id ? q->run_id : run_id);
    bind_text(s, 2, q->job);
    bind_text(s, 3, q->source);
    bind_text(s, 4, q->pos);
    bind_text(s, 5, q->stage);
    bind_text(s, 6, q->reason);
    bind_text(s, 7, q->origin);
    bind_text(s, 8, q->kind);
    if (q->data != NULL)
        sqlite3_bind_blob64(s, 9, q->data, q->data_len, SQLITE_STATIC);
    bind_text(s, 10, q->path);
    bind_text(s, 11, q->created ? q->created : now);
    if (sqlite3_step(s) != SQLITE_DONE)
        return db_err(st, err);
    return SL_OK;
}

int
sl_state_commit(struct sl_state *st, const char *run_id,
                const struct sl_checkpoint *ck, const struct sl_qitem *q,
                size_t nq, struct sl_err *err)
{
    sqlite3_stmt *s = NULL;
    char now[32];
    size_t i;
    int rc;

    sl_time_iso(now, sizeof(now));
    if ((rc = begin(st, err)) != SL_OK)
        goto out;
    /* INSERT OR REPLACE rather than an upsert: works on SQLite 3.22, and
     * nothing references a checkpoint row. */
    if ((rc = prepare(st,
                      "INSERT OR REPLACE INTO checkpoints (run_id, sources,"
                      " sinks, counts, seq, updated)"
                      " VALUES (?, ?, ?, ?, ?, ?)",
                      &s, err)) != SL_OK)
        goto out;
    bind_text(s, 1, run_id);
    bind_text(s, 2, ck->sources);
    bind_text(s, 3, ck->sinks);
    bind_text(s, 4, ck->counts);
    bind_u64(s, 5, ck->seq);
    bind_text(s, 6, now);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = db_err(st, err);
        goto out;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (nq > 0) {
        if ((rc = prepare(st,
                          "INSERT INTO quarantine (run_id, job, source, pos,"
                          " stage, reason, origin, kind, data, path,"
                          " created, status)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')",
                          &s, err)) != SL_OK)
            goto out;
        for (i = 0; i < nq; i++)
            if ((rc = qitem_insert(st, s, run_id, &q[i], now, err)) != SL_OK)
                goto out;
    }
    rc = commit(st, err);
out:
    sqlite3_finalize(s);
    rollback(st);
    return rc;
}

/* ---- quarantine ---------------------------------------------------------- */

static void
qitem_from_row(sqlite3_stmt *s, struct sl_qitem *q)
{
    memset(q, 0, sizeof(*q));
    q->id = sqlite3_column_int64(s, 0);
    q->run_id = col_strdup(s, 1);
    q->job = col_strdup(s, 2);
    q->source = col_strdup(s, 3);
    q->pos = col_strdup(s, 4);
    q->stage = col_strdup(s, 5);
    q->reason = col_strdup(s, 6);
    q->origin = col_strdup(s, 7);
    q->kind = col_strdup(s, 8);
    q->path = col_strdup(s, 9);
    q->created = col_strdup(s, 10);
    q->status = col_strdup(s, 11);
    q->data_len = (size_t)sqlite3_column_int64(s, 12);
}

void
sl_qitem_clear(struct sl_qitem *q)
{
    if (q == NULL)
        return;
    free(q->run_id);
    free(q->job);
    free(q->source);
    free(q->pos);
    free(q->stage);
    free(q->reason);
    if (q->origin)
        sl_freezero(q->origin, strlen(q->origin));
    free(q->kind);
    if (q->data)
        sl_freezero(q->data, q->data_len);
    free(q->path);
    free(q->created);
    free(q->status);
    memset(q, 0, sizeof(*q));
}

int
sl_state_quarantine_list(struct sl_state *st, const char *status,
                         struct sl_qitem **out, size_t *n, struct sl_err *err)
{
    sqlite3_stmt *s = NULL;
    struct sl_qitem *v = NULL;
    size_t nv = 0, cap = 0, i;
    char sql[512];
    int rc, step;

    snprintf(sql, sizeof(sql),
             "SELECT %s FROM quarantine WHERE ?1 IS NULL OR status = ?1"
             " ORDER BY id",
             qitem_cols);
    if ((rc = prepare(st, sql, &s, err)) != SL_OK)
        goto out;
    bind_text(s, 1, status);
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        if (nv == cap) {
            cap = cap ? cap * 2 : 16;
            v = sl_realloc(v, cap * sizeof(*v));
        }
        qitem_from_row(s, &v[nv++]);
    }
    if (step != SQLITE_DONE) {
        rc = db_err(st, err);
        goto out;
    }
    *out = v;
    *n = nv;
    v = NULL;
    nv = 0;
    rc = SL_OK;
out:
    sqlite3_finalize(s);
    for (i = 0; i < nv; i++)
        sl_qitem_clear(&v[i]);
    free(v);
    return rc;
}

int
sl_state_quarantine_get(struct sl_state *st, int64_t id, struct sl_qitem *out,
                        struct sl_err *err)
{
    sqlite3_stmt *s = NULL;
    char sql[512];
    const void *blob;
    int rc;

    snprintf(sql, sizeof(sql), "SELECT %s, data FROM quarantine WHERE id = ?",
             qitem_cols);
    if ((rc = prepare(st, sql, &s, err)) != SL_OK)
        return rc;
    sqlite3_bind_int64(s, 1, id);
    switch (sqlite3_step(s)) {
    case SQLITE_ROW:
        qitem_from_row(s, out);
        blob = sqlite3_column_blob(s, 13);
        out->data_len = (size_t)sqlite3_column_bytes(s, 13);
        if (blob != NULL) {
            /* NUL-terminated too, so FHIR JSON can be used as a string. */
            out->data = sl_malloc(out->data_len + 1);
            memcpy(out->data, blob, out->data_len);
            out->data[out->data_len] = '\0';
        }
        rc = SL_OK;
        break;
    case SQLITE_DONE:
        rc = SL_ERR(err, SL_ENOTFOUND, "%s: no quarantined item %lld", st->path,
                    (long long)id);
        break;
    default:
        rc = db_err(st, err);
        break;
    }
    sqlite3_finalize(s);
    return rc;
}

int
sl_state_quarantine_set_status(struct sl_state *st, int64_t id,
                               const char *status, struct sl_err *err)
{
    sqlite3_stmt *s = NULL;
    char *job = NULL, *run_id = NULL, *from = NULL, action[32];
    int rc;

    if (status == NULL ||
        (strcmp(status, "open") != 0 && strcmp(status, "replayed") != 0 &&
         strcmp(status, "released") != 0))
        return SL_ERR(err, SL_EUSAGE,
                      "a quarantined item is open, "
                      "replayed or released");
    if ((rc = begin(st, err)) != SL_OK)
        goto out;
    if ((rc = prepare(st,
                      "SELECT job, run_id, status FROM quarantine"
                      " WHERE id = ?",
                      &s, err)) != SL_OK)
        goto out;
    sqlite3_bind_int64(s, 1, id);
    switch (sqlite3_step(s)) {
    case SQLITE_ROW:
        job = col_strdup(s, 0);
        run_id = col_strdup(s, 1);
        from = col_strdup(s, 2);
        break;
    case SQLITE_DONE:
        rc = SL_ERR(err, SL_ENOTFOUND, "%s: no quarantined item %lld", st->path,
                    (long long)id);
        goto out;
    default:
        rc = db_err(st, err);
        goto out;
    }
    sqlite3_finalize(s);
    s = NULL;
    if ((rc = prepare(st, "UPDATE quarantine SET status = ? WHERE id = ?", &s,
                      err)) != SL_OK)
        goto out;
    bind_text(s, 1, status);
    sqlite3_bind_int64(s, 2, id);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = db_err(st, err);
        goto out;
    }
    snprintf(action, sizeof(action), "quarantine-%s", status);
    if ((rc = audit_json(
             st, action, job, run_id,
             json_pack("{s:I, s:s?}", "id", (json_int_t)id, "from", from),
             err)) != SL_OK)
        goto out;
    rc = commit(st, err);
out:
    sqlite3_finalize(s);
    rollback(st);
    free(job);
    free(run_id);
    free(from);
    return rc;
}

/* ---- audit --------------------------------------------------------------- */

int
sl_state_audit(struct sl_state *st, const char *action, const char *job,
               const char *run_id, const char *details_json, struct sl_err *err)
{
    /* One statement is its own transaction. */
    return audit_insert(st, action, job, run_id, details_json, err);
}

/* state_sqlite.c - the state store over SQLite: the default backend of
 * struct sl_state_ops (state.h states the contract of each op).
 *
 * Durability: WAL with synchronous=FULL, so a committed transaction
 * survives a crash or a power cut, and a kill -9 at any moment leaves the
 * store as of the last commit. Every change that must be audited writes its
 * audit row in the same transaction. Every value goes through a bound
 * parameter; the only SQL text built here is static. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "state/state.h"
#include "state/state_int.h"
#include "state/state_sqlite_int.h"

static const char run_cols[] =
    "id, job, status, started, finished, count_in, count_out,"
    " count_quarantined, attempts";

static const char qitem_cols[] =
    "id, run_id, job, source, pos, stage, reason, origin, kind, path,"
    " created, status, length(data)";

/* ---- helpers ------------------------------------------------------------- */

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

/* Serialises an audit details object and appends the row. Consumes o. */
static int
audit_json(struct lite *st, const char *action, const char *job,
           const char *run_id, json_t *o, struct sl_err *err)
{
    char *details = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    int rc;

    rc = sl_lite_audit_insert(st, action, job, run_id, details, err);
    free(details);
    json_decref(o);
    return rc;
}

static void lite_close(void *be);

static int
lite_open(const char *path, void **out, struct sl_err *err)
{
    struct lite *st = NULL;
    int rc;

    if ((rc = sl_state_sqlite_schema_create(path, err)) != SL_OK)
        goto out;
    st = sl_calloc(1, sizeof(*st));
    st->path = sl_strdup(path);
    sl_state_identity(st->user, sizeof(st->user), st->host, sizeof(st->host));
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
    if ((rc = sl_state_sqlite_schema_setup(st, err)) != SL_OK)
        goto out;
    *out = st;
    st = NULL; /* ownership moves to the caller */
out:
    lite_close(st);
    return rc;
}

static void
lite_close(void *be)
{
    struct lite *st = be;

    if (st == NULL)
        return;
    sqlite3_close(st->db); /* NULL-safe; all statements are finalized */
    sl_freezero(st->akey, st->akey_len);
    free(st->path);
    free(st);
}

/* A file: URI or :memory: is taken to exist; SQLite makes either. */
static int
lite_exists(const char *path)
{
    return path[0] == ':' || strncmp(path, "file:", 5) == 0 ||
           sl_path_exists(path);
}

static void
lite_busy_timeout(void *be, int ms)
{
    struct lite *st = be;

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

static int
lite_run_unfinished(void *be, const char *job, struct sl_run_rec *out,
                    struct sl_err *err)
{
    struct lite *st = be;
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

static int
lite_run_start(void *be, const char *job, const char *config_path,
               const char *config_sha256, char run_id[64], struct sl_err *err)
{
    struct lite *st = be;
    sqlite3_stmt *s = NULL;
    char id[64], now[32];
    int rc, step, tries;

    if ((rc = prepare(st,
                      "INSERT INTO runs (id, job, status, started,"
                      " config_path, config_sha256, attempts, user, host)"
                      " VALUES (?, ?, 'running', ?, ?, ?, 1, ?, ?)",
                      &s, err)) != SL_OK)
        goto out;
    if ((rc = tx_begin(st, err)) != SL_OK)
        goto out;
    /* A clash of the random suffix within one second is unlikely; retry
     * a few times rather than fail a run on it. */
    for (tries = 0;; tries++) {
        if ((rc = sl_state_run_id_make(id, err)) != SL_OK)
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
    if ((rc = tx_commit(st, err)) != SL_OK)
        goto out;
    memcpy(run_id, id, sizeof(id));
out:
    sqlite3_finalize(s);
    tx_rollback(st);
    return rc;
}

/* The job of a run, for the audit row; SL_ENOTFOUND for an unknown run. */
static int
run_job(struct lite *st, const char *run_id, char **job, struct sl_err *err)
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

static int
lite_run_resume(void *be, const char *run_id, struct sl_err *err)
{
    struct lite *st = be;
    sqlite3_stmt *s = NULL;
    char *job = NULL;
    int rc, attempts;

    if ((rc = tx_begin(st, err)) != SL_OK)
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
    rc = tx_commit(st, err);
out:
    sqlite3_finalize(s);
    tx_rollback(st);
    free(job);
    return rc;
}

static int
lite_run_end(void *be, const char *run_id, const char *status, uint64_t in,
             uint64_t out, uint64_t quarantined, const char *summary_json,
             struct sl_err *err)
{
    struct lite *st = be;
    sqlite3_stmt *s = NULL;
    char *job = NULL;
    char now[32];
    int rc;

    if ((rc = tx_begin(st, err)) != SL_OK)
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
    rc = tx_commit(st, err);
done:
    sqlite3_finalize(s);
    tx_rollback(st);
    free(job);
    return rc;
}

static int
lite_runs_list(void *be, const char *job, size_t limit, struct sl_run_rec **out,
               size_t *n, struct sl_err *err)
{
    struct lite *st = be;
    sqlite3_stmt *s = NULL;
    struct sl_run_rec *v = NULL;
    size_t nv = 0, cap = 0;
    char sql[512];
    int rc, step;

    snprintf(sql, sizeof(sql),
             "SELECT %s, summary FROM runs WHERE ?1 IS NULL OR job = ?1"
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
        run_from_row(s, &v[nv]);
        if (sqlite3_column_type(s, 9) == SQLITE_TEXT)
            v[nv].summary =
                sl_strdup((const char *)sqlite3_column_text(s, 9));
        nv++;
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
    sl_run_recs_free(v, nv);
    return rc;
}

/* ---- checkpoints and commits --------------------------------------------- */

static int
lite_checkpoint_get(void *be, const char *run_id, struct sl_checkpoint *out,
                    struct sl_err *err)
{
    struct lite *st = be;
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

static int
qitem_insert(struct lite *st, sqlite3_stmt *s, const char *run_id,
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

static int
lite_commit(void *be, const char *run_id, const struct sl_checkpoint *ck,
            const struct sl_qitem *q, size_t nq, struct sl_err *err)
{
    struct lite *st = be;
    sqlite3_stmt *s = NULL;
    char now[32];
    size_t i;
    int rc;

    sl_time_iso(now, sizeof(now));
    if ((rc = tx_begin(st, err)) != SL_OK)
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
    rc = tx_commit(st, err);
out:
    sqlite3_finalize(s);
    tx_rollback(st);
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

static int
lite_quarantine_list(void *be, const char *status, struct sl_qitem **out,
                     size_t *n, struct sl_err *err)
{
    struct lite *st = be;
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

static int
lite_quarantine_get(void *be, int64_t id, struct sl_qitem *out,
                    struct sl_err *err)
{
    struct lite *st = be;
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

static int
lite_quarantine_set_status(void *be, int64_t id, const char *status,
                           struct sl_err *err)
{
    struct lite *st = be;
    sqlite3_stmt *s = NULL;
    char *job = NULL, *run_id = NULL, *from = NULL, action[32];
    int rc;

    if ((rc = tx_begin(st, err)) != SL_OK)
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
    rc = tx_commit(st, err);
out:
    sqlite3_finalize(s);
    tx_rollback(st);
    free(job);
    free(run_id);
    free(from);
    return rc;
}

/* ---- audit --------------------------------------------------------------- */

static int
lite_audit(void *be, const char *action, const char *job, const char *run_id,
           const char *details_json, struct sl_err *err)
{
    struct lite *st = be;
    int rc;

    /* Its own transaction: the chain reads the last record's hash. */
    if ((rc = tx_begin(st, err)) != SL_OK)
        return rc;
    rc = sl_lite_audit_insert(st, action, job, run_id, details_json, err);
    if (rc != SL_OK) {
        tx_rollback(st);
        return rc;
    }
    return tx_commit(st, err);
}

/* ---- the ops ------------------------------------------------------------- */

const struct sl_state_ops sl_state_sqlite = {
    .name = "sqlite",
    .prefix = NULL, /* the default: a file path */
    .open = lite_open,
    .close = lite_close,
    .exists = lite_exists,
    .busy_timeout = lite_busy_timeout,
    .run_unfinished = lite_run_unfinished,
    .run_start = lite_run_start,
    .run_resume = lite_run_resume,
    .run_end = lite_run_end,
    .runs_list = lite_runs_list,
    .checkpoint_get = lite_checkpoint_get,
    .commit = lite_commit,
    .quarantine_list = lite_quarantine_list,
    .quarantine_get = lite_quarantine_get,
    .quarantine_set_status = lite_quarantine_set_status,
    .audit = lite_audit,
    .lease_take = sl_lite_lease_take,
    .lease_release = sl_lite_lease_release,
    .slot_get = sl_lite_slot_get,
    .slot_set = sl_lite_slot_set,
    .audit_key = sl_lite_audit_key,
    .audit_scan = sl_lite_audit_scan,
    .quarantine_purge = sl_lite_quarantine_purge,
    .quarantine_rewrite = sl_lite_quarantine_rewrite,
};

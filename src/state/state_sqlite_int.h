/* state_sqlite_int.h - shared by the two files of the SQLite backend
 * (state_sqlite.c: the ops; state_sqlite_schema.c: creating, opening and
 * migrating a store). */
#ifndef SL_STATE_SQLITE_INT_H
#define SL_STATE_SQLITE_INT_H

#include <sqlite3.h>

#include "common/common.h"

/* The backend's handle: what lite_open gives sl_state as its be. */
struct lite {
    sqlite3 *db;
    char *path;
    char user[64];
    char host[256];
    unsigned char *akey; /* the audit key (HMAC of each record), or NULL */
    size_t akey_len;
};

/* The store's error as an sl_err: the path and SQLite's message, which
 * names tables, columns and constraints but never values. */
static inline int
db_err(struct lite *st, struct sl_err *err)
{
    return SL_ERR(err, SL_ESTATE, "%s: %s", st->path, sqlite3_errmsg(st->db));
}

static inline int
exec_sql(struct lite *st, const char *sql, struct sl_err *err)
{
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_err(st, err);
    return SL_OK;
}

static inline int
prepare(struct lite *st, const char *sql, sqlite3_stmt **out,
        struct sl_err *err)
{
    if (sqlite3_prepare_v2(st->db, sql, -1, out, NULL) != SQLITE_OK) {
        *out = NULL;
        return db_err(st, err);
    }
    return SL_OK;
}

static inline int
tx_begin(struct lite *st, struct sl_err *err)
{
    return exec_sql(st, "BEGIN IMMEDIATE", err);
}

static inline int
tx_commit(struct lite *st, struct sl_err *err)
{
    return exec_sql(st, "COMMIT", err);
}

/* Undoes an open transaction after a failure; keeps the first error. */
static inline void
tx_rollback(struct lite *st)
{
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Creates a missing store file 0600 (SQLite would use 0644, and the WAL
 * and shm files copy the store's mode). */
int sl_state_sqlite_schema_create(const char *path, struct sl_err *err);
/* Sets the connection's pragmas (WAL, synchronous FULL, foreign keys, the
 * busy timeout) and brings the schema to SL_STATE_SCHEMA_VERSION. */
int sl_state_sqlite_schema_setup(struct lite *st, struct sl_err *err);

/* Appends one audit row, chained to the one before (and with its HMAC
 * when the store has an audit key); the caller holds the transaction
 * (state_sqlite_audit.c). Takes nothing. */
int sl_lite_audit_insert(struct lite *st, const char *action, const char *job,
                         const char *run_id, const char *details_json,
                         struct sl_err *err);

/* The lease and schedule ops (state_sqlite_lease.c). */
struct sl_lease;
int sl_lite_lease_take(void *be, const char *job, const struct sl_lease *me,
                       int ttl, int (*gone)(const struct sl_lease *),
                       struct sl_lease *who, struct sl_err *err);
int sl_lite_lease_release(void *be, const char *job,
                          const struct sl_lease *me, struct sl_err *err);
int sl_lite_slot_get(void *be, const char *job, int64_t *slot,
                     struct sl_err *err);
int sl_lite_slot_set(void *be, const char *job, int64_t slot,
                     struct sl_err *err);
int sl_lite_quarantine_purge(void *be, const char *before, char ***paths,
                             size_t *npaths, uint64_t *n, struct sl_err *err);
int sl_lite_quarantine_rewrite(void *be, int64_t id, const void *data,
                               size_t len, const char *origin,
                               struct sl_err *err);
struct sl_audit_rec;
void sl_lite_audit_key(void *be, const void *key, size_t len);
int sl_lite_audit_scan(void *be,
                       int (*fn)(void *ud, const struct sl_audit_rec *r),
                       void *ud, struct sl_err *err);

#endif

/* state_sqlite_audit.c - the SQLite backend's audit trail: each record
 * chained to the one before by its hash, with an HMAC under the audit key
 * when the store has one (state.h, state_int.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/state.h"
#include "state/state_int.h"
#include "state/state_sqlite_int.h"

static int
bind_opt(sqlite3_stmt *s, int i, const char *v)
{
    return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT)
             : sqlite3_bind_null(s, i);
}

/* The hash of the newest chained record into prev ("" when none). */
static int
last_hash(struct lite *st, char prev[65], struct sl_err *err)
{
    sqlite3_stmt *s = NULL;
    const unsigned char *v;
    int rc;

    prev[0] = '\0';
    if ((rc = prepare(st,
                      "SELECT hash FROM audit WHERE hash IS NOT NULL ORDER BY"
                      " id DESC LIMIT 1",
                      &s, err)) != SL_OK)
        return rc;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        v = sqlite3_column_text(s, 0);
        snprintf(prev, 65, "%s", v ? (const char *)v : "");
        rc = SL_OK;
    } else {
        rc = rc == SQLITE_DONE ? SL_OK : db_err(st, err);
    }
    sqlite3_finalize(s);
    return rc;
}

int
sl_lite_audit_insert(struct lite *st, const char *action, const char *job,
                     const char *run_id, const char *details_json,
                     struct sl_err *err)
{
    struct sl_audit_rec r;
    sqlite3_stmt *s = NULL;
    char now[32], prev[65], hash[65], mac[65];
    int rc;

    if ((rc = last_hash(st, prev, err)) != SL_OK)
        return rc;
    sl_time_iso(now, sizeof(now));
    memset(&r, 0, sizeof(r));
    r.time = now;
    r.user = st->user;
    r.host = st->host;
    r.action = action;
    r.job = job;
    r.run_id = run_id;
    r.details = details_json;
    sl_state_audit_hash(&r, prev, hash);
    if (st->akey)
        sl_state_audit_mac(st->akey, st->akey_len, hash, mac);
    if ((rc = prepare(st,
                      "INSERT INTO audit (time, user, host, action, job,"
                      " run_id, details, prev_hash, hash, mac) VALUES (?, ?,"
                      " ?, ?, ?, ?, ?, ?, ?, ?)",
                      &s, err)) != SL_OK)
        return rc;
    bind_opt(s, 1, now);
    bind_opt(s, 2, st->user);
    bind_opt(s, 3, st->host);
    bind_opt(s, 4, action);
    bind_opt(s, 5, job);
    bind_opt(s, 6, run_id);
    bind_opt(s, 7, details_json);
    bind_opt(s, 8, prev);
    bind_opt(s, 9, hash);
    bind_opt(s, 10, st->akey ? mac : NULL);
    rc = sqlite3_step(s) == SQLITE_DONE ? SL_OK : db_err(st, err);
    sqlite3_finalize(s);
    return rc;
}

void
sl_lite_audit_key(void *be, const void *key, size_t len)
{
    struct lite *st = be;

    sl_freezero(st->akey, st->akey_len);
    st->akey = NULL;
    st->akey_len = 0;
    if (key && len) {
        st->akey = sl_malloc(len);
        memcpy(st->akey, key, len);
        st->akey_len = len;
    }
}

static const char *
col(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

int
sl_lite_audit_scan(void *be, int (*fn)(void *ud, const struct sl_audit_rec *r),
                   void *ud, struct sl_err *err)
{
    struct lite *st = be;
    struct sl_audit_rec r;
    sqlite3_stmt *s = NULL;
    int rc;

    if ((rc = prepare(st,
                      "SELECT id, time, user, host, action, job, run_id,"
                      " details, prev_hash, hash, mac FROM audit ORDER BY id",
                      &s, err)) != SL_OK)
        return rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        r.id = sqlite3_column_int64(s, 0);
        r.time = col(s, 1);
        r.user = col(s, 2);
        r.host = col(s, 3);
        r.action = col(s, 4);
        r.job = col(s, 5);
        r.run_id = col(s, 6);
        r.details = col(s, 7);
        r.prev_hash = col(s, 8);
        r.hash = col(s, 9);
        r.mac = col(s, 10);
        if (fn(ud, &r) != 0)
            break;
    }
    rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? SL_OK : db_err(st, err);
    sqlite3_finalize(s);
    return rc;
}

/* state_sqlite_lease.c - the SQLite backend's leases (one run of a job at
 * a time, across processes) and the daemon's schedule slots. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state/state.h"
#include "state/state_sqlite_int.h"

static void
iso_at(time_t t, char *buf, size_t len)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
col_copy(sqlite3_stmt *s, int i, char *buf, size_t len)
{
    const unsigned char *v = sqlite3_column_text(s, i);

    snprintf(buf, len, "%s", v ? (const char *)v : "");
}

static int
same_holder(const struct sl_lease *a, const struct sl_lease *b)
{
    return a->pid == b->pid && a->start == b->start &&
           strcmp(a->host, b->host) == 0;
}

int
sl_lite_lease_take(void *be, const char *job, const struct sl_lease *me,
                   int ttl, int (*gone)(const struct sl_lease *),
                   struct sl_lease *who, struct sl_err *err)
{
    struct lite *st = be;
    sqlite3_stmt *s = NULL;
    struct sl_lease cur;
    char now[32], exp[32], *details = NULL;
    int rc, have = 0, renew = 0;
    time_t t = time(NULL);

    iso_at(t, now, sizeof(now));
    iso_at(t + ttl, exp, sizeof(exp));
    if ((rc = tx_begin(st, err)) != SL_OK)
        return rc;
    if ((rc = prepare(st,
                      "SELECT user, host, pid, start, since, expires FROM "
                      "leases WHERE job = ?",
                      &s, err)) != SL_OK)
        goto fail;
    sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        memset(&cur, 0, sizeof(cur));
        col_copy(s, 0, cur.user, sizeof(cur.user));
        col_copy(s, 1, cur.host, sizeof(cur.host));
        cur.pid = (long)sqlite3_column_int64(s, 2);
        cur.start = (unsigned long long)sqlite3_column_int64(s, 3);
        col_copy(s, 4, cur.since, sizeof(cur.since));
        col_copy(s, 5, cur.expires, sizeof(cur.expires));
        have = 1;
    } else if (rc != SQLITE_DONE) {
        rc = db_err(st, err);
        goto fail;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (have)
        renew = same_holder(&cur, me);
    /* Held: by a live process here, or by one elsewhere within its time
     * (a process on another host cannot be asked whether it lives). */
    if (have && !renew &&
        (strcmp(cur.host, me->host) == 0 ? !gone(&cur)
                                         : strcmp(cur.expires, now) > 0)) {
        if (who)
            *who = cur;
        tx_rollback(st);
        return SL_ERR(err, SL_EBUSY, "job %s is running", job);
    }
    if ((rc = prepare(st,
                      "INSERT INTO leases (job, user, host, pid, start, since,"
                      " expires) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(job)"
                      " DO UPDATE SET user = excluded.user, host ="
                      " excluded.host, pid = excluded.pid, start ="
                      " excluded.start, since = CASE WHEN leases.pid ="
                      " excluded.pid AND leases.start = excluded.start AND"
                      " leases.host = excluded.host THEN leases.since ELSE"
                      " excluded.since END, expires = excluded.expires",
                      &s, err)) != SL_OK)
        goto fail;
    sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, me->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, me->host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, me->pid);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)me->start);
    sqlite3_bind_text(s, 6, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, exp, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = db_err(st, err);
        goto fail;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (!renew) {
        details = have ? sl_asprintf("{\"from\":{\"user\":\"%s\",\"host\":"
                                     "\"%s\",\"pid\":%ld,\"since\":\"%s\"}}",
                                     cur.user, cur.host, cur.pid, cur.since)
                       : sl_strdup("{}");
        rc = sl_lite_audit_insert(st, "lease-take", job, NULL, details, err);
        free(details);
        if (rc != SL_OK)
            goto fail;
    }
    return tx_commit(st, err);
fail:
    sqlite3_finalize(s);
    tx_rollback(st);
    return rc;
}

int
sl_lite_lease_release(void *be, const char *job, const struct sl_lease *me,
                      struct sl_err *err)
{
    struct lite *st = be;
    sqlite3_stmt *s = NULL;
    int rc;

    if ((rc = prepare(st,
                      "DELETE FROM leases WHERE job = ? AND host = ? AND pid ="
                      " ? AND start = ?",
                      &s, err)) != SL_OK)
        return rc;
    sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, me->host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, me->pid);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)me->start);
    rc = sqlite3_step(s) == SQLITE_DONE ? SL_OK : db_err(st, err);
    sqlite3_finalize(s);
    return rc;
}

int
sl_lite_slot_get(void *be, const char *job, int64_t *slot, struct sl_err *err)
{
    struct lite *st = be;
    sqlite3_stmt *s = NULL;
    int rc;

    if ((rc = prepare(st, "SELECT slot FROM schedule WHERE job = ?", &s,
                      err)) != SL_OK)
        return rc;
    sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *slot = sqlite3_column_int64(s, 0);
        rc = SL_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SL_ENOTFOUND;
    } else {
        rc = db_err(st, err);
    }
    sqlite3_finalize(s);
    return rc;
}

int
sl_lite_slot_set(void *be, const char *job, int64_t slot, struct sl_err *err)
{
    struct lite *st = be;
    sqlite3_stmt *s = NULL;
    char now[32];
    int rc;

    iso_at(time(NULL), now, sizeof(now));
    if ((rc = prepare(st,
                      "INSERT INTO schedule (job, slot, updated) VALUES (?, ?,"
                      " ?) ON CONFLICT(job) DO UPDATE SET slot = excluded.slot,"
                      " updated = excluded.updated",
                      &s, err)) != SL_OK)
        return rc;
    sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, slot);
    sqlite3_bind_text(s, 3, now, -1, SQLITE_STATIC);
    rc = sqlite3_step(s) == SQLITE_DONE ? SL_OK : db_err(st, err);
    sqlite3_finalize(s);
    return rc;
}

/* state_sqlite_qmaint.c - the SQLite backend's quarantine upkeep: purging
 * items past their retention and rewriting an item's sealed data and
 * origin (a new quarantine key). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "state/state.h"
#include "state/state_sqlite_int.h"

int
sl_lite_quarantine_purge(void *be, const char *before, char ***paths,
                         size_t *npaths, uint64_t *n, struct sl_err *err)
{
    struct lite *st = be;
    sqlite3_stmt *s = NULL;
    char **v = NULL, *details;
    size_t nv = 0;
    int rc;

    *paths = NULL;
    *npaths = 0;
    *n = 0;
    if ((rc = tx_begin(st, err)) != SL_OK)
        return rc;
    if ((rc = prepare(st,
                      "SELECT path FROM quarantine WHERE created < ? AND path"
                      " IS NOT NULL",
                      &s, err)) != SL_OK)
        goto fail;
    sqlite3_bind_text(s, 1, before, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const unsigned char *p = sqlite3_column_text(s, 0);
        v = sl_realloc(v, (nv + 1) * sizeof(*v));
        v[nv++] = sl_strdup(p ? (const char *)p : "");
    }
    if (rc != SQLITE_DONE) {
        rc = db_err(st, err);
        goto fail;
    }
    sqlite3_finalize(s);
    s = NULL;
    if ((rc = prepare(st, "DELETE FROM quarantine WHERE created < ?", &s,
                      err)) != SL_OK)
        goto fail;
    sqlite3_bind_text(s, 1, before, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = db_err(st, err);
        goto fail;
    }
    *n = (uint64_t)sqlite3_changes(st->db);
    sqlite3_finalize(s);
    s = NULL;
    details = sl_asprintf("{\"before\":\"%s\",\"items\":%llu}", before,
                          (unsigned long long)*n);
    rc = sl_lite_audit_insert(st, "quarantine-purged", NULL, NULL, details,
                              err);
    free(details);
    if (rc != SL_OK || (rc = tx_commit(st, err)) != SL_OK)
        goto fail;
    *paths = v;
    *npaths = nv;
    return SL_OK;
fail:
    sqlite3_finalize(s);
    tx_rollback(st);
    while (nv > 0)
        free(v[--nv]);
    free(v);
    return rc;
}

int
sl_lite_quarantine_rewrite(void *be, int64_t id, const void *data,
                           size_t len, const char *origin, struct sl_err *err)
{
    struct lite *st = be;
    sqlite3_stmt *s = NULL;
    int rc;

    if ((rc = prepare(st,
                      "UPDATE quarantine SET data = ?, origin = ? WHERE id ="
                      " ?",
                      &s, err)) != SL_OK)
        return rc;
    if (data)
        sqlite3_bind_blob(s, 1, data, (int)len, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, 1);
    if (origin)
        sqlite3_bind_text(s, 2, origin, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, 2);
    sqlite3_bind_int64(s, 3, id);
    rc = sqlite3_step(s) == SQLITE_DONE ? SL_OK : db_err(st, err);
    sqlite3_finalize(s);
    return rc;
}

/* term_cache.c - the remote terminology client's cache: answers of the
 * server (small JSON values) by key, each kept for a time to live, in a
 * hash table in memory and, when a file is named, in an SQLite table that
 * a later run reads back:
 *
 *   CREATE TABLE term_cache(key TEXT PRIMARY KEY, value TEXT NOT NULL,
 *                           expires INTEGER NOT NULL)   -- Unix seconds
 *
 * Keys name the operation, the server's map or value set and the coding
 * (codes are not PHI). Entries are never freed before the cache is
 * closed, so that what a get returned stays valid while other threads
 * put: an expired entry is shadowed by its replacement, not removed. The
 * number of entries is bounded by the distinct codings a run meets. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "common/hash.h"
#include "terminology/term_int.h"

#define NBUCKETS 4096

struct entry {
    char *key;
    json_t *val;
    long long expires;
    struct entry *next;
};

struct term_cache {
    pthread_mutex_t mu;
    struct entry *b[NBUCKETS];
    long ttl_s;
    sqlite3 *db;
    sqlite3_stmt *get, *put;
    int warned;
};

void
term_cache_close(struct term_cache *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < NBUCKETS; i++) {
        struct entry *e = c->b[i], *next;
        for (; e; e = next) {
            next = e->next;
            free(e->key);
            json_decref(e->val);
            free(e);
        }
    }
    sqlite3_finalize(c->get);
    sqlite3_finalize(c->put);
    sqlite3_close(c->db);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int
term_cache_open(const char *path, long ttl_s, struct term_cache **out,
                struct sl_err *err)
{
    struct term_cache *c = sl_calloc(1, sizeof(*c));
    int rc = SL_OK;

    pthread_mutex_init(&c->mu, NULL);
    c->ttl_s = ttl_s > 0 ? ttl_s : 86400;
    if (path != NULL) {
        if (sqlite3_open_v2(path, &c->db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                SQLITE_OPEN_FULLMUTEX,
                            NULL) != SQLITE_OK) {
            rc = SL_ERR(err, SL_EIO, "%s: cannot open the terminology "
                        "cache (%s)", path,
                        c->db ? sqlite3_errmsg(c->db) : "out of memory");
            goto out;
        }
        sqlite3_busy_timeout(c->db, 5000);
        if (sqlite3_exec(c->db,
                         "CREATE TABLE IF NOT EXISTS term_cache("
                         "key TEXT PRIMARY KEY, value TEXT NOT NULL, "
                         "expires INTEGER NOT NULL)",
                         NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(c->db,
                               "SELECT value, expires FROM term_cache "
                               "WHERE key = ?1 AND expires > ?2",
                               -1, &c->get, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(c->db,
                               "INSERT OR REPLACE INTO term_cache"
                               "(key, value, expires) VALUES (?1, ?2, ?3)",
                               -1, &c->put, NULL) != SQLITE_OK) {
            rc = SL_ERR(err, SL_EIO, "%s: not a terminology cache (%s)", path,
                        sqlite3_errmsg(c->db));
            goto out;
        }
    }
    *out = c;
    c = NULL;
out:
    term_cache_close(c);
    return rc;
}

static struct entry *
find(struct term_cache *c, const char *key, size_t slot, long long now)
{
    struct entry *e;

    for (e = c->b[slot]; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e->expires > now ? e : NULL; /* the newest comes first */
    return NULL;
}

static struct entry *
add(struct term_cache *c, const char *key, size_t slot, json_t *val,
    long long expires)
{
    struct entry *e = sl_calloc(1, sizeof(*e));

    e->key = sl_strdup(key);
    e->val = val;
    e->expires = expires;
    e->next = c->b[slot];
    c->b[slot] = e;
    return e;
}

const json_t *
term_cache_get(struct term_cache *c, const char *key)
{
    size_t slot = sl_fnv1a64(key) % NBUCKETS;
    long long now = (long long)time(NULL);
    struct entry *e;
    const json_t *v = NULL;

    pthread_mutex_lock(&c->mu);
    if ((e = find(c, key, slot, now)) != NULL) {
        v = e->val;
    } else if (c->db != NULL) {
        sqlite3_bind_text(c->get, 1, key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(c->get, 2, now);
        if (sqlite3_step(c->get) == SQLITE_ROW) {
            const char *text = (const char *)sqlite3_column_text(c->get, 0);
            long long exp = sqlite3_column_int64(c->get, 1);
            json_t *j = text ? json_loads(text, 0, NULL) : NULL;
            /* a row that is not JSON (edited by hand) is a miss */
            if (j != NULL)
                v = add(c, key, slot, j, exp)->val;
        }
        sqlite3_reset(c->get);
        sqlite3_clear_bindings(c->get);
    }
    pthread_mutex_unlock(&c->mu);
    return v;
}

const json_t *
term_cache_put(struct term_cache *c, const char *key, json_t *val)
{
    size_t slot = sl_fnv1a64(key) % NBUCKETS;
    long long exp = (long long)time(NULL) + c->ttl_s;
    const json_t *v;

    pthread_mutex_lock(&c->mu);
    v = add(c, key, slot, val, exp)->val;
    if (c->db != NULL) {
        char *text = json_dumps(val, JSON_COMPACT);
        sqlite3_bind_text(c->put, 1, key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(c->put, 2, text, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(c->put, 3, exp);
        if (sqlite3_step(c->put) != SQLITE_DONE && !c->warned) {
            c->warned = 1;
            sl_log(SL_LOG_WARN, "terminology cache: cannot write the "
                                "file (%s); going on in memory",
                   sqlite3_errmsg(c->db));
        }
        sqlite3_reset(c->put);
        sqlite3_clear_bindings(c->put);
        free(text);
    }
    pthread_mutex_unlock(&c->mu);
    return v;
}

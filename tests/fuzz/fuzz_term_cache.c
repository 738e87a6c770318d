/* fuzz_term_cache.c - fuzz target for what the remote terminology client
 * reads back from its cache file (src/terminology/term_cache.c, an SQLite
 * table of JSON values that a person may edit or another version may
 * have written): the input is the value text of one row, which the
 * cache loads (term_cache_get) and the client reads as a $translate answer
 * (term_result_of) and as a $lookup one. Checked: a value that is not
 * JSON is a miss; one that is read as an answer gives mapped or unmapped,
 * at most SL_TERM_MAX_MATCHES matches, translations first, each with a
 * system and a code, and mapped only with a translation first; anything
 * else is refused (the client then asks the server again). */
#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "terminology/term_int.h"

/* Writes text as the value of row "K" of a new cache file at path. */
static void
write_row(const char *path, const uint8_t *data, size_t size)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;

    unlink(path);
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "CREATE TABLE term_cache(key TEXT PRIMARY KEY, value "
                     "TEXT NOT NULL, expires INTEGER NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO term_cache VALUES ('K', ?1, "
                           "4000000000)",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_text(st, 1, (const char *)data, (int)size,
                          SQLITE_TRANSIENT) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_DONE) {
        fprintf(stderr, "fuzz_term_cache: cannot write %s: %s\n", path,
                db ? sqlite3_errmsg(db) : "out of memory");
        abort();
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *path;
    struct term_cache *c = NULL;
    struct sl_err err = {0};
    struct sl_term_result r;
    const json_t *v;
    json_t *j;
    size_t i;
    int non = 0;

    if (size > (1u << 20) || memchr(data, '\0', size) != NULL)
        return 0; /* SQLite text: no NUL, and a cached answer is small */
    if (path == NULL)
        path = fuzz_util_write("cache.db", "", 0);
    write_row(path, data, size);
    if (term_cache_open(path, 3600, &c, &err) != SL_OK) {
        fprintf(stderr, "fuzz_term_cache: %s\n", err.msg);
        abort();
    }
    v = term_cache_get(c, "K");
    j = json_loadb((const char *)data, size, 0, NULL);
    FUZZ_ASSERT((v == NULL) == (j == NULL)); /* not JSON: a miss */
    json_decref(j);
    if (v != NULL && term_result_of(v, "fuzz", &r) == SL_OK) {
        FUZZ_ASSERT(r.outcome == SL_TERM_MAPPED ||
                    r.outcome == SL_TERM_UNMAPPED);
        FUZZ_ASSERT(r.n <= SL_TERM_MAX_MATCHES);
        FUZZ_ASSERT(r.outcome != SL_TERM_MAPPED ||
                    (r.n > 0 && sl_term_rel_is_match(r.m[0].rel)));
        for (i = 0; i < r.n; i++) {
            FUZZ_ASSERT(r.m[i].system != NULL);
            FUZZ_ASSERT(sl_term_rel_name(r.m[i].rel) != NULL);
            if (!sl_term_rel_is_match(r.m[i].rel)) {
                non = 1;
            } else {
                FUZZ_ASSERT(!non);
                FUZZ_ASSERT(r.m[i].code != NULL);
            }
        }
    } else if (v != NULL) {
        FUZZ_ASSERT(r.n == 0 && r.outcome == SL_TERM_UNMAPPED);
    }
    /* read as a $lookup answer, as the client does */
    if (v != NULL) {
        const char *d = json_string_value(json_object_get(v, "display"));
        (void)json_is_true(json_object_get(v, "found"));
        FUZZ_ASSERT(d == NULL || strlen(d) <= size);
    }
    term_cache_close(c);
    return 0;
}

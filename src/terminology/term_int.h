/* term_int.h - what the terminology module's files share. */
#ifndef SL_TERM_INT_H
#define SL_TERM_INT_H

#include "terminology/terminology.h"

enum term_unmapped_mode {
    TERM_UNMAPPED_NONE,
    TERM_UNMAPPED_PROVIDED,
    TERM_UNMAPPED_FIXED,
    TERM_UNMAPPED_OTHER_MAP,
};

struct term_target {
    char *code;    /* NULL for unmatched without a code */
    char *display; /* or NULL */
    enum sl_term_rel rel;
    char *where;   /* "line 12" or "group[0].element[3].target[1]" */
};

struct term_element {
    char *code;
    size_t nt;
    struct term_target *t;
    size_t ord; /* its place in the file */
};

struct term_group {
    char *source, *source_version, *target, *target_version;
    size_t ne;
    struct term_element *e; /* sorted by code once loaded */
    enum term_unmapped_mode unmapped;
    char *unmapped_code, *unmapped_display, *unmapped_url;
};

struct sl_term_map {
    char *name, *url, *version;
    size_t ng;
    struct term_group *g;
};

/* The group of m with these systems and versions (versions may be
 * NULL), made when missing. */
struct term_group *term_group_get(struct sl_term_map *m, const char *source,
                                  const char *source_version,
                                  const char *target,
                                  const char *target_version);
/* Adds a target to code's element in g (strings copied; the target's
 * code and display may be NULL). where NULL: an element without target
 * (tcode, display and rel ignored). */
void term_group_add(struct term_group *g, const char *code,
                    const char *tcode, const char *display,
                    enum sl_term_rel rel, const char *where);
/* Sorts the elements, merges repeated codes and checks each source
 * code's targets agree; file names the map in messages. */
int term_map_finish(struct sl_term_map *m, const char *file,
                    struct sl_err *err);
/* Whether s looks like a system URI (a scheme, then something). */
int term_system_ok(const char *s);

int term_load_csv(const char *name, const char *data, size_t len,
                  struct sl_term_map *m, struct sl_err *err);
int term_load_json(const char *name, const char *data, size_t len,
                   struct sl_term_map *m, struct sl_err *err);

/* The answer in v, a $translate answer in its cached form ({"o": outcome,
 * "m": [[system, version, code, display, relationship], ...]}, as the
 * client writes it), into *r (strings owned by v; map: each match's map
 * name): SL_OK, or SL_EPARSE (r then says unmapped, no match) when v is
 * not such an answer: an outcome other than mapped or unmapped, a match
 * without a system or a relationship, a translation without a code or
 * after a non-translation, mapped without a translation first. A cache
 * file is read back through it. */
int term_result_of(const json_t *v, const char *map_name,
                   struct sl_term_result *r);

/* A $translate reply (JSON text of a Parameters) read as the client reads
 * it: SL_OK with *r filled and *norm the cached form (caller frees; r's
 * strings live in it), or SL_EPARSE. For the fuzz target. */
int term_reply_translate(const char *data, size_t len,
                         struct sl_term_result *r, json_t **norm);

/* A $lookup reply (reply: the parsed body, or NULL; status: the HTTP
 * status) read as the client reads it: {"found": true, "display": text}
 * (display absent when the reply has none) from a 2xx Parameters,
 * {"found": false, "display": null} from a 400/404/422 OperationOutcome
 * (an unknown code), or NULL: not an answer. Caller frees. */
json_t *term_reply_lookup(const json_t *reply, long status);

/* A $validate-code reply likewise: {"result": bool, "message": text}
 * (message absent when none) from a 2xx Parameters with a boolean
 * result, else NULL. Caller frees. */
json_t *term_reply_validate(const json_t *reply, long status);

/* value * factor (NUM or NUM/DEN, decimal texts) in exact decimal
 * arithmetic, rounded half away from zero to the significant digits of
 * value but never left of the units digit, written to out as plain
 * decimal text. -1 when a text is not a decimal, DEN is zero, or the
 * result does not fit (term_dec.c). */
int term_dec_convert(const char *value, const char *factor, char *out,
                     size_t outlen);

/* ---- the remote client's cache (term_cache.c) ---- */
struct term_cache;
/* A cache of answers (JSON values) by key, kept ttl_s seconds: in memory,
 * and in the SQLite file path when not NULL (made when missing). */
int term_cache_open(const char *path, long ttl_s, struct term_cache **out,
                    struct sl_err *err);
void term_cache_close(struct term_cache *c); /* NULL-safe */
/* The answer of key that has not expired, or NULL. Borrowed: valid until
 * the cache is closed (an entry replaced later is kept until then). */
const json_t *term_cache_get(struct term_cache *c, const char *key);
/* Keeps val (taken) for key; returns it, borrowed as above. A failure to
 * write the file is logged once and the memory cache goes on. */
const json_t *term_cache_put(struct term_cache *c, const char *key,
                             json_t *val);

#endif

/* fhir_call.c - the state of one call of pass 2 (see fhir_int.h): the
 * paths of the element being judged and their hashes, the rule that
 * applies there (in the order fhir.c's opening comment gives), the counts
 * kept for --explain and the first failure. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deid/fhir_int.h"

/* the threads take the rows of d->hits in turn */
static atomic_uint hit_next;
static _Thread_local unsigned hit_shard; /* 1 + its row; 0: none yet */

atomic_ulong *
fhir_call_hits(const struct sl_fhir_deid *d)
{
    if (hit_shard == 0)
        hit_shard =
            1 + atomic_fetch_add_explicit(&hit_next, 1, memory_order_relaxed) %
                    FD_HIT_SHARDS;
    return d->hits + (size_t)(hit_shard - 1) * d->hits_row;
}

void
fhir_call_count(struct call *c, int rule)
{
    uint64_t h;
    size_t i;
    if (rule < 0)
        return;
    if (c->d->no_counts) {
        /* the run's report wants totals per rule: cheap ones */
        unsigned char *at = &c->rh_at[(unsigned)rule % sizeof(c->rh_at)];
        if (*at && *at <= c->nrh && c->rh[*at - 1].rule == rule) {
            c->rh[*at - 1].n++;
            return;
        }
        for (i = 0; i < c->nrh; i++)
            if (c->rh[i].rule == rule) {
                c->rh[i].n++;
                *at = (unsigned char)(i + 1);
                return;
            }
        if (c->nrh < sizeof(c->rh) / sizeof(c->rh[0])) {
            c->rh[c->nrh].rule = rule;
            c->rh[c->nrh++].n = 1;
            *at = (unsigned char)c->nrh;
        } else {
            atomic_fetch_add_explicit(&fhir_call_hits(c->d)[rule], 1,
                                      memory_order_relaxed);
        }
        return;
    }
    h = fhir_hash(c->path);
    for (i = 0; i < c->nlc; i++)
        if (c->lc[i].hash == h && c->lc[i].rule == rule &&
            strcmp(c->lc[i].path, c->path) == 0) {
            c->lc[i].n++;
            return;
        }
    if (c->nlc == c->caplc) {
        c->caplc = c->caplc ? c->caplc * 2 : 32;
        c->lc = sl_realloc(c->lc, c->caplc * sizeof(*c->lc));
    }
    c->lc[c->nlc].rule = rule;
    c->lc[c->nlc].hash = h;
    c->lc[c->nlc].path = sl_strdup(c->path);
    c->lc[c->nlc].n = 1;
    c->nlc++;
}

void
fhir_call_merge_hits(struct call *c)
{
    atomic_ulong *row;
    size_t i;

    if (c->nrh == 0)
        return;
    row = fhir_call_hits(c->d);
    for (i = 0; i < c->nrh; i++)
        atomic_fetch_add_explicit(&row[c->rh[i].rule], c->rh[i].n,
                                  memory_order_relaxed);
    c->nrh = 0;
}

void
fhir_call_merge_counts(struct call *c)
{
    struct sl_fhir_deid *d = c->d;
    size_t i, j;

    pthread_mutex_lock(&d->lock);
    for (i = 0; i < c->nlc; i++) {
        struct fd_rule *r = &d->rules[c->lc[i].rule];
        for (j = 0; j < r->ncounts; j++)
            if (r->counts[j].hash == c->lc[i].hash &&
                strcmp(r->counts[j].path, c->lc[i].path) == 0)
                break;
        if (j == r->ncounts) {
            if (r->ncounts == r->capcounts) {
                r->capcounts = r->capcounts ? r->capcounts * 2 : 8;
                r->counts =
                    sl_realloc(r->counts, r->capcounts * sizeof(*r->counts));
            }
            r->counts[j].path = c->lc[i].path;
            r->counts[j].hash = c->lc[i].hash;
            r->counts[j].n = 0;
            c->lc[i].path = NULL;
            r->ncounts++;
        }
        r->counts[j].n += c->lc[i].n;
    }
    pthread_mutex_unlock(&d->lock);
}

/* c->ph from the paths as they are */
void
fhir_call_hash_paths(struct call *c)
{
    const char *rel = strchr(c->cpath, '.');
    c->ph.hc = fhir_hash(c->cpath);
    c->ph.has_rel = rel != NULL;
    c->ph.hrel = rel ? fhir_hash(rel) : 0;
    c->ph.ht = fhir_hash(c->tpath);
}

static int
has_type_code(const json_t *ident, const char *code)
{
    const json_t *codings =
        json_object_get(json_object_get(ident, "type"), "coding");
    size_t i;
    for (i = 0; i < json_array_size(codings); i++) {
        const char *c = fhir_jstr(json_array_get(codings, i), "code");
        if (c && strcmp(c, code) == 0)
            return 1;
    }
    return 0;
}

static int
cond_holds(const struct fd_rule *r, const json_t *v)
{
    if (r->system) {
        const char *s = fhir_jstr(v, "system");
        size_t n = strlen(r->system);
        if (s == NULL)
            return 0;
        if (n > 0 && r->system[n - 1] == '*' ? strncmp(s, r->system, n - 1)
                                             : strcmp(s, r->system))
            return 0;
    }
    if (r->type_code && !has_type_code(v, r->type_code))
        return 0;
    if (r->code) {
        const char *code = fhir_jstr(v, "code");
        if (code == NULL || strcmp(code, r->code) != 0)
            return 0;
    }
    return 1;
}

/* t is "Extension": most types are told apart by their first byte, and
 * this runs for every element judged (twice for one removed). */
static inline int
is_extension(const char *t)
{
    return t[0] == 'E' && strcmp(t, "Extension") == 0;
}

/* The types an element rule (SEL_NAME) applies to. */
static int
is_text_type(const char *t)
{
    return (t[0] == 's' && strcmp(t, "string") == 0) ||
           (t[0] == 'm' && strcmp(t, "markdown") == 0);
}

int
fhir_call_ext_part(const struct call *c)
{
    const char *end = strrchr(c->cpath, '.'), *start;
    size_t n;

    if (end == NULL || strcmp(end, ".extension") != 0)
        return 0;
    for (start = end; start > c->cpath && start[-1] != '.'; start--)
        ;
    n = (size_t)(end - start);
    return (n == 9 && memcmp(start, "extension", 9) == 0) ||
           (n == 17 && memcmp(start, "modifierExtension", 17) == 0);
}

/* Scores rule i for the element (-1: it does not apply). */
static int
score_rule(const struct call *c, const struct el *e, const json_t *v,
           const struct fd_rule *r, int has_rel, const char *url)
{
    const char *rel;
    int score = -1;

    switch (r->sel) {
    case SEL_EXT:
        if (url && strcmp(url, r->target) == 0)
            score = 8;
        break;
    case SEL_PATH:
        if (strcmp(r->target, c->cpath) == 0 &&
            (r->ctype == NULL || strcmp(r->ctype, e->type) == 0))
            score = 6;
        break;
    case SEL_RPATH:
        if (has_rel && (rel = strchr(c->cpath, '.')) != NULL &&
            strcmp(r->target, rel) == 0)
            score = 6;
        break;
    case SEL_NAME: {
        const char *seg = strrchr(e->canon, '.');
        if (seg && strcmp(seg + 1, r->target) == 0 && is_text_type(e->type))
            score = 3;
        break;
    }
    case SEL_TPATH:
        if (c->tpath[0] && strcmp(r->target, c->tpath) == 0 &&
            (r->ctype == NULL || strcmp(r->ctype, e->type) == 0))
            score = 4;
        break;
    default:
        if (strcmp(r->target, e->type) == 0)
            score = 2;
        /* the parts of a complex extension (relative URLs) follow the
         * rule of the extension they are in; a relative URL anywhere
         * else names nothing and is judged as any extension */
        if (score >= 0 && is_extension(e->type) && fhir_call_ext_part(c)) {
            const char *u = fhir_jstr(v, "url");
            if (u && !strchr(u, ':'))
                score = -1;
        }
        break;
    }
    if (score >= 0 && (r->system || r->type_code || r->code)) {
        if (!json_is_object(v) || !cond_holds(r, v))
            return -1;
        score++;
    }
    return score;
}

/* The index of the rule for the element, or -1: the candidates are the
 * rules whose target hashes like the element's path, data type path,
 * type, generic path or extension URL. */
int
fhir_call_match(const struct call *c, const struct el *e, const json_t *v)
{
    const struct sl_fhir_deid *d = c->d;
    /* c->ph.has_rel: cpath has a '.', whose part from there on (the
     * generic path) is only looked at by a candidate rule that names one */
    int has_rel = c->ph.has_rel;
    const char *url = is_extension(e->type) ? fhir_jstr(v, "url") : NULL;
    uint64_t h[6];
    int best = -1, bscore = -1, k, nh = 0;

    h[nh++] = c->ph.hc;
    h[nh++] = fhir_hash(e->type);
    if (c->tpath[0])
        h[nh++] = c->ph.ht;
    if (has_rel)
        h[nh++] = c->ph.hrel;
    if (url)
        h[nh++] = fhir_hash(url);
    if (d->has_name_rules && is_text_type(e->type)) {
        const char *seg = strrchr(e->canon, '.');
        if (seg)
            h[nh++] = fhir_hash(seg + 1);
    }
    for (k = 0; k < nh; k++) {
        int i;
        for (i = d->bucket[(size_t)h[k] & (d->nbuckets - 1)]; i >= 0;
             i = d->chain[i]) {
            const struct fd_rule *r = &d->rules[i];
            int score;
            if (r->hash != h[k])
                continue;
            score = score_rule(c, e, v, r, has_rel, url);
            if (score > bscore || (score == bscore && score >= 0 && i > best)) {
                bscore = score;
                best = i;
            }
        }
    }
    return best;
}

int
fhir_call_fail(struct call *c, int code, const char *fmt, ...)
{
    va_list ap;
    char msg[512];

    if (c->rc != SL_OK)
        return c->rc;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->rc = SL_ERR(c->err, code, "%s", msg);
    return c->rc;
}

/* term_map.c - the map model, its checks, sets of maps and the local
 * $translate over them. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "terminology/term_int.h"

static const char *const rel_names[] = {
    "relatedto", "equivalent", "equal",   "wider",     "subsumes",
    "narrower",  "specializes", "inexact", "unmatched", "disjoint",
};

const char *
sl_term_rel_name(enum sl_term_rel rel)
{
    if ((size_t)rel < sizeof(rel_names) / sizeof(rel_names[0]))
        return rel_names[rel];
    return "?";
}

int
sl_term_rel_parse(const char *name)
{
    size_t i;

    for (i = 0; name && i < sizeof(rel_names) / sizeof(rel_names[0]); i++)
        if (strcmp(rel_names[i], name) == 0)
            return (int)i;
    return -1;
}

int
sl_term_rel_is_match(enum sl_term_rel rel)
{
    return rel != SL_REL_UNMATCHED && rel != SL_REL_DISJOINT;
}

int
term_system_ok(const char *s)
{
    const char *c;

    /* RFC 3986: a scheme is a letter, then letters, digits, + - . */
    if (s == NULL || !isalpha((unsigned char)s[0]))
        return 0;
    for (c = s + 1; *c && *c != ':'; c++)
        if (!isalnum((unsigned char)*c) && *c != '+' && *c != '-' && *c != '.')
            return 0;
    return *c == ':' && c[1] != '\0';
}

/* ---- the model ---- */

static int
same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static char *
dup_or_null(const char *s)
{
    return s ? sl_strdup(s) : NULL;
}

struct term_group *
term_group_get(struct sl_term_map *m, const char *source,
               const char *source_version, const char *target,
               const char *target_version)
{
    struct term_group *g;
    size_t i;

    for (i = 0; i < m->ng; i++) {
        g = &m->g[i];
        if (strcmp(g->source, source) == 0 && strcmp(g->target, target) == 0 &&
            same(g->source_version, source_version) &&
            same(g->target_version, target_version))
            return g;
    }
    m->g = sl_realloc(m->g, (m->ng + 1) * sizeof(*m->g));
    g = &m->g[m->ng++];
    memset(g, 0, sizeof(*g));
    g->source = sl_strdup(source);
    g->target = sl_strdup(target);
    g->source_version = dup_or_null(source_version);
    g->target_version = dup_or_null(target_version);
    return g;
}

void
term_group_add(struct term_group *g, const char *code, const char *tcode,
               const char *display, enum sl_term_rel rel, const char *where)
{
    struct term_element *e;
    struct term_target *t;

    /* repeated codes are merged by term_map_finish once sorted: appending
     * keeps loading linear */
    g->e = sl_realloc(g->e, (g->ne + 1) * sizeof(*g->e));
    e = &g->e[g->ne++];
    e->code = sl_strdup(code);
    e->nt = 0;
    e->t = NULL;
    e->ord = g->ne;
    if (where == NULL)
        return; /* an element without target */
    e->t = sl_calloc(1, sizeof(*e->t));
    t = &e->t[e->nt++];
    t->code = dup_or_null(tcode);
    t->display = dup_or_null(display);
    t->rel = rel;
    t->where = dup_or_null(where);
}

static void
element_clear(struct term_element *e)
{
    size_t k;

    for (k = 0; k < e->nt; k++) {
        free(e->t[k].code);
        free(e->t[k].display);
        free(e->t[k].where);
    }
    free(e->t);
    free(e->code);
}

void
sl_term_map_free(struct sl_term_map *m)
{
    size_t i, j;

    if (m == NULL)
        return;
    for (i = 0; i < m->ng; i++) {
        struct term_group *g = &m->g[i];
        for (j = 0; j < g->ne; j++)
            element_clear(&g->e[j]);
        free(g->e);
        free(g->source);
        free(g->source_version);
        free(g->target);
        free(g->target_version);
        free(g->unmapped_code);
        free(g->unmapped_display);
        free(g->unmapped_url);
    }
    free(m->g);
    free(m->name);
    free(m->url);
    free(m->version);
    free(m);
}

static int
element_cmp(const void *a, const void *b)
{
    const struct term_element *x = a, *y = b;

    return strcmp(x->code, y->code);
}

/* By code, then in the file's order, so that merged targets keep it. */
static int
element_order(const void *a, const void *b)
{
    const struct term_element *x = a, *y = b;
    int c = strcmp(x->code, y->code);

    return c ? c : (x->ord > y->ord) - (x->ord < y->ord);
}

/* Two targets of one source code that cannot both hold. */
static int
check_targets(const struct term_group *g, const struct term_element *e,
              const char *file, struct sl_err *err)
{
    size_t i, k;

    for (i = 0; i < e->nt; i++) {
        const struct term_target *a = &e->t[i];
        for (k = 0; k < i; k++) {
            const struct term_target *b = &e->t[k];
            int am = sl_term_rel_is_match(a->rel), bm = sl_term_rel_is_match(b->rel);
            const char *why = NULL;

            if (a->code && b->code && strcmp(a->code, b->code) == 0)
                why = a->rel == b->rel ? "listed twice"
                                       : "listed twice with different "
                                         "relationships";
            else if (am != bm)
                why = "both mapped and unmatched";
            else if ((a->rel == SL_REL_EQUIVALENT || a->rel == SL_REL_EQUAL) &&
                     (b->rel == SL_REL_EQUIVALENT || b->rel == SL_REL_EQUAL))
                why = "equivalent to two different target codes";
            if (why)
                return SL_ERR(err, SL_ECONFIG,
                              "%s: %s: conflicting targets: source code "
                              "\"%s\" of %s to %s is %s (see %s)",
                              file, a->where ? a->where : "?", e->code,
                              g->source, g->target, why,
                              b->where ? b->where : "?");
        }
    }
    return SL_OK;
}

int
term_map_finish(struct sl_term_map *m, const char *file, struct sl_err *err)
{
    size_t i, j, w;
    int rc;

    for (i = 0; i < m->ng; i++) {
        struct term_group *g = &m->g[i];
        if (g->ne > 1) /* none: g->e may be NULL */
            qsort(g->e, g->ne, sizeof(*g->e), element_order);
        for (j = 0, w = 0; j < g->ne; j++) {
            struct term_element *e = &g->e[j];
            if (w > 0 && strcmp(g->e[w - 1].code, e->code) == 0) {
                struct term_element *d = &g->e[w - 1];
                /* an element without targets has t NULL (memcpy from
                 * NULL is undefined even for 0 bytes: fuzz_term_map) */
                if (e->nt > 0) {
                    d->t = sl_realloc(d->t, (d->nt + e->nt) * sizeof(*d->t));
                    memcpy(d->t + d->nt, e->t, e->nt * sizeof(*e->t));
                    d->nt += e->nt;
                }
                free(e->t);
                free(e->code);
                continue;
            }
            g->e[w++] = *e;
        }
        g->ne = w;
        for (j = 0; j < g->ne; j++) {
            struct term_element *e = &g->e[j];
            if (e->nt > SL_TERM_MAX_MATCHES)
                return SL_ERR(err, SL_ECONFIG, "%s: %s: source code \"%s\" "
                              "has more than %d targets", file,
                              e->t[e->nt - 1].where, e->code,
                              SL_TERM_MAX_MATCHES);
            if ((rc = check_targets(g, e, file, err)) != SL_OK)
                return rc;
        }
    }
    return SL_OK;
}

const char *
sl_term_map_name(const struct sl_term_map *m)
{
    return m->name;
}

const char *
sl_term_map_url(const struct sl_term_map *m)
{
    return m->url;
}

const char *
sl_term_map_version(const struct sl_term_map *m)
{
    return m->version;
}

size_t
sl_term_map_ngroups(const struct sl_term_map *m)
{
    return m->ng;
}

/* ---- sets ---- */

struct sl_term_set {
    size_t n;
    struct sl_term_map **m;
};

struct sl_term_set *
sl_term_set_new(void)
{
    return sl_calloc(1, sizeof(struct sl_term_set));
}

void
sl_term_set_free(struct sl_term_set *s)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->n; i++)
        sl_term_map_free(s->m[i]);
    free(s->m);
    free(s);
}

int
sl_term_set_add(struct sl_term_set *s, struct sl_term_map *m,
                struct sl_err *err)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (strcmp(s->m[i]->name, m->name) == 0) {
            sl_term_map_free(m);
            return SL_ERR(err, SL_ECONFIG, "two maps are named %s: a run's "
                          "report names maps, so names must differ",
                          s->m[i]->name);
        }
    s->m = sl_realloc(s->m, (s->n + 1) * sizeof(*s->m));
    s->m[s->n++] = m;
    return SL_OK;
}

size_t
sl_term_set_count(const struct sl_term_set *s)
{
    return s ? s->n : 0;
}

const struct sl_term_map *
sl_term_set_map(const struct sl_term_set *s, size_t i)
{
    return i < s->n ? s->m[i] : NULL;
}

/* The map whose url is url (a "|version" suffix compared too). */
static const struct sl_term_map *
set_find_url(const struct sl_term_set *s, const char *url)
{
    const char *bar = strchr(url, '|');
    size_t len = bar ? (size_t)(bar - url) : strlen(url), i;

    for (i = 0; s && i < s->n; i++) {
        const struct sl_term_map *m = s->m[i];
        if (m->url && strlen(m->url) == len && strncmp(m->url, url, len) == 0 &&
            (bar == NULL || same(m->version, bar + 1)))
            return m;
    }
    return NULL;
}

int
sl_term_set_check(const struct sl_term_set *s, struct sl_err *err)
{
    size_t i, j;

    for (i = 0; i < s->n; i++)
        for (j = 0; j < s->m[i]->ng; j++) {
            const struct term_group *g = &s->m[i]->g[j];
            if (g->unmapped == TERM_UNMAPPED_OTHER_MAP &&
                set_find_url(s, g->unmapped_url) == NULL)
                return SL_ERR(err, SL_ECONFIG, "map %s: group[%zu].unmapped."
                              "url: no map of this run has the url %s",
                              s->m[i]->name, j, g->unmapped_url);
        }
    return SL_OK;
}

int
sl_term_text_escapes(const char *text, size_t len)
{
    const char *p = text, *end = text + len;

    while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL && p + 1 < end) {
        if (p[1] == '/' || p[1] == 'u')
            return 1;
        p += 2; /* the escaped character, whatever it is */
    }
    return 0;
}

int
sl_term_set_may_apply(const struct sl_term_set *s, const char *text,
                      size_t len)
{
    size_t i, j;

    /* an escaped '/' or a \u escape might spell a system the search
     * below cannot see: then parse (one memchr pass, rarely more) */
    if (sl_term_text_escapes(text, len))
        return 1;
    for (i = 0; i < s->n; i++)
        for (j = 0; j < s->m[i]->ng; j++) {
            const char *src = s->m[i]->g[j].source;
            if (memmem(text, len, src, strlen(src)) != NULL)
                return 1;
        }
    return 0;
}

char *
sl_term_dir(void)
{
    const char *env = getenv("SLUICE_TERMINOLOGY_DIR");

    if (env != NULL && *env != '\0')
        return sl_strdup(env);
#ifdef SL_SRCDIR
    /* the uninstalled sluice (tests, make distcheck) */
    if (sl_path_is_dir(SL_SRCDIR "/terminology"))
        return sl_strdup(SL_SRCDIR "/terminology");
#endif
    return sl_strdup(SL_DATADIR "/terminology");
}

/* ---- $translate ---- */

static void
add_match(struct sl_term_result *r, const struct sl_term_map *m,
          const struct term_group *g, const char *code, const char *display,
          enum sl_term_rel rel)
{
    struct sl_term_match *x;

    if (r->n == SL_TERM_MAX_MATCHES)
        return;
    x = &r->m[r->n++];
    x->system = g->target;
    x->version = g->target_version;
    x->code = code;
    x->display = display;
    x->rel = rel;
    x->map = m->name;
}

static void
translate(const struct sl_term_set *s, const struct sl_term_map *m,
          const char *system, const char *version, const char *code,
          const char *target_system, struct sl_term_result *r, int *in_scope,
          int *budget)
{
    size_t i, k;

    for (i = 0; i < m->ng; i++) {
        const struct term_group *g = &m->g[i];
        struct term_element key, *e;

        if (strcmp(g->source, system) != 0 ||
            (version && g->source_version &&
             strcmp(version, g->source_version) != 0))
            continue;
        if (target_system && strcmp(g->target, target_system) != 0)
            continue;
        *in_scope = 1;
        key.code = (char *)code; /* only read by the comparison */
        e = bsearch(&key, g->e, g->ne, sizeof(*g->e), element_cmp);
        if (e != NULL && e->nt > 0) {
            for (k = 0; k < e->nt; k++)
                add_match(r, m, g, e->t[k].code, e->t[k].display,
                          e->t[k].rel);
            continue;
        }
        if (e != NULL)
            continue; /* listed without target: no mapping, no fallback */
        switch (g->unmapped) {
        case TERM_UNMAPPED_PROVIDED:
            add_match(r, m, g, code, NULL, SL_REL_EQUAL);
            break;
        case TERM_UNMAPPED_FIXED:
            add_match(r, m, g, g->unmapped_code, g->unmapped_display,
                      SL_REL_INEXACT);
            break;
        case TERM_UNMAPPED_OTHER_MAP: {
            const struct sl_term_map *o = set_find_url(s, g->unmapped_url);
            /* a loop of maps (or a map with many groups sending to each
             * other) ends after more hops than a real chain makes */
            if (o != NULL && *budget > 0) {
                --*budget;
                translate(s, o, system, version, code, target_system, r,
                          in_scope, budget);
            }
            break;
        }
        case TERM_UNMAPPED_NONE:
            break;
        }
    }
}

void
sl_term_translate(const struct sl_term_set *s, const struct sl_term_map *m,
                  const char *system, const char *version, const char *code,
                  const char *target_system, struct sl_term_result *r)
{
    struct sl_term_match tmp[SL_TERM_MAX_MATCHES];
    size_t i, n = 0;
    int in_scope = 0, matched = 0, budget = 16;

    r->n = 0;
    r->outcome = SL_TERM_OUT_OF_SCOPE;
    if (system == NULL || code == NULL)
        return;
    translate(s, m, system, version, code, target_system, r, &in_scope,
              &budget);
    /* translations first, each kind in the map's order */
    for (i = 0; i < r->n; i++)
        if (sl_term_rel_is_match(r->m[i].rel))
            tmp[n++] = r->m[i];
    matched = n > 0;
    for (i = 0; i < r->n; i++)
        if (!sl_term_rel_is_match(r->m[i].rel))
            tmp[n++] = r->m[i];
    memcpy(r->m, tmp, n * sizeof(tmp[0]));
    if (matched)
        r->outcome = SL_TERM_MAPPED;
    else if (in_scope)
        r->outcome = SL_TERM_UNMAPPED;
}

/* fhir_rest_hist.c - what the fhir-rest source reads besides searches:
 * the resources deleted since the last run, from each type's history
 * (deletes="history"), and whether the server offers
 * Patient/$everything (everything="auto", from its CapabilityStatement).
 * Both read outside input: nothing of it is quoted in a message. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources/fhir_rest_int.h"

/* ---- the set of resources a history unit has seen ------------------------ */

static uint64_t
fnv(const char *k)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211ULL;
    return h;
}

int
sl_rest_set_add(struct sl_rest_set *h, const char *key)
{
    size_t i;

    if (2 * (h->n + 1) > h->cap) { /* at most half full */
        struct sl_rest_set g = { 0 };
        g.cap = h->cap ? h->cap * 2 : 256;
        g.v = sl_calloc(g.cap, sizeof(*g.v));
        for (i = 0; i < h->cap; i++) {
            size_t j;
            if (h->v[i] == NULL)
                continue;
            for (j = fnv(h->v[i]) & (g.cap - 1); g.v[j];
                 j = (j + 1) & (g.cap - 1))
                ;
            g.v[j] = h->v[i];
            g.n++;
        }
        free(h->v);
        *h = g;
    }
    for (i = fnv(key) & (h->cap - 1); h->v[i]; i = (i + 1) & (h->cap - 1))
        if (strcmp(h->v[i], key) == 0)
            return 0;
    h->v[i] = sl_strdup(key);
    h->n++;
    return 1;
}

void
sl_rest_set_clear(struct sl_rest_set *h)
{
    size_t i;

    for (i = 0; i < h->cap; i++)
        free(h->v[i]);
    free(h->v);
    memset(h, 0, sizeof(*h));
}

/* ---- history entries ------------------------------------------------------- */

static int
is_name(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > 64 || s[0] < 'A' || s[0] > 'Z')
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
            return 0;
    return 1;
}

static int
is_id(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > 64)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.'))
            return 0;
    return 1;
}

/* "Type/id" of a history entry's request.url ("Type/id",
 * "Type/id/_history/v", with or without the base before it), or of its
 * fullUrl; NULL when neither names a resource of that type. */
static char *
entry_ref(const json_t *entry, const char *type)
{
    const char *u[2];
    size_t k, tl = strlen(type);

    u[0] = json_string_value(
        json_object_get(json_object_get(entry, "request"), "url"));
    u[1] = json_string_value(json_object_get(entry, "fullUrl"));
    for (k = 0; k < 2; k++) {
        const char *p = u[k], *id;
        size_t n;
        if (p == NULL)
            continue;
        /* the last "Type/" in the URL before the id */
        for (;;) {
            const char *q = strstr(p, type);
            if (q == NULL) {
                p = NULL;
                break;
            }
            if ((q == u[k] || q[-1] == '/') && q[tl] == '/') {
                p = q;
                break;
            }
            p = q + 1;
        }
        if (p == NULL)
            continue;
        id = p + tl + 1;
        n = strcspn(id, "/?#");
        if (is_name(type, tl) && is_id(id, n))
            return sl_asprintf("%s/%.*s", type, (int)n, id);
    }
    return NULL;
}

int
sl_rest_history_entry(struct rest_src *s, const json_t *entry,
                      const char *type, char **ref, int64_t *ms, char *why,
                      size_t whylen)
{
    const char *method = json_string_value(
        json_object_get(json_object_get(entry, "request"), "method"));
    const char *lm = json_string_value(
        json_object_get(json_object_get(entry, "response"), "lastModified"));

    *ref = NULL;
    *ms = -1;
    if (!json_is_object(entry) || method == NULL) {
        snprintf(why, whylen, "a history entry without request.method");
        return -1;
    }
    if ((*ref = entry_ref(entry, type)) == NULL) {
        snprintf(why, whylen,
                 "a history entry whose request.url is not "
                 "%s/id",
                 is_name(type, strlen(type)) ? type : "Type");
        return -1;
    }
    if (lm == NULL) /* some servers put the time in the resource only */
        lm = json_string_value(json_object_get(
            json_object_get(json_object_get(entry, "resource"), "meta"),
            "lastUpdated"));
    if (lm != NULL && sl_rest_instant_ms(lm, ms) != 0)
        *ms = -1;
    /* newest first (FHIR R4 3.1.0.4.2): the first entry of a resource
     * says how it is now; older ones are not looked at */
    if (!sl_rest_set_add(&s->hist_seen, *ref))
        return 0;
    return strcmp(method, "DELETE") == 0 ? 1 : 0;
}

/* Entry i of a history page: a deletion item, a quarantine item for an
 * entry that is not one of a history, or NULL (a change the searches
 * read, an older entry, a deletion the last run passed on). */
struct sl_item *
sl_rest_history_item(struct rest_src *s, size_t i, const char *pos)
{
    const json_t *e = json_array_get(s->page.entries, i);
    const char *type = sl_rest_unit_type(s, s->u);
    char why[128], *ref = NULL, *key = NULL;
    struct sl_item *it = NULL;
    int64_t ms;
    int r = sl_rest_history_entry(s, e, type, &ref, &ms, why, sizeof(why));

    if (r < 0) {
        char *m = sl_asprintf("source %s: %s: %s", s->id, pos, why);
        char *raw = json_dumps(e, JSON_COMPACT);
        it = sl_rest_bad_item(s, pos, s->page_url, raw, raw ? strlen(raw) : 0, m);
        free(m);
        free(raw);
        it->checkpoint = sl_rest_mid_checkpoint(s);
        return it;
    }
    if (r == 0)
        goto out;
    if (ms >= 0) {
        /* as for resources: what the overlap brings again is skipped */
        key = sl_asprintf("%s/deleted@%lld", ref, (long long)ms);
        if (sl_rest_was_seen(s, key)) {
            s->nskipped++;
            goto out;
        }
        if (ms > s->max_ms)
            s->max_ms = ms;
        if (ms > s->max_ms - s->overlap_ms)
            sl_rest_recent_add(s, key, ms);
    }
    if (s->since_ms < 0)
        goto out; /* a run that read everything: only remembered */
    it = sl_item_new(SL_ITEM_FHIR);
    it->source = s->id;
    it->rank = (long)s->u;
    it->pos = sl_strdup(pos);
    it->origin = s->page_url ? sl_strdup(s->page_url) : NULL;
    it->rtype = sl_strdup(type);
    it->resource = json_pack("{s:s, s:s}", "resourceType", type, "id",
                             strchr(ref, '/') + 1);
    it->deleted = 1;
    it->checkpoint = sl_rest_mid_checkpoint(s);
    s->ndeleted++;
out:
    free(key);
    free(ref);
    return it;
}

/* ---- the CapabilityStatement ------------------------------------------------ */

int
sl_rest_capability_everything(const char *buf, size_t len, int *yes)
{
    json_t *doc = json_loadb(buf ? buf : "", len, 0, NULL), *r, *res, *op;
    const char *rt = json_string_value(json_object_get(doc, "resourceType"));
    size_t i, j, k;

    *yes = 0;
    if (!json_is_object(doc) || rt == NULL ||
        strcmp(rt, "CapabilityStatement") != 0) {
        json_decref(doc);
        return -1;
    }
    json_array_foreach(json_object_get(doc, "rest"), i, r)
    {
        json_array_foreach(json_object_get(r, "resource"), j, res)
        {
            const char *t = json_string_value(json_object_get(res, "type"));
            if (t == NULL || strcmp(t, "Patient") != 0)
                continue;
            json_array_foreach(json_object_get(res, "operation"), k, op)
            {
                const char *n = json_string_value(json_object_get(op, "name"));
                const char *d =
                    json_string_value(json_object_get(op, "definition"));
                if ((n && (strcmp(n, "everything") == 0 ||
                           strcmp(n, "$everything") == 0)) ||
                    (d && strstr(d, "Patient-everything") != NULL))
                    *yes = 1;
            }
        }
    }
    json_decref(doc);
    return 0;
}

int
sl_rest_offers_everything(struct rest_src *s, int *yes, struct sl_err *err)
{
    struct sl_http_body b = { { 0 }, 16u * 1024 * 1024 };
    struct sl_http_req rq = { 0 };
    struct sl_http_resp rs;
    char *shown = sl_http_url_for_log(s->http, "metadata");
    int rc;

    *yes = 0;
    sl_buf_init(&b.buf);
    rq.method = "GET";
    rq.path = "metadata";
    rq.sink = sl_http_collect;
    rq.sink_arg = &b;
    if ((rc = sl_http_do(s->http, &rq, &rs, err)) != SL_OK)
        goto out;
    if (rs.status != 200 ||
        sl_rest_capability_everything(b.buf.data, b.buf.len, yes) != 0) {
        /* no statement: the searches by type, which every server has */
        sl_log(SL_LOG_WARN,
               "source %s: GET %s: HTTP %ld, not a CapabilityStatement: "
               "searching by type (everything=\"auto\")",
               s->id, shown, rs.status);
        goto out;
    }
    sl_log(SL_LOG_INFO, "source %s: the server %s Patient/$everything: %s",
           s->id, *yes ? "offers" : "does not offer",
           *yes ? "one per patient" : "searching by type");
out:
    sl_buf_free(&b.buf);
    free(shown);
    return rc;
}

/* fhir_rest.c - the fhir-rest source: FHIR resources pulled from a
 * server's REST API by search (docs/connectors.md, "The fhir-rest
 * source").
 *
 * Units: one search per configured resource type; with a patient list
 * (a file or a Group) one per patient and type, or one
 * Patient/ID/$everything per patient. Each unit's pages are fetched one
 * at a time by following the Bundle's `next` link, so memory holds one
 * page whatever the size of the result.
 *
 * Checkpoints (JSON): {"u":UNIT,"n":PAGE,"p":PAGE-URL,"o":ENTRIES,"m":MS}
 * after an item: resuming fetches that page again and skips the entries
 * already taken (PAGE-URL null: the unit's first page, rebuilt). The last
 * item of a run carries the run's end instead: {"u":N,"w":MS,"c":MS,
 * "seen":{KEY:MS}}, the watermark (the highest meta.lastUpdated of the
 * matches) and the resources seen near it. The pipeline gives that
 * checkpoint of the job's last finished run to sl_rest_since(): the next run
 * searches `_lastUpdated=gt` the watermark minus `overlap` (servers' clocks
 * and commits are not atomic) and skips what the overlap brings again
 * (same type, id and meta.versionId). So the source never reads the state
 * store and the checkpoint still only advances with the targets. */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "http/auth.h"
#include "http/http.h"
#include "sources/fhir_rest_int.h"
#include "sources/sources.h"

/* A page is read whole (it is bounded by page-size): above this it is
 * refused rather than risking the memory bound. */
#define PAGE_MAX (256u * 1024 * 1024)

/* ---- checkpoints ------------------------------------------------------------
 */

/* s as a JSON string (the quotes, '"' and '\\' escaped, control
 * characters as \u00XX; anything else as it is: the strings here come
 * from readers that took only valid UTF-8, or from the base URL) */
static void
add_json_string(struct sl_buf *b, const char *s)
{
    const char *p, *run = s;

    sl_buf_addc(b, '"');
    for (p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c != '"' && c != '\\' && c >= 0x20)
            continue;
        sl_buf_add(b, run, (size_t)(p - run));
        if (c == '"' || c == '\\')
            sl_buf_addf(b, "\\%c", c);
        else
            sl_buf_addf(b, "\\u%04x", c);
        run = p + 1;
    }
    sl_buf_add(b, run, (size_t)(p - run));
    sl_buf_addc(b, '"');
}

char *
sl_rest_mid_checkpoint(const struct rest_src *s)
{
    struct sl_buf b;
    char num[96];
    int n;

    /* once an item: no jansson document, no printf for the page URL
     * (the only string) */
    sl_buf_init(&b);
    n = snprintf(num, sizeof(num), "{\"u\":%zu,\"n\":%ld,\"p\":", s->u,
                 s->pageno);
    sl_buf_add(&b, num, (size_t)n);
    if (s->page_url == NULL)
        sl_buf_adds(&b, "null");
    else
        add_json_string(&b, s->page_url);
    n = snprintf(num, sizeof(num), ",\"o\":%zu,\"m\":%lld,\"f\":%s}",
                 s->off, (long long)s->max_ms, s->failed ? "true" : "false");
    sl_buf_add(&b, num, (size_t)n);
    return sl_buf_steal(&b);
}

/* The end of the run: the watermark and what lies near it, for the next
 * run's overlap (the last run's entries included: a run that brought
 * nothing new keeps them). */
static char *
end_checkpoint(struct rest_src *s)
{
    int64_t w = s->max_ms > s->prev_w ? s->max_ms : s->prev_w;
    struct sl_buf b;
    char num[96];
    size_t i;
    int n;

    /* A search that failed (quarantined) read nothing of its type: the
     * watermark stays where it was, so that the next run reads that type
     * again from there (what the others gave again is sent again, by id,
     * rather than anything lost). */
    if (s->failed)
        w = s->prev_w;
    if (w < 0) /* nothing dated: the next run reads everything */
        return sl_asprintf("{\"u\":%zu}", s->nunits);

    for (i = 0; i < s->nprev; i++)
        if (s->prev[i].ms > w - s->overlap_ms && s->prev[i].ms > s->cut_ms)
            sl_rest_recent_add(s, s->prev[i].key, s->prev[i].ms);
    sl_rest_recent_prune(s, w);
    /* written directly (up to SEEN_MAX members: a jansson document and
     * its sorted dump cost as much as a page's reading); sl_rest_since reads
     * it back with jansson, in any order */
    sl_buf_init(&b);
    n = snprintf(num, sizeof(num), "{\"u\":%zu,\"w\":%lld,\"c\":%lld,\"seen\":{",
                 s->nunits, (long long)w, (long long)s->cut_ms);
    sl_buf_add(&b, num, (size_t)n);
    for (i = 0; i < s->nrecent; i++) {
        if (i > 0)
            sl_buf_addc(&b, ',');
        add_json_string(&b, s->recent[i].key);
        n = snprintf(num, sizeof(num), ":%lld", (long long)s->recent[i].ms);
        sl_buf_add(&b, num, (size_t)n);
    }
    sl_buf_adds(&b, "}}");
    return sl_buf_steal(&b);
}

int
sl_rest_resume_at(struct rest_src *s, const char *ck, struct sl_err *err)
{
    json_t *o = json_loads(ck, 0, NULL);
    json_t *u = json_object_get(o, "u");
    const char *p = json_string_value(json_object_get(o, "p"));
    int rc = SL_OK;

    if (!json_is_integer(u) || json_integer_value(u) < 0) {
        rc = SL_ERR(err, SL_ESTATE, "source %s: unreadable checkpoint", s->id);
        goto out;
    }
    s->u = (size_t)json_integer_value(u);
    if (json_object_get(o, "w") != NULL) {
        s->u = s->nunits; /* the run had ended: nothing more */
        goto out;
    }
    if (s->u > s->nunits) {
        rc = SL_ERR(err, SL_ESTATE,
                    "source %s: the checkpoint names search "
                    "%zu of %zu: the configuration changed since; cannot "
                    "resume exactly-once",
                    s->id, s->u + 1, s->nunits);
        goto out;
    }
    s->pageno = (long)json_integer_value(json_object_get(o, "n"));
    if (s->pageno < 1)
        s->pageno = 1;
    s->skip = (size_t)json_integer_value(json_object_get(o, "o"));
    s->max_ms = json_integer_value(json_object_get(o, "m"));
    s->failed = json_is_true(json_object_get(o, "f"));
    if (p && (strncmp(p, s->base, strlen(s->base)) != 0)) {
        rc = SL_ERR(err, SL_ESTATE,
                    "source %s: the checkpoint's page is "
                    "not under base: the base URL changed since; cannot "
                    "resume exactly-once",
                    s->id);
        goto out;
    }
    s->page_url = p ? sl_strdup(p) : NULL;
out:
    json_decref(o);
    return rc;
}

/* 9999-12-31T23:59:59.999Z in ms since 1970 */
#define MS_9999 253402300799999LL

/* The end checkpoint of the last finished run: the next search starts
 * after its watermark, less the overlap. */
int
sl_rest_since(void *ctx, const char *last, struct sl_err *err)
{
    struct rest_src *s = ctx;
    json_t *o = json_loads(last, 0, NULL), *seen, *v;
    json_t *w = json_object_get(o, "w");
    const char *key;
    int64_t c = json_integer_value(json_object_get(o, "c"));

    if (o == NULL)
        return SL_ERR(err, SL_ESTATE,
                      "source %s: unreadable checkpoint of "
                      "the last run",
                      s->id);
    if (!json_is_integer(w)) {
        /* that run ended without reaching its end (or found nothing new)
         * : no watermark, everything is read */
        json_decref(o);
        return SL_OK;
    }
    /* a watermark or cut before 1970 or after 9999 is none this source
     * wrote: -2^63 overflowed w - overlap (fuzz_rest_ck, seed
     * regress-watermark-extremes) */
    if (json_integer_value(w) < 0 || json_integer_value(w) > MS_9999 ||
        c < -1 || c > MS_9999) {
        json_decref(o);
        return SL_ERR(err, SL_ESTATE,
                      "source %s: the last run's checkpoint holds a time "
                      "out of range",
                      s->id);
    }
    s->prev_w = json_integer_value(w);
    s->cut_ms = c;
    s->since_ms = s->prev_w - s->overlap_ms;
    if (c > s->since_ms)
        s->since_ms = c;
    if (s->max_ms < s->prev_w)
        s->max_ms = s->prev_w;
    seen = json_object_get(o, "seen");
    s->prev = sl_calloc(json_object_size(seen) + 1, sizeof(*s->prev));
    json_object_foreach(seen, key, v)
    {
        s->prev[s->nprev].key = sl_strdup(key);
        s->prev[s->nprev].ms = json_integer_value(v);
        s->nprev++;
    }
    if (s->nprev > 1) /* none: s->prev may be NULL */
        qsort(s->prev, s->nprev, sizeof(*s->prev), sl_rest_seen_cmp);
    json_decref(o);
    return SL_OK;
}

/* ---- fetching
 * ---------------------------------------------------------------- */

struct page_body {
    struct sl_buf buf;
    int too_big;
};

static int
page_sink(void *arg, const char *data, size_t n)
{
    struct page_body *b = arg;

    if (b->buf.len + n > PAGE_MAX) {
        b->too_big = 1;
        return 1;
    }
    sl_buf_add(&b->buf, data, n);
    return 0;
}

static void
page_restart(void *arg)
{
    struct page_body *b = arg;

    sl_buf_reset(&b->buf);
    b->too_big = 0;
}

/* A quarantine item for what could not be read; reason holds no data. */
struct sl_item *
sl_rest_bad_item(struct rest_src *s, const char *pos, const char *origin,
         const char *raw, size_t rawlen, const char *reason)
{
    struct sl_item *it = sl_item_new(SL_ITEM_BAD);

    it->source = s->id;
    it->rank = (long)s->u;
    it->pos = sl_strdup(pos);
    it->origin = origin ? sl_strdup(origin) : NULL;
    it->rtype = sl_strdup("unreadable");
    sl_item_quarantine(it, "read", "%s", reason);
    if (raw && rawlen > 0) {
        if (rawlen > SL_ITEM_RAW_MAX)
            rawlen = SL_ITEM_RAW_MAX;
        it->raw = sl_strndup(raw, rawlen);
        it->raw_len = rawlen;
    }
    return it;
}

/* The unit cannot be read further (a refused search, a page that is not
 * a Bundle): the run goes on with the next unit. */
static void
unit_done(struct rest_src *s)
{
    sl_rest_page_clear(&s->page);
    s->have_page = 0;
    free(s->page_url);
    s->page_url = NULL;
    sl_rest_set_clear(&s->hist_seen);
    s->u++;
    s->pageno = 1;
    s->off = 0;
    s->skip = 0;
}

static void
unit_failed(struct rest_src *s)
{
    s->failed = 1;
    unit_done(s);
}

/* One GET of a page, on the reader's thread or the prefetcher's. */
struct sl_rest_prefetch {
    struct sl_http *http;
    char *url;
    struct page_body b;
    struct sl_http_resp rs;
    struct sl_err err;
    int rc;
    pthread_t th;
};

static void *
get_page(void *arg)
{
    struct sl_rest_prefetch *g = arg;
    struct sl_http_req rq = { 0 };

    rq.method = "GET";
    rq.path = g->url;
    rq.sink = page_sink;
    rq.sink_arg = &g->b;
    rq.restart = page_restart;
    g->rc = sl_http_do(g->http, &rq, &g->rs, &g->err);
    return NULL;
}

static void
prefetch_free(struct sl_rest_prefetch *g)
{
    if (g == NULL)
        return;
    pthread_join(g->th, NULL);
    sl_buf_free(&g->b.buf);
    free(g->url);
    free(g);
}

/* The URL of the page after the current one (its next link when it stays
 * under the base, else the next unit's first page), or NULL. */
static char *
following_url(const struct rest_src *s, const char *next)
{
    size_t bl = strlen(s->base);

    if (next == NULL)
        return s->u + 1 < s->nunits &&
                       !(sl_rest_unit_hist(s, s->u + 1) && sl_rest_hist_since(s) < 0)
                   ? sl_rest_first_url(s, s->u + 1)
                   : NULL;
    if (strncmp(next, "http://", 7) != 0 && strncmp(next, "https://", 8) != 0)
        return sl_asprintf("%s/%s", s->base, next[0] == '/' ? next + 1 : next);
    if (strncmp(next, s->base, bl) == 0 &&
        (next[bl] == '/' || next[bl] == '?' || next[bl] == '\0'))
        return sl_strdup(next);
    return NULL;
}

/* Starts fetching the following page, unless it cannot be known. */
static void
prefetch_start(struct rest_src *s, const char *next)
{
    struct sl_rest_prefetch *g;
    char *url = following_url(s, next);

    if (url == NULL || s->pf != NULL) {
        free(url);
        return;
    }
    g = sl_calloc(1, sizeof(*g));
    g->http = s->http;
    g->url = url;
    sl_buf_init(&g->b.buf);
    if (pthread_create(&g->th, NULL, get_page, g) != 0) {
        sl_buf_free(&g->b.buf);
        free(g->url);
        free(g);
        return; /* fetched when wanted instead */
    }
    s->pf = g;
}

/* Fetches the current page. SL_OK with s->have_page set, or with *bad a
 * quarantine item for the unit (moved past); an error stops the run. */
static int
fetch_page(struct rest_src *s, struct sl_item **bad, struct sl_err *err)
{
    char *url = s->page_url ? sl_strdup(s->page_url) : sl_rest_first_url(s, s->u);
    char *shown = sl_http_url_for_log(s->http, url), *full = NULL;
    struct sl_rest_prefetch *g = s->pf;
    struct page_body b = { { 0 }, 0 };
    struct sl_http_resp rs;
    char pos[160], why[200];
    int rc;

    s->pf = NULL;
    if (g != NULL && strcmp(g->url, url) != 0) {
        prefetch_free(g); /* not the page wanted after all */
        g = NULL;
    }
    if (g == NULL) {
        g = sl_calloc(1, sizeof(*g));
        g->http = s->http;
        g->url = sl_strdup(url);
        sl_buf_init(&g->b.buf);
        get_page(g);
        g->th = pthread_self();
    } else {
        pthread_join(g->th, NULL);
        g->th = pthread_self();
    }
    /* the body is ours now */
    b = g->b;
    rs = g->rs;
    rc = g->rc;
    if (rc != SL_OK)
        *err = g->err;
    free(g->url);
    free(g);
    sl_rest_unit_name(s, pos, sizeof(pos));
    if (rc != SL_OK) {
        if (b.too_big)
            rc = SL_ERR(err, SL_EIO,
                        "GET %s: %s larger than 256 MiB: lower "
                        "page-size",
                        shown, pos);
        sl_err_prefix(err, "source %s", s->id);
        goto out;
    }
    full = s->page_url ? sl_strdup(url) : sl_asprintf("%s/%s", s->base, url);
    if (rs.status != 200) {
        char *r = sl_asprintf("source %s: GET %s: %s: the server refused "
                              "the search: HTTP %ld",
                              s->id, shown, pos, rs.status);
        *bad = sl_rest_bad_item(s, pos, full, b.buf.data, b.buf.len, r);
        free(r);
        unit_failed(s);
        goto out;
    }
    /* the next request leaves now, while this page is read */
    {
        char *nx = sl_rest_page_next_scan(b.buf.data, b.buf.len);
        prefetch_start(s, nx);
        free(nx);
    }
    /* the ordinary page is read fast, its resources left as text to the
     * workers; anything else by jansson, which words what is wrong */
    if (sl_rest_page_parse_fast(b.buf.data, b.buf.len, &s->page)) {
        b.buf.data = NULL; /* the page owns it now */
        b.buf.len = b.buf.cap = 0;
    } else if (sl_rest_page_parse(b.buf.data, b.buf.len, &s->page, why,
                                  sizeof(why)) != 0) {
        char *r =
            sl_asprintf("source %s: GET %s: %s: %s", s->id, shown, pos, why);
        *bad = sl_rest_bad_item(s, pos, full, b.buf.data, b.buf.len, r);
        free(r);
        unit_failed(s);
        goto out;
    }
    s->have_page = 1;
    s->off = 0;
    if (s->skip) {
        s->off = s->skip;
        s->skip = 0;
    }
    if (s->pf == NULL)
        prefetch_start(s, s->page.next); /* the scan found nothing */
out:
    if (*bad)
        (*bad)->checkpoint = sl_rest_mid_checkpoint(s);
    sl_buf_free(&b.buf);
    free(full);
    free(shown);
    free(url);
    return rc;
}

/* The next link, checked to stay under the base URL (credentials go
 * with every request): SL_OK with s moved to it, or a quarantine item. */
static int
follow_next(struct rest_src *s, struct sl_item **bad)
{
    const char *next = s->page.next;
    size_t bl = strlen(s->base);
    char pos[160];

    if (strncmp(next, "http://", 7) != 0 && strncmp(next, "https://", 8) != 0) {
        char *abs =
            sl_asprintf("%s/%s", s->base, next[0] == '/' ? next + 1 : next);
        free(s->page_url);
        s->page_url = abs;
    } else if (strncmp(next, s->base, bl) == 0 &&
               (next[bl] == '/' || next[bl] == '?' || next[bl] == '\0')) {
        free(s->page_url);
        s->page_url = sl_strdup(next);
    } else {
        char *r;
        sl_rest_unit_name(s, pos, sizeof(pos));
        r = sl_asprintf("source %s: %s: the next link leaves the base URL: "
                        "not followed (the credentials would go with it)",
                        s->id, pos);
        *bad = sl_rest_bad_item(s, pos, NULL, NULL, 0, r);
        free(r);
        unit_failed(s);
        (*bad)->checkpoint = sl_rest_mid_checkpoint(s);
        return SL_OK;
    }
    sl_rest_page_clear(&s->page);
    s->have_page = 0;
    s->pageno++;
    s->off = 0;
    return SL_OK;
}

/* The next item with its checkpoint, or NULL at the end. */
static int
produce(struct rest_src *s, struct sl_item **out, struct sl_err *err)
{
    int rc;

    *out = NULL;
    while (s->u < s->nunits) {
        struct sl_rest_entry e;
        char why[128], pos[200], name[160];
        size_t i;
        struct sl_item *it;

        if (!s->have_page) {
            if (sl_rest_unit_hist(s, s->u) && sl_rest_hist_since(s) < 0) {
                unit_done(s); /* nothing dated: nothing to remember */
                continue;
            }
            if ((rc = fetch_page(s, out, err)) != SL_OK || *out != NULL)
                return rc;
        }
        if (s->off >= sl_rest_page_count(&s->page)) {
            if (s->page.next != NULL) {
                if ((rc = follow_next(s, out)) != SL_OK || *out != NULL)
                    return rc;
                continue;
            }
            unit_done(s);
            continue;
        }
        i = s->off++;
        sl_rest_unit_name(s, name, sizeof(name));
        snprintf(pos, sizeof(pos), "%s entry %zu", name, s->off);
        if (sl_rest_unit_hist(s, s->u)) {
            if ((*out = sl_rest_history_item(s, i, pos)) != NULL)
                return SL_OK;
            continue;
        }
        if (sl_rest_page_at(&s->page, i, &e, why, sizeof(why)) != 0) {
            char *r = sl_asprintf("source %s: %s: %s", s->id, pos, why);
            char *raw = json_dumps(json_array_get(s->page.entries, i),
                                   JSON_COMPACT);
            *out = sl_rest_bad_item(s, pos, s->page_url, raw, raw ? strlen(raw) : 0, r);
            free(r);
            free(raw);
            (*out)->checkpoint = sl_rest_mid_checkpoint(s);
            return SL_OK;
        }
        if (e.mode == 'o')
            continue; /* the server's remarks on the search, not data */
        if (e.mode == 'm') {
            int64_t ms;
            if (e.last_updated && sl_rest_instant_ms(e.last_updated, &ms) == 0) {
                char *key = sl_rest_seen_key(e.rtype, e.id, e.version_id, ms);
                if (key && sl_rest_was_seen(s, key)) {
                    s->nskipped++;
                    free(key);
                    continue;
                }
                if (ms > s->max_ms)
                    s->max_ms = ms;
                if (key && ms > s->max_ms - s->overlap_ms)
                    sl_rest_recent_add(s, key, ms);
                free(key);
            }
        }
        it = sl_item_new(SL_ITEM_FHIR);
        it->source = s->id;
        it->rank = (long)s->u;
        it->pos = sl_strdup(pos);
        it->origin = s->page_url ? sl_strdup(s->page_url) : NULL;
        it->rtype = sl_strdup(e.rtype);
        if (e.res != NULL) {
            it->resource = json_incref(e.res);
        } else {
            /* parsed by a worker for the stages; the targets write the
             * server's own text (made one line) unless a stage changes
             * the resource, so a run without stages never writes the
             * document out again (item.h, out_json) */
            it->text = sl_strndup(e.text, e.text_len);
            it->text_len = e.text_len;
            it->out_json = sl_rest_compact(e.text, e.text_len,
                                           &it->out_json_len);
            /* the page's tape reading checked it: an object jansson
             * takes, with a resourceType (sl_rest_page_parse_fast) */
            it->text_checked = 1;
        }
        it->checkpoint = sl_rest_mid_checkpoint(s);
        *out = it;
        return SL_OK;
    }
    return SL_OK;
}

static int
rest_next(void *ctx, struct sl_item **out, struct sl_err *err)
{
    struct rest_src *s = ctx;
    struct sl_item *cur;
    int rc;

    *out = NULL;
    if (!s->primed) {
        s->primed = 1;
        if ((rc = produce(s, &s->ahead, err)) != SL_OK)
            return rc;
    }
    cur = s->ahead;
    s->ahead = NULL;
    if (cur == NULL)
        return SL_OK;
    if ((rc = produce(s, &s->ahead, err)) != SL_OK) {
        sl_item_free(cur); /* read again on resume */
        return rc;
    }
    if (s->ahead == NULL) {
        free(cur->checkpoint);
        cur->checkpoint = end_checkpoint(s);
    }
    *out = cur;
    return SL_OK;
}

static void
rest_close(void *ctx)
{
    struct rest_src *s = ctx;

    if (s == NULL)
        return;
    if (s->nskipped)
        sl_log(SL_LOG_INFO,
               "source %s: %llu resource(s) the overlap with "
               "the last run brought again: skipped",
               s->id, (unsigned long long)s->nskipped);
    if (s->ndeleted)
        sl_log(SL_LOG_INFO,
               "source %s: %llu resource(s) deleted on the server "
               "since the last run: passed on as deletions",
               s->id, (unsigned long long)s->ndeleted);
    prefetch_free(s->pf);
    sl_rest_set_clear(&s->hist_seen);
    sl_item_free(s->ahead);
    sl_rest_page_clear(&s->page);
    free(s->page_url);
    sl_rest_seen_free(s->prev, s->nprev);
    sl_rest_seen_free(s->recent, s->nrecent);
    sl_strv_free(&s->types);
    sl_strv_free(&s->includes);
    sl_strv_free(&s->revincludes);
    sl_strv_free(&s->extra);
    sl_strv_free(&s->patients);
    sl_http_free(s->http);
    sl_http_auth_free(s->auth);
    free(s->base);
    free(s);
}

static int
rest_open(const struct sl_config *cfg, const struct sl_conf_node *node,
          const char *checkpoint, void **ctx, struct sl_err *err)
{
    struct rest_src *s = sl_calloc(1, sizeof(*s));
    struct sl_http_opts o = { 0 };
    char *ca = sl_conf_get_path(cfg, node, "ca-file");
    char *plist = sl_conf_get_path(cfg, node, "patients");
    const char *group = sl_conf_get(node, "group");
    const char *ev = sl_conf_get(node, "everything"), *dl;
    int rc;

    s->id = node->id;
    s->since_ms = s->prev_w = s->max_ms = s->cut_ms = -1;
    s->pageno = 1;
    s->count = sl_conf_get_long(node, "page-size", 100);
    s->overlap_ms = sl_conf_get_long(node, "overlap", 300) * 1000;
    s->everything = ev && strcmp(ev, "yes") == 0;
    dl = sl_conf_get(node, "deletes");
    s->deletes = dl && strcmp(dl, "history") == 0;
    sl_rest_split(node->text, &s->types);
    sl_rest_split(sl_conf_get(node, "include"), &s->includes);
    sl_rest_split(sl_conf_get(node, "revinclude"), &s->revincludes);
    sl_rest_split(sl_conf_get(node, "search"), &s->extra);
    if (s->types.n == 0 && !s->everything) {
        rc = SL_ERR(err, SL_ECONFIG,
                    "source %s: no <resources>: name the "
                    "resource types to search",
                    node->id);
        goto out;
    }
    if (s->types.n == 0)
        sl_strv_push(&s->types, "Patient");
    o.base = sl_conf_get(node, "base");
    o.ca_file = ca;
    o.timeout_ms = sl_conf_get_long(node, "timeout", 300) * 1000;
    o.max_attempts = (int)sl_conf_get_long(node, "max-attempts", 5);
    if ((rc = sl_http_auth_new(cfg, node, &s->auth, err)) != SL_OK)
        goto prefix;
    o.auth = s->auth;
    if ((rc = sl_http_new(&o, &s->http, err)) != SL_OK)
        goto prefix;
    s->base = sl_strdup(o.base);
    while (*s->base && s->base[strlen(s->base) - 1] == '/')
        s->base[strlen(s->base) - 1] = '\0';
    if (plist && (rc = sl_rest_patients_file(s, plist, err)) != SL_OK)
        goto prefix;
    if (group && (rc = sl_rest_patients_group(s, group, err)) != SL_OK)
        goto prefix;
    /* everything="auto": as the server's CapabilityStatement says */
    if (ev && strcmp(ev, "auto") == 0 && (plist || group) &&
        (rc = sl_rest_offers_everything(s, &s->everything, err)) != SL_OK)
        goto prefix;
    if (s->everything && s->patients.n == 0 && !plist && !group) {
        rc = SL_ERR(err, SL_ECONFIG,
                    "source %s: everything=\"yes\" needs "
                    "a patient list (patients or group)",
                    node->id);
        goto out;
    }
    /* an empty patient list is no search at all, not every patient */
    if (s->everything)
        s->nunits = s->patients.n;
    else if (plist || group)
        s->nunits = s->patients.n * s->types.n;
    else
        s->nunits = s->types.n;
    s->nbase = s->nunits;
    if (s->deletes)
        s->nunits += s->types.n;
    if (checkpoint && *checkpoint &&
        (rc = sl_rest_resume_at(s, checkpoint, err)) != SL_OK)
        goto out;
    *ctx = s;
    s = NULL;
    goto out;
prefix:
    sl_err_prefix(err, "source %s", node->id);
out:
    free(ca);
    free(plist);
    rest_close(s);
    return rc;
}

static void
rest_progress(void *ctx, uint64_t *done, uint64_t *total)
{
    struct rest_src *s = ctx;

    *done = s->u;
    *total = s->nunits;
}

/* Requests tried again so far (item.h: retries). */
static uint64_t
rest_retries(void *ctx)
{
    struct rest_src *s = ctx;

    return sl_http_retries(s->http);
}

const struct sl_source_ops sl_source_fhir_rest = {
    .type = "fhir-rest",
    .open = rest_open,
    .next = rest_next,
    .close = rest_close,
    .progress = rest_progress,
    .since = sl_rest_since,
    .retries = rest_retries,
};

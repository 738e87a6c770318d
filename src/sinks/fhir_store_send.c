/* fhir_store_send.c - one Bundle of the fhir-store target built and sent
 * (fhir_store_int.h).
 *
 * Entries: `PUT Type/id`, or with conditional="identifier" a conditional
 * create (`POST Type` with `ifNoneExist`), each with a fullUrl
 * `urn:uuid:UUID` named by its Type/id. In a transaction, a reference
 * `Type/id` to another entry of the same Bundle is rewritten to that
 * entry's fullUrl, so the server resolves it to whatever id the entry gets
 * (FHIR R4 3.1.0.11.2, transaction processing); a batch resolves nothing
 * between its entries, so its references stay as they are. The Bundle's
 * text is written from each resource's serialised text; no document of
 * the Bundle is built, and a transaction's reply is read only when it is
 * a refusal.
 *
 * Refusals: a batch entry answered with a non-2xx status is refused with
 * the server's diagnostics; a refused Bundle is split in halves until the
 * refused entry is alone (a transaction) or the whole request is retried
 * as halves (a batch the server refuses as a whole); a request still
 * answered 429/5xx after every try refuses its entries. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sinks/fhir_store_int.h"
#include "fhir/fhir_json.h"

/* what the server may answer for one Bundle: bounded (a batch-response of
 * bundle-size entries) */
#define RESP_MAX ((size_t)64 << 20)
/* what is read of a transaction's reply: enough for an OperationOutcome */
#define DIAG_REPLY_MAX ((size_t)1 << 20)

char *
store_diagnostics(const json_t *oo)
{
    struct sl_buf b;
    const json_t *issues = json_object_get(oo, "issue"), *is;
    size_t i;

    sl_buf_init(&b);
    json_array_foreach(issues, i, is)
    {
        const char *d = json_string_value(json_object_get(is, "diagnostics"));
        if (d == NULL)
            d = json_string_value(
                json_object_get(json_object_get(is, "details"), "text"));
        if (d == NULL)
            continue;
        if (b.len > 0)
            sl_buf_adds(&b, "; ");
        sl_buf_adds(&b, d);
        if (b.len > DIAG_MAX)
            break;
    }
    if (b.len == 0)
        sl_buf_adds(&b, "no diagnostics");
    if (b.len > DIAG_MAX) {
        /* cut at a character's start: the server's text is UTF-8
         * (jansson checks it), and a quarantine reason cut through a
         * character is no longer valid text for the reports and JSON
         * that show it (a cut through "é" found by fuzz_store_reply,
         * seed regress-diag-cut-in-utf8) */
        b.len = DIAG_MAX;
        while (b.len > 0 && ((unsigned char)b.data[b.len] & 0xc0) == 0x80)
            b.len--;
        sl_buf_adds(&b, "...");
    }
    sl_buf_addc(&b, '\0');
    for (i = 0; b.data[i]; i++)
        if ((unsigned char)b.data[i] < 0x20 || b.data[i] == 0x7f)
            b.data[i] = ' ';
    return sl_buf_steal(&b);
}

size_t
store_batch_reply(const json_t *reply, const struct entry *e, size_t n,
                  struct store_verdict *v)
{
    const json_t *entries = json_object_get(reply, "entry");
    size_t i, got = json_array_size(entries);

    if (got != n)
        return got;
    for (i = 0; i < n; i++) {
        const json_t *r =
            json_object_get(json_array_get(entries, i), "response");
        const char *st = json_string_value(json_object_get(r, "status"));

        v[i].status = st ? strtol(st, NULL, 10) : 0;
        v[i].diag = NULL;
        /* a delete of what is gone is done */
        v[i].taken = st != NULL &&
                     (st[0] == '2' ||
                      (e[i].del && (strncmp(st, "404", 3) == 0 ||
                                    strncmp(st, "410", 3) == 0)));
        if (!v[i].taken)
            v[i].diag = store_diagnostics(json_object_get(r, "outcome"));
    }
    return n;
}

struct sl_item *
store_item_copy(const struct sl_item *it, const char *text, size_t len)
{
    struct sl_item *c = sl_item_new(SL_ITEM_FHIR);

    c->seq = it->seq;
    c->source = it->source;
    c->rank = it->rank;
    c->pos = it->pos ? sl_strdup(it->pos) : NULL;
    c->origin = it->origin ? sl_strdup(it->origin) : NULL;
    c->rtype = it->rtype ? sl_strdup(it->rtype) : NULL;
    c->out_json = sl_strndup(text, len);
    c->out_json_len = len;
    return c;
}

void
store_entry_clear(struct entry *e)
{
    json_decref(e->res);
    free(e->ref);
    free(e->if_none_exist);
    sl_item_free(e->copy);
    memset(e, 0, sizeof(*e));
}

void
store_full_url(const char *ref, char out[46])
{
    /* RFC 9562's URL namespace, 6ba7b811-9dad-11d1-80b4-00c04fd430c8 */
    static const unsigned char ns[16] = { 0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad,
                                          0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0,
                                          0x4f, 0xd4, 0x30, 0xc8 };
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int i, o;

    memset(md, 0, sizeof(md));
    if (c != NULL && EVP_DigestInit_ex(c, EVP_sha1(), NULL) == 1 &&
        EVP_DigestUpdate(c, ns, sizeof(ns)) == 1 &&
        EVP_DigestUpdate(c, ref, strlen(ref)) == 1)
        EVP_DigestFinal_ex(c, md, NULL);
    EVP_MD_CTX_free(c);
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x50); /* version 5 */
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80); /* RFC variant */
    memcpy(out, "urn:uuid:", 9);
    o = 9;
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[md[i] >> 4];
        out[o++] = hex[md[i] & 15];
    }
    out[o] = '\0';
}

/* The entries of a Bundle by ref, sorted, to find a reference's target. */
struct refidx {
    const struct entry **by_ref;
    size_t n;
};

static int
by_ref_cmp(const void *x, const void *y)
{
    const struct entry *const *a = x, *const *b = y;

    return strcmp((*a)->ref, (*b)->ref);
}

static const struct entry *
refidx_find(const struct refidx *ix, const char *ref)
{
    size_t lo = 0, hi = ix->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ref, ix->by_ref[mid]->ref);
        if (c == 0)
            return ix->by_ref[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static int
is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Appends the resource's JSON text t (n bytes, valid JSON) to b, each
 * "reference": "Type/id" naming an entry of ix written as that entry's
 * fullUrl. The text is scanned, not parsed: a key is the only place where
 * the bytes "reference" followed by ':' can stand (inside a string its
 * quotes would be escaped), and a Type/id value holds no escape. */
static void
add_rewritten(struct sl_buf *b, const char *t, size_t n,
              const struct refidx *ix)
{
    static const char key[] = "\"reference\"";
    const size_t klen = sizeof(key) - 1;
    size_t done = 0, i = 0;

    while (ix->n > 0 && i + klen < n) {
        const char *hit = memmem(t + i, n - i, key, klen);
        size_t v, e;
        char ref[160];
        const struct entry *to;

        if (hit == NULL)
            break;
        v = (size_t)(hit - t) + klen;
        i = v;
        while (v < n && is_ws(t[v]))
            v++;
        if (v >= n || t[v] != ':')
            continue;
        v++;
        while (v < n && is_ws(t[v]))
            v++;
        if (v >= n || t[v] != '"')
            continue;
        v++;
        for (e = v; e < n && t[e] != '"' && t[e] != '\\'; e++)
            ;
        if (e >= n || t[e] != '"' || e - v >= sizeof(ref))
            continue;
        memcpy(ref, t + v, e - v);
        ref[e - v] = '\0';
        if ((to = refidx_find(ix, ref)) == NULL)
            continue;
        sl_buf_add(b, t + done, v - done);
        sl_buf_adds(b, to->full_url);
        done = e;
        i = e;
    }
    sl_buf_add(b, t + done, n - done);
}

char *
store_bundle_text(struct store *s, struct entry *e, size_t lo, size_t hi)
{
    struct refidx ix = { NULL, 0 };
    struct sl_buf b;
    size_t i;

    if (s->mode == MODE_TRANSACTION) {
        ix.by_ref = sl_malloc((hi - lo) * sizeof(*ix.by_ref));
        for (i = lo; i < hi; i++)
            if (!e[i].del) /* nothing to refer to */
                ix.by_ref[ix.n++] = &e[i];
        if (ix.n > 1)
            qsort(ix.by_ref, ix.n, sizeof(*ix.by_ref), by_ref_cmp);
    }
    sl_buf_init(&b);
    sl_buf_adds(&b, "{\"resourceType\":\"Bundle\",\"type\":\"");
    sl_buf_adds(&b, s->mode == MODE_BATCH ? "batch" : "transaction");
    sl_buf_adds(&b, "\",\"entry\":[");
    for (i = lo; i < hi; i++) {
        char *own = NULL;
        const char *t = e[i].text;
        size_t n = e[i].text_len;

        /* not kept, or holding a NUL byte between tokens (jansson's
         * reader skips those; the Bundle's text would end there, found by
         * fuzz_store_bundle): written again */
        if (t == NULL || memchr(t, '\0', n) != NULL) {
            own = sl_fhir_json_dumps(e[i].res, JSON_COMPACT);
            t = own != NULL ? own : "{}";
            n = strlen(t);
        }
        if (i > lo)
            sl_buf_addc(&b, ',');
        if (e[i].del) { /* ref holds no character JSON escapes */
            sl_buf_adds(&b, "{\"request\":{\"method\":\"DELETE\",\"url\":\"");
            sl_buf_adds(&b, e[i].ref);
            sl_buf_adds(&b, "\"}}");
            if (own != NULL)
                sl_freezero(own, strlen(own));
            continue;
        }
        /* full_url, ref and if_none_exist hold no character JSON escapes */
        sl_buf_adds(&b, "{\"fullUrl\":\"");
        sl_buf_adds(&b, e[i].full_url);
        sl_buf_adds(&b, "\",\"resource\":");
        add_rewritten(&b, t, n, &ix);
        if (e[i].if_none_exist != NULL) {
            sl_buf_adds(&b, ",\"request\":{\"method\":\"POST\",\"url\":\"");
            sl_buf_add(&b, e[i].ref, strcspn(e[i].ref, "/"));
            sl_buf_adds(&b, "\",\"ifNoneExist\":\"");
            sl_buf_adds(&b, e[i].if_none_exist);
        } else {
            sl_buf_adds(&b, ",\"request\":{\"method\":\"PUT\",\"url\":\"");
            sl_buf_adds(&b, e[i].ref);
        }
        sl_buf_adds(&b, "\"}}");
        if (own != NULL)
            sl_freezero(own, strlen(own));
    }
    sl_buf_adds(&b, "]}");
    sl_buf_addc(&b, '\0');
    free(ix.by_ref);
    return sl_buf_steal(&b);
}

/* The server's reply to one request, collected up to max bytes. With
 * keep_small, a longer reply (a transaction's, read only when it is a
 * refusal) is not an error: what is beyond is dropped and truncated set. */
struct reply {
    struct sl_buf buf;
    size_t max;
    int keep_small, truncated;
};

static int
collect_reply(void *arg, const char *data, size_t n)
{
    struct reply *r = arg;

    if (r->buf.len + n > r->max) {
        if (!r->keep_small)
            return 1;
        r->truncated = 1;
        return 0;
    }
    sl_buf_add(&r->buf, data, n);
    return 0;
}

static void
refuse(struct store *s, struct entry *e, long status, const char *diag)
{
    if (e->copy == NULL)
        return;
    sl_item_quarantine(e->copy, "fhir-store",
                       "target %s: the server refused the resource: HTTP "
                       "%ld: %s",
                       s->id, status, diag);
    pthread_mutex_lock(&s->mu);
    s->refused =
        sl_realloc(s->refused, (s->nrefused + 1) * sizeof(*s->refused));
    s->refused[s->nrefused++] = e->copy;
    pthread_mutex_unlock(&s->mu);
    e->copy = NULL;
    e->text = NULL; /* it was the copy's */
}

static void
count_sent(struct store *s, unsigned long long n)
{
    pthread_mutex_lock(&s->mu);
    s->sent += n;
    pthread_mutex_unlock(&s->mu);
}

int
store_send(struct store *s, struct entry *e, size_t lo, size_t hi,
           struct sl_err *err)
{
    struct reply body = { { 0 }, RESP_MAX, 0, 0 };
    struct sl_http_req rq = { 0 };
    struct sl_http_resp rs;
    json_t *reply = NULL;
    struct store_verdict *v = NULL;
    char *text = NULL, *diag = NULL, *type = NULL, *cond = NULL;
    const char *hdrs[2] = { NULL, NULL };
    size_t i, n;
    int rc;

    if (lo >= hi)
        return SL_OK;
    rq.content_type = "application/fhir+json";
    if (s->mode == MODE_NONE) {
        /* one request: PUT by id, or POST with If-None-Exist */
        if (e[lo].if_none_exist != NULL) {
            /* a create takes no id (FHIR R4 3.1.0.7.1): some servers
             * refuse one that differs from the match they find */
            json_t *c = json_copy(e[lo].res);
            json_object_del(c, "id");
            text = sl_fhir_json_dumps(c, JSON_COMPACT);
            json_decref(c);
        } else {
            text = e[lo].text != NULL
                       ? sl_strndup(e[lo].text, e[lo].text_len)
                       : sl_fhir_json_dumps(e[lo].res, JSON_COMPACT);
        }
        if (e[lo].if_none_exist != NULL) {
            type = sl_strndup(e[lo].ref, strcspn(e[lo].ref, "/"));
            cond = sl_asprintf("If-None-Exist: %s", e[lo].if_none_exist);
            hdrs[0] = cond;
            rq.headers = hdrs;
        }
        rq.method = type != NULL ? "POST" : e[lo].del ? "DELETE" : "PUT";
        rq.path = type != NULL ? type : e[lo].ref;
        if (e[lo].del) {
            free(text);
            text = sl_strdup("");
            rq.content_type = NULL;
        }
    } else {
        text = store_bundle_text(s, e, lo, hi);
        rq.method = "POST";
        rq.path = "";
    }
    if (text == NULL) {
        rc = SL_ERR(err, SL_ENOMEM, "target %s: out of memory", s->id);
        goto out;
    }
    rq.body = text;
    rq.body_len = strlen(text);
    /* a transaction succeeds or fails whole: its reply is read only when
     * it failed (its diagnostics), so the reply is kept only up to what a
     * refusal says; a batch's reply says how each entry went */
    body.max = s->mode == MODE_TRANSACTION ? DIAG_REPLY_MAX : RESP_MAX;
    body.keep_small = s->mode == MODE_TRANSACTION;
    rq.sink = collect_reply;
    rq.sink_arg = &body;
    rc = sl_http_do(s->http, &rq, &rs, err);
    if (rc == SL_ENET && rs.status != 0) {
        /* still 429/5xx after every try: these resources wait in the
         * quarantine for `sluice replay` */
        sl_log(SL_LOG_WARN, "target %s: %s", s->id, err->msg);
        for (i = lo; i < hi; i++)
            refuse(s, &e[i], rs.status,
                   "the server kept refusing the request (retried)");
        rc = SL_OK;
        goto out;
    }
    if (rc != SL_OK) {
        sl_err_prefix(err, "target %s", s->id);
        goto out;
    }
    if (rs.status < 200 || rs.status > 299 || s->mode != MODE_TRANSACTION)
        reply = body.buf.len && !body.truncated
                    ? json_loadb(body.buf.data, body.buf.len, 0, NULL)
                    : NULL;
    if (hi - lo == 1 && e[lo].del && (rs.status == 404 || rs.status == 410)) {
        count_sent(s, 1); /* already gone: what a delete wants */
        goto out;
    }
    if (rs.status < 200 || rs.status > 299) {
        if (hi - lo > 1) { /* find the entry it refuses */
            size_t mid = lo + (hi - lo) / 2;
            if ((rc = store_send(s, e, lo, mid, err)) == SL_OK)
                rc = store_send(s, e, mid, hi, err);
            goto out;
        }
        diag = store_diagnostics(reply);
        refuse(s, &e[lo], rs.status, diag);
        goto out;
    }
    if (s->mode == MODE_NONE) {
        count_sent(s, 1);
        goto out;
    }
    if (s->mode == MODE_TRANSACTION) {
        /* 2xx: every entry was applied (FHIR R4 3.1.0.11.2) */
        count_sent(s, hi - lo);
        goto out;
    }
    v = sl_calloc(hi - lo, sizeof(*v));
    n = store_batch_reply(reply, e + lo, hi - lo, v);
    if (n != hi - lo) {
        char *url = sl_http_url_for_log(s->http, "");
        rc = SL_ERR(err, SL_ENET,
                    "target %s: POST %s: the server's reply "
                    "(HTTP %ld) has %zu entries for a Bundle of %zu",
                    s->id, url, rs.status, n, hi - lo);
        free(url);
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (v[i].taken)
            count_sent(s, 1);
        else /* a batch entry refused on its own: its OperationOutcome */
            refuse(s, &e[lo + i], v[i].status, v[i].diag);
    }
out:
    if (v != NULL)
        for (i = 0; i < hi - lo; i++)
            free(v[i].diag);
    free(v);
    if (body.buf.data)
        sl_freezero(body.buf.data, body.buf.cap);
    if (text)
        sl_freezero(text, strlen(text));
    json_decref(reply);
    free(diag);
    free(type);
    free(cond);
    return rc;
}

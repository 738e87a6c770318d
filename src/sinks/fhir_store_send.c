/* fhir_store_send.c - one Bundle of the fhir-store target built and sent
 * (fhir_store_int.h).
 *
 * Entries: `PUT Type/id`, or with conditional="identifier" a conditional
 * create (`POST Type` with `ifNoneExist`), each with a fullUrl
 * `urn:uuid:UUID` named by its Type/id. In a transaction, a reference
 * `Type/id` to another entry of the same Bundle is rewritten to that
 * entry's fullUrl, so the server resolves it to whatever id the entry gets
 * (FHIR R4 3.1.0.11.2, transaction processing); a batch resolves nothing
 * between its entries, so its references stay as they are.
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

/* what the server may answer for one Bundle: bounded (a batch-response of
 * bundle-size entries) */
#define RESP_MAX ((size_t)64 << 20)
/* diagnostics kept in a quarantine reason */
#define DIAG_MAX 300

/* The diagnostics of an OperationOutcome (issue[].diagnostics, else
 * details.text), joined, control characters blanked, at most DIAG_MAX
 * bytes: only the text the server wrote, no other element of the reply.
 * Caller frees. */
static char *
diagnostics(const json_t *oo)
{
    struct sl_buf b;
    const json_t *issues = json_object_get(oo, "issue"), *is;
    size_t i;

    sl_buf_init(&b);
    json_array_foreach(issues, i, is) {
        const char *d = json_string_value(json_object_get(is, "diagnostics"));
        if (d == NULL)
            d = json_string_value(json_object_get(
                json_object_get(is, "details"), "text"));
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
        b.len = DIAG_MAX;
        sl_buf_adds(&b, "...");
    }
    sl_buf_addc(&b, '\0');
    for (i = 0; b.data[i]; i++)
        if ((unsigned char)b.data[i] < 0x20 || b.data[i] == 0x7f)
            b.data[i] = ' ';
    return sl_buf_steal(&b);
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
    o = snprintf(out, 46, "urn:uuid:");
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        snprintf(out + o, 3, "%02x", md[i]);
        o += 2;
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

/* Rewrites, in v, every "reference": "Type/id" naming an entry of ix to
 * that entry's fullUrl; with dry set, changes nothing and says whether
 * there is one to rewrite. */
static int
rewrite_refs(json_t *v, const struct refidx *ix, int dry)
{
    const char *k;
    json_t *x;
    size_t i;
    int found = 0;

    if (json_is_object(v)) {
        json_object_foreach(v, k, x) {
            if (strcmp(k, "reference") == 0 && json_is_string(x)) {
                const struct entry *e = refidx_find(ix, json_string_value(x));
                if (e != NULL) {
                    if (dry)
                        return 1;
                    json_string_set(x, e->full_url);
                    found = 1;
                }
            } else if (json_is_object(x) || json_is_array(x)) {
                found |= rewrite_refs(x, ix, dry);
                if (found && dry)
                    return 1;
            }
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x) {
            found |= rewrite_refs(x, ix, dry);
            if (found && dry)
                return 1;
        }
    }
    return found;
}

static json_t *
bundle_of(struct store *s, struct entry *e, size_t lo, size_t hi)
{
    json_t *b = json_object(), *entries = json_array();
    struct refidx ix = { NULL, 0 };
    size_t i;

    if (s->mode == MODE_TRANSACTION) {
        ix.by_ref = sl_malloc((hi - lo) * sizeof(*ix.by_ref));
        for (i = lo; i < hi; i++)
            ix.by_ref[ix.n++] = &e[i];
        qsort(ix.by_ref, ix.n, sizeof(*ix.by_ref), by_ref_cmp);
    }
    json_object_set_new(b, "resourceType", json_string("Bundle"));
    json_object_set_new(b, "type", json_string(s->mode == MODE_BATCH
                                                   ? "batch"
                                                   : "transaction"));
    for (i = lo; i < hi; i++) {
        json_t *res = json_incref(e[i].res), *rq;
        const char *slash = strchr(e[i].ref, '/');

        /* the resource is shared with the item: copied before a rewrite */
        if (ix.n > 0 && rewrite_refs(res, &ix, 1)) {
            json_decref(res);
            res = json_deep_copy(e[i].res);
            rewrite_refs(res, &ix, 0);
        }
        if (e[i].if_none_exist != NULL) {
            char *type = sl_strndup(e[i].ref, (size_t)(slash - e[i].ref));
            rq = json_pack("{s:s, s:s, s:s}", "method", "POST", "url", type,
                           "ifNoneExist", e[i].if_none_exist);
            free(type);
        } else {
            rq = json_pack("{s:s, s:s}", "method", "PUT", "url", e[i].ref);
        }
        /* json_pack's o steals the references */
        json_array_append_new(entries,
                              json_pack("{s:s, s:o, s:o}", "fullUrl",
                                        e[i].full_url, "resource", res,
                                        "request", rq));
    }
    json_object_set_new(b, "entry", entries); /* b owns entries */
    free(ix.by_ref);
    return b;
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
    s->refused = sl_realloc(s->refused,
                            (s->nrefused + 1) * sizeof(*s->refused));
    s->refused[s->nrefused++] = e->copy;
    pthread_mutex_unlock(&s->mu);
    e->copy = NULL;
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
    struct sl_http_body body = { { 0 }, RESP_MAX };
    struct sl_http_req rq = { 0 };
    struct sl_http_resp rs;
    json_t *b = NULL, *reply = NULL, *entries;
    char *text = NULL, *diag = NULL, *type = NULL, *cond = NULL;
    const char *hdrs[2] = { NULL, NULL };
    size_t i, n;
    int rc;

    if (lo >= hi)
        return SL_OK;
    rq.content_type = "application/fhir+json";
    if (s->mode == MODE_NONE) {
        /* one request: PUT by id, or POST with If-None-Exist */
        text = json_dumps(e[lo].res, JSON_COMPACT);
        if (e[lo].if_none_exist != NULL) {
            type = sl_strndup(e[lo].ref, strcspn(e[lo].ref, "/"));
            cond = sl_asprintf("If-None-Exist: %s", e[lo].if_none_exist);
            hdrs[0] = cond;
            rq.headers = hdrs;
        }
        rq.method = type != NULL ? "POST" : "PUT";
        rq.path = type != NULL ? type : e[lo].ref;
    } else {
        b = bundle_of(s, e, lo, hi);
        text = json_dumps(b, JSON_COMPACT);
        json_decref(b);
        rq.method = "POST";
        rq.path = "";
    }
    if (text == NULL) {
        rc = SL_ERR(err, SL_ENOMEM, "target %s: out of memory", s->id);
        goto out;
    }
    rq.body = text;
    rq.body_len = strlen(text);
    rq.sink = sl_http_collect;
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
    reply = body.buf.len ? json_loadb(body.buf.data, body.buf.len, 0, NULL)
                         : NULL;
    if (rs.status < 200 || rs.status > 299) {
        if (hi - lo > 1) { /* find the entry it refuses */
            size_t mid = lo + (hi - lo) / 2;
            if ((rc = store_send(s, e, lo, mid, err)) == SL_OK)
                rc = store_send(s, e, mid, hi, err);
            goto out;
        }
        diag = diagnostics(reply);
        refuse(s, &e[lo], rs.status, diag);
        goto out;
    }
    if (s->mode == MODE_NONE) {
        count_sent(s, 1);
        goto out;
    }
    entries = json_object_get(reply, "entry");
    n = json_array_size(entries);
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
        const json_t *r =
            json_object_get(json_array_get(entries, i), "response");
        const char *st = json_string_value(json_object_get(r, "status"));
        if (st != NULL && st[0] == '2') {
            count_sent(s, 1);
            continue;
        }
        /* a batch entry refused on its own: its OperationOutcome */
        free(diag);
        diag = diagnostics(json_object_get(r, "outcome"));
        refuse(s, &e[lo + i], st ? strtol(st, NULL, 10) : 0, diag);
    }
out:
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

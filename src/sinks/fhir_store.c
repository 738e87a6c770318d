/* fhir_store.c - the fhir-store target: FHIR resources sent to a FHIR
 * server through src/http, each as an idempotent `PUT Type/id`, grouped
 * in transaction or batch Bundles of bundle-size entries, or one request
 * per resource (bundle="none").
 *
 * Exactly once: checkpoint() sends whatever is pending, so a committed
 * checkpoint means every resource before it is on the server (or
 * quarantined). After a crash the sources resume after the last committed
 * checkpoint and the resources sent after it are sent again: a PUT of the
 * same id with the same content changes nothing, so the server ends with
 * one copy of each (it may record one more version in its history). The
 * state is therefore only a count, for the audit trail.
 *
 * Refusals: a resource the server refuses (an entry of a batch answered
 * with a non-2xx status, the one entry a refused transaction is bisected
 * down to, a request still answered 429/5xx after every try) is
 * quarantined with the status and the server's diagnostics text. Items of
 * earlier put()s are handed back through refused() (item.h), so the run
 * goes on. A server that cannot be reached at all stops the run: nothing
 * is quarantined for a network outage, the resume sends it again. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "http/auth.h"
#include "http/http.h"
#include "sinks/sinks.h"
#include "sinks/sinks_int.h"

enum store_mode { MODE_NONE, MODE_BATCH, MODE_TRANSACTION };

/* what the server may answer for one Bundle: bounded, never streamed to
 * disk (a batch-response of bundle-size entries) */
#define RESP_MAX ((size_t)64 << 20)
/* diagnostics kept in a quarantine reason */
#define DIAG_MAX 300

struct entry {
    json_t *res;          /* owned reference */
    char *ref;            /* "Type/id" */
    struct sl_item *copy; /* what is quarantined if the server refuses it */
};

struct store {
    const char *id;
    struct sl_http *http;
    struct sl_http_auth *auth; /* or NULL; the client borrows it */
    enum store_mode mode;
    long size;
    struct entry *pend;
    size_t npend;
    struct sl_item **refused;
    size_t nrefused;
    unsigned long long sent; /* resources the server took, this attempt */
};

/* FHIR's id: [A-Za-z0-9\-\.]{1,64}, so it is safe in a URL path */
static int
id_ok(const char *id)
{
    size_t i;

    if (id == NULL || id[0] == '\0' || strlen(id) > 64)
        return 0;
    for (i = 0; id[i]; i++)
        if (!((id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= 'a' && id[i] <= 'z') ||
              (id[i] >= '0' && id[i] <= '9') || id[i] == '-' || id[i] == '.'))
            return 0;
    return 1;
}

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

/* A copy of what the quarantine needs of an item (item.h: refused). */
static struct sl_item *
item_copy(const struct sl_item *it, const char *text, size_t len)
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

static void
refuse(struct store *s, struct entry *e, long status, const char *diag)
{
    if (e->copy == NULL)
        return;
    sl_item_quarantine(e->copy, "fhir-store",
                       "target %s: the server refused the resource: HTTP "
                       "%ld: %s", s->id, status, diag);
    s->refused = sl_realloc(s->refused,
                            (s->nrefused + 1) * sizeof(*s->refused));
    s->refused[s->nrefused++] = e->copy;
    e->copy = NULL;
}

static void
entry_clear(struct entry *e)
{
    json_decref(e->res);
    free(e->ref);
    sl_item_free(e->copy);
    memset(e, 0, sizeof(*e));
}

static json_t *
bundle_of(struct store *s, size_t lo, size_t hi)
{
    json_t *b = json_object(), *entries = json_array();
    size_t i;

    json_object_set_new(b, "resourceType", json_string("Bundle"));
    json_object_set_new(b, "type", json_string(s->mode == MODE_BATCH
                                                   ? "batch"
                                                   : "transaction"));
    for (i = lo; i < hi; i++) {
        /* json_pack's O takes a new reference: the entry keeps it */
        json_array_append_new(entries,
                              json_pack("{s:O, s:{s:s, s:s}}", "resource",
                                        s->pend[i].res, "request", "method",
                                        "PUT", "url", s->pend[i].ref));
    }
    json_object_set_new(b, "entry", entries); /* b owns entries */
    return b;
}

/* Sends entries [lo, hi) as one Bundle; splits a refused one in halves
 * until the refused entries are alone. */
static int
send_range(struct store *s, size_t lo, size_t hi, struct sl_err *err)
{
    struct sl_http_body body = {{0}, RESP_MAX};
    struct sl_http_req rq = {0};
    struct sl_http_resp rs;
    json_t *b = NULL, *reply = NULL, *entries;
    char *text = NULL, *diag = NULL;
    size_t i, n;
    int rc;

    if (lo >= hi)
        return SL_OK;
    b = bundle_of(s, lo, hi);
    text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    rq.method = "POST";
    rq.path = "";
    rq.content_type = "application/fhir+json";
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
            refuse(s, &s->pend[i], rs.status, "the server kept refusing "
                                              "the request (retried)");
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
            if ((rc = send_range(s, lo, mid, err)) == SL_OK)
                rc = send_range(s, mid, hi, err);
            goto out;
        }
        diag = diagnostics(reply);
        refuse(s, &s->pend[lo], rs.status, diag);
        goto out;
    }
    entries = json_object_get(reply, "entry");
    n = json_array_size(entries);
    if (n != hi - lo) {
        char *url = sl_http_url_for_log(s->http, "");
        rc = SL_ERR(err, SL_ENET, "target %s: POST %s: the server's reply "
                    "(HTTP %ld) has %zu entries for a Bundle of %zu",
                    s->id, url, rs.status, n, hi - lo);
        free(url);
        goto out;
    }
    for (i = 0; i < n; i++) {
        const json_t *r = json_object_get(json_array_get(entries, i),
                                          "response");
        const char *st = json_string_value(json_object_get(r, "status"));
        if (st != NULL && st[0] == '2') {
            s->sent++;
            continue;
        }
        free(diag);
        diag = diagnostics(json_object_get(r, "outcome"));
        refuse(s, &s->pend[lo + i], st ? strtol(st, NULL, 10) : 0, diag);
    }
out:
    if (body.buf.data)
        sl_freezero(body.buf.data, body.buf.cap);
    if (text)
        sl_freezero(text, strlen(text));
    json_decref(reply);
    free(diag);
    return rc;
}

static int
flush(struct store *s, struct sl_err *err)
{
    size_t i;
    int rc = send_range(s, 0, s->npend, err);

    if (rc != SL_OK)
        return rc; /* pending kept: nothing is lost before the stop */
    for (i = 0; i < s->npend; i++)
        entry_clear(&s->pend[i]);
    s->npend = 0;
    return SL_OK;
}

/* bundle="none": one PUT, and the item itself quarantined if refused */
static int
put_one(struct store *s, struct sl_item *it, const char *ref,
        const char *text, size_t len, struct sl_err *err)
{
    struct sl_http_body body = {{0}, 1 << 20};
    struct sl_http_req rq = {0};
    struct sl_http_resp rs;
    json_t *reply = NULL;
    char *diag = NULL;
    int rc;

    rq.method = "PUT";
    rq.path = ref;
    rq.content_type = "application/fhir+json";
    rq.body = text;
    rq.body_len = len;
    rq.sink = sl_http_collect;
    rq.sink_arg = &body;
    rc = sl_http_do(s->http, &rq, &rs, err);
    if (rc == SL_ENET && rs.status != 0) {
        sl_log(SL_LOG_WARN, "target %s: %s", s->id, err->msg);
        rc = sl_item_quarantine(it, "fhir-store", "target %s: the server "
                                "refused the resource: HTTP %ld: the server "
                                "kept refusing the request (retried)",
                                s->id, rs.status);
        goto out;
    }
    if (rc != SL_OK) {
        sl_err_prefix(err, "target %s", s->id);
        goto out;
    }
    if (rs.status >= 200 && rs.status <= 299) {
        s->sent++;
        goto out;
    }
    if (body.buf.len)
        reply = json_loadb(body.buf.data, body.buf.len, 0, NULL);
    diag = diagnostics(reply);
    rc = sl_item_quarantine(it, "fhir-store", "target %s: the server "
                            "refused the resource: HTTP %ld: %s", s->id,
                            rs.status, diag);
out:
    if (body.buf.data)
        sl_freezero(body.buf.data, body.buf.cap);
    json_decref(reply);
    free(diag);
    return rc;
}

static int
st_put(void *ctx, struct sl_item *it, int *taken, struct sl_err *err)
{
    struct store *s = ctx;
    json_t *res = NULL;
    const char *type, *id;
    char *ref = NULL, *own = NULL;
    const char *text;
    size_t len;
    struct entry *e;
    int rc = SL_OK;

    *taken = 0;
    if (it->kind != SL_ITEM_FHIR)
        return SL_OK;
    *taken = 1;
    if (it->out_json != NULL) { /* serialised by a worker */
        text = it->out_json;
        len = it->out_json_len;
        res = it->resource ? json_incref(it->resource)
                           : json_loadb(text, len, 0, NULL);
    } else {
        res = json_incref(it->resource);
        own = res ? json_dumps(res, JSON_COMPACT) : NULL;
        text = own;
        len = own ? strlen(own) : 0;
    }
    if (res == NULL || text == NULL) {
        rc = sl_item_quarantine(it, "fhir-store", "target %s: the resource "
                                "cannot be serialised", s->id);
        goto out;
    }
    type = json_string_value(json_object_get(res, "resourceType"));
    id = json_string_value(json_object_get(res, "id"));
    if (!sinks_type_ok(type)) {
        rc = sl_item_quarantine(it, "fhir-store", "target %s: resourceType "
                                "is missing or not a FHIR type name", s->id);
        goto out;
    }
    if (!id_ok(id)) {
        /* a POST would make a new copy on every re-run */
        rc = sl_item_quarantine(it, "fhir-store", "target %s: the resource "
                                "has no valid id, and a fhir-store target "
                                "only PUTs by id", s->id);
        goto out;
    }
    ref = sl_asprintf("%s/%s", type, id);
    if (s->mode == MODE_NONE) {
        rc = put_one(s, it, ref, text, len, err);
        goto out;
    }
    s->pend = sl_realloc(s->pend, (s->npend + 1) * sizeof(*s->pend));
    e = &s->pend[s->npend++];
    e->res = res;
    res = NULL;
    e->ref = ref;
    ref = NULL;
    e->copy = item_copy(it, text, len);
    if ((long)s->npend >= s->size)
        rc = flush(s, err);
out:
    json_decref(res);
    free(ref);
    if (own)
        sl_freezero(own, strlen(own));
    return rc;
}

static int
st_checkpoint(void *ctx, char **state, struct sl_err *err)
{
    struct store *s = ctx;
    int rc;

    if ((rc = flush(s, err)) != SL_OK)
        return rc;
    *state = sl_asprintf("{\"sent\":%llu}", s->sent);
    return SL_OK;
}

static int
st_finish(void *ctx, struct sl_err *err)
{
    return flush(ctx, err);
}

static int
st_refused(void *ctx, struct sl_item ***out, size_t *n)
{
    struct store *s = ctx;

    *out = s->refused;
    *n = s->nrefused;
    s->refused = NULL;
    s->nrefused = 0;
    return SL_OK;
}

static void
st_close(void *ctx)
{
    struct store *s = ctx;
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->npend; i++)
        entry_clear(&s->pend[i]);
    free(s->pend);
    for (i = 0; i < s->nrefused; i++)
        sl_item_free(s->refused[i]);
    free(s->refused);
    sl_http_free(s->http);
    sl_http_auth_free(s->auth); /* after the client that borrows it */
    free(s);
}

/* state is not needed: what was sent after it is sent again (see top) */
static int
st_open(const struct sl_config *cfg, const struct sl_conf_node *node,
        const char *run_id, const char *state, void **ctx, struct sl_err *err)
{
    struct store *s = sl_calloc(1, sizeof(*s));
    struct sl_http_opts o = {0};
    const char *mode = sl_conf_get(node, "bundle");
    char *ca = sl_conf_get_path(cfg, node, "ca-file");
    int rc;

    (void)run_id;
    (void)state;
    s->id = node->id;
    s->mode = mode && strcmp(mode, "batch") == 0  ? MODE_BATCH
              : mode && strcmp(mode, "none") == 0 ? MODE_NONE
                                                  : MODE_TRANSACTION;
    s->size = sl_conf_get_long(node, "bundle-size", 50);
    if (s->size < 1)
        s->size = 50;
    o.base = sl_conf_get(node, "base");
    o.ca_file = ca;
    o.timeout_ms = sl_conf_get_long(node, "timeout", 300) * 1000;
    o.max_attempts = (int)sl_conf_get_long(node, "max-attempts", 5);
    /* <auth>: secrets and keys read now, so that a missing one fails
     * before the first request */
    if ((rc = sl_http_auth_new(cfg, node, &s->auth, err)) != SL_OK) {
        sl_err_prefix(err, "target %s", node->id);
        goto out;
    }
    o.auth = s->auth;
    if ((rc = sl_http_new(&o, &s->http, err)) != SL_OK) {
        sl_err_prefix(err, "target %s", node->id);
        goto out;
    }
    *ctx = s;
    s = NULL;
out:
    free(ca);
    st_close(s);
    return rc;
}

const struct sl_sink_ops sl_sink_fhir_store = {
    "fhir-store",  st_open,  st_put, st_checkpoint,
    st_finish,     st_close, NULL,   st_refused,
};

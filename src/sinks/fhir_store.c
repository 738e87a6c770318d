/* fhir_store.c - the fhir-store target: FHIR resources sent to a FHIR
 * server through src/http, each as an idempotent `PUT Type/id` (or a
 * conditional create, conditional="identifier"), grouped in transaction
 * or batch Bundles of bundle-size entries, or one request per resource
 * (bundle="none"); up to `concurrency` Bundles in flight. Building and
 * sending one Bundle is fhir_store_send.c.
 *
 * Exactly once: checkpoint() sends whatever is pending and waits until
 * every Bundle in flight has its answer, so a committed checkpoint means
 * every resource before it is on the server (or quarantined). After a
 * crash the sources resume after the last committed checkpoint and the
 * resources sent after it are sent again: a PUT of the same id with the
 * same content (or a conditional create that finds it) changes nothing,
 * so the server ends with one copy of each (it may record one more
 * version in its history). The state is therefore only a count, for the
 * audit trail.
 *
 * Concurrency: with concurrency="1" the writer's thread sends each Bundle
 * itself. Above, full Bundles go to a queue of at most `concurrency`
 * Bundles that as many threads send; put() waits while the queue is full,
 * so memory stays bounded. The first Bundle that cannot be sent at all
 * (the server cannot be reached) fails the next put() or checkpoint():
 * the run stops before the checkpoint and the resume sends again.
 *
 * Refusals: a resource the server refuses is quarantined with the status
 * and the server's diagnostics: its copy is handed back through
 * refused() (item.h), so the run goes on. A server that cannot be reached
 * stops the run: nothing is quarantined for a network outage. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "http/auth.h"
#include "http/http.h"
#include "sinks/fhir_store_int.h"
#include "sinks/sinks.h"
#include "sinks/sinks_int.h"
#include "fhir/fhir_json.h"

/* A full Bundle waiting for a sending thread. */
struct bundle_job {
    struct entry *e;
    size_t n;
    struct bundle_job *next;
};

/* FHIR's id: [A-Za-z0-9\-\.]{1,64}, so it is safe in a URL path */
static int
id_ok(const char *id)
{
    size_t i;

    if (id == NULL || id[0] == '\0' || strlen(id) > 64)
        return 0;
    for (i = 0; id[i]; i++)
        if (!((id[i] >= 'A' && id[i] <= 'Z') ||
              (id[i] >= 'a' && id[i] <= 'z') ||
              (id[i] >= '0' && id[i] <= '9') || id[i] == '-' || id[i] == '.'))
            return 0;
    return 1;
}

/* Percent-encodes s for a URL query value (all but RFC 3986's unreserved
 * characters). */
static void
query_escape(struct sl_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~') {
            sl_buf_addc(b, (char)c);
        } else {
            sl_buf_addc(b, '%');
            sl_buf_addc(b, hex[c >> 4]);
            sl_buf_addc(b, hex[c & 15]);
        }
    }
}

/* The ifNoneExist search of a resource's first identifier with a value
 * ("identifier=SYSTEM|VALUE", or "identifier=VALUE" without a system), or
 * NULL when it has none. Caller frees. */
static char *
if_none_exist(const json_t *res)
{
    const json_t *ids = json_object_get(res, "identifier"), *x;
    struct sl_buf b;
    size_t i;

    json_array_foreach(ids, i, x)
    {
        const char *sys = json_string_value(json_object_get(x, "system"));
        const char *val = json_string_value(json_object_get(x, "value"));
        if (val == NULL || val[0] == '\0')
            continue;
        sl_buf_init(&b);
        sl_buf_adds(&b, "identifier=");
        if (sys != NULL) {
            query_escape(&b, sys);
            sl_buf_adds(&b, "%7C");
        }
        query_escape(&b, val);
        sl_buf_addc(&b, '\0');
        return sl_buf_steal(&b);
    }
    return NULL;
}

static void
job_free(struct bundle_job *j)
{
    size_t i;

    if (j == NULL)
        return;
    for (i = 0; i < j->n; i++)
        store_entry_clear(&j->e[i]);
    free(j->e);
    free(j);
}

static void *
sender(void *arg)
{
    struct store *s = arg;
    struct bundle_job *j;
    struct sl_err err;
    int rc;

    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->qhead == NULL && !s->stopping)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->qhead == NULL) { /* stopping, nothing left */
            pthread_mutex_unlock(&s->mu);
            return NULL;
        }
        j = s->qhead;
        s->qhead = j->next;
        if (s->qhead == NULL)
            s->qtail = NULL;
        s->queued--;
        s->inflight++;
        /* after a failure the run stops: what is queued is sent again by
         * the resume, not now */
        rc = s->failed ? SL_EIO : SL_OK;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        memset(&err, 0, sizeof(err));
        if (rc == SL_OK)
            rc = store_send(s, j->e, 0, j->n, &err);
        job_free(j);
        pthread_mutex_lock(&s->mu);
        if (rc != SL_OK && !s->failed) {
            s->failed = 1;
            s->ferr = err;
        }
        s->inflight--;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
}

/* The error of a Bundle a thread could not send, once (mu not held). */
static int
sender_error(struct store *s, struct sl_err *err)
{
    int rc = SL_OK;

    pthread_mutex_lock(&s->mu);
    if (s->failed) {
        *err = s->ferr;
        rc = err->code ? err->code : SL_ENET;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Hands the pending entries on: sent now (concurrency 1) or queued for
 * the threads, waiting while the queue is full. */
static int
flush(struct store *s, struct sl_err *err)
{
    struct bundle_job *j;
    size_t i, lo, step;
    int rc;

    if (s->npend == 0)
        return sender_error(s, err);
    if (s->nthreads == 0) {
        /* bundle="none" sends the pending resources one request each */
        step = s->mode == MODE_NONE ? 1 : s->npend;
        for (lo = 0; lo < s->npend; lo += step)
            if ((rc = store_send(s, s->pend, lo, lo + step, err)) != SL_OK)
                return rc; /* pending kept: nothing is lost before the stop */
        for (i = 0; i < s->npend; i++)
            store_entry_clear(&s->pend[i]);
        s->npend = 0;
        return SL_OK;
    }
    j = sl_calloc(1, sizeof(*j));
    j->e = s->pend;
    j->n = s->npend;
    s->pend = NULL;
    s->npend = 0;
    pthread_mutex_lock(&s->mu);
    while (s->queued >= (size_t)s->concurrency && !s->failed)
        pthread_cond_wait(&s->cv, &s->mu);
    if (s->failed) {
        pthread_mutex_unlock(&s->mu);
        job_free(j);
        return sender_error(s, err);
    }
    if (s->qtail != NULL)
        s->qtail->next = j;
    else
        s->qhead = j;
    s->qtail = j;
    s->queued++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return SL_OK;
}

/* Sends what is pending and waits for every Bundle in flight. */
static int
drain(struct store *s, struct sl_err *err)
{
    int rc = flush(s, err);

    if (rc != SL_OK || s->nthreads == 0)
        return rc;
    pthread_mutex_lock(&s->mu);
    while ((s->queued > 0 || s->inflight > 0) && !s->failed)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    return sender_error(s, err);
}

static int
st_put(void *ctx, struct sl_item *it, int *taken, struct sl_err *err)
{
    struct store *s = ctx;
    json_t *res = NULL;
    const char *type, *id;
    char *own = NULL;
    const char *text;
    size_t len, per;
    struct entry *e;
    int rc = SL_OK;

    *taken = 0;
    if (it->kind != SL_ITEM_FHIR)
        return SL_OK;
    *taken = 1;
    if ((rc = sender_error(s, err)) != SL_OK)
        return rc;
    if (it->out_json != NULL) { /* serialised by a worker */
        text = it->out_json;
        len = it->out_json_len;
        res = it->resource ? json_incref(it->resource)
                           : sl_fhir_json_loadb(text, len, 0, NULL);
    } else {
        res = json_incref(it->resource);
        own = res ? sl_fhir_json_dumps(res, JSON_COMPACT) : NULL;
        text = own;
        len = own ? strlen(own) : 0;
    }
    if (res == NULL || text == NULL) {
        rc = sl_item_quarantine(it, "fhir-store",
                                "target %s: the resource "
                                "cannot be serialised",
                                s->id);
        goto out;
    }
    type = json_string_value(json_object_get(res, "resourceType"));
    id = json_string_value(json_object_get(res, "id"));
    if (!sinks_type_ok(type)) {
        rc = sl_item_quarantine(it, "fhir-store",
                                "target %s: resourceType "
                                "is missing or not a FHIR type name",
                                s->id);
        goto out;
    }
    if (!id_ok(id)) {
        /* a POST would make a new copy on every re-run */
        rc = sl_item_quarantine(it, "fhir-store",
                                "target %s: the resource "
                                "has no valid id, and a fhir-store target "
                                "only PUTs by id",
                                s->id);
        goto out;
    }
    s->pend = sl_realloc(s->pend, (s->npend + 1) * sizeof(*s->pend));
    e = &s->pend[s->npend++];
    memset(e, 0, sizeof(*e));
    e->ref = sl_asprintf("%s/%s", type, id);
    store_full_url(e->ref, e->full_url);
    if (s->conditional)
        e->if_none_exist = if_none_exist(res);
    e->del = it->deleted;
    if (e->del) { /* a delete carries nothing to create */
        free(e->if_none_exist);
        e->if_none_exist = NULL;
    }
    e->res = res;
    res = NULL;
    e->copy = store_item_copy(it, text, len);
    /* the copy's text is the Bundle's too, while the copy is here (a
     * refused entry is not sent again) */
    e->text = e->copy->out_json;
    e->text_len = e->copy->out_json_len;
    per = s->mode == MODE_NONE ? 1 : (size_t)s->size;
    if (s->npend >= per)
        rc = flush(s, err);
out:
    json_decref(res);
    if (own)
        sl_freezero(own, strlen(own));
    return rc;
}

static int
st_checkpoint(void *ctx, char **state, struct sl_err *err)
{
    struct store *s = ctx;
    int rc;

    if ((rc = drain(s, err)) != SL_OK)
        return rc;
    pthread_mutex_lock(&s->mu);
    *state = sl_asprintf("{\"sent\":%llu}", s->sent);
    pthread_mutex_unlock(&s->mu);
    return SL_OK;
}

static int
st_finish(void *ctx, struct sl_err *err)
{
    return drain(ctx, err);
}

static int
st_refused(void *ctx, struct sl_item ***out, size_t *n)
{
    struct store *s = ctx;

    pthread_mutex_lock(&s->mu);
    *out = s->refused;
    *n = s->nrefused;
    s->refused = NULL;
    s->nrefused = 0;
    pthread_mutex_unlock(&s->mu);
    return SL_OK;
}

static void
st_close(void *ctx)
{
    struct store *s = ctx;
    struct bundle_job *j;
    size_t i;
    int k;

    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->failed = 1; /* what is still queued is not sent */
    s->stopping = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    for (k = 0; k < s->nthreads; k++)
        pthread_join(s->threads[k], NULL);
    free(s->threads);
    while ((j = s->qhead) != NULL) {
        s->qhead = j->next;
        job_free(j);
    }
    for (i = 0; i < s->npend; i++)
        store_entry_clear(&s->pend[i]);
    free(s->pend);
    for (i = 0; i < s->nrefused; i++)
        sl_item_free(s->refused[i]);
    free(s->refused);
    sl_http_free(s->http);
    sl_http_auth_free(s->auth); /* after the client that borrows it */
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

/* flavour="azure": the token is asked for the FHIR service's audience,
 * BASE/.default, unless <auth> names a scope. */
static void
flavour_defaults(struct store *s, const struct sl_conf_node *node)
{
    const char *fl = sl_conf_get(node, "flavour");
    const char *base = sl_conf_get(node, "base");
    char *scope;
    size_t n;

    if (fl == NULL || strcmp(fl, "azure") != 0 || base == NULL)
        return;
    scope = sl_strdup(base);
    n = strlen(scope);
    while (n > 0 && scope[n - 1] == '/')
        scope[--n] = '\0';
    sl_http_auth_scope_default(s->auth, scope, "/.default");
    free(scope);
}

/* state is not needed: what was sent after it is sent again (see top) */
static int
st_open(const struct sl_config *cfg, const struct sl_conf_node *node,
        const char *run_id, const char *state, void **ctx, struct sl_err *err)
{
    struct store *s = sl_calloc(1, sizeof(*s));
    struct sl_http_opts o = { 0 };
    const char *mode = sl_conf_get(node, "bundle");
    const char *cond = sl_conf_get(node, "conditional");
    char *ca = sl_conf_get_path(cfg, node, "ca-file");
    int rc, k;

    (void)run_id;
    (void)state;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->id = node->id;
    s->mode = mode && strcmp(mode, "batch") == 0  ? MODE_BATCH
              : mode && strcmp(mode, "none") == 0 ? MODE_NONE
                                                  : MODE_TRANSACTION;
    s->size = sl_conf_get_long(node, "bundle-size", 50);
    if (s->size < 1)
        s->size = 50;
    s->conditional = cond != NULL && strcmp(cond, "identifier") == 0;
    s->concurrency = (int)sl_conf_get_long(node, "concurrency", 1);
    if (s->concurrency < 1)
        s->concurrency = 1;
    o.base = sl_conf_get(node, "base");
    o.ca_file = ca;
    o.timeout_ms = sl_conf_get_long(node, "timeout", 300) * 1000;
    o.max_attempts = (int)sl_conf_get_long(node, "max-attempts", 5);
    o.concurrency = s->concurrency;
    /* <auth>: secrets and keys read now, so that a missing one fails
     * before the first request */
    if ((rc = sl_http_auth_new(cfg, node, &s->auth, err)) != SL_OK) {
        sl_err_prefix(err, "target %s", node->id);
        goto out;
    }
    flavour_defaults(s, node);
    o.auth = s->auth;
    if ((rc = sl_http_new(&o, &s->http, err)) != SL_OK) {
        sl_err_prefix(err, "target %s", node->id);
        goto out;
    }
    if (s->concurrency > 1) {
        s->threads = sl_calloc((size_t)s->concurrency, sizeof(*s->threads));
        for (k = 0; k < s->concurrency; k++) {
            if (pthread_create(&s->threads[k], NULL, sender, s) != 0) {
                rc = SL_ERR(err, SL_EINTERNAL,
                            "target %s: cannot start a sending thread",
                            node->id);
                goto out;
            }
            s->nthreads++;
        }
    }
    *ctx = s;
    s = NULL;
out:
    free(ca);
    st_close(s);
    return rc;
}

/* Requests tried again so far (item.h: retries). */
static uint64_t
st_retries(void *ctx)
{
    struct store *s = ctx;

    return sl_http_retries(s->http);
}

const struct sl_sink_ops sl_sink_fhir_store = {
    .type = "fhir-store",
    .open = st_open,
    .put = st_put,
    .checkpoint = st_checkpoint,
    .finish = st_finish,
    .close = st_close,
    .refused = st_refused,
    .retries = st_retries,
};

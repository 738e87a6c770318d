/* term_client.c - the remote terminology client (terminology.h): FHIR R4
 * ConceptMap/$translate, CodeSystem/$lookup and ValueSet/$validate-code
 * on a terminology server, answers cached (term_cache.c).
 *
 * Requests are POSTs of a Parameters resource (R4 operations accept the
 * form on every server: no code goes into a URL, so none into a proxy's
 * log). $translate may go in batch Bundles, one entry per coding
 * (sl_term_client_prefetch). A server answer is cached in a normal form:
 *   translate  {"o": 1 mapped | 2 unmapped, "m": [[system, version,
 *               code, display, equivalence], ...]} (translations first)
 *   lookup     {"found": bool, "display": string|null}
 *   validate   {"result": bool, "message": string|null}
 * Messages name the server's host and the operation; never a code, a
 * display or a response body. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/http.h"
#include "terminology/term_int.h"

#define MAX_BODY (4u << 20)

struct sl_term_client {
    struct sl_http *http;
    struct term_cache *cache;
    int batch;
    pthread_mutex_t mu; /* stats and the pause */
    struct sl_term_client_stats st;
    long long pause_until;
    int no_batch; /* the server refused a batch Bundle */
};

void
sl_term_client_free(struct sl_term_client *c)
{
    if (c == NULL)
        return;
    sl_http_free(c->http);
    term_cache_close(c->cache);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int
sl_term_client_new(const struct sl_term_client_opts *o,
                   struct sl_term_client **out, struct sl_err *err)
{
    struct sl_term_client *c = sl_calloc(1, sizeof(*c));
    struct sl_http_opts ho;
    int rc;

    pthread_mutex_init(&c->mu, NULL);
    memset(&ho, 0, sizeof(ho));
    ho.base = o->base;
    ho.auth = o->auth;
    ho.ca_file = o->ca_file;
    ho.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    ho.connect_timeout_ms = 5000;
    ho.max_attempts = o->max_attempts > 0 ? o->max_attempts : 3;
    ho.backoff_ms = 200;
    ho.backoff_max_ms = 5000;
    c->batch = o->batch > 1 ? o->batch : 0;
    if ((rc = sl_http_new(&ho, &c->http, err)) != SL_OK ||
        (rc = term_cache_open(o->cache_path, o->ttl_s, &c->cache, err)) !=
            SL_OK) {
        sl_err_prefix(err, "terminology server");
        sl_term_client_free(c);
        return rc;
    }
    *out = c;
    return SL_OK;
}

void
sl_term_client_stats(struct sl_term_client *c,
                     struct sl_term_client_stats *st)
{
    pthread_mutex_lock(&c->mu);
    *st = c->st;
    pthread_mutex_unlock(&c->mu);
}

static void
count(struct sl_term_client *c, int hit, int failed)
{
    pthread_mutex_lock(&c->mu);
    c->st.asked++;
    c->st.hits += hit != 0;
    c->st.sent += hit == 0;
    c->st.failed += failed != 0;
    pthread_mutex_unlock(&c->mu);
}

static void
param_str(json_t *params, const char *name, const char *type, const char *v)
{
    if (v != NULL && *v != '\0')
        json_array_append_new(json_object_get(params, "parameter"),
                              json_pack("{ss ss}", "name", name, type, v));
}

static json_t *
params_new(void)
{
    return json_pack("{ss s[]}", "resourceType", "Parameters", "parameter");
}

/* POSTs body to path; on SL_OK *out is the parsed reply, *status its
 * HTTP status (any). A failure pauses the client. */
static int
post(struct sl_term_client *c, const char *path, const json_t *body,
     const char *what, json_t **out, long *status, struct sl_err *err)
{
    static const char *const hdrs[] = {"Accept: application/fhir+json",
                                       NULL};
    struct sl_http_body b;
    struct sl_http_req rq;
    struct sl_http_resp resp;
    json_error_t je;
    char *text = json_dumps(body, JSON_COMPACT), *url;
    long long now = (long long)time(NULL);
    int rc;

    pthread_mutex_lock(&c->mu);
    if (now < c->pause_until) {
        pthread_mutex_unlock(&c->mu);
        free(text);
        url = sl_http_url_for_log(c->http, path);
        rc = SL_ERR(err, SL_ENET, "%s: %s: the terminology server did not "
                    "answer a moment ago; not asked again for %d s", url,
                    what, SL_TERM_CLIENT_PAUSE_S);
        free(url);
        return rc;
    }
    c->st.requests++;
    pthread_mutex_unlock(&c->mu);

    memset(&b, 0, sizeof(b));
    sl_buf_init(&b.buf);
    b.max = MAX_BODY;
    memset(&rq, 0, sizeof(rq));
    memset(&resp, 0, sizeof(resp));
    rq.method = "POST";
    rq.path = path;
    rq.content_type = "application/fhir+json";
    rq.body = text;
    rq.body_len = strlen(text);
    rq.headers = hdrs;
    rq.sink = sl_http_collect;
    rq.sink_arg = &b;
    rq.restart = sl_http_collect_restart;
    rc = sl_http_do(c->http, &rq, &resp, err);
    free(text);
    sl_http_resp_clear(&resp);
    if (rc != SL_OK) {
        pthread_mutex_lock(&c->mu);
        c->pause_until = (long long)time(NULL) + SL_TERM_CLIENT_PAUSE_S;
        pthread_mutex_unlock(&c->mu);
        sl_err_prefix(err, "%s", what);
        goto out;
    }
    *status = resp.status;
    *out = json_loadb(b.buf.data ? b.buf.data : "", b.buf.len, 0, &je);
    if (*out == NULL) {
        url = sl_http_url_for_log(c->http, path);
        rc = SL_ERR(err, SL_EPARSE, "%s: %s: HTTP %ld with a body that is "
                    "not JSON", url, what, resp.status);
        free(url);
    }
out:
    sl_buf_free(&b.buf);
    return rc;
}

static const char *
str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* ---- $translate ------------------------------------------------------ */

static char *
tkey(const char *map_url, const char *target, const char *system,
     const char *version, const char *code)
{
    return sl_asprintf("T\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", map_url,
                       target ? target : "", system ? system : "",
                       version ? version : "", code ? code : "");
}

static json_t *
translate_params(const char *map_url, const char *system,
                 const char *version, const char *code, const char *target)
{
    json_t *p = params_new();

    param_str(p, "url", "valueUri", map_url);
    param_str(p, "system", "valueUri", system);
    param_str(p, "version", "valueString", version);
    param_str(p, "code", "valueCode", code);
    param_str(p, "targetsystem", "valueUri", target);
    return p;
}

/* The normal form of a $translate reply (a Parameters), or NULL. */
static json_t *
translate_norm(const json_t *reply)
{
    json_t *ms = json_array(), *mm = json_array(), *p, *part;
    int result = -1;
    size_t i, k;

    if (!json_is_object(reply) || !str(reply, "resourceType") ||
        strcmp(str(reply, "resourceType"), "Parameters") != 0)
        goto bad;
    json_array_foreach(json_object_get(reply, "parameter"), i, p)
    {
        const char *name = str(p, "name");
        const json_t *concept = NULL;
        const char *eq = NULL;
        int rel;

        if (name && strcmp(name, "result") == 0 &&
            json_is_boolean(json_object_get(p, "valueBoolean")))
            result = json_is_true(json_object_get(p, "valueBoolean"));
        if (!name || strcmp(name, "match") != 0)
            continue;
        json_array_foreach(json_object_get(p, "part"), k, part)
        {
            const char *pn = str(part, "name");
            if (!pn)
                continue;
            if (strcmp(pn, "concept") == 0)
                concept = json_object_get(part, "valueCoding");
            else if (strcmp(pn, "equivalence") == 0 ||
                     strcmp(pn, "relationship") == 0)
                eq = str(part, "valueCode");
        }
        if (eq == NULL || (rel = sl_term_rel_parse(eq)) < 0)
            goto bad;
        /* an unmatched or disjoint match may come without a code */
        if (!sl_term_rel_is_match((enum sl_term_rel)rel) &&
            !str(concept, "code"))
            continue;
        if (!json_is_object(concept) || !str(concept, "code") ||
            !str(concept, "system"))
            goto bad;
        json_array_append_new(
            sl_term_rel_is_match((enum sl_term_rel)rel) ? ms : mm,
            json_pack("[s s? s s? s]", str(concept, "system"),
                      str(concept, "version"), str(concept, "code"),
                      str(concept, "display"), sl_term_rel_name(rel)));
    }
    if (result < 0)
        goto bad;
    /* mapped: the server says so and names a concept it maps to (a
     * result of true without one would leave nothing to write) */
    result = result && json_array_size(ms) > 0;
    json_array_extend(ms, mm);
    json_decref(mm);
    return json_pack("{si so}", "o",
                     result ? SL_TERM_MAPPED : SL_TERM_UNMAPPED, "m", ms);
bad:
    json_decref(ms);
    json_decref(mm);
    return NULL;
}

/* A string or null (absent) at i of array a: 1, and *s (NULL for null). */
static int
opt_str(const json_t *a, size_t i, const char **s)
{
    const json_t *v = json_array_get(a, i);

    *s = json_string_value(v);
    return v == NULL || json_is_null(v) || *s != NULL;
}

int
term_result_of(const json_t *v, const char *map_name, struct sl_term_result *r)
{
    const json_t *ms = json_object_get(v, "m"), *m;
    json_int_t o = json_integer_value(json_object_get(v, "o"));
    size_t i;
    int non = 0;

    r->n = 0;
    r->outcome = SL_TERM_UNMAPPED;
    /* what translate_norm writes, and nothing else: a cache file edited
     * by hand, or from another version, is a miss, not a crash */
    if (!json_is_object(v) || !json_is_integer(json_object_get(v, "o")) ||
        (o != SL_TERM_MAPPED && o != SL_TERM_UNMAPPED) || !json_is_array(ms))
        return SL_EPARSE;
    json_array_foreach(ms, i, m)
    {
        struct sl_term_match *x;
        int rel;
        if (r->n == SL_TERM_MAX_MATCHES)
            break;
        x = &r->m[r->n];
        if (!json_is_array(m) ||
            (x->system = json_string_value(json_array_get(m, 0))) == NULL ||
            !opt_str(m, 1, &x->version) || !opt_str(m, 2, &x->code) ||
            !opt_str(m, 3, &x->display) ||
            (rel = sl_term_rel_parse(
                 json_string_value(json_array_get(m, 4)))) < 0)
            goto bad;
        x->rel = (enum sl_term_rel)rel;
        x->map = map_name;
        if (!sl_term_rel_is_match(x->rel))
            non = 1;
        else if (non || x->code == NULL) /* translations first, coded */
            goto bad;
        r->n++;
    }
    if (o == SL_TERM_MAPPED &&
        (r->n == 0 || !sl_term_rel_is_match(r->m[0].rel)))
        goto bad;
    r->outcome = (enum sl_term_outcome)o;
    return SL_OK;
bad:
    r->n = 0;
    r->outcome = SL_TERM_UNMAPPED;
    return SL_EPARSE;
}

int
term_reply_translate(const char *data, size_t len, struct sl_term_result *r,
                     json_t **norm)
{
    json_t *reply = json_loadb(data, len, 0, NULL), *n;

    n = translate_norm(reply);
    json_decref(reply);
    if (n == NULL || term_result_of(n, "fuzz", r) != SL_OK) {
        json_decref(n);
        return SL_EPARSE;
    }
    *norm = n;
    return SL_OK;
}

static int
bad_reply(struct sl_term_client *c, const char *path, const char *what,
          long status, struct sl_err *err)
{
    char *url = sl_http_url_for_log(c->http, path);
    int rc = SL_ERR(err, SL_EPARSE, "%s: %s: HTTP %ld, not an answer (a "
                    "Parameters resource was expected)", url, what, status);
    free(url);
    return rc;
}

int
sl_term_client_translate(struct sl_term_client *c, const char *map_url,
                         const char *map_name, const char *system,
                         const char *version, const char *code,
                         const char *target_system, struct sl_term_result *r,
                         struct sl_err *err)
{
    static const char path[] = "ConceptMap/$translate";
    char *key = tkey(map_url, target_system, system, version, code);
    const json_t *v = term_cache_get(c->cache, key);
    json_t *params, *reply = NULL, *norm;
    long status = 0;
    int rc = SL_OK;

    if (v != NULL && term_result_of(v, map_name, r) == SL_OK) {
        count(c, 1, 0);
        free(key);
        return SL_OK;
    }
    if (v != NULL)
        sl_log(SL_LOG_DEBUG, "terminology cache: an entry that is not a "
                             "$translate answer: asked again");
    params = translate_params(map_url, system, version, code, target_system);
    rc = post(c, path, params, "$translate", &reply, &status, err);
    json_decref(params);
    if (rc == SL_OK) {
        norm = status / 100 == 2 ? translate_norm(reply) : NULL;
        if (norm != NULL && term_result_of(norm, map_name, r) != SL_OK) {
            json_decref(norm);
            norm = NULL;
        }
        if (norm == NULL)
            rc = bad_reply(c, path, "$translate", status, err);
        else /* the strings of r: the cache's copy */
            term_result_of(term_cache_put(c->cache, key, norm), map_name, r);
    }
    json_decref(reply);
    count(c, 0, rc != SL_OK);
    free(key);
    return rc;
}

void
sl_term_client_prefetch(struct sl_term_client *c, const char *map_url,
                        const struct sl_term_coding *v, size_t n,
                        const char *target_system)
{
    json_t *bundle = NULL, *reply = NULL;
    struct sl_strv keys = {0};
    struct sl_err err = {0};
    size_t i, k;
    long status = 0;

    if (c->batch == 0 || c->no_batch)
        return;
    for (i = 0; i <= n; i++) {
        if (i < n) {
            char *key = tkey(map_url, target_system, v[i].system,
                             v[i].version, v[i].code);
            /* seen in this batch already, or cached: not asked */
            for (k = 0; k < keys.n && strcmp(keys.v[k], key) != 0; k++)
                ;
            if (k < keys.n || term_cache_get(c->cache, key) != NULL) {
                free(key);
                continue;
            }
            if (bundle == NULL)
                bundle = json_pack("{ss ss s[]}", "resourceType", "Bundle",
                                   "type", "batch", "entry");
            json_array_append_new(
                json_object_get(bundle, "entry"),
                json_pack("{s{ss ss} so}", "request", "method", "POST", "url",
                          "ConceptMap/$translate", "resource",
                          translate_params(map_url, v[i].system,
                                           v[i].version, v[i].code,
                                           target_system)));
            sl_strv_push_owned(&keys, key);
        }
        if (bundle == NULL ||
            (i < n && keys.n < (size_t)c->batch))
            continue;
        pthread_mutex_lock(&c->mu);
        c->st.sent += keys.n;
        pthread_mutex_unlock(&c->mu);
        if (post(c, "", bundle, "$translate batch", &reply, &status,
                 &err) == SL_OK) {
            const json_t *entries = json_object_get(reply, "entry");
            if (status / 100 == 4 || !json_is_array(entries)) {
                c->no_batch = 1; /* one coding a request from now on */
            } else {
                for (k = 0; k < keys.n && k < json_array_size(entries); k++) {
                    const json_t *e = json_array_get(entries, k);
                    const char *st = str(json_object_get(e, "response"),
                                         "status");
                    json_t *norm;
                    if (st == NULL || st[0] != '2')
                        continue;
                    norm = translate_norm(json_object_get(e, "resource"));
                    if (norm != NULL)
                        term_cache_put(c->cache, keys.v[k], norm);
                }
            }
        }
        json_decref(reply);
        reply = NULL;
        json_decref(bundle);
        bundle = NULL;
        sl_strv_free(&keys);
        memset(&keys, 0, sizeof(keys));
        if (c->no_batch)
            break;
    }
    json_decref(bundle);
    sl_strv_free(&keys);
}

/* ---- $lookup and $validate-code ------------------------------------- */

json_t *
term_reply_lookup(const json_t *reply, long status)
{
    const char *rt = str(reply, "resourceType");

    if (status / 100 == 2 && rt && strcmp(rt, "Parameters") == 0) {
        const char *disp = NULL;
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(reply, "parameter"), i, p)
            if (str(p, "name") && strcmp(str(p, "name"), "display") == 0)
                disp = str(p, "valueString");
        return json_pack("{sb ss*}", "found", 1, "display", disp);
    }
    if ((status == 404 || status == 400 || status == 422) && rt &&
        strcmp(rt, "OperationOutcome") == 0)
        /* servers answer an unknown code with an outcome */
        return json_pack("{sb sn}", "found", 0, "display");
    return NULL;
}

json_t *
term_reply_validate(const json_t *reply, long status)
{
    const char *rt = str(reply, "resourceType"), *msg = NULL;
    int result = -1;
    size_t i;
    json_t *p;

    if (status / 100 == 2 && rt && strcmp(rt, "Parameters") == 0)
        json_array_foreach(json_object_get(reply, "parameter"), i, p)
        {
            const char *n = str(p, "name");
            if (n && strcmp(n, "result") == 0 &&
                json_is_boolean(json_object_get(p, "valueBoolean")))
                result = json_is_true(json_object_get(p, "valueBoolean"));
            else if (n && strcmp(n, "message") == 0)
                msg = str(p, "valueString");
        }
    if (result < 0)
        return NULL;
    return json_pack("{sb ss*}", "result", result, "message", msg);
}

int
sl_term_client_lookup(struct sl_term_client *c, const char *system,
                      const char *version, const char *code, int *found,
                      char **display, struct sl_err *err)
{
    static const char path[] = "CodeSystem/$lookup";
    char *key = sl_asprintf("L\x1f%s\x1f%s\x1f%s", system,
                            version ? version : "", code);
    const json_t *v = term_cache_get(c->cache, key);
    json_t *params, *reply = NULL;
    long status = 0;
    int rc = SL_OK, hit = v != NULL;

    if (v == NULL) {
        params = params_new();
        param_str(params, "system", "valueUri", system);
        param_str(params, "version", "valueString", version);
        param_str(params, "code", "valueCode", code);
        rc = post(c, path, params, "$lookup", &reply, &status, err);
        json_decref(params);
        if (rc == SL_OK) {
            json_t *ans = term_reply_lookup(reply, status);
            if (ans != NULL)
                v = term_cache_put(c->cache, key, ans);
            else
                rc = bad_reply(c, path, "$lookup", status, err);
        }
        json_decref(reply);
    }
    if (rc == SL_OK) {
        const char *d = str(v, "display");
        *found = json_is_true(json_object_get(v, "found"));
        *display = d ? sl_strdup(d) : NULL;
    }
    count(c, hit, rc != SL_OK);
    free(key);
    return rc;
}

int
sl_term_client_validate_code(struct sl_term_client *c,
                             const char *valueset_url, const char *system,
                             const char *version, const char *code,
                             const char *display, int *valid,
                             char **message, struct sl_err *err)
{
    static const char path[] = "ValueSet/$validate-code";
    char *key = sl_asprintf("V\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", valueset_url,
                            system, version ? version : "", code,
                            display ? display : "");
    const json_t *v = term_cache_get(c->cache, key);
    json_t *params, *reply = NULL;
    long status = 0;
    int rc = SL_OK, hit = v != NULL;

    if (v == NULL) {
        params = params_new();
        param_str(params, "url", "valueUri", valueset_url);
        param_str(params, "system", "valueUri", system);
        param_str(params, "systemVersion", "valueString", version);
        param_str(params, "code", "valueCode", code);
        param_str(params, "display", "valueString", display);
        rc = post(c, path, params, "$validate-code", &reply, &status, err);
        json_decref(params);
        if (rc == SL_OK) {
            json_t *ans = term_reply_validate(reply, status);
            if (ans != NULL)
                v = term_cache_put(c->cache, key, ans);
            else
                rc = bad_reply(c, path, "$validate-code", status, err);
        }
        json_decref(reply);
    }
    if (rc == SL_OK) {
        const char *m = str(v, "message");
        *valid = json_is_true(json_object_get(v, "result"));
        *message = m ? sl_strdup(m) : NULL;
    }
    count(c, hit, rc != SL_OK);
    free(key);
    return rc;
}

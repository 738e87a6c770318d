/* stage_translate.c - the <translate> stage: the Codings and
 * CodeableConcepts a job selects translated through terminology maps
 * (src/terminology), `sluice run` and `sluice translate` alike.
 *
 * Options (attributes of its node, map paths already resolved):
 *   maps      files (.json ConceptMap, .csv) or shipped map names
 *   policy    add | replace
 *   unmapped  keep | quarantine | drop
 *   elements  element paths, space separated (default: the list)
 *   target    only translate into this system
 * and, for a map on a terminology server (the remote client of
 * src/terminology; `sluice translate --server`):
 *   server          the server's FHIR base URL
 *   remote-map      the canonical url of the ConceptMap there
 *   remote-source   the source systems it translates, space separated
 *   cache           an SQLite file keeping the answers, or none
 *   cache-ttl       seconds an answer is kept (default 86400)
 *   batch           codings a batch Bundle asks at most (0: no batches)
 *   auth.*          its <auth> child (src/http/auth.h), as an endpoint's
 * A coding the server could not translate gives "untranslated:MAP"
 * (error) and sends the resource to quarantine. And for units:
 *   units           a conversion table (units-si, FILE.csv): Quantities
 *                   normalised to UCUM, "converted:TABLE" findings
 *   units-original  yes: the original Quantity kept in an extension
 *   times           utc: every dateTime with an offset in UTC
 *
 * Every coding of a mapped system gives a finding "mapped:MAP" (info) or
 * "unmapped:MAP" (warning) with its element path, so that the run
 * summary counts codings mapped and unmapped by map. Codes are not PHI,
 * but findings carry none anyway: only map names and element paths. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "http/auth.h"
#include "pipeline/stage_translate.h"
#include "terminology/terminology.h"
#include "fhir/fhir_json.h"

struct stage_translate {
    struct sl_term_set *set;
    struct sl_term_apply a;
    struct sl_strv elements;
    const char **el; /* elements.v, NULL-ended */
    char *target;
    struct sl_term_client *client;
    struct sl_http_auth *auth; /* the server's <auth>, or NULL */
    struct sl_strv sources;
    const char **src; /* sources.v, NULL-ended */
    char *remote_map, *remote_name, *server;
    struct sl_term_units *units;
    int units_original;
    int times_utc;
};

static void
translate_free(void *ctx)
{
    struct stage_translate *s = ctx;

    if (s == NULL)
        return;
    sl_term_set_free(s->set);
    sl_strv_free(&s->elements);
    free(s->el);
    free(s->target);
    if (s->client != NULL) {
        struct sl_term_client_stats st;
        sl_term_client_stats(s->client, &st);
        if (st.asked > 0)
            sl_log(SL_LOG_INFO, "terminology server: %llu codings asked, "
                   "%llu sent to the server, cache hit rate %.2f%%, %llu "
                   "requests, %llu without an answer", st.asked, st.sent,
                   st.sent >= st.asked
                       ? 0.0
                       : 100.0 * (double)(st.asked - st.sent) /
                             (double)st.asked,
                   st.requests, st.failed);
    }
    sl_term_client_free(s->client);
    sl_http_auth_free(s->auth);
    sl_term_units_free(s->units);
    sl_strv_free(&s->sources);
    free(s->src);
    free(s->remote_map);
    free(s->remote_name);
    free(s->server);
    free(s);
}

static void
split(const char *v, struct sl_strv *out)
{
    const char *w = v;

    while (v && *(w += strspn(w, " \t\r\n")) != '\0') {
        size_t n = strcspn(w, " \t\r\n");
        sl_strv_push_owned(out, sl_strndup(w, n));
        w += n;
    }
}

static int
remote_new(struct stage_translate *s, const struct sl_conf_node *n,
           const char *base_dir, struct sl_err *err)
{
    struct sl_term_client_opts o;
    const char *map = sl_conf_get(n, "remote-map");
    const char *ttl = sl_conf_get(n, "cache-ttl");
    const char *batch = sl_conf_get(n, "batch");
    const char *slash;
    long v;
    size_t i;

    memset(&o, 0, sizeof(o));
    o.base = sl_conf_get(n, "server");
    if (map == NULL || *map == '\0')
        return SL_ERR(err, SL_ECONFIG, "server: remote-map (the canonical "
                      "url of the server's ConceptMap) is needed");
    split(sl_conf_get(n, "remote-source"), &s->sources);
    if (s->sources.n == 0)
        return SL_ERR(err, SL_ECONFIG, "server: remote-source (the systems "
                      "the server's map translates) is needed");
    for (i = 0; i < s->sources.n; i++)
        if (strchr(s->sources.v[i], ':') == NULL)
            return SL_ERR(err, SL_ECONFIG, "remote-source \"%s\" is not a "
                          "system URI (http://..., urn:oid:...)",
                          s->sources.v[i]);
    if (ttl != NULL) {
        if (sl_parse_long(ttl, 1, 10L * 365 * 86400, &v) != 0)
            return SL_ERR(err, SL_ECONFIG, "cache-ttl \"%s\": seconds, at "
                          "least 1", ttl);
        o.ttl_s = v;
    }
    if (batch != NULL) {
        if (sl_parse_long(batch, 0, 1000, &v) != 0)
            return SL_ERR(err, SL_ECONFIG, "batch \"%s\": 0 to 1000 codings",
                          batch);
        o.batch = (int)v;
    } else {
        o.batch = 50;
    }
    o.cache_path = sl_conf_get(n, "cache");
    s->src = sl_calloc(s->sources.n + 1, sizeof(*s->src));
    for (i = 0; i < s->sources.n; i++)
        s->src[i] = s->sources.v[i];
    s->remote_map = sl_strdup(map);
    /* its name in findings: the url's last segment */
    slash = strrchr(map, '/');
    if (slash == NULL || slash[1] == '\0')
        slash = strrchr(map, ':');
    s->remote_name = sl_asprintf("remote:%s", slash && slash[1] ? slash + 1
                                                                : map);
    s->server = sl_strdup(o.base);
    if (sl_conf_get(n, "auth.type") != NULL) {
        /* secrets (env:, file: relative to the configuration) read now */
        struct sl_config cfg;
        int rc;
        memset(&cfg, 0, sizeof(cfg));
        cfg.base_dir = (char *)(base_dir ? base_dir : ".");
        if ((rc = sl_http_auth_new(&cfg, n, &s->auth, err)) != SL_OK) {
            sl_err_prefix(err, "<auth>");
            return rc;
        }
        o.auth = s->auth;
    }
    return sl_term_client_new(&o, &s->client, err);
}

int
sl_stage_translate_new(const char *maps, const char *policy,
                       const char *unmapped, const char *elements,
                       const char *target, void **ctx, struct sl_err *err)
{
    return sl_stage_translate_new_remote(maps, policy, unmapped, elements,
                                         target, NULL, NULL, ctx, err);
}

int
sl_stage_translate_new_remote(const char *maps, const char *policy,
                              const char *unmapped, const char *elements,
                              const char *target,
                              const struct sl_conf_node *more,
                              const char *base_dir, void **ctx,
                              struct sl_err *err)
{
    struct stage_translate *s = sl_calloc(1, sizeof(*s));
    struct sl_strv words = {0};
    size_t i;
    int rc = SL_OK;

    s->set = sl_term_set_new();
    split(maps, &words);
    if (words.n == 0 &&
        (more == NULL ||
         (!sl_conf_get(more, "server") && !sl_conf_get(more, "units") &&
          !(sl_conf_get(more, "times") &&
            strcmp(sl_conf_get(more, "times"), "utc") == 0))))
        rc = SL_ERR(err, SL_ECONFIG, "no map given");
    for (i = 0; i < words.n && rc == SL_OK; i++)
        rc = sl_term_set_load(s->set, words.v[i], err);
    if (rc == SL_OK)
        rc = sl_term_set_check(s->set, err);
    sl_strv_free(&words);
    if (rc != SL_OK)
        goto out;
    split(elements, &s->elements);
    for (i = 0; i < s->elements.n && rc == SL_OK; i++)
        rc = sl_term_element_check(s->elements.v[i], err);
    if (rc != SL_OK)
        goto out;
    if (s->elements.n > 0) {
        s->el = sl_calloc(s->elements.n + 1, sizeof(*s->el));
        for (i = 0; i < s->elements.n; i++)
            s->el[i] = s->elements.v[i];
    }
    s->target = target && *target ? sl_strdup(target) : NULL;
    s->a.set = s->set;
    s->a.policy = policy && strcmp(policy, "replace") == 0 ? SL_TERM_REPLACE
                                                           : SL_TERM_ADD;
    s->a.unmapped = unmapped && strcmp(unmapped, "quarantine") == 0
                        ? SL_TERM_QUARANTINE
                    : unmapped && strcmp(unmapped, "drop") == 0
                        ? SL_TERM_DROP
                        : SL_TERM_KEEP;
    s->a.elements = s->el ? (const char *const *)s->el : NULL;
    s->a.target_system = s->target;
    if (more != NULL && sl_conf_get(more, "times") != NULL) {
        if (strcmp(sl_conf_get(more, "times"), "utc") != 0 &&
            strcmp(sl_conf_get(more, "times"), "keep") != 0) {
            rc = SL_ERR(err, SL_ECONFIG, "times \"%s\": utc or keep",
                        sl_conf_get(more, "times"));
            goto out;
        }
        s->times_utc = strcmp(sl_conf_get(more, "times"), "utc") == 0;
    }
    if (more != NULL && sl_conf_get(more, "units") != NULL) {
        const char *orig = sl_conf_get(more, "units-original");
        if ((rc = sl_term_units_load(sl_conf_get(more, "units"), &s->units,
                                     err)) != SL_OK)
            goto out;
        s->units_original = orig && strcmp(orig, "yes") == 0;
    }
    if (more != NULL && sl_conf_get(more, "server") == NULL &&
        (sl_conf_get(more, "remote-map") || sl_conf_get(more, "remote-source") ||
         sl_conf_get(more, "cache"))) {
        rc = SL_ERR(err, SL_ECONFIG, "remote-map, remote-source and cache "
                    "go with server");
        goto out;
    }
    if (more != NULL && sl_conf_get(more, "server") != NULL) {
        if ((rc = remote_new(s, more, base_dir, err)) != SL_OK)
            goto out;
        s->a.client = s->client;
        s->a.remote_map = s->remote_map;
        s->a.remote_name = s->remote_name;
        s->a.remote_sources = (const char *const *)s->src;
    }
    *ctx = s;
    s = NULL;
out:
    translate_free(s);
    return rc;
}

int
sl_stage_translate_check(const struct sl_config *cfg,
                         const struct sl_conf_node *node, struct sl_err *err)
{
    struct sl_strv words = {0};
    struct sl_buf maps;
    void *ctx = NULL;
    size_t i;
    int rc;

    sl_buf_init(&maps);
    split(sl_conf_get(node, "maps"), &words);
    for (i = 0; i < words.n; i++) {
        const char *w = words.v[i];
        /* as sl_job_compile resolves them */
        char *p = !strchr(w, '/') && !sl_str_has_suffix(w, ".json") &&
                          !sl_str_has_suffix(w, ".csv")
                      ? sl_strdup(w)
                      : sl_path_resolve(cfg->base_dir, w);
        sl_buf_addf(&maps, "%s%s", maps.len ? " " : "", p);
        free(p);
    }
    sl_strv_free(&words);
    {
        /* the node with its paths as a run resolves them */
        struct sl_conf_node more = {0};
        const char *u = sl_conf_get(node, "units");
        const char *c = sl_conf_get(node, "cache");
        for (i = 0; i < node->nattr; i++)
            if (strcmp(node->names[i], "units") != 0 &&
                strcmp(node->names[i], "cache") != 0)
                sl_conf_node_add(&more, node->names[i], node->values[i]);
        if (u != NULL) {
            char *p = !strchr(u, '/') && !sl_str_has_suffix(u, ".csv")
                          ? sl_strdup(u)
                          : sl_path_resolve(cfg->base_dir, u);
            sl_conf_node_add(&more, "units", p);
            free(p);
        }
        if (c != NULL) {
            char *p = sl_path_resolve(cfg->base_dir, c);
            sl_conf_node_add(&more, "cache", p);
            free(p);
        }
        rc = sl_stage_translate_new_remote(
            maps.data, sl_conf_get(node, "policy"),
            sl_conf_get(node, "unmapped"), sl_conf_get(node, "elements"),
            sl_conf_get(node, "target"), &more, cfg->base_dir, &ctx, err);
        sl_conf_node_clear(&more);
    }
    sl_buf_free(&maps);
    translate_free(ctx);
    if (rc != SL_OK)
        sl_err_prefix(err, "%s:%d: <translate>", cfg->path, node->line);
    return rc;
}

static int
translate_create(const struct sl_stage_args *a, void **ctx,
                 struct sl_err *err)
{
    const struct sl_conf_node *n = a->node;
    char *dir = sl_path_dir(a->config_path);
    int rc;

    rc = sl_stage_translate_new_remote(
        sl_conf_get(n, "maps"), sl_conf_get(n, "policy"),
        sl_conf_get(n, "unmapped"), sl_conf_get(n, "elements"),
        sl_conf_get(n, "target"), n, dir, ctx, err);
    free(dir);
    if (rc != SL_OK)
        sl_err_prefix(err, "%s:%d: <translate>", a->config_path, n->line);
    return rc;
}

static void
report(void *arg, const char *map, int mapped, const char *where)
{
    struct sl_item *it = arg;
    char code[160];

    snprintf(code, sizeof(code), "%s:%s",
             mapped < 0 ? "untranslated" : mapped ? "mapped" : "unmapped",
             map);
    sl_item_finding(it, "translate",
                    mapped < 0 ? SL_SEV_ERROR
                    : mapped   ? SL_SEV_INFO
                               : SL_SEV_WARNING,
                    code, where);
}

/* Whether the text names a source system of the remote map. */
static int
remote_may_apply(const struct stage_translate *s, const char *text,
                 size_t len)
{
    size_t i;

    if (s->sources.n == 0)
        return 0;
    for (i = 0; i < s->sources.n; i++)
        if (memmem(text, len, s->sources.v[i], strlen(s->sources.v[i])))
            return 1;
    /* escaped slashes ("http:\/\/") or a \u escape: ask the walk */
    return sl_term_text_escapes(text, len);
}

/* The pipeline's question (pipeline.h: passes): a resource whose text
 * names no system of a map, local or remote (nor has an escape that
 * might spell one), cannot change here when neither units nor times are
 * asked for. */
static int
translate_passes(void *ctx, const char *text, size_t len)
{
    const struct stage_translate *s = ctx;

    return s->units == NULL && !s->times_utc &&
           !sl_term_set_may_apply(s->set, text, len) &&
           !remote_may_apply(s, text, len);
}

static void
report_units(void *arg, const char *table, int ok, const char *where)
{
    struct sl_item *it = arg;
    char code[160];

    snprintf(code, sizeof(code), "%s:%s", ok ? "converted" : "not-converted",
             table);
    sl_item_finding(it, "translate", ok ? SL_SEV_INFO : SL_SEV_WARNING, code,
                    where);
}

static int
translate_process(void *ctx, struct sl_item *it, struct sl_err *err)
{
    struct stage_translate *s = ctx;
    struct sl_term_apply a = s->a;
    struct sl_err e2 = {0};
    json_t *doc = it->resource, *parsed = NULL;
    int changed = 0, rc;

    if (it->kind != SL_ITEM_FHIR)
        return SL_OK;
    if (it->out_json != NULL && !it->whole) {
        /* an earlier stage (deid) wrote the resource out: that text, not
         * the document it came from, is what goes on; text that names no
         * mapped system cannot change and is not parsed */
        json_error_t je;
        if (s->units == NULL && !s->times_utc &&
            !sl_term_set_may_apply(s->set, it->out_json, it->out_json_len) &&
            !remote_may_apply(s, it->out_json, it->out_json_len))
            return SL_OK;
        parsed = sl_fhir_json_loadb(it->out_json, it->out_json_len, 0, &je);
        if (parsed == NULL)
            return SL_ERR(err, SL_EINTERNAL, "%s: translate: the output of "
                          "the stage before is not JSON (%s)", it->pos,
                          je.text);
        doc = parsed;
    }
    if (doc == NULL)
        return SL_OK;
    a.report = report;
    a.arg = it;
    rc = sl_term_apply_resource(&a, doc, &changed, &e2);
    if (rc == SL_OK && s->units != NULL) {
        int uc = 0;
        sl_term_units_apply(s->units, doc, s->units_original, report_units,
                            it, &uc);
        changed |= uc;
    }
    if (rc == SL_OK && s->times_utc) {
        int tc = 0;
        sl_term_times_utc(doc, &tc);
        changed |= tc;
    }
    if (rc == SL_OK && changed && parsed != NULL) {
        char *out = sl_fhir_json_dumps(parsed, JSON_COMPACT);
        sl_freezero(it->out_json, it->out_json_len);
        it->out_json = out;
        it->out_json_len = strlen(out);
    }
    json_decref(parsed);
    if (rc == SL_EQUARANTINE)
        return sl_item_quarantine(it, "translate", "%s", e2.msg);
    if (rc != SL_OK)
        *err = e2;
    return rc;
}

static char *
translate_describe(void *ctx)
{
    struct stage_translate *s = ctx;
    json_t *d = json_object(), *maps = json_array();
    char *dj;
    size_t i;

    for (i = 0; i < sl_term_set_count(s->set); i++) {
        const struct sl_term_map *m = sl_term_set_map(s->set, i);
        json_t *o = json_pack("{ss}", "name", sl_term_map_name(m));
        if (sl_term_map_url(m))
            json_object_set_new(o, "url", json_string(sl_term_map_url(m)));
        if (sl_term_map_version(m))
            json_object_set_new(o, "version",
                                json_string(sl_term_map_version(m)));
        json_array_append_new(maps, o);
    }
    json_object_set_new(d, "maps", maps);
    if (s->times_utc)
        json_object_set_new(d, "times", json_string("utc"));
    if (s->units != NULL)
        json_object_set_new(d, "units",
                            json_string(sl_term_units_name(s->units)));
    if (s->client != NULL)
        json_object_set_new(d, "remote",
                            json_pack("{ss ss}", "server", s->server, "map",
                                      s->remote_map));
    json_object_set_new(d, "policy", json_string(s->a.policy == SL_TERM_REPLACE
                                                     ? "replace"
                                                     : "add"));
    json_object_set_new(d, "unmapped",
                        json_string(s->a.unmapped == SL_TERM_QUARANTINE
                                        ? "quarantine"
                                    : s->a.unmapped == SL_TERM_DROP ? "drop"
                                                                    : "keep"));
    dj = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(d);
    return dj;
}

const struct sl_stage_ops sl_stage_translate = {
    .name = "translate",
    .learns = 0,
    .create = translate_create,
    .process = translate_process,
    .describe = translate_describe,
    .free = translate_free,
    .passes = translate_passes,
};

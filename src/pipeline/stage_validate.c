/* stage_validate.c - the <validate> stage: each FHIR resource validated
 * (src/validate) against R4 core, the profiles of the stage and those
 * its meta.profile names; `sluice run` and `sluice validate` alike.
 *
 * Options (attributes of its node, paths already resolved):
 *   profiles  StructureDefinition files or canonical URLs of a loaded IG
 *   ig        IG folders or FHIR package .tgz files
 *   on-error  quarantine (default) | warn
 *   unknown-extensions  warning (default) | error (`sluice validate
 *             --unknown-extensions`)
 *   example-urls  allow (default) | error: URLs on example domains are
 *             errors (`sluice validate --no-example-urls`)
 *   security-checks  no (default) | yes: HTML markup in strings is an
 *             error (`sluice validate --security-checks`)
 *   terminology-server  a FHIR terminology server's base URL: bindings
 *             and memberOf() whose ValueSet cannot be expanded locally
 *             are asked of it (ValueSet/$validate-code, through
 *             src/terminology's client and its in-memory cache)
 *   auth.*    its <auth> child (src/http/auth.h), as <translate>'s
 *
 * Every issue is a finding "PROFILE: message" with its element path, so
 * that the run summary counts them per profile and message; messages and
 * paths hold no value from the resource. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "http/auth.h"
#include "pipeline/stage_validate.h"
#include "terminology/terminology.h"
#include "validate/validate.h"
#include "fhir/fhir_json.h"

struct stage_validate {
    struct sl_validator *v;
    struct sl_term_client *term; /* terminology-server, or NULL */
    struct sl_http_auth *auth;   /* its <auth>, or NULL */
    int quarantine;
    int outcomes;
    char *profiles, *igs;
};

static void
validate_free(void *ctx)
{
    struct stage_validate *s = ctx;

    if (s == NULL)
        return;
    sl_validator_free(s->v);
    if (s->term != NULL) {
        struct sl_term_client_stats st;
        sl_term_client_stats(s->term, &st);
        if (st.asked > 0)
            sl_log(SL_LOG_INFO, "validate: terminology server: %llu codes "
                   "asked, %llu answered by the cache, %llu requests, %llu "
                   "without an answer", st.asked, st.hits, st.requests,
                   st.failed);
        sl_term_client_free(s->term);
    }
    sl_http_auth_free(s->auth);
    free(s->profiles);
    free(s->igs);
    free(s);
}

/* sl_val_member_fn through the terminology server. */
static int
member_remote(void *ud, const char *vs, const char *system, const char *code,
              int *member, struct sl_err *err)
{
    char *msg = NULL;
    int rc = sl_term_client_validate_code(ud, vs, system, NULL, code, NULL,
                                          member, &msg, err);
    free(msg); /* the server's message may quote the code: not kept */
    return rc;
}

/* The terminology server of a <validate> node n (its base URL, its
 * <auth>; file: secrets relative to base_dir) for s. */
static int
term_new(struct stage_validate *s, const struct sl_conf_node *n,
         const char *base_dir, struct sl_err *err)
{
    struct sl_term_client_opts o;
    const char *base = sl_conf_get(n, "terminology-server");
    int rc;

    if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
        return SL_ERR(err, SL_ECONFIG, "terminology-server \"%s\": an "
                      "http:// or https:// FHIR base URL", base);
    memset(&o, 0, sizeof(o));
    o.base = base;
    if (sl_conf_get(n, "auth.type") != NULL) {
        /* secrets (env:, file: relative to the configuration) read now */
        struct sl_config cfg;
        memset(&cfg, 0, sizeof(cfg));
        cfg.base_dir = (char *)(base_dir ? base_dir : ".");
        if ((rc = sl_http_auth_new(&cfg, n, &s->auth, err)) != SL_OK) {
            sl_err_prefix(err, "<auth>");
            return rc;
        }
        o.auth = s->auth;
    }
    if ((rc = sl_term_client_new(&o, &s->term, err)) != SL_OK)
        return rc;
    sl_validator_set_terminology(s->v, member_remote, s->term);
    return SL_OK;
}

/* Calls f on each space-separated word of list. */
static int
each_word(const char *list, struct sl_validator *v,
          int (*f)(struct sl_validator *, const char *, struct sl_err *),
          struct sl_err *err)
{
    const char *w = list;
    int rc = SL_OK;

    while (list && rc == SL_OK && *(w += strspn(w, " \t\r\n")) != '\0') {
        size_t n = strcspn(w, " \t\r\n");
        char *word = sl_strndup(w, n);
        rc = f(v, word, err);
        free(word);
        w += n;
    }
    return rc;
}

int
sl_stage_validate_new(const char *profiles, const char *igs,
                      const char *on_error, int outcomes, void **ctx,
                      struct sl_err *err)
{
    struct stage_validate *s = sl_calloc(1, sizeof(*s));
    int rc;

    s->v = sl_validator_new();
    s->quarantine = on_error == NULL || strcmp(on_error, "warn") != 0;
    if (on_error && strcmp(on_error, "warn") != 0 &&
        strcmp(on_error, "quarantine") != 0) {
        rc = SL_ERR(err, SL_ECONFIG, "on-error is quarantine or warn");
        goto out;
    }
    s->outcomes = outcomes;
    s->profiles = sl_strdup(profiles ? profiles : "");
    s->igs = sl_strdup(igs ? igs : "");
    if ((rc = each_word(igs, s->v, sl_validator_load_ig, err)) != SL_OK ||
        (rc = each_word(profiles, s->v, sl_validator_add_profile, err)) !=
            SL_OK)
        goto out;
    *ctx = s;
    s = NULL;
out:
    validate_free(s);
    return rc;
}

int
sl_stage_validate_check(const struct sl_config *cfg,
                        const struct sl_conf_node *node, struct sl_err *err)
{
    struct sl_buf paths[2];
    const char *names[2] = {"profiles", "ig"};
    void *ctx = NULL;
    int i, rc;

    for (i = 0; i < 2; i++) {
        const char *w = sl_conf_get(node, names[i]);
        sl_buf_init(&paths[i]);
        while (w && *(w += strspn(w, " \t\r\n")) != '\0') {
            size_t n = strcspn(w, " \t\r\n");
            char *word = sl_strndup(w, n);
            char *p = strstr(word, "://") ? sl_strdup(word)
                                          : sl_path_resolve(cfg->base_dir,
                                                            word);
            sl_buf_addf(&paths[i], "%s%s", paths[i].len ? " " : "", p);
            free(p);
            free(word);
            w += n;
        }
    }
    rc = sl_stage_validate_new(paths[0].data, paths[1].data,
                               sl_conf_get(node, "on-error"), 0, &ctx, err);
    if (rc == SL_OK && sl_conf_get(node, "terminology-server") != NULL)
        rc = term_new(ctx, node, cfg->base_dir, err);
    else if (rc == SL_OK && sl_conf_get(node, "auth.type") != NULL)
        rc = SL_ERR(err, SL_ECONFIG, "<auth> is for a terminology-server, "
                    "which is not given");
    for (i = 0; i < 2; i++)
        sl_buf_free(&paths[i]);
    validate_free(ctx);
    if (rc != SL_OK)
        sl_err_prefix(err, "%s:%d: <validate>", cfg->path, node->line);
    return rc;
}

static int
validate_create(const struct sl_stage_args *a, void **ctx, struct sl_err *err)
{
    const struct sl_conf_node *n = a->node;
    const char *oc = sl_conf_get(n, "outcomes");
    int rc;

    rc = sl_stage_validate_new(sl_conf_get(n, "profiles"),
                               sl_conf_get(n, "ig"),
                               sl_conf_get(n, "on-error"),
                               oc != NULL && strcmp(oc, "1") == 0, ctx, err);
    if (rc == SL_OK && (oc = sl_conf_get(n, "unknown-extensions")) != NULL &&
        strcmp(oc, "error") == 0)
        sl_validator_set_unknown_extensions(
            ((struct stage_validate *)*ctx)->v, SL_SEV_ERROR);
    if (rc == SL_OK && (oc = sl_conf_get(n, "example-urls")) != NULL &&
        strcmp(oc, "error") == 0)
        sl_validator_set_no_example_urls(((struct stage_validate *)*ctx)->v,
                                         1);
    if (rc == SL_OK && (oc = sl_conf_get(n, "security-checks")) != NULL &&
        strcmp(oc, "yes") == 0)
        sl_validator_set_security_checks(((struct stage_validate *)*ctx)->v,
                                         1);
    if (rc == SL_OK && sl_conf_get(n, "terminology-server") != NULL) {
        char *dir = sl_path_dir(a->config_path);
        rc = term_new(*ctx, n, dir, err);
        free(dir);
        if (rc != SL_OK) {
            validate_free(*ctx);
            *ctx = NULL;
        }
    }
    if (rc != SL_OK)
        sl_err_prefix(err, "%s:%d: <validate>", a->config_path, n->line);
    return rc;
}

static int
validate_process(void *ctx, struct sl_item *it, struct sl_err *err)
{
    struct stage_validate *s = ctx;
    struct sl_val_result r = {0};
    json_t *doc = it->resource, *parsed = NULL;
    size_t i, nerr;
    const char *first = NULL, *first_where = NULL;

    /* a deletion (item.h: deleted) carries only a type and an id: there
     * is no resource to validate */
    if (it->kind != SL_ITEM_FHIR || it->deleted)
        return SL_OK;
    if (it->out_json != NULL && !it->whole) {
        /* an earlier stage wrote the resource out: that text is what
         * goes on, so that is what is validated */
        json_error_t je;
        parsed = sl_fhir_json_loadb(it->out_json, it->out_json_len, 0, &je);
        if (parsed == NULL)
            return SL_ERR(err, SL_EINTERNAL, "%s: validate: the output of "
                          "the stage before is not JSON (%s)", it->pos,
                          je.text);
        doc = parsed;
    }
    if (doc == NULL)
        return SL_OK;
    sl_validate_resource(s->v, doc, &r);
    json_decref(parsed);
    for (i = 0; i < r.n; i++) {
        char *code = sl_asprintf("%s: %s", r.v[i].profile, r.v[i].msg);
        sl_item_finding(it, "validate", r.v[i].sev, code, r.v[i].expr);
        free(code);
        if (first == NULL && r.v[i].sev == SL_SEV_ERROR) {
            first = r.v[i].msg;
            first_where = r.v[i].expr;
        }
    }
    nerr = sl_val_result_errors(&r);
    if (s->outcomes && it->companion == NULL)
        it->companion = sl_val_result_outcome(&r);
    if (nerr > 0 && s->quarantine) {
        int rc = sl_item_quarantine(it, "validate",
                                    "%zu validation error%s; the first at "
                                    "%s: %s",
                                    nerr, nerr == 1 ? "" : "s",
                                    first_where ? first_where : "the resource",
                                    first);
        sl_val_result_clear(&r);
        return rc;
    }
    sl_val_result_clear(&r);
    return SL_OK;
}

static char *
validate_describe(void *ctx)
{
    struct stage_validate *s = ctx;
    json_t *d = json_pack("{ssssssss}", "fhirVersion", "4.0.1", "profiles",
                          s->profiles, "ig", s->igs, "on-error",
                          s->quarantine ? "quarantine" : "warn");
    char *dj = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);

    json_decref(d);
    return dj;
}

const struct sl_stage_ops sl_stage_validate = {
    .name = "validate",
    .learns = 0,
    .create = validate_create,
    .process = validate_process,
    .describe = validate_describe,
    .free = validate_free,
};

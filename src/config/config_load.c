/* config_load.c - loading and checking sluice.xml.
 *
 * The order is OpenSSH's: read, parse (well-formedness), check the root's
 * namespace, validate against conf/sluice.xsd (structure), then walk the
 * document checking every attribute against the option table and filling
 * defaults, then the checks that need the whole file (ids, references,
 * folders, secrets). This file holds the walk and the entry point; the
 * problems and the schema are in config_problems.c, the checks on the
 * whole file in config_check.c, secrets in config_secret.c. */
#include <config.h> /* autoconf's, not config/config.h */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "common/cron.h"
#include "config/config_int.h"

#define CONFIG_MAX_BYTES (16L * 1024 * 1024)

/* ---- small helpers ---------------------------------------------------- */

static int
is_el(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
           xmlStrcmp(n->ns->href, BAD_CAST SL_CONFIG_NS) == 0 &&
           (name == NULL || xmlStrcmp(n->name, BAD_CAST name) == 0);
}

static int
line_of(const xmlNode *n)
{
    return (int)xmlGetLineNo(n);
}

/* An attribute's value (caller frees with free()), or NULL. */
static char *
attr_dup(const xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(n, BAD_CAST name);
    char *s;

    if (v == NULL)
        return NULL;
    s = sl_strdup((const char *)v);
    xmlFree(v);
    return s;
}

static void
node_add(struct sl_conf_node *node, const char *prefix, const char *name,
         const char *value)
{
    char *full = prefix ? sl_asprintf("%s.%s", prefix, name) : NULL;

    sl_conf_node_add(node, full ? full : name, value);
    free(full);
}

int
config_word_in(const char *word, const char *list)
{
    size_t n = strlen(word);
    const char *p = list;

    while (*p) {
        const char *q = strchr(p, ' ');
        size_t m = q ? (size_t)(q - p) : strlen(p);
        if (m == n && strncmp(p, word, n) == 0)
            return 1;
        if (q == NULL)
            break;
        p = q + 1;
    }
    return 0;
}

/* "a b c" as "a, b, c" for messages. */
static void
comma_list(char *out, size_t len, const char *list)
{
    size_t o = 0;
    const char *p;

    for (p = list; *p && o + 3 < len; p++) {
        if (*p == ' ') {
            out[o++] = ',';
            out[o++] = ' ';
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

static void
split_words(const char *s, struct sl_strv *out)
{
    const char *p = s;

    while (*p) {
        const char *q;
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        q = p;
        while (*q && !isspace((unsigned char)*q))
            q++;
        sl_strv_push_owned(out, sl_strndup(p, (size_t)(q - p)));
        p = q;
    }
}

/* ---- attribute checks against the option table ------------------------ */

/* Checks a secret reference without reading the secret. The value never
 * appears in a message: only the variable name or the file path do. */
static void
check_secret(struct loader *L, int line, const char *name, const char *v)
{
    const char *env;
    char *path;

    if (strncmp(v, "env:", 4) == 0) {
        if (!config_env_name_valid(v + 4)) {
            config_problem_add(L, line,
                               "attribute '%s': 'env:' must be followed by the "
                               "name of an environment variable",
                               name);
            return;
        }
        env = getenv(v + 4);
        if (env == NULL || env[0] == '\0')
            config_problem_add(
                L, line, "attribute '%s': environment variable %s is not set",
                name, v + 4);
        return;
    }
    if (strncmp(v, "file:", 5) == 0) {
        if (v[5] == '\0') {
            config_problem_add(
                L, line, "attribute '%s': 'file:' must be followed by a path",
                name);
            return;
        }
        path = sl_path_resolve(L->cfg->base_dir, v + 5);
        if (!sl_path_exists(path))
            config_problem_add(L, line,
                               "attribute '%s': secret file %s does not exist",
                               name, path);
        else if (access(path, R_OK) != 0)
            config_problem_add(
                L, line, "attribute '%s': secret file %s cannot be read: %s",
                name, path, strerror(errno));
        free(path);
        return;
    }
    config_problem_add(
        L, line,
        "attribute '%s' holds a literal secret; give it as env:NAME "
        "or file:PATH",
        name);
}

static void
check_value(struct loader *L, int line, const struct sl_opt *o, const char *v)
{
    char list[256];
    struct sl_err e;
    long n;

    switch (o->type) {
    case SL_OPT_SECRET:
        check_secret(L, line, o->name, v);
        return;
    case SL_OPT_INT:
        if (sl_parse_long(v, o->min, o->max, &n) != SL_OK)
            config_problem_add(
                L, line,
                "attribute '%s' must be a whole number from %ld to "
                "%ld, not '%s'",
                o->name, o->min, o->max, v);
        return;
    case SL_OPT_BOOL:
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
            config_problem_add(L, line,
                               "attribute '%s' must be true or false, not '%s'",
                               o->name, v);
        return;
    case SL_OPT_ENUM:
        if (!config_word_in(v, o->choices)) {
            comma_list(list, sizeof(list), o->choices);
            config_problem_add(L, line,
                               "attribute '%s' must be one of %s, not '%s'",
                               o->name, list, v);
        }
        return;
    case SL_OPT_CRON:
        if (sl_cron_check(v, &e) != SL_OK)
            config_problem_add(L, line, "attribute '%s' (\"%s\") %s", o->name,
                               v, e.msg);
        return;
    case SL_OPT_STRING:
    case SL_OPT_PATH:
    case SL_OPT_IDREFS:
        if (strspn(v, " \t\r\n") == strlen(v))
            config_problem_add(L, line, "attribute '%s' is empty", o->name);
        return;
    }
}

static int
table_has(const char *element, const char *name)
{
    const struct sl_opt *o;

    for (o = sl_opt_table; o->name != NULL; o++)
        if (strcmp(o->element, element) == 0 && strcmp(o->name, name) == 0)
            return 1;
    return 0;
}

/* Checks the attributes of el (an <element> of type kind, kind may be
 * NULL) against the table, then adds them and the defaults of the absent
 * ones to node, each name behind prefix when prefix is not NULL. */
static void
check_element(struct loader *L, const xmlNode *el, const char *element,
              const char *kind, struct sl_conf_node *node, const char *prefix)
{
    const struct sl_opt *o;
    const xmlAttr *a;
    int line = line_of(el);

    for (a = el->properties; a != NULL; a = a->next) {
        const char *name = (const char *)a->name;
        char *v;

        if (a->ns != NULL)
            continue; /* the schema allows none; it has said so */
        o = sl_opt_find(element, kind, name);
        if (o == NULL) {
            if (table_has(element, name))
                config_problem_add(L, line,
                                   "attribute '%s' does not apply to a <%s> of "
                                   "type '%s'",
                                   name, element, kind ? kind : "(none)");
            else
                config_problem_add(L, line, "<%s> has no attribute '%s'",
                                   element, name);
            continue;
        }
        v = attr_dup(el, name);
        if (v == NULL)
            continue;
        check_value(L, line, o, v);
        node_add(node, prefix, name, v);
        free(v);
    }
    for (o = sl_opt_table; o->name != NULL; o++) {
        if (strcmp(o->element, element) != 0)
            continue;
        if (o->kind != NULL && (kind == NULL || strcmp(o->kind, kind) != 0))
            continue;
        if (xmlHasNsProp(el, BAD_CAST o->name, NULL) != NULL)
            continue;
        if (o->required) {
            if (o->kind)
                config_problem_add(L, line,
                                   "<%s> of type '%s' needs attribute '%s'",
                                   element, kind, o->name);
            else
                config_problem_add(L, line, "<%s> needs attribute '%s'",
                                   element, o->name);
        } else if (o->def != NULL) {
            node_add(node, prefix, o->name, o->def);
        }
    }
}

/* ---- the walk --------------------------------------------------------- */

static char *
trimmed_text(const xmlNode *el)
{
    xmlChar *t = xmlNodeGetContent(el);
    const char *s, *e;
    char *out;

    if (t == NULL)
        return NULL;
    s = (const char *)t;
    while (*s && isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    out = sl_strndup(s, (size_t)(e - s));
    xmlFree(t);
    return out;
}

/* <source> or <target>, with its <auth> and <resources> children. */
static void
load_endpoint(struct loader *L, const xmlNode *el, const char *element,
              struct sl_conf_node *node)
{
    const xmlNode *c;

    node->element = sl_strdup(element);
    node->line = line_of(el);
    node->id = attr_dup(el, "id");
    node->type = attr_dup(el, "type");
    check_element(L, el, element, node->type, node, NULL);
    for (c = el->children; c != NULL; c = c->next) {
        if (is_el(c, "auth")) {
            char *atype = attr_dup(c, "type");
            check_element(L, c, "auth", atype, node, "auth");
            if (node->type && strcmp(node->type, "fhir-rest") != 0 &&
                strcmp(node->type, "fhir-bulk") != 0 &&
                strcmp(node->type, "dicomweb") != 0 &&
                strcmp(node->type, "stow-rs") != 0 &&
                strcmp(node->type, "fhir-store") != 0)
                config_problem_add(L, line_of(c),
                                   "<auth> belongs in a fhir-rest, "
                                   "fhir-bulk or dicomweb source or a "
                                   "fhir-store or stow-rs target, not "
                                   "a %s",
                                   node->type);
            free(atype);
        } else if (is_el(c, "resources")) {
            free(node->text);
            node->text = trimmed_text(c);
        }
    }
}

/* Resolves each space-separated path of attribute name into out. */
static void
add_paths(struct loader *L, const struct sl_conf_node *tmp, const char *name,
          struct sl_strv *out)
{
    struct sl_strv words = { 0 };
    const char *v = sl_conf_get(tmp, name);
    size_t i;

    if (v == NULL)
        return;
    split_words(v, &words);
    for (i = 0; i < words.n; i++)
        sl_strv_push_owned(out, sl_path_resolve(L->cfg->base_dir, words.v[i]));
    sl_strv_free(&words);
}

/* Appends the ids of ids to the job's targets, each once. */
static void
add_targets(struct sl_job *job, const struct sl_strv *ids)
{
    size_t i, k;

    for (i = 0; i < ids->n; i++) {
        for (k = 0; k < job->push.n; k++)
            if (strcmp(job->push.v[k], ids->v[i]) == 0)
                break;
        if (k == job->push.n)
            sl_strv_push(&job->push, ids->v[i]);
    }
}

static void
load_job(struct loader *L, const xmlNode *el, struct sl_job *job,
         struct job_lines *jl)
{
    const xmlNode *c;
    const struct sl_opt *o;

    job->node.element = sl_strdup("job");
    job->node.line = line_of(el);
    job->node.id = attr_dup(el, "id");
    check_element(L, el, "job", NULL, &job->node, NULL);
    job->id = sl_strdup(job->node.id);
    job->schedule = sl_strdup(sl_conf_get(&job->node, "schedule"));
    job->timezone = sl_strdup(sl_conf_get(&job->node, "timezone"));
    if (job->timezone) {
        struct sl_err e = { 0 };

        if (sl_cron_tz_check(job->timezone, &e) != SL_OK)
            config_problem_add(L, job->node.line, "attribute 'timezone': %s",
                               e.msg);
    }
    o = sl_opt_find("job", NULL, "missed");
    job->missed = sl_strdup(sl_conf_get(&job->node, "missed")
                                ? sl_conf_get(&job->node, "missed")
                                : o->def);
    o = sl_opt_find("job", NULL, "jitter");
    (void)sl_parse_long(sl_conf_get(&job->node, "jitter")
                            ? sl_conf_get(&job->node, "jitter")
                            : o->def,
                        o->min, o->max, &job->jitter);
    /* Defaults hold even for a job without the step. */
    o = sl_opt_find("pull", NULL, "since");
    job->since = sl_strdup(o->def);
    o = sl_opt_find("push", NULL, "bundle");
    job->bundle = sl_strdup(o->def);
    o = sl_opt_find("push", NULL, "size");
    (void)sl_parse_long(o->def, o->min, o->max, &job->bundle_size);

    for (c = el->children; c != NULL; c = c->next) {
        struct sl_conf_node tmp = { 0 };
        const char *v;

        if (!is_el(c, NULL))
            continue;
        if (is_el(c, "pull")) {
            jl->pull = line_of(c);
            check_element(L, c, "pull", NULL, &tmp, NULL);
            if ((v = sl_conf_get(&tmp, "from")) != NULL)
                split_words(v, &job->from);
            free(job->since);
            job->since = sl_strdup(sl_conf_get(&tmp, "since"));
        } else if (is_el(c, "deid")) {
            if (jl->deid)
                config_problem_add(L, line_of(c),
                                   "<deid>: a job de-identifies once; "
                                   "another <deid> is on line %d",
                                   jl->deid);
            jl->deid = line_of(c);
            check_element(L, c, "deid", NULL, &tmp, NULL);
            if ((v = sl_conf_get(&tmp, "profile")) != NULL) {
                free(job->deid_profile);
                job->deid_profile =
                    (strchr(v, '/') || sl_str_has_suffix(v, ".xml"))
                        ? sl_path_resolve(L->cfg->base_dir, v)
                        : sl_strdup(v);
            }
        } else if (is_el(c, "translate")) {
            const xmlNode *a;
            check_element(L, c, "translate", NULL, &tmp, NULL);
            add_paths(L, &tmp, "maps", &job->translate);
            /* the terminology server's <auth>, as an endpoint's */
            for (a = c->children; a != NULL; a = a->next)
                if (is_el(a, "auth")) {
                    char *atype = attr_dup(a, "type");
                    check_element(L, a, "auth", atype, &tmp, "auth");
                    free(atype);
                }
        } else if (is_el(c, "validate")) {
            const xmlNode *a;
            check_element(L, c, "validate", NULL, &tmp, NULL);
            add_paths(L, &tmp, "profiles", &job->validate);
            /* the terminology server's <auth>, as <translate>'s */
            for (a = c->children; a != NULL; a = a->next)
                if (is_el(a, "auth")) {
                    char *atype = attr_dup(a, "type");
                    check_element(L, a, "auth", atype, &tmp, "auth");
                    free(atype);
                }
        } else if (is_el(c, "push")) {
            jl->push = line_of(c);
            check_element(L, c, "push", NULL, &tmp, NULL);
            if ((v = sl_conf_get(&tmp, "to")) != NULL)
                split_words(v, &jl->to);
            if ((v = sl_conf_get(&tmp, "fhir")) != NULL)
                split_words(v, &jl->fhir);
            if ((v = sl_conf_get(&tmp, "dicom")) != NULL)
                split_words(v, &jl->dicom);
            add_targets(job, &jl->to);
            add_targets(job, &jl->fhir);
            add_targets(job, &jl->dicom);
            free(job->bundle);
            job->bundle = sl_strdup(sl_conf_get(&tmp, "bundle"));
            job->bundle_size = sl_conf_get_long(&tmp, "size", job->bundle_size);
        }
        if (is_el(c, "deid") || is_el(c, "translate") || is_el(c, "validate")) {
            /* the job keeps the step's node, in order (tmp is moved) */
            free(tmp.element);
            tmp.element = sl_strdup((const char *)c->name);
            tmp.line = line_of(c);
            job->stages = sl_realloc(job->stages,
                                     (job->nstages + 1) * sizeof(*job->stages));
            job->stages[job->nstages++] = tmp;
            continue;
        }
        sl_conf_node_clear(&tmp);
    }
}

/* One of the singletons <keys>, <state>, <quarantine>: its attribute name
 * after defaults, or NULL. Caller frees. */
static char *
load_single(struct loader *L, const xmlNode *el, const char *element,
            const char *name)
{
    struct sl_conf_node tmp = { 0 };
    char *v;

    check_element(L, el, element, NULL, &tmp, NULL);
    v = sl_strdup(sl_conf_get(&tmp, name));
    sl_conf_node_clear(&tmp);
    return v;
}

static void
walk(struct loader *L, const xmlNode *root)
{
    struct sl_config *cfg = L->cfg;
    const xmlNode *c;
    size_t ns = 0, nt = 0, nj = 0;
    char *v;

    for (c = root->children; c != NULL; c = c->next) {
        if (is_el(c, "source"))
            ns++;
        else if (is_el(c, "target"))
            nt++;
        else if (is_el(c, "job"))
            nj++;
    }
    cfg->sources = sl_calloc(ns, sizeof(*cfg->sources));
    cfg->targets = sl_calloc(nt, sizeof(*cfg->targets));
    cfg->jobs = sl_calloc(nj, sizeof(*cfg->jobs));
    L->jl = sl_calloc(nj, sizeof(*L->jl));
    L->njl = nj;

    for (c = root->children; c != NULL; c = c->next) {
        if (is_el(c, "keys")) {
            struct sl_conf_node tmp = { 0 };

            L->keys_line = line_of(c);
            check_element(L, c, "keys", NULL, &tmp, NULL);
            free(cfg->pseudonym_key);
            cfg->pseudonym_key = sl_strdup(sl_conf_get(&tmp, "pseudonym"));
            free(cfg->audit_key);
            cfg->audit_key = sl_strdup(sl_conf_get(&tmp, "audit"));
            sl_conf_node_clear(&tmp);
        } else if (is_el(c, "state")) {
            v = load_single(L, c, "state", "path");
            if (v != NULL) {
                free(cfg->state_path);
                cfg->state_path = sl_path_resolve(cfg->base_dir, v);
            }
            free(v);
        } else if (is_el(c, "quarantine")) {
            struct sl_conf_node tmp = { 0 };
            const char *e;

            L->quarantine_line = line_of(c);
            check_element(L, c, "quarantine", NULL, &tmp, NULL);
            if ((v = (char *)sl_conf_get(&tmp, "path")) != NULL) {
                free(cfg->quarantine_dir);
                cfg->quarantine_dir = sl_path_resolve(cfg->base_dir, v);
            }
            free(cfg->quarantine_key);
            cfg->quarantine_key = sl_strdup(sl_conf_get(&tmp, "key"));
            e = sl_conf_get(&tmp, "encrypt");
            cfg->quarantine_encrypt_required = e && strcmp(e, "required") == 0;
            cfg->quarantine_retention_days =
                sl_conf_get_long(&tmp, "retention-days", 0);
            if (cfg->quarantine_encrypt_required && !cfg->quarantine_key)
                config_problem_add(
                    L, line_of(c),
                    "<quarantine encrypt=\"required\">: no key=\"env:...\" "
                    "or key=\"file:...\" to encrypt it with (sluice keygen "
                    "makes one)");
            sl_conf_node_clear(&tmp);
        } else if (is_el(c, "source")) {
            load_endpoint(L, c, "source", &cfg->sources[cfg->nsources++]);
        } else if (is_el(c, "target")) {
            load_endpoint(L, c, "target", &cfg->targets[cfg->ntargets++]);
        } else if (is_el(c, "job")) {
            load_job(L, c, &cfg->jobs[cfg->njobs], &L->jl[cfg->njobs]);
            cfg->njobs++;
        }
    }
}

/* ---- the entry point -------------------------------------------------- */

static void
check_root(struct loader *L, const xmlNode *root, int *ok)
{
    const char *href = root->ns ? (const char *)root->ns->href : NULL;
    int line = line_of(root);

    *ok = 0;
    if (xmlStrcmp(root->name, BAD_CAST "sluice") != 0)
        config_problem_add(
            L, line,
            "the root element is <%s>; a sluice configuration is "
            "<sluice xmlns=\"%s\">",
            (const char *)root->name, SL_CONFIG_NS);
    else if (href == NULL)
        config_problem_add(
            L, line, "<sluice> has no namespace; write <sluice xmlns=\"%s\">",
            SL_CONFIG_NS);
    else if (strcmp(href, SL_CONFIG_NS) == 0)
        *ok = 1;
    else if (strncmp(href, "urn:sluice:config:", 18) == 0)
        config_problem_add(L, line,
                           "configuration version '%s' is not supported; this "
                           "sluice reads %s",
                           href + 18, SL_CONFIG_NS);
    else
        config_problem_add(L, line,
                           "namespace '%s' is not sluice's; write xmlns=\"%s\"",
                           href, SL_CONFIG_NS);
}

static struct sl_config *
config_new(const char *path)
{
    struct sl_config *cfg = sl_calloc(1, sizeof(*cfg));
    char *dir = sl_path_dir(path);
    char resolved[PATH_MAX];

    cfg->path = sl_strdup(path);
    /* Absolute, so that paths stay right if the daemon changes folder. */
    if (realpath(dir, resolved) != NULL) {
        cfg->base_dir = sl_strdup(resolved);
        free(dir);
    } else {
        cfg->base_dir = dir;
    }
    return cfg;
}

static void
fill_defaults(struct sl_config *cfg)
{
    if (cfg->state_path == NULL)
        cfg->state_path = sl_path_resolve(
            cfg->base_dir, sl_opt_find("state", NULL, "path")->def);
    if (cfg->quarantine_dir == NULL)
        cfg->quarantine_dir = sl_path_resolve(
            cfg->base_dir, sl_opt_find("quarantine", NULL, "path")->def);
}

int
sl_config_load(const char *path, int report, struct sl_config **out,
               struct sl_err *err)
{
    struct loader L = { 0 };
    xmlDoc *doc = NULL;
    const xmlNode *root;
    char *text = NULL;
    size_t len = 0, i;
    struct sl_err rerr;
    int rc, root_ok = 0;

    L.path = path;
    L.cfg = config_new(path);
    if (sl_path_is_dir(path)) {
        config_problem_add(&L, 0, "is a folder, not a configuration file");
        goto done;
    }
    if (sl_file_read(path, &text, &len, &rerr) != SL_OK) {
        /* rerr.msg is "PATH: cannot open: why"; config_problem_add adds PATH.
         */
        const char *why = rerr.msg;
        size_t pl = strlen(path);
        if (strncmp(why, path, pl) == 0 && strncmp(why + pl, ": ", 2) == 0)
            why += pl + 2;
        config_problem_add(&L, 0, "%s", why);
        goto done;
    }
    if (len == 0) {
        config_problem_add(&L, 0, "the file is empty");
        goto done;
    }
    if (len > (size_t)CONFIG_MAX_BYTES) {
        config_problem_add(&L, 0,
                           "too large for a configuration (over %ld bytes)",
                           CONFIG_MAX_BYTES);
        goto done;
    }
    xmlSetStructuredErrorFunc(&L, config_xml_error);
    doc = xmlReadMemory(text, (int)len, path, NULL,
                        XML_PARSE_NONET | XML_PARSE_BIG_LINES);
    xmlSetStructuredErrorFunc(NULL, NULL);
    if (doc == NULL || L.nprobs > 0) {
        if (L.nprobs == 0)
            config_problem_add(&L, 0, "not well-formed XML");
        goto done;
    }
    root = xmlDocGetRootElement(doc);
    if (root == NULL) {
        config_problem_add(&L, 0, "no root element");
        goto done;
    }
    check_root(&L, root, &root_ok);
    if (!root_ok)
        goto done;
    config_schema_validate(&L, doc);
    walk(&L, root);
    fill_defaults(L.cfg);
    config_check_file(&L);

done:
    if (L.nprobs == 0) {
        *out = L.cfg;
        L.cfg = NULL; /* ownership moves to the caller */
        rc = SL_OK;
    } else {
        qsort(L.probs, L.nprobs, sizeof(*L.probs), config_problem_cmp);
        if (report)
            for (i = 0; i < L.nprobs; i++)
                fprintf(stderr, "%s\n", L.probs[i].msg);
        rc = SL_ERR(err, SL_ECONFIG, "%s", L.probs[0].msg);
    }
    for (i = 0; i < L.nprobs; i++)
        free(L.probs[i].msg);
    free(L.probs);
    free(L.schema_lines);
    for (i = 0; i < L.njl; i++) {
        sl_strv_free(&L.jl[i].to);
        sl_strv_free(&L.jl[i].fhir);
        sl_strv_free(&L.jl[i].dicom);
    }
    free(L.jl);
    free(text);
    xmlFreeDoc(doc);
    sl_config_free(L.cfg);
    return rc;
}

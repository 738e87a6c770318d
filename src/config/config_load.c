/* config_load.c - loading and checking sluice.xml.
 *
 * The order is OpenSSH's: read, parse (well-formedness), check the root's
 * namespace, validate against conf/sluice.xsd (structure), then walk the
 * document checking every attribute against the option table and filling
 * defaults, then the checks that need the whole file (ids, references,
 * folders, secrets). Every problem is collected with its line; a line the
 * schema already rejected gets no second, derived complaint. */
#include <config.h> /* autoconf's, not config/config.h */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "config/config.h"

#define CONFIG_MAX_BYTES (16L * 1024 * 1024)
#define SECRET_MAX_BYTES (64L * 1024)

/* The profiles sluice has built in; anything else is a site profile file. */
static const char *const builtin_profiles[] = { "basic", "longitudinal",
                                                "safe-harbor" };

struct problem {
    int line;   /* 0: about the whole file */
    size_t seq; /* keeps the order of problems on one line */
    char *msg;  /* "FILE:LINE: message" */
};

/* What a job's steps looked like, for the checks after the walk. */
struct job_lines {
    int pull, deid, push;
    /* which <push> attribute named each target: checked after the walk */
    struct sl_strv to, fhir, dicom;
};

struct loader {
    const char *path; /* as given: messages name the file this way */
    struct sl_config *cfg;
    struct problem *probs;
    size_t nprobs, capprobs;
    int *schema_lines; /* lines the schema rejected */
    size_t nschema, capschema;
    int in_schema;  /* the problems being added come from libxml2 */
    int last_facet; /* line of the last facet error, to drop its echo */
    struct job_lines *jl;
    size_t njl;
    int quarantine_line;
    int keys_line;
};

/* ---- problems -------------------------------------------------------- */

static int
schema_rejected(const struct loader *L, int line)
{
    size_t i;

    for (i = 0; i < L->nschema; i++)
        if (L->schema_lines[i] == line)
            return 1;
    return 0;
}

static void add_problem(struct loader *L, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
add_problem(struct loader *L, int line, const char *fmt, ...)
{
    struct sl_buf b;
    va_list ap;
    char msg[1024];
    size_t i;

    if (!L->in_schema && line > 0 && schema_rejected(L, line))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sl_buf_init(&b);
    if (line > 0)
        sl_buf_addf(&b, "%s:%d: %s", L->path, line, msg);
    else
        sl_buf_addf(&b, "%s: %s", L->path, msg);
    /* libxml2 may report one parse error more than once. */
    for (i = 0; i < L->nprobs; i++) {
        if (strcmp(L->probs[i].msg, b.data) == 0) {
            sl_buf_free(&b);
            return;
        }
    }
    if (L->nprobs == L->capprobs) {
        L->capprobs = L->capprobs ? 2 * L->capprobs : 16;
        L->probs = sl_realloc(L->probs, L->capprobs * sizeof(*L->probs));
    }
    L->probs[L->nprobs].line = line;
    L->probs[L->nprobs].seq = L->nprobs;
    L->probs[L->nprobs].msg = sl_buf_steal(&b);
    L->nprobs++;
    if (L->in_schema && line > 0 && !schema_rejected(L, line)) {
        if (L->nschema == L->capschema) {
            L->capschema = L->capschema ? 2 * L->capschema : 16;
            L->schema_lines = sl_realloc(
                L->schema_lines, L->capschema * sizeof(*L->schema_lines));
        }
        L->schema_lines[L->nschema++] = line;
    }
}

static int
problem_cmp(const void *a, const void *b)
{
    const struct problem *x = a, *y = b;

    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ---- libxml2 messages ------------------------------------------------- */

/* Removes every occurrence of needle from s, in place. */
static void
str_remove_all(char *s, const char *needle)
{
    size_t n = strlen(needle);
    char *p;

    while ((p = strstr(s, needle)) != NULL)
        memmove(p, p + n, strlen(p + n) + 1);
}

/* Copies the quoted word after prefix at s (e.g. "Element 'x'") into out;
 * returns a pointer past the closing quote or NULL. */
static const char *
take_quoted(const char *s, const char *prefix, char *out, size_t outlen)
{
    size_t n = strlen(prefix);
    const char *q;

    if (strncmp(s, prefix, n) != 0)
        return NULL;
    s += n;
    q = strchr(s, '\'');
    if (q == NULL || (size_t)(q - s) >= outlen)
        return NULL;
    memcpy(out, s, (size_t)(q - s));
    out[q - s] = '\0';
    return q + 1;
}

/* True for the elements sluice.xml has: those of the option table and
 * the few without attributes. */
static int
known_element(const char *name)
{
    const struct sl_opt *o;

    if (strcmp(name, "sluice") == 0 || strcmp(name, "resources") == 0)
        return 1;
    for (o = sl_opt_table; o->name != NULL; o++)
        if (strcmp(o->element, name) == 0)
            return 1;
    return 0;
}

/* Where an element goes, for a misplaced one when libxml2 does not
 * say what it expected. */
static const char *
order_hint(const char *el)
{
    static const char *const steps[] = { "pull", "deid", "translate",
                                         "validate", "push" };
    static const char *const heads[] = { "keys", "state", "quarantine" };
    size_t i;

    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (strcmp(el, steps[i]) == 0)
            return "a job's steps come in the order pull, deid, "
                   "translate, validate, push";
    for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
        if (strcmp(el, heads[i]) == 0)
            return "<keys>, <state> and <quarantine> come once each, in "
                   "that order, before sources, targets and jobs";
    return NULL;
}

/* "Expected is one of ( a, b )." gives "one of <a>, <b>"; "Expected is
 * ( a )." gives "<a>". out is empty when tail lists nothing. */
static void
expected_list(const char *tail, char *out, size_t len)
{
    const char *p = strstr(tail, "Expected is ");
    size_t o = 0;
    int start = 1;

    out[0] = '\0';
    if (p == NULL)
        return;
    p += 12;
    if (strncmp(p, "one of ", 7) == 0) {
        o = (size_t)snprintf(out, len, "one of ");
        p += 7;
    }
    for (; *p && *p != ')' && o + 4 < len; p++) {
        if (*p == '(' || *p == ' ')
            continue;
        if (*p == ',') {
            out[o++] = '>';
            out[o++] = ',';
            out[o++] = ' ';
            start = 1;
            continue;
        }
        if (start)
            out[o++] = '<';
        start = 0;
        out[o++] = *p;
    }
    if (!start && o + 1 < len)
        out[o++] = '>';
    out[o] = '\0';
}

/* Turns libxml2's schema wording into sluice's: "<target> has no
 * attribute 'colour'" rather than "Element '{urn:...}target', attribute
 * 'colour': The attribute 'colour' is not allowed.". Returns 0 when the
 * message only repeats the previous one and should be dropped. */
static int
rewrite_schema_msg(char *msg, size_t cap, int line, int *last_facet)
{
    char el[128], attr[128], tail[768], list[512];
    const char *p, *q;

    str_remove_all(msg, "{" SL_CONFIG_NS "}");
    p = take_quoted(msg, "Element '", el, sizeof(el));
    if (p == NULL)
        return 1;
    attr[0] = '\0';
    if ((q = take_quoted(p, ", attribute '", attr, sizeof(attr))) != NULL)
        p = q;
    if (strncmp(p, ": ", 2) != 0)
        return 1;
    p += 2;
    snprintf(tail, sizeof(tail), "%s", p);
    if (tail[0] && tail[strlen(tail) - 1] == '.')
        tail[strlen(tail) - 1] = '\0';

    /* The atomic-type error that follows a facet error says it again. */
    if (strstr(tail, "is not a valid value of the atomic type") &&
        *last_facet == line)
        return 0;
    *last_facet = 0;
    if (strstr(tail, "is not allowed") && attr[0]) {
        snprintf(msg, cap, "<%s> has no attribute '%s'", el, attr);
    } else if (strstr(tail, "is required but missing") &&
               take_quoted(tail, "The attribute '", attr, sizeof(attr))) {
        snprintf(msg, cap, "<%s> needs attribute '%s'", el, attr);
    } else if (strncmp(tail, "[facet 'enumeration']", 21) == 0 && attr[0]) {
        /* "... The value 'x' is not an element of the set {'a', 'b'}" */
        char value[256] = "", set[512] = "";
        size_t o = 0;
        const char *s = strchr(tail, '{');
        const char *tv = strstr(tail, "The value '");

        *last_facet = line;
        if (tv != NULL)
            (void)take_quoted(tv, "The value '", value, sizeof(value));
        for (; s && *s && *s != '}' && o + 1 < sizeof(set); s++)
            if (*s != '{' && *s != '\'')
                set[o++] = *s;
        set[o] = '\0';
        snprintf(msg, cap, "attribute '%s' must be one of %s, not '%s'", attr,
                 set, value);
    } else if (strncmp(tail, "[facet 'pattern']", 17) == 0 && attr[0]) {
        *last_facet = line;
        snprintf(msg, cap,
                 "attribute '%s' of <%s> must be a name made of letters, "
                 "digits, '.', '_' and '-'",
                 attr, el);
    } else if (strncmp(tail, "This element is not expected", 28) == 0) {
        const char *what = known_element(el) ? "misplaced" : "unknown element";
        const char *hint = order_hint(el);

        expected_list(tail, list, sizeof(list));
        if (list[0] != '\0')
            snprintf(msg, cap, "%s <%s>; expected %s", what, el, list);
        else if (hint != NULL)
            snprintf(msg, cap, "%s <%s>; %s", what, el, hint);
        else
            snprintf(msg, cap, "%s <%s>", what, el);
    } else if (strncmp(tail, "Missing child element(s)", 24) == 0) {
        expected_list(tail, list, sizeof(list));
        snprintf(msg, cap, "<%s> is missing a child element%s%s", el,
                 list[0] ? "; expected " : "", list);
    } else if (attr[0]) {
        snprintf(msg, cap, "attribute '%s' of <%s>: %s", attr, el, tail);
    } else {
        snprintf(msg, cap, "<%s>: %s", el, tail);
    }
    return 1;
}

#if LIBXML_VERSION >= 21200
#define SL_XMLERR const xmlError *
#else
#define SL_XMLERR xmlErrorPtr
#endif

static void
on_xml_error(void *ctx, SL_XMLERR e)
{
    struct loader *L = ctx;
    char msg[1024];
    size_t n;
    int line;

    if (e == NULL || e->level < XML_ERR_ERROR)
        return;
    snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "error");
    n = strlen(msg);
    while (n > 0 && isspace((unsigned char)msg[n - 1]))
        msg[--n] = '\0';
    line = e->line;
    if (line <= 0 && e->node != NULL)
        line = (int)xmlGetLineNo((xmlNode *)e->node);
    L->in_schema = 1;
    if (e->domain == XML_FROM_SCHEMASV) {
        if (rewrite_schema_msg(msg, sizeof(msg), line, &L->last_facet))
            add_problem(L, line, "%s", msg);
    } else if (e->domain == XML_FROM_SCHEMASP) {
        add_problem(L, 0, "schema %s line %d: %s", e->file ? e->file : "?",
                    e->line, msg);
    } else {
        /* Some parser messages quote the document after ": "; the
         * document may hold secrets, so only the wording is kept. */
        char *echo = strstr(msg, ": <");
        char open_tag[128], close_tag[128];
        int open_line;

        if (echo != NULL)
            *echo = '\0';
        /* After the first, the parser's errors follow from it. */
        if (L->nprobs == 0) {
            if (sscanf(msg,
                       "Opening and ending tag mismatch: %127s line %d "
                       "and %127s",
                       open_tag, &open_line, close_tag) == 3)
                add_problem(L, line,
                            "not well-formed XML: <%s> (line %d) is closed "
                            "by </%s>",
                            open_tag, open_line, close_tag);
            else
                add_problem(L, line, "not well-formed XML: %s", msg);
        }
    }
    L->in_schema = 0;
}

/* ---- the schema ------------------------------------------------------- */

/* The schema next to the config, else in the source tree (runs from the
 * build tree, make distcheck), else the installed one. Caller frees. */
static char *
schema_path(const char *base_dir)
{
    char *p;

    p = sl_path_join(base_dir, "sluice.xsd");
    if (sl_path_exists(p))
        return p;
    free(p);
#ifdef SL_SRCDIR
    p = sl_strdup(SL_SRCDIR "/conf/sluice.xsd");
    if (sl_path_exists(p))
        return p;
    free(p);
#endif
    p = sl_strdup(SL_DATADIR "/sluice.xsd");
    if (sl_path_exists(p))
        return p;
    free(p);
    return NULL;
}

static void
validate_schema(struct loader *L, xmlDoc *doc)
{
    xmlSchemaParserCtxt *pctx = NULL;
    xmlSchema *schema = NULL;
    xmlSchemaValidCtxt *vctx = NULL;
    char *xsd;

    xsd = schema_path(L->cfg->base_dir);
    if (xsd == NULL) {
        add_problem(L, 0,
                    "cannot find the schema sluice.xsd (looked next to the "
                    "file and in %s)",
                    SL_DATADIR);
        return;
    }
    pctx = xmlSchemaNewParserCtxt(xsd);
    if (pctx == NULL)
        goto out;
    xmlSchemaSetParserStructuredErrors(pctx, on_xml_error, L);
    schema = xmlSchemaParse(pctx);
    if (schema == NULL) {
        add_problem(L, 0, "cannot use the schema %s", xsd);
        goto out;
    }
    vctx = xmlSchemaNewValidCtxt(schema);
    if (vctx == NULL)
        goto out;
    xmlSchemaSetValidStructuredErrors(vctx, on_xml_error, L);
    (void)xmlSchemaValidateDoc(vctx, doc); /* problems went to L */
out:
    xmlSchemaFreeValidCtxt(vctx);
    xmlSchemaFree(schema);
    xmlSchemaFreeParserCtxt(pctx);
    free(xsd);
}

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
    node->names = sl_realloc(node->names, (node->nattr + 1) * sizeof(char *));
    node->values = sl_realloc(node->values, (node->nattr + 1) * sizeof(char *));
    node->names[node->nattr] =
        prefix ? sl_asprintf("%s.%s", prefix, name) : sl_strdup(name);
    node->values[node->nattr] = sl_strdup(value);
    node->nattr++;
}

static int
word_in(const char *word, const char *list)
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

static int
valid_env_name(const char *s)
{
    if (!(isalpha((unsigned char)*s) || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return 0;
    return 1;
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
        if (!valid_env_name(v + 4)) {
            add_problem(L, line,
                        "attribute '%s': 'env:' must be followed by the "
                        "name of an environment variable",
                        name);
            return;
        }
        env = getenv(v + 4);
        if (env == NULL || env[0] == '\0')
            add_problem(L, line,
                        "attribute '%s': environment variable %s is not set",
                        name, v + 4);
        return;
    }
    if (strncmp(v, "file:", 5) == 0) {
        if (v[5] == '\0') {
            add_problem(L, line,
                        "attribute '%s': 'file:' must be followed by a path",
                        name);
            return;
        }
        path = sl_path_resolve(L->cfg->base_dir, v + 5);
        if (!sl_path_exists(path))
            add_problem(L, line,
                        "attribute '%s': secret file %s does not exist", name,
                        path);
        else if (access(path, R_OK) != 0)
            add_problem(L, line,
                        "attribute '%s': secret file %s cannot be read: %s",
                        name, path, strerror(errno));
        free(path);
        return;
    }
    add_problem(L, line,
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
            add_problem(L, line,
                        "attribute '%s' must be a whole number from %ld to "
                        "%ld, not '%s'",
                        o->name, o->min, o->max, v);
        return;
    case SL_OPT_BOOL:
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
            add_problem(L, line,
                        "attribute '%s' must be true or false, not '%s'",
                        o->name, v);
        return;
    case SL_OPT_ENUM:
        if (!word_in(v, o->choices)) {
            comma_list(list, sizeof(list), o->choices);
            add_problem(L, line, "attribute '%s' must be one of %s, not '%s'",
                        o->name, list, v);
        }
        return;
    case SL_OPT_CRON:
        if (sl_cron_check(v, &e) != SL_OK)
            add_problem(L, line, "attribute '%s' (\"%s\") %s", o->name, v,
                        e.msg);
        return;
    case SL_OPT_STRING:
    case SL_OPT_PATH:
    case SL_OPT_IDREFS:
        if (strspn(v, " \t\r\n") == strlen(v))
            add_problem(L, line, "attribute '%s' is empty", o->name);
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
                add_problem(L, line,
                            "attribute '%s' does not apply to a <%s> of "
                            "type '%s'",
                            name, element, kind ? kind : "(none)");
            else
                add_problem(L, line, "<%s> has no attribute '%s'", element,
                            name);
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
                add_problem(L, line, "<%s> of type '%s' needs attribute '%s'",
                            element, kind, o->name);
            else
                add_problem(L, line, "<%s> needs attribute '%s'", element,
                            o->name);
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
                strcmp(node->type, "fhir-store") != 0)
                add_problem(L, line_of(c),
                            "<auth> belongs in a fhir-rest source or a "
                            "fhir-store target, not a %s",
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

static int
is_builtin_profile(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(builtin_profiles) / sizeof(builtin_profiles[0]); i++)
        if (strcmp(name, builtin_profiles[i]) == 0)
            return 1;
    return 0;
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
            check_element(L, c, "translate", NULL, &tmp, NULL);
            add_paths(L, &tmp, "maps", &job->translate);
        } else if (is_el(c, "validate")) {
            check_element(L, c, "validate", NULL, &tmp, NULL);
            add_paths(L, &tmp, "profiles", &job->validate);
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
            job->stages = sl_realloc(job->stages, (job->nstages + 1) *
                                                      sizeof(*job->stages));
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
            L->keys_line = line_of(c);
            free(cfg->pseudonym_key);
            cfg->pseudonym_key = load_single(L, c, "keys", "pseudonym");
        } else if (is_el(c, "state")) {
            v = load_single(L, c, "state", "path");
            if (v != NULL) {
                free(cfg->state_path);
                cfg->state_path = sl_path_resolve(cfg->base_dir, v);
            }
            free(v);
        } else if (is_el(c, "quarantine")) {
            L->quarantine_line = line_of(c);
            v = load_single(L, c, "quarantine", "path");
            if (v != NULL) {
                free(cfg->quarantine_dir);
                cfg->quarantine_dir = sl_path_resolve(cfg->base_dir, v);
            }
            free(v);
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

/* ---- checks on the whole file ----------------------------------------- */

struct named {
    const char *id;
    const char *element;
    int line;
};

static int
named_cmp(const void *a, const void *b)
{
    const struct named *x = a, *y = b;
    return (x->line > y->line) - (x->line < y->line);
}

static void
check_ids(struct loader *L)
{
    const struct sl_config *cfg = L->cfg;
    struct named *all;
    size_t n = 0, i, j;

    all = sl_calloc(cfg->nsources + cfg->ntargets + cfg->njobs, sizeof(*all));
    for (i = 0; i < cfg->nsources; i++)
        all[n++] = (struct named){ cfg->sources[i].id, "source",
                                   cfg->sources[i].line };
    for (i = 0; i < cfg->ntargets; i++)
        all[n++] = (struct named){ cfg->targets[i].id, "target",
                                   cfg->targets[i].line };
    for (i = 0; i < cfg->njobs; i++)
        all[n++] =
            (struct named){ cfg->jobs[i].id, "job", cfg->jobs[i].node.line };
    qsort(all, n, sizeof(*all), named_cmp);
    for (i = 0; i < n; i++) {
        if (all[i].id == NULL)
            continue;
        for (j = 0; j < i; j++) {
            if (all[j].id && strcmp(all[i].id, all[j].id) == 0) {
                add_problem(L, all[i].line,
                            "id '%s' is already used by the <%s> on line %d",
                            all[i].id, all[j].element, all[j].line);
                break;
            }
        }
    }
    free(all);
}

unsigned
sl_config_target_takes(const char *type)
{
    /* The same list as the pipeline's registry (test_registry checks). */
    if (type == NULL)
        return 0;
    if (strcmp(type, "fhir-files") == 0 || strcmp(type, "fhir-store") == 0)
        return SL_TAKES_FHIR;
    if (strcmp(type, "dicom-folder") == 0)
        return SL_TAKES_DICOM;
    return 0;
}

/* True when type is one the option table lists for element. */
static int
known_kind(const char *element, const char *type)
{
    const struct sl_opt *o = sl_opt_find(element, NULL, "type");

    return type != NULL && o != NULL && word_in(type, o->choices);
}

/* Checks the ids one attribute of <push> names; takes: the kinds of
 * item the attribute promises (0: any), what: their name in messages. */
static void
check_push_refs(struct loader *L, int line, const char *attr,
                const struct sl_strv *ids, unsigned takes, const char *what)
{
    size_t i, k;

    for (i = 0; i < ids->n; i++) {
        const char *id = ids->v[i];
        const struct sl_conf_node *t = sl_config_target(L->cfg, id);

        for (k = 0; k < i; k++)
            if (strcmp(ids->v[k], id) == 0)
                break;
        if (k < i) {
            add_problem(L, line, "<push %s>: target '%s' is named twice",
                        attr, id);
            continue;
        }
        if (t == NULL) {
            if (sl_config_source(L->cfg, id) != NULL)
                add_problem(L, line,
                            "<push %s>: '%s' is a source, not a target", attr,
                            id);
            else
                add_problem(L, line, "<push %s>: no target with id '%s'",
                            attr, id);
            continue;
        }
        if (!known_kind("target", t->type))
            continue; /* the schema has reported the type */
        if (takes && (sl_config_target_takes(t->type) & takes) == 0)
            add_problem(L, line,
                        "<push %s>: target '%s' is of type '%s', which does "
                        "not take %s",
                        attr, id, t->type ? t->type : "(none)", what);
    }
}

static void
check_jobs(struct loader *L)
{
    const struct sl_config *cfg = L->cfg;
    size_t i, k;

    for (i = 0; i < cfg->njobs; i++) {
        const struct sl_job *j = &cfg->jobs[i];
        const struct job_lines *jl = &L->jl[i];

        /* A job without <pull> is the schema's to report. */
        for (k = 0; k < j->from.n; k++) {
            const char *id = j->from.v[k];
            if (sl_config_source(cfg, id) != NULL)
                continue;
            if (sl_config_target(cfg, id) != NULL)
                add_problem(L, jl->pull,
                            "<pull from>: '%s' is a target, not a source", id);
            else
                add_problem(L, jl->pull, "<pull from>: no source with id '%s'",
                            id);
        }
        if (jl->push > 0 && j->push.n == 0)
            add_problem(L, jl->push,
                        "<push> needs to=\"TARGET ...\" (or the older "
                        "fhir=\"TARGET\" and dicom=\"TARGET\")");
        check_push_refs(L, jl->push, "to", &jl->to, 0, NULL);
        check_push_refs(L, jl->push, "fhir", &jl->fhir, SL_TAKES_FHIR,
                        "FHIR resources");
        check_push_refs(L, jl->push, "dicom", &jl->dicom, SL_TAKES_DICOM,
                        "DICOM instances");
        if (j->deid_profile) {
            const char *p = j->deid_profile;
            if (strchr(p, '/') == NULL && !sl_str_has_suffix(p, ".xml")) {
                if (!is_builtin_profile(p))
                    add_problem(L, jl->deid,
                                "no built-in de-id profile '%s' (built-in: "
                                "basic, longitudinal, safe-harbor; a site "
                                "profile is a path to an .xml file)",
                                p);
            } else if (!sl_path_exists(p)) {
                add_problem(L, jl->deid, "de-id profile %s does not exist", p);
            }
            for (k = 0; k < j->nstages; k++) {
                const struct sl_conf_node *n = &j->stages[k];
                if (strcmp(n->element, "deid") != 0)
                    continue;
                if ((sl_conf_get(n, "reid-map") == NULL) !=
                    (sl_conf_get(n, "reid-key") == NULL))
                    add_problem(L, n->line, "<deid> reid-map and reid-key "
                                            "go together");
            }
            if (L->cfg->pseudonym_key == NULL && !schema_rejected(L, jl->deid))
                add_problem(L, jl->deid,
                            "job '%s' de-identifies, so the configuration "
                            "needs <keys pseudonym=\"file:PATH\"/> (or "
                            "env:NAME); make a key with 'sluice keygen'",
                            j->id);
        }
    }
}

static void
check_endpoints(struct loader *L)
{
    const struct sl_config *cfg = L->cfg;
    size_t i;

    for (i = 0; i < cfg->nsources; i++) {
        const struct sl_conf_node *s = &cfg->sources[i];
        char *path;

        if (s->type == NULL)
            continue;
        if (strcmp(s->type, "fhir-rest") == 0) {
            add_problem(L, s->line,
                        "type 'fhir-rest' is not supported by this build "
                        "yet");
            continue;
        }
        path = sl_conf_get_path(cfg, s, "path");
        if (path == NULL)
            continue;
        if (!sl_path_exists(path))
            add_problem(L, s->line, "source '%s': folder %s does not exist",
                        s->id ? s->id : "", path);
        else if (!sl_path_is_dir(path))
            add_problem(L, s->line, "source '%s': %s is not a folder",
                        s->id ? s->id : "", path);
        free(path);
    }
    for (i = 0; i < cfg->ntargets; i++) {
        const struct sl_conf_node *t = &cfg->targets[i];
        if (t->type && strcmp(t->type, "fhir-store") == 0)
            add_problem(L, t->line,
                        "type 'fhir-store' is not supported by this build "
                        "yet");
    }
}

/* An absolute path without ".", ".." and repeated '/', lexically (the
 * folders need not exist yet). Caller frees. */
static char *
path_normal(const char *path)
{
    char *out = sl_malloc(strlen(path) + 2);
    size_t o = 0;
    const char *p = path;

    while (*p) {
        const char *e;
        size_t n;

        while (*p == '/')
            p++;
        e = p;
        while (*e && *e != '/')
            e++;
        n = (size_t)(e - p);
        if (n == 0 || (n == 1 && p[0] == '.')) {
            /* nothing */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* the '/' before the dropped part */
        } else {
            out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p = e;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return out;
}

/* True when path is dir or lies under it (both absolute). */
static int
path_within(const char *path, const char *dir)
{
    char *np = path_normal(path), *nd = path_normal(dir);
    size_t n = strlen(nd);
    int in;

    if (n == 1) /* "/" holds everything */
        in = 1;
    else
        in = strncmp(np, nd, n) == 0 && (np[n] == '\0' || np[n] == '/');
    free(np);
    free(nd);
    return in;
}

/* Quarantine holds data that still identifies patients, and targets are
 * what gets delivered: one must never lie inside the other. */
static void
check_quarantine(struct loader *L)
{
    const struct sl_config *cfg = L->cfg;
    size_t i;

    for (i = 0; i < cfg->ntargets; i++) {
        const struct sl_conf_node *t = &cfg->targets[i];
        char *tp = sl_conf_get_path(cfg, t, "path");

        if (tp != NULL && path_within(cfg->quarantine_dir, tp))
            add_problem(L, L->quarantine_line ? L->quarantine_line : t->line,
                        "the quarantine folder lies inside the folder of "
                        "target '%s'; it holds data that still identifies "
                        "patients and must stay out of what is delivered",
                        t->id ? t->id : "");
        free(tp);
    }
}

/* The pseudonym key must be long enough to key HMAC-SHA256 soundly. It
 * is read only when its reference resolves (else that was reported), and
 * wiped at once. */
static void
check_key_length(struct loader *L)
{
    struct sl_err e;
    char *key = NULL;
    size_t len = 0;

    if (L->cfg->pseudonym_key == NULL || L->keys_line == 0 ||
        schema_rejected(L, L->keys_line))
        return;
    if (sl_secret_read(L->cfg->pseudonym_key, L->cfg->base_dir, &key, &len,
                       &e) != SL_OK)
        return; /* check_secret has said why */
    if (len < SL_KEY_MIN_BYTES)
        add_problem(L, L->keys_line,
                    "attribute 'pseudonym': the key is shorter than %d "
                    "bytes; make one with sluice keygen",
                    SL_KEY_MIN_BYTES);
    sl_freezero(key, len);
}

/* ---- the entry point -------------------------------------------------- */

static void
check_root(struct loader *L, const xmlNode *root, int *ok)
{
    const char *href = root->ns ? (const char *)root->ns->href : NULL;
    int line = line_of(root);

    *ok = 0;
    if (xmlStrcmp(root->name, BAD_CAST "sluice") != 0)
        add_problem(L, line,
                    "the root element is <%s>; a sluice configuration is "
                    "<sluice xmlns=\"%s\">",
                    (const char *)root->name, SL_CONFIG_NS);
    else if (href == NULL)
        add_problem(L, line,
                    "<sluice> has no namespace; write <sluice xmlns=\"%s\">",
                    SL_CONFIG_NS);
    else if (strcmp(href, SL_CONFIG_NS) == 0)
        *ok = 1;
    else if (strncmp(href, "urn:sluice:config:", 18) == 0)
        add_problem(L, line,
                    "configuration version '%s' is not supported; this "
                    "sluice reads %s",
                    href + 18, SL_CONFIG_NS);
    else
        add_problem(L, line,
                    "namespace '%s' is not sluice's; write xmlns=\"%s\"", href,
                    SL_CONFIG_NS);
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
        add_problem(&L, 0, "is a folder, not a configuration file");
        goto done;
    }
    if (sl_file_read(path, &text, &len, &rerr) != SL_OK) {
        /* rerr.msg is "PATH: cannot open: why"; add_problem adds PATH. */
        const char *why = rerr.msg;
        size_t pl = strlen(path);
        if (strncmp(why, path, pl) == 0 && strncmp(why + pl, ": ", 2) == 0)
            why += pl + 2;
        add_problem(&L, 0, "%s", why);
        goto done;
    }
    if (len == 0) {
        add_problem(&L, 0, "the file is empty");
        goto done;
    }
    if (len > (size_t)CONFIG_MAX_BYTES) {
        add_problem(&L, 0, "too large for a configuration (over %ld bytes)",
                    CONFIG_MAX_BYTES);
        goto done;
    }
    xmlSetStructuredErrorFunc(&L, on_xml_error);
    doc = xmlReadMemory(text, (int)len, path, NULL,
                        XML_PARSE_NONET | XML_PARSE_BIG_LINES);
    xmlSetStructuredErrorFunc(NULL, NULL);
    if (doc == NULL || L.nprobs > 0) {
        if (L.nprobs == 0)
            add_problem(&L, 0, "not well-formed XML");
        goto done;
    }
    root = xmlDocGetRootElement(doc);
    if (root == NULL) {
        add_problem(&L, 0, "no root element");
        goto done;
    }
    check_root(&L, root, &root_ok);
    if (!root_ok)
        goto done;
    validate_schema(&L, doc);
    walk(&L, root);
    fill_defaults(L.cfg);
    check_ids(&L);
    check_endpoints(&L);
    check_jobs(&L);
    check_quarantine(&L);
    check_key_length(&L);

done:
    if (L.nprobs == 0) {
        *out = L.cfg;
        L.cfg = NULL; /* ownership moves to the caller */
        rc = SL_OK;
    } else {
        qsort(L.probs, L.nprobs, sizeof(*L.probs), problem_cmp);
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

/* ---- secrets ---------------------------------------------------------- */

int
sl_secret_read(const char *ref, const char *base_dir, char **out, size_t *len,
               struct sl_err *err)
{
    char *buf = NULL, *path = NULL;
    size_t n = 0, cap = 0;
    struct stat st;
    ssize_t r;
    int fd = -1, rc;

    if (strncmp(ref, "env:", 4) == 0) {
        const char *v = getenv(ref + 4);
        if (!valid_env_name(ref + 4))
            return SL_ERR(err, SL_EKEY,
                          "a secret given as env: needs a variable name");
        if (v == NULL || v[0] == '\0')
            return SL_ERR(err, SL_EKEY,
                          "environment variable %s is not set or empty",
                          ref + 4);
        n = strlen(v);
        *out = sl_strndup(v, n);
        *len = n;
        return SL_OK;
    }
    if (strncmp(ref, "file:", 5) != 0 || ref[5] == '\0')
        return SL_ERR(err, SL_EKEY,
                      "a secret must be given as env:NAME or file:PATH");

    path = sl_path_resolve(base_dir, ref + 5);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = SL_ERR(err, SL_EKEY, "secret file %s: cannot open: %s", path,
                    strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size > SECRET_MAX_BYTES) {
        rc = SL_ERR(err, SL_EKEY,
                    "secret file %s: not a regular file of at most %ld "
                    "bytes",
                    path, SECRET_MAX_BYTES);
        goto out;
    }
    /* One buffer of the final size: no copies of the secret are left
     * behind in memory by reallocation. */
    cap = (size_t)st.st_size + 1;
    buf = sl_malloc(cap);
    while (n + 1 < cap) {
        r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = SL_ERR(err, SL_EKEY, "secret file %s: read error: %s", path,
                        strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > 0 && buf[n - 1] == '\n') {
        n--;
        if (n > 0 && buf[n - 1] == '\r')
            n--;
    }
    buf[n] = '\0';
    if (n == 0) {
        rc = SL_ERR(err, SL_EKEY, "secret file %s is empty", path);
        goto out;
    }
    *out = buf;
    *len = n;
    buf = NULL; /* ownership moves to the caller */
    rc = SL_OK;
out:
    if (buf != NULL)
        sl_freezero(buf, cap);
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

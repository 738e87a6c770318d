/* config_problems.c - the problems found in sluice.xml: collected with
 * their lines, libxml2's parser and schema messages put in sluice's words,
 * and the validation against conf/sluice.xsd. A line the schema already
 * rejected gets no second, derived complaint. */
#include <config.h> /* autoconf's, not config/config.h */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "config/config_int.h"

/* ---- problems -------------------------------------------------------- */

int
config_schema_rejected(const struct loader *L, int line)
{
    size_t i;

    for (i = 0; i < L->nschema; i++)
        if (L->schema_lines[i] == line)
            return 1;
    return 0;
}

void
config_problem_add(struct loader *L, int line, const char *fmt, ...)
{
    struct sl_buf b;
    va_list ap;
    char msg[1024];
    size_t i;

    if (!L->in_schema && line > 0 && config_schema_rejected(L, line))
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
    if (L->in_schema && line > 0 && !config_schema_rejected(L, line)) {
        if (L->nschema == L->capschema) {
            L->capschema = L->capschema ? 2 * L->capschema : 16;
            L->schema_lines = sl_realloc(
                L->schema_lines, L->capschema * sizeof(*L->schema_lines));
        }
        L->schema_lines[L->nschema++] = line;
    }
}

int
config_problem_cmp(const void *a, const void *b)
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

void
config_xml_error(void *ctx, SL_XMLERR e)
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
            config_problem_add(L, line, "%s", msg);
    } else if (e->domain == XML_FROM_SCHEMASP) {
        config_problem_add(L, 0, "schema %s line %d: %s",
                           e->file ? e->file : "?", e->line, msg);
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
                config_problem_add(
                    L, line,
                    "not well-formed XML: <%s> (line %d) is closed "
                    "by </%s>",
                    open_tag, open_line, close_tag);
            else
                config_problem_add(L, line, "not well-formed XML: %s", msg);
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

void
config_schema_validate(struct loader *L, xmlDoc *doc)
{
    xmlSchemaParserCtxt *pctx = NULL;
    xmlSchema *schema = NULL;
    xmlSchemaValidCtxt *vctx = NULL;
    char *xsd;

    xsd = schema_path(L->cfg->base_dir);
    if (xsd == NULL) {
        config_problem_add(
            L, 0,
            "cannot find the schema sluice.xsd (looked next to the "
            "file and in %s)",
            SL_DATADIR);
        return;
    }
    pctx = xmlSchemaNewParserCtxt(xsd);
    if (pctx == NULL)
        goto out;
    xmlSchemaSetParserStructuredErrors(pctx, config_xml_error, L);
    schema = xmlSchemaParse(pctx);
    if (schema == NULL) {
        config_problem_add(L, 0, "cannot use the schema %s", xsd);
        goto out;
    }
    vctx = xmlSchemaNewValidCtxt(schema);
    if (vctx == NULL)
        goto out;
    xmlSchemaSetValidStructuredErrors(vctx, config_xml_error, L);
    (void)xmlSchemaValidateDoc(vctx, doc); /* problems went to L */
out:
    xmlSchemaFreeValidCtxt(vctx);
    xmlSchemaFree(schema);
    xmlSchemaFreeParserCtxt(pctx);
    free(xsd);
}

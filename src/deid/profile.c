/* profile.c - finding, checking and chaining de-identification profiles
 * (see profile.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "deid/profile.h"

char *
sl_profile_dir(void)
{
    const char *env = getenv("SLUICE_PROFILE_DIR");
    char *p;

    if (env && *env)
        return sl_strdup(env);
#ifdef SL_SRCDIR
    p = sl_strdup(SL_SRCDIR "/profiles/deid");
    if (sl_path_is_dir(p))
        return p;
    free(p);
#endif
    return sl_strdup(SL_DATADIR "/profiles/deid");
}

/* The first libxml2 error of a parse or validation, with its line. */
struct xml_errs {
    const char *path;
    struct sl_err *err;
    int seen;
};

static void
on_xml_error(void *ctx, xmlErrorPtr e)
{
    struct xml_errs *x = ctx;
    char msg[512];
    size_t n;

    if (x->seen++)
        return;
    snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "error");
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    SL_ERR(x->err, SL_ECONFIG, "%s:%d: %s", x->path, e->line, msg);
}

static int
validate(xmlDoc *doc, const char *path, struct sl_err *err)
{
    char *dir = sl_profile_dir(), *xsd = sl_path_join(dir, "profile.xsd");
    struct xml_errs x = {path, err, 0};
    xmlSchemaParserCtxt *pc = NULL;
    xmlSchema *schema = NULL;
    xmlSchemaValidCtxt *vc = NULL;
    int rc = SL_OK;

    if (!sl_path_exists(xsd)) {
        rc = SL_ERR(err, SL_ECONFIG, "%s: the profile schema is missing "
                    "(set SLUICE_PROFILE_DIR or reinstall)", xsd);
        goto out;
    }
    pc = xmlSchemaNewParserCtxt(xsd);
    schema = pc ? xmlSchemaParse(pc) : NULL;
    if (schema == NULL) {
        rc = SL_ERR(err, SL_EINTERNAL, "%s: cannot read the schema", xsd);
        goto out;
    }
    vc = xmlSchemaNewValidCtxt(schema);
    xmlSchemaSetValidStructuredErrors(vc, on_xml_error, &x);
    if (xmlSchemaValidateDoc(vc, doc) != 0 && !x.seen)
        rc = SL_ERR(err, SL_ECONFIG, "%s: does not follow the profile schema",
                    path);
    else if (x.seen)
        rc = SL_ECONFIG;
out:
    xmlSchemaFreeValidCtxt(vc);
    xmlSchemaFree(schema);
    xmlSchemaFreeParserCtxt(pc);
    free(xsd);
    free(dir);
    return rc;
}

static xmlNode *
child(xmlNode *parent, const char *name)
{
    xmlNode *c;

    for (c = parent ? parent->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE &&
            strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

static char *
attr(xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    char *s = v ? sl_strdup((const char *)v) : NULL;
    xmlFree(v);
    return s;
}

static int
is_path(const char *s)
{
    return strchr(s, '/') != NULL || sl_str_has_suffix(s, ".xml");
}

/* Where name_or_path is: a path as given (relative to base_dir when that
 * is set), else a built-in name. Caller frees; NULL when not found. */
static char *
locate(const char *name, const char *base_dir)
{
    char *p, *dir;

    if (is_path(name)) {
        p = base_dir ? sl_path_resolve(base_dir, name) : sl_strdup(name);
        if (sl_path_exists(p))
            return p;
        free(p);
        if (!base_dir)
            return NULL;
    } else if (base_dir) {
        char *file = sl_asprintf("%s.xml", name);
        p = sl_path_join(base_dir, file);
        free(file);
        if (sl_path_exists(p))
            return p;
        free(p);
    }
    if (is_path(name))
        return NULL;
    dir = sl_profile_dir();
    {
        char *file = sl_asprintf("%s.xml", name);
        p = sl_path_join(dir, file);
        free(file);
    }
    free(dir);
    if (sl_path_exists(p))
        return p;
    free(p);
    return NULL;
}

static int
load_doc(const char *path, struct sl_profile_doc *d, struct sl_err *err)
{
    struct xml_errs x = {path, err, 0};
    xmlNode *root;
    int rc = SL_OK;

    memset(d, 0, sizeof(*d));
    d->path = sl_strdup(path);
    /* libxml2 2.9 has no per-context handler: the structured handler is
     * per thread, set for this parse only. */
    xmlSetStructuredErrorFunc(&x, on_xml_error);
    d->doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    xmlSetStructuredErrorFunc(NULL, NULL);
    if (d->doc == NULL) {
        if (!x.seen)
            SL_ERR(err, SL_ECONFIG, "%s: not well-formed XML", path);
        return SL_ECONFIG;
    }
    root = xmlDocGetRootElement(d->doc);
    if (root == NULL || strcmp((const char *)root->name, "profile") != 0 ||
        root->ns == NULL ||
        strcmp((const char *)root->ns->href, SL_DEID_NS) != 0)
        return SL_ERR(err, SL_ECONFIG, "%s:%d: not a sluice profile (want "
                      "<profile xmlns=\"%s\">)", path,
                      root ? root->line : 1, SL_DEID_NS);
    if ((rc = validate(d->doc, path, err)) != SL_OK)
        return rc;
    d->name = attr(root, "name");
    d->version = attr(root, "version");
    d->fhir = child(root, "fhir");
    d->dicom = child(root, "dicom");
    return SL_OK;
}

static void
doc_clear(struct sl_profile_doc *d)
{
    free(d->path);
    free(d->name);
    free(d->version);
    xmlFreeDoc(d->doc);
    memset(d, 0, sizeof(*d));
}

void
sl_profile_chain_free(struct sl_profile_chain *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->n; i++)
        doc_clear(&c->docs[i]);
    free(c);
}

int
sl_profile_chain_load(const char *name_or_path, struct sl_profile_chain **out,
                      struct sl_err *err)
{
    struct sl_profile_doc tmp[SL_DEID_MAX_CHAIN];
    struct sl_profile_chain *c = NULL;
    char *path = NULL, *ext = NULL, *base = NULL;
    size_t n = 0, i;
    int rc = SL_OK;

    path = locate(name_or_path, NULL);
    if (path == NULL)
        return SL_ERR(err, SL_ECONFIG, "no de-identification profile '%s' "
                      "(built-in: basic, longitudinal, safe-harbor; or a "
                      "file)", name_or_path);
    for (;;) {
        if (n == SL_DEID_MAX_CHAIN) {
            rc = SL_ERR(err, SL_ECONFIG, "%s: more than %d profiles extend "
                        "one another", path, SL_DEID_MAX_CHAIN);
            goto out;
        }
        for (i = 0; i < n; i++)
            if (strcmp(tmp[i].path, path) == 0) {
                rc = SL_ERR(err, SL_ECONFIG, "%s: extends itself through "
                            "%s", path, tmp[n - 1].path);
                goto out;
            }
        if ((rc = load_doc(path, &tmp[n], err)) != SL_OK) {
            doc_clear(&tmp[n]);
            goto out;
        }
        n++;
        ext = attr(xmlDocGetRootElement(tmp[n - 1].doc), "extends");
        if (ext == NULL)
            break;
        free(base);
        base = sl_path_dir(path);
        free(path);
        path = locate(ext, base);
        if (path == NULL) {
            rc = SL_ERR(err, SL_ECONFIG, "%s:%d: extends '%s', which is "
                        "neither a file nor a built-in profile",
                        tmp[n - 1].path,
                        xmlDocGetRootElement(tmp[n - 1].doc)->line, ext);
            goto out;
        }
        free(ext);
        ext = NULL;
    }
    /* base first, the profile asked for last */
    c = sl_calloc(1, sizeof(*c));
    for (i = 0; i < n; i++)
        c->docs[i] = tmp[n - 1 - i];
    c->n = n;
    n = 0;
    *out = c;
out:
    for (i = 0; i < n; i++)
        doc_clear(&tmp[i]);
    free(ext);
    free(base);
    free(path);
    return rc;
}

char *
sl_profile_chain_describe(const struct sl_profile_chain *c)
{
    struct sl_buf b;
    size_t i;

    sl_buf_init(&b);
    for (i = 0; i < c->n; i++)
        sl_buf_addf(&b, "%s%s %s", i ? " <- " : "",
                    c->docs[i].name ? c->docs[i].name : "?",
                    c->docs[i].version ? c->docs[i].version : "?");
    return sl_buf_steal(&b);
}

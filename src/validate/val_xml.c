/* val_xml.c - a FHIR R4 resource in XML read into its JSON form (FHIR
 * R4 xml.html and json.html), so that the one validator checks both: the
 * element names and order of XML become JSON members, value attributes
 * primitives of the element's type (boolean and numbers as JSON ones),
 * id and extensions of a primitive its "_" twin, repeating elements (by
 * the cardinality of R4 core) arrays, resources inside (contained,
 * Bundle.entry.resource) their own objects with resourceType, and the
 * narrative's div its XHTML text. What R4 does not define is kept as it
 * is, so that the validator reports it. libxml2 reads without network
 * and without entities. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "fhir/fhir.h"
#include "validate/validate_int.h"

#define FHIR_NS "http://hl7.org/fhir"

static json_t *element(const xmlNode *n, const char *base, int depth);

static int
is_primitive(const char *type)
{
    const char *t = sl_fhir_type_lookup(type);
    return t != NULL && strcmp(t, "=primitive") == 0;
}

static json_t *
prim_value(const char *type, const char *v)
{
    char *end = NULL;

    if (strcmp(type, "boolean") == 0) {
        if (strcmp(v, "true") == 0)
            return json_true();
        if (strcmp(v, "false") == 0)
            return json_false();
        return json_string(v);
    }
    if (strcmp(type, "integer") == 0 || strcmp(type, "positiveInt") == 0 ||
        strcmp(type, "unsignedInt") == 0) {
        long long x = strtoll(v, &end, 10);
        return *v && end && *end == '\0' ? json_integer(x) : json_string(v);
    }
    if (strcmp(type, "decimal") == 0) {
        double x = strtod(v, &end);
        if (!*v || !end || *end != '\0')
            return json_string(v);
        if (!strchr(v, '.') && !strchr(v, 'e') && !strchr(v, 'E'))
            return json_integer(strtoll(v, NULL, 10));
        return json_real(x);
    }
    return json_string(v);
}

static char *
attr(const xmlNode *n, const char *name)
{
    return (char *)xmlGetProp((xmlNode *)n, (const xmlChar *)name);
}

/* The XHTML of a div, as text. */
static json_t *
xhtml(const xmlNode *n)
{
    xmlBuffer *b = xmlBufferCreate();
    json_t *s;

    xmlNodeDump(b, n->doc, (xmlNode *)n, 0, 0);
    s = json_string((const char *)xmlBufferContent(b));
    xmlBufferFree(b);
    return s ? s : json_string("");
}

/* A resource element: <Patient>...</Patient>. */
static json_t *
resource(const xmlNode *n, int depth)
{
    json_t *o = element(n, (const char *)n->name, depth);

    if (json_is_object(o))
        json_object_set_new(o, "resourceType",
                            json_string((const char *)n->name));
    return o;
}

static const xmlNode *
first_child_element(const xmlNode *n)
{
    for (n = n->children; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE)
            return n;
    return NULL;
}

/* Appends v (and its twin, or NULL) under key of obj: arrays when the
 * element repeats. */
static void
put(json_t *obj, const char *key, json_t *v, json_t *twin, int repeats)
{
    char tk[256];
    json_t *a, *ta;

    snprintf(tk, sizeof(tk), "_%s", key);
    if (!repeats) {
        if (v)
            json_object_set_new(obj, key, v);
        if (twin)
            json_object_set_new(obj, tk, twin);
        return;
    }
    a = json_object_get(obj, key);
    ta = json_object_get(obj, tk);
    if (!a && v == NULL && twin == NULL)
        return;
    if (a == NULL) {
        a = json_array();
        json_object_set_new(obj, key, a);
    }
    if (twin && ta == NULL) {
        size_t i;
        ta = json_array();
        for (i = 0; i < json_array_size(a); i++)
            json_array_append_new(ta, json_null());
        json_object_set_new(obj, tk, ta);
    }
    json_array_append_new(a, v ? v : json_null());
    if (ta)
        json_array_append_new(ta, twin ? twin : json_null());
}

static json_t *
element(const xmlNode *n, const char *base, int depth)
{
    json_t *o = json_object();
    const xmlNode *c;
    char *id = attr(n, "id"), *url = attr(n, "url");

    if (id) {
        json_object_set_new(o, "id", json_string(id));
        xmlFree(id);
    }
    if (url) {
        json_object_set_new(o, "url", json_string(url));
        xmlFree(url);
    }
    if (depth > 64)
        return o;
    for (c = n->children; c; c = c->next) {
        const char *name = (const char *)c->name;
        char canon[512], type[128];
        const struct sl_val_elem *el;
        int known, repeats;
        json_t *v = NULL, *twin = NULL;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        known = sl_fhir_elem_resolve(base, name, canon, sizeof(canon), type,
                                     sizeof(type));
        el = known ? sl_val_elem_find(canon) : NULL;
        repeats = el ? el->max != 1 && el->max != 0
                     : json_object_get(o, name) != NULL;
        if (!known) {
            v = element(c, "Element", depth + 1);
        } else if (strcmp(type, "xhtml") == 0) {
            v = xhtml(c);
        } else if (strcmp(type, "Resource") == 0) {
            const xmlNode *r = first_child_element(c);
            v = r ? resource(r, depth + 1) : json_object();
        } else if (is_primitive(type)) {
            char *val = attr(c, "value");
            json_t *ext = element(c, "Element", depth + 1);
            if (val) {
                v = prim_value(type, val);
                xmlFree(val);
            }
            if (json_object_size(ext) > 0)
                twin = ext;
            else
                json_decref(ext);
            if (v == NULL && twin == NULL)
                v = json_string(""); /* <x/>: an element with nothing */
        } else if (type[0] == '@') {
            v = element(c, type + 1, depth + 1);
        } else {
            v = element(c,
                        strcmp(type, "BackboneElement") == 0 ||
                                strcmp(type, "Element") == 0
                            ? canon
                            : type,
                        depth + 1);
        }
        put(o, name, v, twin, repeats);
    }
    return o;
}

int
sl_val_xml_read(const char *path, json_t **out, struct sl_err *err)
{
    xmlDoc *doc = xmlReadFile(path, NULL,
                              XML_PARSE_NONET | XML_PARSE_NOERROR |
                                  XML_PARSE_NOWARNING);
    const xmlNode *root;
    int rc = SL_OK;

    if (doc == NULL) {
        const xmlError *e = xmlGetLastError();
        return SL_ERR(err, SL_EPARSE, "%s: not well-formed XML (line %d)",
                      path, e ? e->line : 0);
    }
    root = xmlDocGetRootElement(doc);
    if (root == NULL || root->ns == NULL ||
        strcmp((const char *)root->ns->href, FHIR_NS) != 0)
        rc = SL_ERR(err, SL_ENOTFOUND, "%s: not a FHIR resource in the "
                    "%s namespace", path, FHIR_NS);
    else
        *out = resource(root, 0);
    xmlFreeDoc(doc);
    return rc;
}

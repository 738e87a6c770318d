/* fhir_xhtml.c - markup in free text (see fhir_int.h): Narrative.div and
 * XML or XHTML attachments parsed with libxml2, scrubbed node by node,
 * written out again, and read back by the leak scan.
 *
 * Everything between '<' and '>' can hold patient data: attribute values
 * (title, alt, href="mailto:…"), comments, processing instructions,
 * images inlined as data: URIs, values written as character references
 * (&#76;ovelace). So the markup is parsed, never matched as text. The
 * parser fetches nothing (XML_PARSE_NONET, no DTD loading, entities not
 * substituted) and a document with a DTD is refused: FHIR's XHTML has
 * none, and a declared entity would hide text from the scrubber. */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>
#include <openssl/crypto.h>

#include "deid/fhir_int.h"

#define PARSE_OPTS                                                  \
    (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |    \
     XML_PARSE_NOCDATA)

static pthread_once_t parser_once = PTHREAD_ONCE_INIT;

static void
parser_init(void)
{
    /* libxml2 2.9 wants this once before threads parse */
    xmlInitParser();
}

/* The parsed document, or NULL when it is not well-formed, has a DTD, or
 * (FX_DIV) is not one <div> element. */
static xmlDoc *
parse(const char *text, size_t len, int flags)
{
    xmlDoc *doc;
    xmlNode *root;

    pthread_once(&parser_once, parser_init);
    if (len > INT_MAX)
        return NULL;
    if (flags & FX_DIV) {
        /* a narrative is the div itself: no declaration, nothing before */
        if (len < 4 || memcmp(text, "<div", 4) != 0)
            return NULL;
    }
    doc = xmlReadMemory(text, (int)len, NULL, "UTF-8", PARSE_OPTS);
    if (doc == NULL)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (doc->intSubset != NULL || doc->extSubset != NULL || root == NULL ||
        ((flags & FX_DIV) && strcmp((const char *)root->name, "div") != 0)) {
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

/* 1 when v is a URI whose scheme carries data or a contact: data: (an
 * inlined image or document), mailto:, tel:, sms:. */
static int
unsafe_uri(const xmlChar *v)
{
    static const char *const schemes[] = { "data:", "mailto:", "tel:",
                                           "sms:" };
    const char *s = (const char *)v;
    size_t i;

    if (s == NULL)
        return 0;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
        if (strncasecmp(s, schemes[i], strlen(schemes[i])) == 0)
            return 1;
    return 0;
}

/* 1 when an attribute of element n is such a URI. */
static int
has_unsafe_uri(xmlNode *n)
{
    xmlAttr *a;
    xmlNode *t;

    for (a = n->properties; a; a = a->next)
        for (t = a->children; t; t = t->next)
            if (t->type == XML_TEXT_NODE && unsafe_uri(t->content))
                return 1;
    return 0;
}

struct xs {
    const struct fhir_scrub *s;
    int changed;
};

static void
drop(struct xs *x, xmlNode *n)
{
    xmlUnlinkNode(n);
    xmlFreeNode(n);
    x->changed = 1;
}

/* A text node (of an element or of an attribute) scrubbed in place. */
static void
scrub_text(struct xs *x, xmlNode *t)
{
    char *clean;

    if (t->content == NULL)
        return;
    clean = fhir_scrub_text(x->s, (const char *)t->content);
    if (clean == NULL)
        return;
    xmlNodeSetContent(t, (const xmlChar *)clean);
    sl_freezero(clean, strlen(clean));
    x->changed = 1;
}

static void
scrub_children(struct xs *x, xmlNode *n)
{
    xmlNode *c, *next;
    xmlAttr *a;

    for (c = n->children; c; c = next) {
        next = c->next;
        switch (c->type) {
        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE:
            scrub_text(x, c);
            break;
        case XML_ELEMENT_NODE:
            /* a mailto:/tel: link's text is the address or the name; an
             * inlined image or document cannot be read: the element goes */
            if (has_unsafe_uri(c)) {
                drop(x, c);
                break;
            }
            for (a = c->properties; a; a = a->next) {
                xmlNode *t;
                for (t = a->children; t; t = t->next)
                    if (t->type == XML_TEXT_NODE)
                        scrub_text(x, t);
            }
            scrub_children(x, c);
            break;
        default:
            /* comments, processing instructions, entity references, and
             * whatever else is not text or an element */
            drop(x, c);
            break;
        }
    }
}

/* The document written out: the root element alone for FX_DIV, else with
 * the XML declaration. Caller frees. */
static char *
serialise(xmlDoc *doc, int flags)
{
    xmlBuffer *b = xmlBufferCreate();
    xmlSaveCtxt *sc;
    char *out = NULL;

    if (b == NULL)
        return NULL;
    sc = xmlSaveToBuffer(b, "UTF-8", (flags & FX_DIV) ? XML_SAVE_NO_DECL : 0);
    if (sc != NULL) {
        if (flags & FX_DIV)
            xmlSaveTree(sc, xmlDocGetRootElement(doc));
        else
            xmlSaveDoc(sc, doc);
        if (xmlSaveClose(sc) >= 0)
            out = sl_strndup((const char *)xmlBufferContent(b),
                             (size_t)xmlBufferLength(b));
    }
    if (xmlBufferLength(b) > 0)
        OPENSSL_cleanse((void *)xmlBufferContent(b), (size_t)xmlBufferLength(b));
    xmlBufferFree(b);
    return out;
}

int
fhir_xhtml_scrub(const struct fhir_scrub *s, const char *text, size_t len,
                 int flags, char **out)
{
    struct xs x = { s, 0 };
    xmlDoc *doc = parse(text, len, flags);
    char *res = NULL;

    *out = NULL;
    if (doc == NULL)
        return SL_EPARSE;
    scrub_children(&x, (xmlNode *)doc);
    if (xmlDocGetRootElement(doc) == NULL) { /* the root itself went */
        xmlFreeDoc(doc);
        return SL_EPARSE;
    }
    if (x.changed && (res = serialise(doc, flags)) == NULL) {
        xmlFreeDoc(doc);
        return SL_EPARSE;
    }
    xmlFreeDoc(doc);
    *out = res;
    return SL_OK;
}

static int
find_text(const struct sl_fhir_vset *s, const xmlChar *t)
{
    size_t a, b;

    return t != NULL && sl_fhir_vset_find(s, (const char *)t,
                                          strlen((const char *)t), 0, &a, &b);
}

/* 1 when a learned value is in the text of n's subtree: text, attribute
 * values, comments, processing instructions (their target too). */
static int
find_children(const struct sl_fhir_vset *s, const xmlNode *n)
{
    const xmlNode *c, *t;
    const xmlAttr *a;

    for (c = n->children; c; c = c->next) {
        switch (c->type) {
        case XML_ELEMENT_NODE:
            for (a = c->properties; a; a = a->next)
                for (t = a->children; t; t = t->next)
                    if (find_text(s, t->content))
                        return 1;
            if (find_children(s, c))
                return 1;
            break;
        case XML_PI_NODE:
            if (find_text(s, c->name) || find_text(s, c->content))
                return 1;
            break;
        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE:
        case XML_COMMENT_NODE:
            if (find_text(s, c->content))
                return 1;
            break;
        default: /* an entity reference cannot be read: not clean */
            return 1;
        }
    }
    return 0;
}

int
fhir_xhtml_find(const struct sl_fhir_vset *s, const char *text, size_t len,
                int flags)
{
    xmlDoc *doc;
    size_t a, b;
    int hit;

    if (s->n == 0)
        return 0;
    /* Without '&' the text of every node is a piece of the string between
     * characters that end words ('<', '>', quotes): a value in a node is
     * a value in the string. So a string without a match is clean, and
     * only one with a match (maybe in a tag name) or with references is
     * parsed: what the engine wrote itself is mostly the first kind. */
    if (memchr(text, '&', len) == NULL &&
        !sl_fhir_vset_find(s, text, len, 0, &a, &b))
        return 0;
    if ((doc = parse(text, len, flags)) == NULL)
        return 2; /* what cannot be read is not shown to be clean */
    hit = find_children(s, (xmlNode *)doc);
    xmlFreeDoc(doc);
    return hit;
}

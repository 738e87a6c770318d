/* val_xhtml.c - a narrative's XHTML (Narrative.div and every xhtml value)
 * parsed with libxml2 and checked as R4 says (narrative.html, txt-1 and
 * txt-2): one <div> whose elements are the basic HTML formatting ones,
 * with their ordinary attributes, and no active content (scripts, forms,
 * frames, embedded objects, event attributes, javascript: links); and
 * some text or an image in it. Messages name the element or attribute,
 * never the narrative's text. */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "validate/val_profile.h"

#define PX "R4"

/* The elements narrative.html allows (HTML 4.0 chapters 7-11 and 15, but
 * not forms, frames, scripts or objects, plus a and img). */
static const char *const elements[] = {
    "a",      "abbr",       "acronym",    "address", "area",    "b",
    "bdo",    "big",        "blockquote", "br",      "caption", "cite",
    "code",   "col",        "colgroup",   "dd",      "dfn",     "del",
    "div",    "dl",         "dt",         "em",      "h1",      "h2",
    "h3",     "h4",         "h5",         "h6",      "hr",      "i",
    "img",    "ins",        "kbd",        "li",      "map",     "ol",
    "p",      "pre",        "q",          "samp",    "small",   "span",
    "strong", "sub",        "sup",        "table",   "tbody",   "td",
    "tfoot",  "th",         "thead",      "tr",      "tt",      "u",
    "ul",     "var",        "s",          "strike",  "center",  "font",
    "figure", "figcaption", "section",    "label",   NULL,
};

/* Their attributes (core, i18n, tables, links, images). */
static const char *const attributes[] = {
    "abbr",     "accesskey",   "align",       "alt",     "axis",     "bgcolor",
    "border",   "cellpadding", "cellspacing", "char",    "charoff",  "charset",
    "cite",     "class",       "color",       "colspan", "compact",  "coords",
    "datetime", "dir",         "face",        "frame",   "headers",  "height",
    "href",     "hreflang",    "hspace",      "id",      "lang",     "longdesc",
    "name",     "nohref",      "noshade",     "nowrap",  "rel",      "rev",
    "rowspan",  "rules",       "scope",       "shape",   "size",     "span",
    "src",      "start",       "style",       "summary", "tabindex", "target",
    "title",    "type",        "usemap",      "valign",  "value",    "vspace",
    "width",    "xmlns",       NULL,
};

/* Elements that are refused and may be named in a message: HTML's, not
 * a name a malformed narrative made up (which could be anything). */
static const char *const refused[] = {
    "script", "object", "applet", "embed",    "iframe",   "frame", "frameset",
    "form",   "input",  "button", "select",   "textarea", "style", "link",
    "meta",   "base",   "head",   "body",     "html",     "svg",   "math",
    "video",  "audio",  "canvas", "noscript", "param",    "title", NULL,
};

static int
listed(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return 1;
    return 0;
}

const char *
sl_val_html_tag(const char *s)
{
    const char *p;

    for (p = strchr(s, '<'); p != NULL; p = strchr(p + 1, '<')) {
        const char *const *lists[] = {elements, refused};
        size_t n = 0, i;
        char name[16];
        while (n + 1 < sizeof(name) &&
               ((p[1 + n] >= 'a' && p[1 + n] <= 'z') ||
                (p[1 + n] >= 'A' && p[1 + n] <= 'Z') ||
                (n > 0 && p[1 + n] >= '1' && p[1 + n] <= '6'))) {
            name[n] = (char)(p[1 + n] | 0x20);
            n++;
        }
        name[n] = '\0';
        if (n == 0 || !(p[1 + n] == '>' || p[1 + n] == ' ' ||
                        p[1 + n] == '/' || p[1 + n] == '\t'))
            continue;
        for (i = 0; i < 2; i++) {
            const char *const *l;
            for (l = lists[i]; *l; l++)
                if (strcmp(*l, name) == 0)
                    return *l;
        }
    }
    return NULL;
}

static pthread_once_t parser_once = PTHREAD_ONCE_INIT;

static void
parser_init(void)
{
    xmlInitParser(); /* once, before threads parse */
}

struct xcheck {
    int bad;           /* txt-1 broken */
    int content;       /* some text or an image */
    const char *first; /* the first element or attribute refused */
};

static void
walk(const xmlNode *n, struct sl_val_result *out, const char *expr,
     struct xcheck *x, int depth)
{
    const xmlAttr *a;

    for (; n != NULL; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            const xmlChar *t = n->content;
            if (t && t[strspn((const char *)t, " \t\r\n")] != '\0')
                x->content = 1;
            continue;
        }
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)n->name, "img") == 0)
            x->content = 1;
        if (!listed(elements, (const char *)n->name)) {
            if (listed(refused, (const char *)n->name))
                sl_val_add(out, SL_SEV_ERROR, "invalid", PX, expr,
                           "the narrative holds a <%s> element, which "
                           "narratives may not hold: remove it",
                           (const char *)n->name);
            else
                sl_val_add(out, SL_SEV_ERROR, "invalid", PX, expr,
                           "the narrative holds an element that is not "
                           "one of the HTML elements narratives may hold: "
                           "remove it");
            x->bad = 1;
            continue;
        }
        for (a = n->properties; a != NULL; a = a->next) {
            const char *an = (const char *)a->name;
            xmlChar *v;
            if (strncasecmp(an, "on", 2) == 0 ||
                (!listed(attributes, an) && a->ns == NULL)) {
                sl_val_add(out, SL_SEV_ERROR, "invalid", PX, expr,
                           "the narrative's <%s> has %s: remove it",
                           (const char *)n->name,
                           strncasecmp(an, "on", 2) == 0
                               ? "an event attribute (active content)"
                               : "an attribute narratives may not use");
                x->bad = 1;
                continue;
            }
            if ((strcmp(an, "href") == 0 || strcmp(an, "src") == 0) &&
                (v = xmlNodeGetContent((const xmlNode *)a)) != NULL) {
                const char *s = (const char *)v;
                s += strspn(s, " \t\r\n");
                if (strncasecmp(s, "javascript:", 11) == 0 ||
                    strncasecmp(s, "vbscript:", 9) == 0) {
                    sl_val_add(out, SL_SEV_ERROR, "invalid", PX, expr,
                               "the narrative's <%.32s> %s is a script: "
                               "remove it",
                               (const char *)n->name, an);
                    x->bad = 1;
                }
                xmlFree(v);
            }
        }
        if (depth < 64)
            walk(n->children, out, expr, x, depth + 1);
    }
}

void
sl_val_xhtml_check(const char *s, size_t len, const char *expr,
                   struct sl_val_result *out)
{
    xmlDoc *doc;
    xmlNode *root;
    struct xcheck x = { 0 };

    pthread_once(&parser_once, parser_init);
    if (len > INT_MAX)
        return;
    /* HTML's named entities (&nbsp;) are not XML's: parsed in recovery,
     * a narrative that uses them is read as the reference validator
     * reads it, not refused */
    doc = xmlReadMemory(s, (int)len, NULL, "UTF-8",
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING | XML_PARSE_RECOVER);
    if (doc == NULL || (root = xmlDocGetRootElement(doc)) == NULL) {
        sl_val_add(out, SL_SEV_ERROR, "invalid", PX, expr,
                   "the narrative is not well-formed XHTML: correct it");
        xmlFreeDoc(doc);
        return;
    }
    if (strcmp((const char *)root->name, "div") != 0) {
        sl_val_add(out, SL_SEV_ERROR, "invalid", PX, expr,
                   "the narrative must be one <div> element");
        xmlFreeDoc(doc);
        return;
    }
    walk(root, out, expr, &x, 0);
    if (x.bad)
        sl_val_add(out, SL_SEV_ERROR, "invariant", PX, expr,
                   "txt-1: the narrative may hold only the basic HTML "
                   "formatting elements and attributes, images and links, "
                   "and no active content");
    if (!x.content)
        sl_val_add(out, SL_SEV_ERROR, "invariant", PX, expr,
                   "txt-2: the narrative has no text: write some, or leave "
                   "the narrative out");
    xmlFreeDoc(doc);
}

/* The language of a narrative section (xml:lang or lang), or NULL. The
 * caller xmlFree's it. */
static xmlChar *
section_lang(const xmlNode *n)
{
    xmlChar *l =
        xmlGetNsProp(n, (const xmlChar *)"lang",
                     (const xmlChar *)"http://www.w3.org/XML/1998/namespace");
    return l ? l : xmlGetProp(n, (const xmlChar *)"lang");
}

/* Whether s looks like a BCP 47 tag (so it may be quoted). */
static int
lang_like(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && n <= 35 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ-"
                     "0123456789") == n;
}

void
sl_val_xhtml_controls(const char *s, size_t len, const char *lang_ctrl,
                      const char *src_ctrl, const char *res_lang,
                      const char *pname, const char *expr,
                      struct sl_val_result *out)
{
    xmlDoc *doc;
    xmlNode *root, *n;
    char found[256];
    size_t fl = 0;
    int nsec = 0, want_found = 0, nsrc = 0;

    pthread_once(&parser_once, parser_init);
    if (len > INT_MAX)
        return;
    doc = xmlReadMemory(s, (int)len, NULL, "UTF-8",
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING | XML_PARSE_RECOVER);
    if (doc == NULL || (root = xmlDocGetRootElement(doc)) == NULL) {
        xmlFreeDoc(doc);
        return; /* the narrative check says why */
    }
    found[0] = '\0';
    for (n = root->children; n != NULL; n = n->next) {
        xmlChar *l;
        if (src_ctrl) {
            /* each part of the narrative says where it comes from */
            xmlChar *cls = n->type == XML_ELEMENT_NODE
                               ? xmlGetProp(n, (const xmlChar *)"class")
                               : NULL;
            int content =
                n->type == XML_ELEMENT_NODE ||
                (n->type == XML_TEXT_NODE && n->content &&
                 n->content[strspn((const char *)n->content, " \t\r\n")] !=
                     '\0');
            if (content && (cls == NULL ||
                            (strstr((const char *)cls, "boilerplate") == NULL &&
                             strstr((const char *)cls, "generated") == NULL &&
                             strstr((const char *)cls, "original") == NULL)))
                nsrc++;
            xmlFree(cls);
        }
        if (n->type != XML_ELEMENT_NODE ||
            strcmp((const char *)n->name, "div") != 0 ||
            (l = section_lang(n)) == NULL)
            continue;
        nsec++;
        if (lang_like((const char *)l) &&
            fl + strlen((const char *)l) + 3 < sizeof(found))
            fl += (size_t)snprintf(found + fl, sizeof(found) - fl, "%s%s",
                                   fl ? ", " : "", (const char *)l);
        if (res_lang && strcmp((const char *)l, res_lang) == 0)
            want_found = 1;
        if (lang_ctrl && lang_ctrl[0] != '_' &&
            strcmp((const char *)l, lang_ctrl) == 0)
            want_found = 1;
        xmlFree(l);
    }
    if (nsrc > 0)
        sl_val_add(out, SL_SEV_ERROR, "business-rule", pname, expr,
                   "%d part%s of the narrative %s no class saying where "
                   "%s from (boilerplate, generated or original), as the "
                   "profile requires",
                   nsrc, nsrc > 1 ? "s" : "", nsrc > 1 ? "have" : "has",
                   nsrc > 1 ? "they come" : "it comes");
    if (lang_ctrl && strcmp(lang_ctrl, "_no") == 0 && nsec > 0)
        sl_val_add(out, SL_SEV_ERROR, "business-rule", pname, expr,
                   "the narrative has language sections (%s), which the "
                   "profile does not allow",
                   found);
    else if (lang_ctrl && strcmp(lang_ctrl, "_yes") == 0 && nsec == 0)
        sl_val_add(out, SL_SEV_ERROR, "business-rule", pname, expr,
                   "the narrative has no language sections, which the "
                   "profile requires");
    else if (lang_ctrl && strcmp(lang_ctrl, "_resource") == 0 && res_lang &&
             !want_found)
        sl_val_add(out, SL_SEV_ERROR, "business-rule", pname, expr,
                   "the narrative has no section in the resource's language "
                   "(%s), which the profile requires (found: %s)",
                   lang_like(res_lang) ? res_lang : "?", found);
    else if (lang_ctrl && lang_ctrl[0] != '_' && !want_found)
        sl_val_add(out, SL_SEV_ERROR, "business-rule", pname, expr,
                   "the narrative has no section in the language the "
                   "profile requires (%s)",
                   lang_like(lang_ctrl) ? lang_ctrl : "?");
    xmlFreeDoc(doc);
}

/* val_walk.c - a resource walked against R4 core: every member a known
 * element of its type (choice types by their suffix, contentReference by
 * the element it names), arrays where the element repeats and only there,
 * cardinality, the JSON kind and format of primitives (val_prim.c), the
 * primitive extension twins (_birthDate), empty objects (ele-1), ext-1,
 * and required bindings of core against their local expansions. Contained
 * resources and Bundles: val_refs.c. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fhir/fhir.h"
#include "validate/val_profile.h"
#include "validate/val_walk.h"

#define PX "R4"

static int
is_primitive(const char *type)
{
    const char *t = sl_fhir_type_lookup(type);
    return t != NULL && strcmp(t, "=primitive") == 0;
}

/* The Java-style path of member key (index i, or -1 when not an array).
 * Made for every member walked, so by hand rather than by snprintf. */
static void
child_expr(char *out, size_t len, const char *expr, const char *key, long i)
{
    size_t el = strlen(expr), kl = strlen(key), n;
    char num[24];
    int nl = 0;

    if (i >= 0) {
        long x = i;
        char rev[24];
        int r = 0;
        do {
            rev[r++] = (char)('0' + x % 10);
            x /= 10;
        } while (x > 0);
        num[nl++] = '[';
        while (r > 0)
            num[nl++] = rev[--r];
        num[nl++] = ']';
    }
    if (el + 1 + kl + (size_t)nl + 1 > len) {
        snprintf(out, len, "%s", expr); /* too deep: the parent's path */
        return;
    }
    memcpy(out, expr, el);
    out[el] = '.';
    memcpy(out + el + 1, key, kl);
    n = el + 1 + kl;
    memcpy(out + n, num, (size_t)nl);
    out[n + (size_t)nl] = '\0';
}

/* Required binding of core: vs names the expansion. */
static void
check_binding(struct val_walk *w, int vset, const char *type,
              const json_t *val, const char *expr)
{
    const struct sl_val_vset *vs = &sl_val_vsets[vset];
    const json_t *codings, *c;
    size_t i, tried = 0;

    if (strcmp(vs->url, "http://hl7.org/fhir/ValueSet/mimetypes") == 0) {
        /* BCP 13 is not enumerable: its form is type/subtype */
        const char *s = json_string_value(val);
        if (strcmp(type, "code") == 0 && s && (!strchr(s, '/') ||
                                               strchr(s, ' ') == s))
            sl_val_add(w->out, SL_SEV_ERROR, "code-invalid", PX, expr,
                       "not a MIME type (type/subtype, as text/plain): use "
                       "one from %s", vs->url);
        return;
    }
    if (vs->codes == NULL && w->v->member != NULL) {
        sl_val_binding_remote(w->v, val, vs->url, "required", SL_SEV_ERROR,
                              NULL, PX, expr, w->out);
        return;
    }
    if (vs->codes == NULL) {
        sl_val_add(w->out, SL_SEV_WARNING, "not-supported", PX, expr,
                   "could not check the code against %s (it needs a "
                   "terminology server)", vs->url);
        return;
    }
    if (strcmp(type, "code") == 0) {
        if (json_is_string(val) &&
            !sl_val_vset_has(vs, NULL, json_string_value(val)))
            sl_val_add(w->out, SL_SEV_ERROR, "code-invalid", PX, expr,
                       "the code is not in the required ValueSet %s: use "
                       "one of its codes", vs->url);
        return;
    }
    if (strcmp(type, "Coding") == 0) {
        const char *sys = json_string_value(json_object_get(val, "system"));
        const char *code = json_string_value(json_object_get(val, "code"));
        if (sys && code && !sl_val_vset_has(vs, sys, code))
            sl_val_add(w->out, SL_SEV_ERROR, "code-invalid", PX, expr,
                       "the coding is not in the required ValueSet %s: use "
                       "one of its codes", vs->url);
        return;
    }
    if (strcmp(type, "CodeableConcept") != 0)
        return;
    codings = json_object_get(val, "coding");
    json_array_foreach(codings, i, c) {
        const char *sys = json_string_value(json_object_get(c, "system"));
        const char *code = json_string_value(json_object_get(c, "code"));
        if (!sys || !code)
            continue;
        tried++;
        if (sl_val_vset_has(vs, sys, code))
            return;
    }
    if (tried > 0)
        sl_val_add(w->out, SL_SEV_ERROR, "code-invalid", PX, expr,
                   "none of the codings is in the required ValueSet %s: "
                   "add one of its codes", vs->url);
}

/* Does key look like an element name ([_]letter then letters, digits,
 * at most 64)? Only such names are put in messages. */
static int
name_like(const char *key)
{
    size_t n = 0;

    if (*key == '_')
        key++;
    if (!((*key >= 'a' && *key <= 'z') || (*key >= 'A' && *key <= 'Z')))
        return 0;
    for (; *key; key++, n++)
        if (!((*key >= 'a' && *key <= 'z') || (*key >= 'A' && *key <= 'Z') ||
              (*key >= '0' && *key <= '9') || *key == '_' || *key == '-'))
            return 0;
    return n <= 64;
}

static void walk_object(struct val_walk *w, const json_t *obj,
                        const char *base, const char *expr, int is_res);

/* Whether URL u is on an example domain (RFC 2606's, and acme.com). */
static int
example_url(const char *u)
{
    static const char *const domains[] = {"example.org", "example.com",
                                          "example.net", "acme.com"};
    const char *h = strstr(u, "://"), *end;
    size_t i, n, dl;

    if (h == NULL)
        return 0;
    h += 3;
    end = h + strcspn(h, "/:?#");
    n = (size_t)(end - h);
    for (i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
        dl = strlen(domains[i]);
        if (n >= dl && strncmp(end - dl, domains[i], dl) == 0 &&
            (n == dl || end[-(long)dl - 1] == '.'))
            return 1;
    }
    return 0;
}

/* An Attachment's stated size is the size of its data, when it has
 * both. */
static void
check_attachment(struct val_walk *w, const json_t *att, const char *expr)
{
    const json_t *sz = json_object_get(att, "size");
    const char *d = json_string_value(json_object_get(att, "data"));
    size_t n = 0, pad = 0;
    char e[1100];

    if (!json_is_integer(sz) || d == NULL)
        return;
    for (; *d; d++) {
        if (*d == '=')
            pad++;
        else if (*d != ' ' && *d != '\n' && *d != '\r' && *d != '\t')
            n++;
    }
    n = (n + pad) / 4 * 3 - (pad > 2 ? 2 : pad);
    if ((json_int_t)n != json_integer_value(sz)) {
        snprintf(e, sizeof(e), "%s.size", expr);
        sl_val_add(w->out, SL_SEV_ERROR, "value", PX, e,
                   "the stated size is not the size of the attachment's "
                   "data (%zu bytes): correct it", n);
    }
}

/* One value of element canon (type) at expr. twin: the value of the
 * primitive's "_" twin at the same place, or NULL. */
static void
walk_value(struct val_walk *w, const char *canon, const char *type,
           const struct sl_val_elem *el, const json_t *val,
           const json_t *twin, const char *expr)
{
    const char *why;

    if (type[0] == '@') {
        if (!json_is_object(val))
            sl_val_add(w->out, SL_SEV_ERROR, "structure", PX, expr,
                       "must be a JSON object");
        else
            walk_object(w, val, type + 1, expr, 0);
        return;
    }
    if (is_primitive(type)) {
        if (json_is_null(val)) {
            if (twin == NULL || json_is_null(twin))
                sl_val_add(w->out, SL_SEV_ERROR, "structure", PX, expr,
                           "null is allowed only in an array whose \"_\" "
                           "twin has an extension at the same place");
            return;
        }
        if ((why = sl_val_prim_check(type, val)) != NULL)
            sl_val_add(w->out, SL_SEV_ERROR, "value", PX, expr,
                       "the %s value %s", type, why);
        else if (w->v && w->v->security_checks &&
                 (strcmp(type, "string") == 0 ||
                  strcmp(type, "markdown") == 0) &&
                 (why = sl_val_html_tag(json_string_value(val))) != NULL)
            sl_val_add(w->out, SL_SEV_ERROR, "security", PX, expr,
                       "the %s holds HTML markup (a <%s> tag), which the "
                       "security checks refuse: remove it", type, why);
        else if (w->v && w->v->no_example_urls &&
                 (strcmp(type, "uri") == 0 || strcmp(type, "url") == 0 ||
                  strcmp(type, "canonical") == 0) &&
                 example_url(json_string_value(val)))
            sl_val_add(w->out, SL_SEV_ERROR, "value", PX, expr,
                       "the %s is on an example domain, which is not "
                       "allowed here: give the real one", type);
        else if (strcmp(type, "xhtml") == 0)
            sl_val_xhtml_check(json_string_value(val),
                               json_string_length(val), expr, w->out);
        else if (el && el->vset >= 0)
            check_binding(w, el->vset, type, val, expr);
        return;
    }
    if (!json_is_object(val)) {
        sl_val_add(w->out, SL_SEV_ERROR, "structure", PX, expr,
                   "must be a JSON object (a %s)", type);
        return;
    }
    if (strcmp(type, "Resource") == 0) {
        sl_val_walk_resource(w, val, expr, 0);
        return;
    }
    if (json_object_size(val) == 0) {
        sl_val_add(w->out, SL_SEV_ERROR, "invariant", PX, expr,
                   "ele-1: an element must have a value or children: leave "
                   "the empty object out");
        return;
    }
    if (strcmp(type, "Attachment") == 0)
        check_attachment(w, val, expr);
    walk_object(w, val,
                strcmp(type, "BackboneElement") == 0 ||
                        strcmp(type, "Element") == 0
                    ? canon
                    : type,
                expr, 0);
    if (el && el->vset >= 0)
        check_binding(w, el->vset, type, val, expr);
}

/* A primitive's "_" twin: an object (id, extension), or null in arrays.
 * has_value: the primitive has a value beside it. */
static void
walk_twin(struct val_walk *w, const json_t *val, int has_value,
          const char *expr)
{
    if (json_is_null(val))
        return;
    if (!has_value && json_is_object(val) &&
        json_object_get(val, "extension") == NULL) {
        sl_val_add(w->out, SL_SEV_ERROR, "invariant", PX, expr,
                   "ele-1: an element must have a value or children (an id "
                   "alone is not enough): give it a value or leave it out");
        return;
    }
    if (!json_is_object(val)) {
        sl_val_add(w->out, SL_SEV_ERROR, "structure", PX, expr,
                   "the \"_\" twin of a primitive must be a JSON object "
                   "(id, extension)");
        return;
    }
    walk_object(w, val, "Element", expr, 0);
}

/* Does obj give element path (a child of base, maybe a choice [x])? */
static int
has_child(const json_t *obj, const char *path, size_t blen)
{
    const char *name = path + blen + 1, *key;
    size_t n = strlen(name);
    const json_t *v;
    char tw[256];

    if (n > 3 && strcmp(name + n - 3, "[x]") == 0) {
        json_object_foreach((json_t *)obj, key, v) {
            const char *k = key[0] == '_' ? key + 1 : key;
            if (strncmp(k, name, n - 3) == 0 && k[n - 3] >= 'A' &&
                k[n - 3] <= 'Z')
                return 1;
        }
        return 0;
    }
    if (json_object_get(obj, name))
        return 1;
    snprintf(tw, sizeof(tw), "_%s", name);
    return json_object_get(obj, tw) != NULL;
}

static void
check_min(struct val_walk *w, const json_t *obj, const char *base,
          const char *expr)
{
    char pre[512];
    size_t blen = strlen(base), lo = 0, hi = sl_val_nelems, i;

    snprintf(pre, sizeof(pre), "%s.", base);
    while (lo < hi) { /* the first row >= "base." */
        size_t mid = (lo + hi) / 2;
        if (strcmp(sl_val_elems[mid].path, pre) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (i = lo; i < sl_val_nelems; i++) {
        const struct sl_val_elem *e = &sl_val_elems[i];
        if (strncmp(e->path, pre, blen + 1) != 0)
            break;
        if (e->min == 0 || strchr(e->path + blen + 1, '.'))
            continue;
        if (!has_child(obj, e->path, blen))
            sl_val_add(w->out, SL_SEV_ERROR, "required", PX, expr,
                       "%s is missing: it needs at least %d", e->path,
                       e->min);
    }
}

static void
walk_object(struct val_walk *w, const json_t *obj, const char *base,
            const char *expr, int is_res)
{
    const char *key, *choice[16];
    size_t nchoice = 0;
    const json_t *val;
    char canon[512], type[128], cexpr[1024];

    if (++w->depth > 64) {
        sl_val_add(w->out, SL_SEV_ERROR, "structure", PX, expr,
                   "nested more than 64 levels deep");
        w->depth--;
        return;
    }
    json_object_foreach((json_t *)obj, key, val) {
        const char *name = key[0] == '_' ? key + 1 : key;
        const struct sl_val_elem *el;
        const json_t *twin = NULL;
        size_t i, n;

        if (is_res && strcmp(key, "resourceType") == 0)
            continue;
        if (is_res && strcmp(key, "id") == 0 && json_is_string(val) &&
            sl_val_prim_check("id", val) != NULL) {
            /* Resource.id is a string in the tables, an id in R4's text */
            child_expr(cexpr, sizeof(cexpr), expr, key, -1);
            sl_val_add(w->out, SL_SEV_ERROR, "value", PX, cexpr,
                       "the resource id %s", sl_val_prim_check("id", val));
            continue;
        }
        if (!sl_fhir_elem_resolve(base, name, canon, sizeof(canon), type,
                                  sizeof(type))) {
            /* the member's name comes from the data: said only when it
             * looks like an element name (a value used as a key is not) */
            const char *shown = name_like(key) ? key : "(a member name that "
                                                       "is not an element "
                                                       "name)";
            child_expr(cexpr, sizeof(cexpr), expr, shown, -1);
            sl_val_add(w->out, SL_SEV_ERROR, "structure", PX, cexpr,
                       "%s is not an element of %s: remove it, or carry "
                       "its data in an extension", shown, base);
            continue;
        }
        el = sl_val_elem_find(canon);
        if (key[0] == '_' && !is_primitive(type)) {
            child_expr(cexpr, sizeof(cexpr), expr, key, -1);
            sl_val_add(w->out, SL_SEV_ERROR, "structure", PX, cexpr,
                       "%s is not a primitive: it has no \"_\" twin", name);
            continue;
        }
        if (key[0] != '_' && el != NULL && strstr(el->path, "[x]")) {
            /* a choice: one type only */
            const char *cn = el->path + strlen(base) + 1;
            size_t k;
            for (k = 0; k < nchoice; k++)
                if (strcmp(choice[k], cn) == 0)
                    break;
            if (k < nchoice) {
                child_expr(cexpr, sizeof(cexpr), expr, key, -1);
                sl_val_add(w->out, SL_SEV_ERROR, "structure", PX, cexpr,
                           "%s takes one type only: keep one of its "
                           "members", canon);
                continue;
            }
            if (nchoice < 16)
                choice[nchoice++] = cn;
        }
        if (key[0] != '_') {
            char tw[256];
            snprintf(tw, sizeof(tw), "_%s", key);
            twin = json_object_get(obj, tw);
        }
        if (json_is_array(val)) {
            if (el && el->max >= 0 && el->max <= 1) {
                child_expr(cexpr, sizeof(cexpr), expr, key, -1);
                sl_val_add(w->out, SL_SEV_ERROR, "structure", PX, cexpr,
                           "%s is not repeating: give one value, not an "
                           "array", name);
                continue;
            }
            n = json_array_size(val);
            if (n == 0) {
                child_expr(cexpr, sizeof(cexpr), expr, key, -1);
                sl_val_add(w->out, SL_SEV_ERROR, "structure", PX, cexpr,
                           "an empty array: leave %s out instead", name);
                continue;
            }
            if (el && el->max > 1 && key[0] != '_' && (long)n > el->max) {
                child_expr(cexpr, sizeof(cexpr), expr, key, -1);
                sl_val_add(w->out, SL_SEV_ERROR, "structure", PX, cexpr,
                           "%s has %zu values: at most %d allowed", name, n,
                           el->max);
            }
            for (i = 0; i < n; i++) {
                const json_t *item = json_array_get(val, i);
                child_expr(cexpr, sizeof(cexpr), expr, name, (long)i);
                if (key[0] == '_') {
                    const json_t *pv = json_object_get(obj, name);
                    walk_twin(w, item,
                              json_is_array(pv) && i < json_array_size(pv) &&
                                  !json_is_null(json_array_get(pv, i)),
                              cexpr);
                } else
                    walk_value(w, canon, type, el, item,
                               json_is_array(twin) ? json_array_get(twin, i)
                                                   : NULL,
                               cexpr);
            }
            continue;
        }
        child_expr(cexpr, sizeof(cexpr), expr, name, -1);
        if (el && (el->max < 0 || el->max > 1)) {
            sl_val_add(w->out, SL_SEV_ERROR, "structure", PX, cexpr,
                       "%s repeats: give its value in an array", name);
            continue;
        }
        if (key[0] == '_')
            walk_twin(w, val,
                      json_object_get(obj, name) != NULL &&
                          !json_is_null(json_object_get(obj, name)),
                      cexpr);
        else if (json_is_null(val))
            sl_val_add(w->out, SL_SEV_ERROR, "structure", PX, cexpr,
                       "null: leave %s out instead", name);
        else
            walk_value(w, canon, type, el, val, NULL, cexpr);
    }
    check_min(w, obj, base, expr);
    sl_val_invariants(w, obj, base, expr);
    if (w->v && (json_object_get(obj, "extension") ||
                 json_object_get(obj, "modifierExtension")))
        sl_val_ext_context(w, obj, base, expr, is_res);
    if (strcmp(base, "Extension") == 0 && json_object_get(obj, "extension")) {
        json_object_foreach((json_t *)obj, key, val)
            if (strncmp(key, "value", 5) == 0 && key[5] >= 'A' &&
                key[5] <= 'Z')
                sl_val_add(w->out, SL_SEV_ERROR, "invariant", PX, expr,
                           "ext-1: an extension has either extensions or a "
                           "value, not both");
    }
    w->depth--;
}

void
sl_val_walk_resource(struct val_walk *w, const json_t *res, const char *expr,
                     int top)
{
    const char *rt = json_string_value(json_object_get(res, "resourceType"));
    const struct sl_val_type *t;
    const json_t *prev;
    char e[1024];

    if (rt == NULL) {
        sl_val_add(w->out, SL_SEV_ERROR, "structure", PX, expr,
                   "no resourceType: a resource names its type");
        return;
    }
    t = sl_val_type_find(rt);
    if (t == NULL || !sl_fhir_type_is_resource(rt) || t->abstract) {
        sl_val_add(w->out, SL_SEV_ERROR, "structure", PX, expr,
                   "the resourceType is not a resource type of FHIR R4");
        return;
    }
    snprintf(e, sizeof(e), "%s", expr ? expr : rt);
    prev = w->res;
    w->res = res;
    if (w->root == NULL)
        w->root = res;
    walk_object(w, res, rt, e, 1);
    sl_val_check_contained(w, res, e);
    if (strcmp(rt, "Bundle") == 0)
        sl_val_check_bundle(w, res, e);
    if (strcmp(rt, "QuestionnaireResponse") == 0)
        sl_val_qr_check(w->v, res, e, w->out);
    if (strcmp(rt, "SearchParameter") == 0) {
        /* a composite parameter combines two or more (search.html) */
        const char *sp = json_string_value(json_object_get(res, "type"));
        if (sp && strcmp(sp, "composite") == 0 &&
            json_array_size(json_object_get(res, "component")) < 2)
            sl_val_add(w->out, SL_SEV_ERROR, "business-rule", PX, e,
                       "a composite SearchParameter combines two or more "
                       "components: give them");
    }
    w->res = prev;
    (void)top;
}

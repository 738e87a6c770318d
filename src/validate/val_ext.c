/* val_ext.c - an extension used where its definition allows it: when the
 * StructureDefinition of an extension's url is loaded (--ig, ig=), each
 * of its contexts is tried on the element that holds the extension (an
 * element path or type, and their bases; the url of the extension it is
 * inside; a FHIRPath expression whose result holds the element), and
 * each contextInvariant is evaluated on that element. A context sluice
 * cannot decide (a FHIRPath expression that fails, a slice name) allows
 * the use: never a rejection on a guess. Messages name the extension's
 * url (a definition, not data) and the element's path. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fhirpath/fhirpath.h"
#include "validate/val_profile.h"
#include "validate/val_walk.h"

#define PX "R4"

/* The element's path without indices, from its resource's type: expr
 * "Bundle.entry[0].resource.address[1]" in a Patient is
 * "Patient.address". */
static void
elem_path(const struct val_walk *w, const char *expr, char *out, size_t n)
{
    const char *rt = json_string_value(json_object_get(w->res, "resourceType"));
    const char *p = expr, *cut = NULL, *q;
    size_t o = 0;

    static const char *const marks[] = { ".entry.resource",
                                         ".parameter.resource", ".contained",
                                         ".outcome", NULL };
    char plain[1024];
    size_t k = 0;
    int i;

    /* indices out */
    for (; *p && k + 1 < sizeof(plain); p++) {
        if (*p == '[') {
            while (*p && *p != ']')
                p++;
            if (!*p)
                break;
            continue;
        }
        plain[k++] = *p;
    }
    plain[k] = '\0';
    for (i = 0; marks[i]; i++)
        for (q = plain; (q = strstr(q, marks[i])) != NULL; q++) {
            size_t ml = strlen(marks[i]);
            if (q[ml] == '.' || q[ml] == '\0')
                if (cut == NULL || q + ml > cut)
                    cut = q + ml;
        }
    if (cut == NULL) {
        cut = strchr(plain, '.');
        if (cut == NULL)
            cut = plain + strlen(plain);
    }
    o = (size_t)snprintf(out, n, "%s%s", rt ? rt : "", cut);
    (void)o;
}

/* Whether type t is name or has it among its bases. */
static int
type_is(const char *t, const char *name)
{
    const struct sl_val_type *ty;
    int guard = 0;

    while (t && *t && guard++ < 16) {
        if (strcmp(t, name) == 0)
            return 1;
        if ((ty = sl_val_type_find(t)) == NULL)
            return 0;
        t = ty->base;
    }
    return 0;
}

/* The object holding child as a member (or in an array member) below
 * node, or NULL. */
static const json_t *
parent_of(const json_t *node, const json_t *child, int depth)
{
    const char *k;
    const json_t *v, *x, *r;
    size_t i;

    if (depth > 64 || !json_is_object(node))
        return NULL;
    json_object_foreach((json_t *)node, k, v)
    {
        if (v == child)
            return node;
        if (json_is_array(v)) {
            json_array_foreach(v, i, x)
            {
                if (x == child)
                    return node;
                if ((r = parent_of(x, child, depth + 1)))
                    return r;
            }
        } else if ((r = parent_of(v, child, depth + 1)))
            return r;
    }
    return NULL;
}

/* One context of def on obj (of base, at path): 1 allowed, 0 not. */
static int
context_ok(const struct val_walk *w, const json_t *ctx, const json_t *obj,
           const char *base, const char *path, int is_res)
{
    const char *type = json_string_value(json_object_get(ctx, "type"));
    const char *x = json_string_value(json_object_get(ctx, "expression"));

    if (type == NULL || x == NULL)
        return 1;
    if (strcmp(type, "element") == 0) {
        if (strchr(x, ':') || strchr(x, '#'))
            return 1; /* a slice or a profile's element: not decided */
        const char *dot = strchr(x, '.'), *pdot = strchr(path, '.');
        if (strcmp(x, path) == 0 || strcmp(x, base) == 0)
            return 1;
        if (is_res)
            return type_is(base, x);
        if (strcmp(x, "Element") == 0 ||
            (strcmp(x, "BackboneElement") == 0 && strchr(base, '.')))
            return 1;
        /* DomainResource.text for Patient.text: a base's element */
        if (dot && pdot && strcmp(dot, pdot) == 0) {
            char head[128];
            size_t hl = (size_t)(dot - x);
            const char *rt =
                json_string_value(json_object_get(w->res, "resourceType"));
            if (hl < sizeof(head)) {
                memcpy(head, x, hl);
                head[hl] = '\0';
                if (rt && type_is(rt, head))
                    return 1;
            }
        }
        if (strchr(x, '.') == NULL && strchr(base, '.') == NULL)
            return type_is(base, x);
        return 0;
    }
    if (strcmp(type, "extension") == 0) {
        const char *u = json_string_value(json_object_get(obj, "url"));
        const json_t *p;
        if (strcmp(base, "Extension") == 0)
            return u && strcmp(u, x) == 0;
        /* on the value of an extension (its primitive's "_" twin) */
        p = parent_of(w->res, obj, 0);
        u = json_string_value(json_object_get(p, "url"));
        return u && strcmp(u, x) == 0;
    }
    if (strcmp(type, "fhirpath") == 0) {
        struct sl_fp_expr *e = NULL;
        struct sl_fp_result *r = NULL;
        struct sl_fp_env env = { 0 };
        struct sl_err err = { 0 };
        int ok = 1;
        size_t i;
        if (sl_fp_compile(x, &e, &err) != SL_OK)
            return 1;
        env.resource = (json_t *)w->res;
        env.root = (json_t *)w->root;
        if (sl_fp_eval(e, &env, (json_t *)w->res, &r, &err) == SL_OK) {
            ok = 0;
            for (i = 0; i < sl_fp_result_count(r) && !ok; i++) {
                json_t *j = sl_fp_result_json(r, i);
                ok = j == obj;
                json_decref(j);
            }
        }
        sl_fp_result_free(r);
        sl_fp_free(e);
        return ok;
    }
    return 1;
}

/* Whether u looks like a definition's canonical URL (so that it may be
 * quoted in a message). */
static int
url_like(const char *u)
{
    size_t n = strlen(u);

    if (n > 256 || strpbrk(u, " \t\r\n\"<>") != NULL)
        return 0;
    return strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0 ||
           strncmp(u, "urn:", 4) == 0;
}

void
sl_val_ext_context(struct val_walk *w, const json_t *obj, const char *base,
                   const char *expr, int is_res)
{
    static const char *const keys[] = { "extension", "modifierExtension" };
    const json_t *ex, *def, *c;
    char path[1024], e[1100];
    size_t i, j, k;

    if (w->v == NULL)
        return;
    path[0] = '\0';
    for (k = 0; k < 2; k++)
        json_array_foreach(json_object_get(obj, keys[k]), i, ex)
        {
            const char *u = json_string_value(json_object_get(ex, "url"));
            const json_t *ctxs;
            int ok = 0;
            if (u == NULL)
                continue;
            /* a relative url names an extension inside a complex one
             * (its definition is the outer one's); anything else that is
             * not a URL is not looked up nor quoted */
            if (!url_like(u))
                continue;
            snprintf(e, sizeof(e), "%.900s.%s[%zu]", expr, keys[k], i);
            if ((def = sl_val_def_find(w->v, "StructureDefinition", u)) ==
                NULL) {
                int hl7 = strncmp(u, "http://hl7.org/fhir/StructureDefinition/",
                                  40) == 0 ||
                          strstr(u, "example.org") || strstr(u, "acme.com") ||
                          strstr(u, "nema.org");
                sl_val_add(w->out,
                           w->v->unknown_ext_error && !hl7 ? SL_SEV_ERROR
                                                           : SL_SEV_WARNING,
                           "structure", PX, e,
                           "the extension %s is not known, so it was not "
                           "checked: load its definition (--ig)",
                           u);
                continue;
            }
            ctxs = json_object_get(def, "context");
            if (path[0] == '\0')
                elem_path(w, expr, path, sizeof(path));
            if (json_array_size(ctxs) > 0) {
                json_array_foreach(
                    ctxs, j, c) if ((ok = context_ok(w, c, obj, base, path,
                                                     is_res))) break;
                if (!ok) {
                    sl_val_add(w->out, SL_SEV_ERROR, "structure", PX, e,
                               "the extension %s may not be used on %s: its "
                               "definition's contexts do not allow it here",
                               u, path);
                    continue;
                }
            }
            json_array_foreach(json_object_get(def, "contextInvariant"), j, c)
            {
                const char *x = json_string_value(c);
                struct sl_fp_expr *fx = NULL;
                struct sl_fp_env env = { 0 };
                struct sl_err err = { 0 };
                int val = -1;
                if (x == NULL || sl_fp_compile(x, &fx, &err) != SL_OK) {
                    sl_val_add(w->out, SL_SEV_WARNING, "invariant", PX, e,
                               "a contextInvariant of the extension %s could "
                               "not be checked",
                               u);
                    continue;
                }
                env.resource = (json_t *)w->res;
                env.root = (json_t *)w->root;
                if (sl_fp_eval_bool(fx, &env, (json_t *)obj, &val, &err) !=
                    SL_OK)
                    sl_val_add(w->out, SL_SEV_WARNING, "invariant", PX, e,
                               "a contextInvariant of the extension %s could "
                               "not be checked",
                               u);
                else if (val == 0)
                    sl_val_add(w->out, SL_SEV_ERROR, "invariant", PX, e,
                               "the extension %s may not be used here: its "
                               "definition's contextInvariant does not hold",
                               u);
                sl_fp_free(fx);
            }
        }
}

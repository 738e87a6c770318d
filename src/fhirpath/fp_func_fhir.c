/* fp_func_fhir.c - the functions FHIR adds to FHIRPath: extension(url),
 * hasValue(), getValue(), resolve(), memberOf() and conformsTo() through
 * the caller's callbacks, htmlChecks(). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhirpath/fp_int.h"

/* ---- resolve() -------------------------------------------------------------
 */
static json_t *
find_in(json_t *res, const char *ref)
{
    json_t *entries, *e, *c;
    size_t i;
    const char *rt, *id;
    char key[512];

    if (res == NULL)
        return NULL;
    if (ref[0] == '#') {
        if (ref[1] == '\0')
            return res;
        json_array_foreach(json_object_get(res, "contained"), i, c)
        {
            id = json_string_value(json_object_get(c, "id"));
            if (id && strcmp(id, ref + 1) == 0)
                return c;
        }
        return NULL;
    }
    entries = json_object_get(res, "entry");
    json_array_foreach(entries, i, e)
    {
        const char *full = json_string_value(json_object_get(e, "fullUrl"));
        json_t *r = json_object_get(e, "resource");
        size_t fl, rl = strlen(ref);
        if (full && strcmp(full, ref) == 0)
            return r;
        rt = json_string_value(json_object_get(r, "resourceType"));
        id = json_string_value(json_object_get(r, "id"));
        if (rt && id) {
            snprintf(key, sizeof(key), "%s/%s", rt, id);
            if (strcmp(key, ref) == 0)
                return r;
        }
        /* a relative reference matches the end of an absolute fullUrl */
        fl = full ? strlen(full) : 0;
        if (full && strchr(ref, ':') == NULL && fl > rl &&
            strcmp(full + fl - rl, ref) == 0 && full[fl - rl - 1] == '/')
            return r;
    }
    return NULL;
}

json_t *
fp_resolve_ref(struct fp_ctx *cx, const char *ref)
{
    json_t *r = NULL;
    const struct sl_fp_env *env = cx->env;

    if (ref == NULL)
        return NULL;
    if (env && env->resource && ref[0] == '#')
        r = find_in(env->resource, ref);
    if (r == NULL && env && env->root)
        r = find_in(env->root, ref);
    if (r == NULL && ref[0] == '#')
        r = find_in(cx->focus, ref);
    if (r == NULL && cx->focus && json_object_get(cx->focus, "entry") != NULL)
        r = find_in(cx->focus, ref);
    return r;
}

static int
f_extension(struct fp_ctx *cx, const struct fp_node *n,
            const struct fp_coll *in, struct fp_coll *out)
{
    struct fp_coll ext = { 0 };
    char *url = NULL;
    size_t i;
    int rc;

    if ((rc = fp_arg_str(cx, n, 0, &url)) != SL_OK || url == NULL)
        goto out;
    for (i = 0; i < in->n; i++)
        fp_children_named(&in->v[i], "extension", &ext);
    for (i = 0; i < ext.n; i++) {
        const char *u = json_string_value(json_object_get(ext.v[i].j, "url"));
        if (u && strcmp(u, url) == 0)
            fp_coll_add(out, &ext.v[i]);
    }
out:
    free(url);
    fp_coll_free(&ext);
    return rc;
}

static int
f_hasvalue(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
           struct fp_coll *out)
{
    int v;

    (void)cx;
    v = in->n == 1 && in->v[0].kind == FK_NODE && in->v[0].j != NULL &&
        !json_is_object(in->v[0].j) && !json_is_array(in->v[0].j);
    if (strcmp(n->name, "hasValue") == 0)
        fp_add_bool(out, v);
    else if (v) /* getValue */
        fp_coll_add(out, &in->v[0]);
    return SL_OK;
}

static int
f_resolve(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
          struct fp_coll *out)
{
    size_t i;

    (void)n;
    for (i = 0; i < in->n; i++) {
        const struct fp_item *it = &in->v[i];
        const char *ref = NULL;
        json_t *r;
        if (it->kind == FK_NODE && json_is_object(it->j))
            ref = json_string_value(json_object_get(it->j, "reference"));
        else if (it->kind == FK_STR ||
                 (it->kind == FK_NODE && json_is_string(it->j)))
            ref = json_string_value(it->j);
        if ((r = fp_resolve_ref(cx, ref)) != NULL) {
            const char *rt =
                json_string_value(json_object_get(r, "resourceType"));
            fp_add_node(out, r, NULL, rt ? rt : "", rt ? rt : "");
        }
    }
    return SL_OK;
}

static int
member_one(struct fp_ctx *cx, const struct fp_node *n, const char *system,
           const char *code, const char *vs, int *m)
{
    int rc = cx->env->member_of(cx->env->ud, system, code, vs, m);
    return rc == SL_OK ? SL_OK
                       : fp_err(cx, n, rc,
                                "memberOf(): the membership in %s could "
                                "not be checked", vs);
}

static int
f_memberof(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
           struct fp_coll *out)
{
    char *vs = NULL;
    int rc, m = 0;
    const struct fp_item *it;

    if ((rc = fp_arg_str(cx, n, 0, &vs)) != SL_OK || vs == NULL || in->n == 0)
        goto out;
    if (in->n > 1) {
        rc = fp_err(cx, n, SL_EPARSE, "memberOf() needs a single item");
        goto out;
    }
    if (cx->env == NULL || cx->env->member_of == NULL) {
        rc = fp_err(cx, n, SL_ENOTFOUND,
                    "memberOf() needs a terminology "
                    "(none was given)");
        goto out;
    }
    it = &in->v[0];
    if (json_is_string(it->j)) {
        rc = member_one(cx, n, NULL, json_string_value(it->j), vs, &m);
    } else if (json_is_object(it->j)) {
        json_t *codings = json_object_get(it->j, "coding"), *c;
        size_t i;
        if (codings == NULL && !json_is_string(json_object_get(it->j, "code")))
            goto out;          /* neither a Coding nor a CodeableConcept */
        if (codings == NULL) { /* a Coding */
            rc = member_one(
                cx, n, json_string_value(json_object_get(it->j, "system")),
                json_string_value(json_object_get(it->j, "code")), vs, &m);
        }
        json_array_foreach(codings, i, c)
        {
            const char *code = json_string_value(json_object_get(c, "code"));
            if (code == NULL)
                continue;
            rc = member_one(cx, n,
                            json_string_value(json_object_get(c, "system")),
                            code, vs, &m);
            if (rc != SL_OK || m)
                break;
        }
    } else {
        goto out;
    }
    if (rc == SL_OK)
        fp_add_bool(out, m);
out:
    free(vs);
    return rc;
}

static int
f_conformsto(struct fp_ctx *cx, const struct fp_node *n,
             const struct fp_coll *in, struct fp_coll *out)
{
    char *url = NULL;
    int rc, c = 0;
    size_t i;
    json_t *res, *p;

    if ((rc = fp_arg_str(cx, n, 0, &url)) != SL_OK || url == NULL || in->n == 0)
        goto out;
    if (in->n > 1) {
        rc = fp_err(cx, n, SL_EPARSE, "conformsTo() needs a single item");
        goto out;
    }
    res = in->v[0].j;
    if (cx->env && cx->env->conforms_to) {
        if ((rc = cx->env->conforms_to(cx->env->ud, res, url, &c)) != SL_OK) {
            rc = fp_err(cx, n, rc, "conformsTo(): could not be checked");
            goto out;
        }
    } else {
        const char *rt =
            json_string_value(json_object_get(res, "resourceType"));
        const char *base = "http://hl7.org/fhir/StructureDefinition/";
        c = rt && strncmp(url, base, strlen(base)) == 0 &&
            strcmp(url + strlen(base), rt) == 0;
        json_array_foreach(
            json_object_get(json_object_get(res, "meta"), "profile"), i,
            p) if (json_is_string(p) && strcmp(json_string_value(p), url) == 0)
            c = 1;
    }
    fp_add_bool(out, c);
out:
    free(url);
    return rc;
}

/* htmlChecks: the narrative's XHTML has only what FHIR allows (no script,
 * no active content, no event attributes, no style or form elements). */
static int
f_htmlchecks(struct fp_ctx *cx, const struct fp_node *n,
             const struct fp_coll *in, struct fp_coll *out)
{
    static const char *const bad[] = { "<script",     "<object", "<applet",
                                       "<embed",      "<iframe", "<form",
                                       "<input",      "<style",  "<base",
                                       "<link",       "<meta",   "<frame",
                                       "javascript:", NULL };
    const char *s, *p;
    int ok = 1, i;

    (void)cx, (void)n;
    if (in->n != 1)
        return SL_OK;
    s = json_string_value(in->v[0].j);
    if (s == NULL)
        return SL_OK;
    if (strncmp(s, "<div", 4) != 0)
        ok = 0;
    for (i = 0; ok && bad[i]; i++)
        if (strcasestr(s, bad[i]) != NULL)
            ok = 0;
    /* event attributes: on...= inside a tag */
    for (p = s; ok && (p = strchr(p, '<')) != NULL; p++) {
        const char *e = strchr(p, '>'), *q;
        if (e == NULL)
            break;
        for (q = p; q < e; q++)
            if ((q[0] == ' ' || q[0] == '\t' || q[0] == '\n') &&
                (q[1] == 'o' || q[1] == 'O') && (q[2] == 'n' || q[2] == 'N')) {
                const char *r = q + 3;
                while (r < e &&
                       ((*r >= 'a' && *r <= 'z') || (*r >= 'A' && *r <= 'Z')))
                    r++;
                if (r < e && *r == '=' && r > q + 3)
                    ok = 0;
            }
    }
    fp_add_bool(out, ok);
    return SL_OK;
}

const struct fp_fn_entry fp_fns_fhir[] = {
    { "extension", 1, 1, f_extension },   { "hasValue", 0, 0, f_hasvalue },
    { "getValue", 0, 0, f_hasvalue },     { "resolve", 0, 0, f_resolve },
    { "memberOf", 1, 1, f_memberof },     { "conformsTo", 1, 1, f_conformsto },
    { "htmlChecks", 0, 0, f_htmlchecks }, { NULL, 0, 0, NULL },
};

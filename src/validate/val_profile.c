/* val_profile.c - a resource against a profile (a StructureDefinition
 * with derivation "constraint"): its elements' cardinality, fixed and
 * pattern values, narrowed choice types, extension slices by url and
 * required bindings against local ValueSets, then the profile it is
 * based on, when that is a profile too. A profile given only as a
 * differential is checked as its differential over its base: the
 * constraints a generated snapshot would hold are those of the
 * differential and of the bases, which are checked in turn. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhirpath/fhirpath.h"
#include "validate/val_profile.h"

#define SDX_NC "http://hl7.org/fhir/StructureDefinition/"

/* Elements without ids (allowed before R4's snapshots had them) get the
 * id R4 gives them: each path segment, with ":sliceName" where the
 * element, or the one it lies in, is a slice. */
static void
fill_ids(json_t *els)
{
    struct {
        char *path, *id;
    } cur[256];
    size_t ncur = 0, i, k;
    json_t *el;

    json_array_foreach(els, i, el) {
        const char *path = json_string_value(json_object_get(el, "path"));
        const char *slice = json_string_value(json_object_get(el,
                                                              "sliceName"));
        const char *last, *pid = NULL;
        char *ppath, *id;
        if (path == NULL)
            continue;
        last = strrchr(path, '.');
        if (json_is_string(json_object_get(el, "id"))) {
            id = sl_strdup(json_string_value(json_object_get(el, "id")));
        } else {
            ppath = last ? sl_strndup(path, (size_t)(last - path)) : NULL;
            for (k = 0; ppath && k < ncur; k++)
                if (strcmp(cur[k].path, ppath) == 0)
                    pid = cur[k].id;
            if (last == NULL)
                id = sl_strdup(path);
            else
                id = sl_asprintf("%s%s%s%s", pid ? pid : ppath, last,
                                 slice ? ":" : "", slice ? slice : "");
            free(ppath);
            json_object_set_new(el, "id", json_string(id));
        }
        for (k = 0; k < ncur; k++)
            if (strcmp(cur[k].path, path) == 0)
                break;
        if (k == ncur && ncur < 256) {
            cur[ncur].path = sl_strdup(path);
            cur[ncur].id = NULL;
            ncur++;
        }
        if (k < ncur) {
            free(cur[k].id);
            cur[k].id = id;
        } else {
            free(id);
        }
    }
    for (k = 0; k < ncur; k++) {
        free(cur[k].path);
        free(cur[k].id);
    }
}

void
sl_val_sd_fill_ids(json_t *sd)
{
    fill_ids(json_object_get(json_object_get(sd, "snapshot"), "element"));
    fill_ids(json_object_get(json_object_get(sd, "differential"), "element"));
}

int
sl_val_sd_check(const json_t *sd, const char *name, struct sl_err *err)
{
    const char *type = json_string_value(json_object_get(sd, "type"));
    const json_t *els, *el;
    size_t i, tl;

    if (type == NULL)
        return SL_ERR(err, SL_EPARSE, "%s: StructureDefinition without a "
                      "type", name);
    els = json_object_get(json_object_get(sd, "snapshot"), "element");
    if (!json_is_array(els))
        els = json_object_get(json_object_get(sd, "differential"), "element");
    if (!json_is_array(els))
        return SL_ERR(err, SL_EPARSE, "%s: StructureDefinition without "
                      "snapshot or differential elements", name);
    tl = strlen(type);
    json_array_foreach(els, i, el) {
        const char *p = json_string_value(json_object_get(el, "path"));
        if (p == NULL)
            return SL_ERR(err, SL_EPARSE, "%s: element %zu has no path",
                          name, i);
        if (strncmp(p, type, tl) != 0 || (p[tl] != '\0' && p[tl] != '.'))
            return SL_ERR(err, SL_EPARSE, "%s: element %zu: path is not "
                          "under the type %s", name, i, type);
    }
    return SL_OK;
}

void
sl_valp_nodes_push(struct nodes *ns, const json_t *v, const char *expr)
{
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? 2 * ns->cap : 8;
        ns->v = sl_realloc(ns->v, ns->cap * sizeof(*ns->v));
        ns->expr = sl_realloc(ns->expr, ns->cap * sizeof(*ns->expr));
    }
    ns->v[ns->n] = v;
    ns->expr[ns->n] = sl_strdup(expr);
    ns->n++;
}

void
sl_valp_nodes_free(struct nodes *ns)
{
    size_t i;

    for (i = 0; i < ns->n; i++)
        free(ns->expr[i]);
    free(ns->v);
    free(ns->expr);
    memset(ns, 0, sizeof(*ns));
}

/* The member of obj for segment seg ("code", "value[x]"): its key in
 * *key, or NULL. */
const json_t *
sl_valp_member(const json_t *obj, const char *seg, size_t sl,
               const char **key)
{
    const char *k;
    const json_t *x;

    if (!json_is_object(obj))
        return NULL;
    if (sl > 3 && memcmp(seg + sl - 3, "[x]", 3) == 0) {
        json_object_foreach((json_t *)obj, k, x)
            if (strncmp(k, seg, sl - 3) == 0 && k[sl - 3] >= 'A' &&
                k[sl - 3] <= 'Z') {
                *key = k;
                return x;
            }
        return NULL;
    }
    json_object_foreach((json_t *)obj, k, x)
        if (strlen(k) == sl && memcmp(k, seg, sl) == 0) {
            *key = k;
            return x;
        }
    return NULL;
}

/* The values at the dotted rest of a path below node. */
void
sl_valp_navigate(const json_t *node, const char *rest, const char *expr,
                 struct nodes *out)
{
    size_t sl = strcspn(rest, "."), i;
    const json_t *m, *x;
    const char *key = NULL;
    char e[1024];

    if (*rest == '\0') {
        sl_valp_nodes_push(out, node, expr);
        return;
    }
    if ((m = sl_valp_member(node, rest, sl, &key)) == NULL)
        return;
    if (json_is_array(m)) {
        json_array_foreach(m, i, x) {
            snprintf(e, sizeof(e), "%s.%s[%zu]", expr, key, i);
            sl_valp_navigate(x, rest + sl + (rest[sl] == '.'), e, out);
        }
    } else {
        snprintf(e, sizeof(e), "%s.%s", expr, key);
        sl_valp_navigate(m, rest + sl + (rest[sl] == '.'), e, out);
    }
}

/* pat's members are all in v (arrays: each item of pat matches one of v). */
int
sl_valp_match(const json_t *pat, const json_t *v)
{
    const char *k;
    const json_t *x, *y;
    size_t i, j;

    if (json_is_object(pat)) {
        if (!json_is_object(v))
            return 0;
        json_object_foreach((json_t *)pat, k, x)
            if (!sl_valp_match(x, json_object_get(v, k)))
                return 0;
        return 1;
    }
    if (json_is_array(pat)) {
        if (!json_is_array(v))
            return 0;
        json_array_foreach(pat, i, x) {
            int hit = 0;
            json_array_foreach(v, j, y) if (sl_valp_match(x, y)) {
                hit = 1;
                break;
            }
            if (!hit)
                return 0;
        }
        return 1;
    }
    if (json_is_number(pat) && json_is_number(v))
        return json_number_value(pat) == json_number_value(v);
    return v != NULL && json_equal(pat, v);
}

const json_t *
sl_valp_prefixed(const json_t *el, const char *pre, const char **which)
{
    const char *k;
    const json_t *x;
    size_t pl = strlen(pre);

    json_object_foreach((json_t *)el, k, x)
        if (strncmp(k, pre, pl) == 0 && k[pl] >= 'A' && k[pl] <= 'Z') {
            *which = k;
            return x;
        }
    return NULL;
}

/* Count of v (an array's items, or 1). */
static size_t
count_of(const json_t *v)
{
    return v == NULL ? 0 : json_is_array(v) ? json_array_size(v) : 1;
}

static void check_sd_at(const struct sl_validator *v, const json_t *res,
                        const char *type, const char *rexpr,
                        const json_t *sd, struct sl_val_result *out,
                        int depth);
static void check_sd(const struct sl_validator *v, const json_t *res,
                     const json_t *sd, struct sl_val_result *out, int depth);

/* x against the profile's minValue[x] (sign -1) or maxValue[x] (1) lim:
 * numbers by value; dates, dateTimes, instants and times over the
 * precision both have (ISO order); Quantities in the limit's UCUM unit
 * (a unit that cannot be converted is an error: it cannot be checked). */
static void
check_limit(const json_t *x, const json_t *lim, int sign, const char *what,
            const char *label, const char *pname, const char *e,
            struct sl_val_result *out)
{
    double d;
    int c;

    if (json_is_number(x) && json_is_number(lim)) {
        d = json_number_value(x) - json_number_value(lim);
        c = d < 0 ? -1 : d > 0;
    } else if (json_is_string(x) && json_is_string(lim)) {
        size_t a = json_string_length(x), b = json_string_length(lim);
        c = strncmp(json_string_value(x), json_string_value(lim),
                    a < b ? a : b);
    } else if (json_is_object(x) && json_is_object(lim) &&
               json_is_number(json_object_get(x, "value")) &&
               json_is_number(json_object_get(lim, "value"))) {
        const char *cx = json_string_value(json_object_get(x, "code"));
        const char *cl = json_string_value(json_object_get(lim, "code"));
        if (sl_fp_ucum_convert(json_number_value(json_object_get(x, "value")),
                               cx, cl, &d) != 0) {
            sl_val_add(out, SL_SEV_ERROR, "value", pname, e,
                       "%s: the quantity's unit cannot be compared with the "
                       "profile's %s (UCUM codes of one dimension needed)",
                       label, what);
            return;
        }
        d -= json_number_value(json_object_get(lim, "value"));
        c = d < 0 ? -1 : d > 0;
    } else
        return;
    if (c * sign > 0)
        sl_val_add(out, SL_SEV_ERROR, "value", pname, e, "%s: %s the "
                   "profile's %s", label, sign < 0 ? "less than" : "more than",
                   what);
}

/* Profiles being applied to values inside values (a type profile whose
 * elements have type profiles...): a bound on the nesting. */
static __thread int tp_depth;
/* The resource a profile is being checked on (a Bundle: where the
 * references of its entries resolve). */
static __thread const json_t *tp_root;

/* The entry resource of tp_root (a Bundle) that ref names: by fullUrl,
 * by a fullUrl ending /ref, or by Type/id; NULL when none. */
static const json_t *
resolve_in_root(const char *ref)
{
    const json_t *en;
    size_t i, rl = strlen(ref);
    const char *rt = json_string_value(json_object_get(tp_root,
                                                       "resourceType"));

    if (rt == NULL || strcmp(rt, "Bundle") != 0 || ref[0] == '#')
        return NULL;
    json_array_foreach(json_object_get(tp_root, "entry"), i, en) {
        const char *fu = json_string_value(json_object_get(en, "fullUrl"));
        const json_t *r = json_object_get(en, "resource");
        const char *t = json_string_value(json_object_get(r, "resourceType"));
        const char *id = json_string_value(json_object_get(r, "id"));
        size_t fl;
        if (fu && (strcmp(fu, ref) == 0 ||
                   ((fl = strlen(fu)) > rl && fu[fl - rl - 1] == '/' &&
                    strcmp(fu + fl - rl, ref) == 0)))
            return r;
        if (t && id && strncmp(ref, t, strlen(t)) == 0 &&
            ref[strlen(t)] == '/' && strcmp(ref + strlen(t) + 1, id) == 0)
            return r;
    }
    return NULL;
}

/* The type a canonical URL of R4 core names
 * (http://hl7.org/fhir/StructureDefinition/Patient: "Patient"), or NULL. */
static const char *
core_type(const char *url)
{
    static const char pre[] = "http://hl7.org/fhir/StructureDefinition/";
    const struct sl_val_type *t;

    if (strncmp(url, pre, sizeof(pre) - 1) != 0 ||
        (t = sl_val_type_find(url + sizeof(pre) - 1)) == NULL)
        return NULL;
    return t->name;
}

int
sl_valp_conforms(const struct sl_validator *v, const json_t *x,
                 const char *url)
{
    struct sl_val_result tmp = {0};
    const json_t *sd;
    const char *st, *rt;
    int r;

    if (url && json_is_object(x) && core_type(url) &&
        (rt = json_string_value(json_object_get(x, "resourceType"))) != NULL)
        return strcmp(rt, core_type(url)) == 0;
    if (url == NULL || !json_is_object(x) ||
        (sd = sl_val_def_find(v, "StructureDefinition", url)) == NULL ||
        (st = json_string_value(json_object_get(sd, "type"))) == NULL)
        return -1;
    rt = json_string_value(json_object_get(x, "resourceType"));
    if (rt && strcmp(rt, st) != 0)
        return 0;
    if (tp_depth > 3)
        return -1;
    tp_depth++;
    check_sd_at(v, x, st, st, sd, &tmp, 0);
    tp_depth--;
    r = sl_val_result_errors(&tmp) == 0;
    sl_val_result_clear(&tmp);
    return r;
}

/* x (at ek), a value of an element whose types name profiles (type
 * profiles: an Address profile, a profile on Parameters.parameter.
 * resource): with one profile, x is checked against it; with several,
 * x must conform to one of them, else an error and what each found.
 * Profiles not loaded, and those of extensions and references (checked
 * elsewhere), are left out. */
static void
check_type_profiles(const struct sl_validator *v, const json_t *types,
                    const json_t *x, const char *label, const char *pname,
                    const char *ek, struct sl_val_result *out)
{
    struct sl_val_result tmp[8];
    const json_t *t, *p;
    size_t j, k, q, np = 0;
    int ok = 0;

    if (tp_depth > 3 || !json_is_object(x))
        return;
    memset(tmp, 0, sizeof(tmp));
    tp_depth++;
    json_array_foreach(types, j, t) {
        const char *c = json_string_value(json_object_get(t, "code"));
        if (c && strcmp(c, "Reference") == 0 &&
            json_array_size(json_object_get(t, "targetProfile")) > 0 &&
            json_string_value(json_object_get(x, "reference"))) {
            /* a reference resolved in the Bundle: its target conforms to
             * one of the target profiles (those loaded) */
            const json_t *target = resolve_in_root(
                json_string_value(json_object_get(x, "reference")));
            int known = 0, hit = 0, r;
            if (target == NULL)
                continue;
            tp_depth++;
            json_array_foreach(json_object_get(t, "targetProfile"), k, p) {
                r = sl_valp_conforms(v, target, json_string_value(p));
                known |= r >= 0;
                hit |= r == 1;
            }
            tp_depth--;
            if (known && !hit)
                sl_val_add(out, SL_SEV_ERROR, "structure", pname, ek,
                           "%s: the resource it references conforms to none "
                           "of its target profiles", label);
            continue;
        }
        if (c == NULL || strcmp(c, "Extension") == 0 ||
            strcmp(c, "Reference") == 0 || strcmp(c, "canonical") == 0)
            continue;
        json_array_foreach(json_object_get(t, "profile"), k, p) {
            const char *u = json_string_value(p);
            const json_t *sd;
            const char *st, *rt;
            if (u && np < 8 && core_type(u) &&
                json_object_get(x, "resourceType")) {
                /* R4's own definition of a resource type: that type (the
                 * walk against R4 checks the rest) */
                rt = json_string_value(json_object_get(x, "resourceType"));
                if (rt == NULL || strcmp(rt, core_type(u)) != 0)
                    sl_val_add(&tmp[np], SL_SEV_ERROR, "invalid", pname, ek,
                               "%s: a %s is needed here, not this type",
                               label, core_type(u));
                ok |= sl_val_result_errors(&tmp[np]) == 0;
                np++;
                continue;
            }
            if (u == NULL || np >= 8 ||
                (sd = sl_val_def_find(v, "StructureDefinition", u)) == NULL ||
                (st = json_string_value(json_object_get(sd, "type"))) == NULL)
                continue;
            rt = json_string_value(json_object_get(x, "resourceType"));
            if (rt && strcmp(rt, st) != 0) {
                sl_val_add(&tmp[np], SL_SEV_ERROR, "invalid", pname, ek,
                           "%s: the profile %s is for %s resources, not "
                           "this type", label, u, st);
            } else
                check_sd_at(v, x, st, ek, sd, &tmp[np], 0);
            ok |= sl_val_result_errors(&tmp[np]) == 0;
            np++;
        }
    }
    tp_depth--;
    if (np > 1 && !ok)
        sl_val_add(out, SL_SEV_ERROR, "structure", pname, ek,
                   "%s: the value conforms to none of the profiles its "
                   "type allows", label);
    for (q = 0; q < np; q++) {
        for (k = 0; (np == 1 || !ok) && k < tmp[q].n; k++) {
            const struct sl_val_issue *is = &tmp[q].v[k];
            if (np > 1 && is->sev != SL_SEV_ERROR)
                continue;
            sl_val_add(out, is->sev, is->type, is->profile, is->expr, "%s",
                       is->msg);
        }
        sl_val_result_clear(&tmp[q]);
    }
}

/* Whether path, a child of a type (Patient.birthDate, or a choice
 * as Observation.valueQuantity), is an element of that type or of its
 * bases. Deeper paths are taken as they are (1). */
static int
child_exists(const char *path)
{
    const char *dot = strchr(path, '.');
    const struct sl_val_type *t;
    char type[128], p[512];
    size_t tl, k;
    int guard = 0;

    if (dot == NULL || strchr(dot + 1, '.') || strchr(dot + 1, ':') ||
        (tl = (size_t)(dot - path)) >= sizeof(type))
        return 1;
    memcpy(type, path, tl);
    type[tl] = '\0';
    if (sl_val_type_find(type) == NULL)
        return 1;
    while (type[0] && guard++ < 8) {
        snprintf(p, sizeof(p), "%s%s", type, dot);
        if (sl_val_elem_find(p) != NULL)
            return 1;
        /* valueQuantity: value[x] */
        for (k = strlen(type) + 1; p[k]; k++)
            if (p[k] >= 'A' && p[k] <= 'Z') {
                snprintf(p + k, sizeof(p) - k, "[x]");
                if (sl_val_elem_find(p) != NULL)
                    return 1;
                break;
            }
        if ((t = sl_val_type_find(type)) == NULL || t->base == NULL)
            break;
        snprintf(type, sizeof(type), "%s", t->base);
    }
    return 0;
}

void
sl_valp_check_element(const struct sl_validator *v,
                      const struct nodes *roots, const char *root_path,
                      const json_t *el, int in_slice, const char *pname,
                      struct sl_val_result *out)
{
    const char *path = json_string_value(json_object_get(el, "path"));
    const char *id = json_string_value(json_object_get(el, "id"));
    size_t rl = strlen(root_path);
    const char *dot, *last, *which = NULL, *key;
    const json_t *mx = json_object_get(el, "max"), *fixed, *pat, *types;
    const json_t *ext_url = NULL;
    struct nodes parents = {0};
    char *ppath;
    long max = -2, min = -1;
    size_t i;

    if (path == NULL || strncmp(path, root_path, rl) != 0 || path[rl] != '.')
        return;
    if (!child_exists(path)) {
        /* as the reference validator's snapshot has it: not an element */
        sl_val_add(out, SL_SEV_WARNING, "processing", pname, root_path,
                   "the profile's element %s is not an element of %s, so it "
                   "was not checked: correct the profile",
                   id ? id : "(with no id)", root_path);
        return;
    }
    dot = path + rl;
    if (json_is_integer(json_object_get(el, "min")))
        min = (long)json_integer_value(json_object_get(el, "min"));
    if (json_is_string(mx))
        max = strcmp(json_string_value(mx), "*") == 0
                  ? -1
                  : strtol(json_string_value(mx), NULL, 10);
    if (id && strchr(id, ':') && !in_slice) {
        /* a slice: only extension slices by url, at their root */
        const char *colon = strrchr(id, ':');
        const json_t *t0 = json_array_get(json_object_get(el, "type"), 0);
        if (strchr(colon, '.') ||
            !(sl_str_has_suffix(path, ".extension") ||
              sl_str_has_suffix(path, ".modifierExtension")))
            return;
        ext_url = json_array_get(json_object_get(t0, "profile"), 0);
        if (!json_is_string(ext_url) || strchr(id, ':') != colon)
            return;
    }
    last = strrchr(path, '.');
    ppath = sl_strndup(dot, (size_t)(last - dot));
    for (i = 0; i < roots->n; i++)
        sl_valp_navigate(roots->v[i], ppath[0] == '.' ? ppath + 1 : ppath,
                         roots->expr[i], &parents);
    free(ppath);
    fixed = sl_valp_prefixed(el, "fixed", &which);
    pat = sl_valp_prefixed(el, "pattern", &which);
    types = json_object_get(el, "type");
    for (i = 0; i < parents.n; i++) {
        const json_t *m = sl_valp_member(parents.v[i], last + 1, strlen(last + 1),
                                 &key);
        size_t n = count_of(m), j;
        char e[1024];
        if (ext_url) {
            const json_t *x;
            n = 0;
            json_array_foreach(json_is_array(m) ? m : NULL, j, x) {
                const char *u = json_string_value(json_object_get(x, "url"));
                n += u && strcmp(u, json_string_value(ext_url)) == 0;
            }
        }
        snprintf(e, sizeof(e), "%s.%s", parents.expr[i], last + 1);
        if (min > 0 && (long)n < min)
            sl_val_add(out, SL_SEV_ERROR, "structure", pname,
                       parents.expr[i],
                       "%s%s%s: the profile needs at least %ld, found %zu",
                       id ? id : path, ext_url ? " " : "",
                       ext_url ? "(extension)" : "", min, n);
        if (max >= 0 && (long)n > max)
            sl_val_add(out, SL_SEV_ERROR, "structure", pname,
                       parents.expr[i],
                       "%s: the profile allows at most %ld, found %zu: "
                       "remove the others", id ? id : path, max, n);
        if (m == NULL || ext_url)
            continue;
        if (json_object_get(el, "constraint")) {
            size_t cnt = json_is_array(m) ? json_array_size(m) : 1, k;
            for (k = 0; k < cnt; k++) {
                char ek[1100];
                const json_t *x = json_is_array(m) ? json_array_get(m, k) : m;
                if (json_is_array(m))
                    snprintf(ek, sizeof(ek), "%s[%zu]", e, k);
                else
                    snprintf(ek, sizeof(ek), "%s", e);
                sl_val_profile_invariants(v, el, x,
                                          in_slice ? NULL : roots->v[0],
                                          pname, ek, out);
            }
        }
        if (key && strstr(last + 1, "[x]") && json_array_size(types) > 0) {
            size_t pl = strlen(last + 1) - 3;
            const json_t *t;
            int ok = 0;
            json_array_foreach(types, j, t) {
                const char *c = json_string_value(json_object_get(t, "code"));
                if (c && strlen(key + pl) == strlen(c) &&
                    (key[pl] == c[0] || key[pl] == c[0] - 'a' + 'A') &&
                    strcmp(key + pl + 1, c + 1) == 0)
                    ok = 1;
            }
            if (!ok)
                sl_val_add(out, SL_SEV_ERROR, "structure", pname, e,
                           "%s: the profile does not allow this type here",
                           id ? id : path);
        }
        if (json_array_size(types) > 0) {
            size_t cnt = json_is_array(m) ? json_array_size(m) : 1, k;
            for (k = 0; k < cnt; k++) {
                char ek[1100];
                const json_t *x = json_is_array(m) ? json_array_get(m, k) : m;
                if (json_is_array(m))
                    snprintf(ek, sizeof(ek), "%s[%zu]", e, k);
                else
                    snprintf(ek, sizeof(ek), "%s", e);
                check_type_profiles(v, types, x, id ? id : path, pname, ek,
                                    out);
            }
        }
        if (json_object_get(el, "binding")) {
            size_t cnt = json_is_array(m) ? json_array_size(m) : 1, k;
            for (k = 0; k < cnt; k++) {
                char ek[1100];
                const json_t *x = json_is_array(m) ? json_array_get(m, k) : m;
                if (json_is_array(m))
                    snprintf(ek, sizeof(ek), "%s[%zu]", e, k);
                else
                    snprintf(ek, sizeof(ek), "%s", e);
                sl_val_binding(v, el, x, id ? id : path, pname, ek, out);
            }
        }
        {
            /* maxLength, and the minLength extension, of strings */
            const json_t *ml = json_object_get(el, "maxLength"), *x;
            long minl = -1;
            const json_t *exts = json_object_get(el, "extension");
            json_array_foreach(exts, j, x) {
                const char *u = json_string_value(json_object_get(x, "url"));
                if (u && strcmp(u, "http://hl7.org/fhir/StructureDefinition/"
                                   "minLength") == 0)
                    minl = (long)json_integer_value(
                        json_object_get(x, "valueInteger"));
            }
            if (json_is_integer(ml) || minl >= 0) {
                json_t *one = json_is_array(m) ? NULL : (json_t *)m;
                size_t k, cnt = json_is_array(m) ? json_array_size(m) : 1;
                for (k = 0; k < cnt; k++) {
                    const json_t *s = one ? one : json_array_get(m, k);
                    size_t len;
                    if (!json_is_string(s))
                        continue;
                    len = json_string_length(s);
                    if (json_is_integer(ml) &&
                        (json_int_t)len > json_integer_value(ml))
                        sl_val_add(out, SL_SEV_ERROR, "value", pname, e,
                                   "%s: longer than the profile's maxLength "
                                   "(%lld)", id ? id : path,
                                   (long long)json_integer_value(ml));
                    if (minl >= 0 && (long)len < minl)
                        sl_val_add(out, SL_SEV_ERROR, "value", pname, e,
                                   "%s: shorter than the profile's "
                                   "minLength (%ld)", id ? id : path, minl);
                }
            }
        }
        {
            /* narrative controls (extensions of HL7's extensions pack) */
            const json_t *x, *exts = json_object_get(el, "extension");
            const char *lc = NULL, *sc = NULL;
            json_array_foreach(exts, j, x) {
                const char *u = json_string_value(json_object_get(x, "url"));
                const char *c = json_string_value(json_object_get(x,
                                                                  "valueCode"));
                if (u && c && strcmp(u, SDX_NC "narrative-language-control") == 0)
                    lc = c;
                if (u && c && strcmp(u, SDX_NC "narrative-source-control") == 0)
                    sc = c;
            }
            if ((lc || sc) && json_is_object(m) &&
                json_is_string(json_object_get(m, "div")))
                sl_val_xhtml_controls(
                    json_string_value(json_object_get(m, "div")),
                    json_string_length(json_object_get(m, "div")), lc, sc,
                    in_slice ? NULL
                             : json_string_value(json_object_get(
                                   roots->v[0], "language")),
                    pname, e, out);
        }
        {
            /* minValue[x] and maxValue[x] */
            const char *wmin = NULL, *wmax = NULL;
            const json_t *lmin = sl_valp_prefixed(el, "minValue", &wmin);
            const json_t *lmax = sl_valp_prefixed(el, "maxValue", &wmax);
            size_t k, cnt = json_is_array(m) ? json_array_size(m) : 1;
            for (k = 0; (lmin || lmax) && k < cnt; k++) {
                const json_t *x = json_is_array(m) ? json_array_get(m, k) : m;
                if (lmin)
                    check_limit(x, lmin, -1, "minValue", id ? id : path,
                                pname, e, out);
                if (lmax)
                    check_limit(x, lmax, 1, "maxValue", id ? id : path,
                                pname, e, out);
            }
        }
        if (fixed || pat) {
            const json_t *want = fixed ? fixed : pat, *x;
            json_array_foreach(json_is_array(m) ? m : NULL, j, x)
                if (fixed ? !json_equal(want, x) && !sl_valp_match(want, x)
                          : !sl_valp_match(want, x))
                    sl_val_add(out, SL_SEV_ERROR, "value", pname, e,
                               "%s: the value must be the profile's %s",
                               id ? id : path, which);
            if (!json_is_array(m) &&
                (fixed ? !json_equal(want, m) && !sl_valp_match(want, m)
                       : !sl_valp_match(want, m)))
                sl_val_add(out, SL_SEV_ERROR, "value", pname, e,
                           "%s: the value must be the profile's %s",
                           id ? id : path, which);
        }
    }
    sl_valp_nodes_free(&parents);
}

static void
check_sd_at(const struct sl_validator *v, const json_t *res, const char *type,
            const char *rexpr, const json_t *sd, struct sl_val_result *out,
            int depth)
{
    const char *name = json_string_value(json_object_get(sd, "name"));
    const char *base = json_string_value(json_object_get(sd, "baseDefinition"));
    const json_t *els, *el;
    size_t i;

    if (name == NULL)
        name = json_string_value(json_object_get(sd, "url"));
    els = json_object_get(json_object_get(sd, "snapshot"), "element");
    if (!json_is_array(els))
        els = json_object_get(json_object_get(sd, "differential"), "element");
    {
        struct nodes roots = {0};
        sl_valp_nodes_push(&roots, res, rexpr);
        json_array_foreach(els, i, el) {
            const char *ep = json_string_value(json_object_get(el, "path"));
            const char *eid = json_string_value(json_object_get(el, "id"));
            if (ep && strcmp(ep, type) == 0)
                sl_val_profile_invariants(v, el, res, res, name, rexpr, out);
            sl_valp_check_element(v, &roots, type, el, 0, name, out);
            /* slicings inside a slice are checked on its items */
            if (json_object_get(el, "slicing") && !(eid && strchr(eid, ':')))
                sl_val_slicing(v, &roots, type, els, i, name, out);
        }
        sl_valp_nodes_free(&roots);
    }
    if (json_object_get(sd, "snapshot") == NULL && base && depth < 16) {
        const json_t *b = sl_val_def_find(v, "StructureDefinition", base);
        if (b != NULL)
            check_sd_at(v, res, type, rexpr, b, out, depth + 1);
    }
}

static void
check_sd(const struct sl_validator *v, const json_t *res, const json_t *sd,
         struct sl_val_result *out, int depth)
{
    const char *rt = json_string_value(json_object_get(res, "resourceType"));

    if (rt != NULL)
        check_sd_at(v, res, rt, rt, sd, out, depth);
}

void
sl_val_profile_check(const struct sl_validator *v, const json_t *res,
                     const char *url, struct sl_val_result *out)
{
    const json_t *sd = sl_val_def_find(v, "StructureDefinition", url);
    const char *type, *rt;

    if (sd == NULL) {
        if (strncmp(url, "http://hl7.org/fhir/StructureDefinition/", 40) == 0 &&
            sl_val_type_find(url + 40) != NULL)
            return; /* a core type: the base walk checked it */
        sl_val_add(out, SL_SEV_WARNING, "not-found", url, "meta.profile",
                   "the profile is not known, so it was not checked: load "
                   "its IG (--ig, or ig= of <validate>)");
        return;
    }
    type = json_string_value(json_object_get(sd, "type"));
    rt = json_string_value(json_object_get(res, "resourceType"));
    if (rt == NULL || type == NULL || strcmp(type, rt) != 0) {
        sl_val_add(out, SL_SEV_ERROR, "invalid", url, rt,
                   "the profile is for %s resources, not this type",
                   type ? type : "other");
        return;
    }
    {
        const json_t *prev = tp_root;
        if (tp_root == NULL)
            tp_root = res;
        check_sd(v, res, sd, out, 0);
        tp_root = prev;
    }
}

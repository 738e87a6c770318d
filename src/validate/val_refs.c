/* val_refs.c - references inside one resource and one Bundle: contained
 * resources (dom-2 to dom-5, "#id" references resolved) and the Bundle
 * rules (fullUrl matches the entry's id, unique fullUrls: bdl-7,
 * references inside a document, message or transaction resolved). These
 * invariants are checked here rather than through FHIRPath because they
 * need to see the whole resource or Bundle at once; the messages name
 * them by key. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "validate/val_walk.h"

#define PX "R4"

struct ref {
    const char *ref;
    char *expr;
};
struct refs {
    size_t n, cap;
    struct ref *v;
};

static void
refs_push(struct refs *r, const char *ref, const char *expr)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        r->v = sl_realloc(r->v, r->cap * sizeof(*r->v));
    }
    r->v[r->n].ref = ref;
    r->v[r->n].expr = sl_strdup(expr);
    r->n++;
}

static void
refs_free(struct refs *r)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        free(r->v[i].expr);
    free(r->v);
}

static void
collect_in(const json_t *v, const char *expr, int into_contained,
           struct refs *out, int depth, int in_contained)
{
    char e[1024];
    const char *key;
    const json_t *x;
    size_t i;

    if (depth > 64)
        return;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) {
            snprintf(e, sizeof(e), "%s[%zu]", expr, i);
            collect_in(x, e, into_contained, out, depth + 1, in_contained);
        }
        return;
    }
    if (!json_is_object(v))
        return;
    if (depth > 0 && json_object_get(v, "resourceType") != NULL &&
        !in_contained)
        return; /* a resource inside (Parameters, Bundle): its own */
    json_object_foreach((json_t *)v, key, x) {
        if (!into_contained && strcmp(key, "contained") == 0)
            continue;
        snprintf(e, sizeof(e), "%s.%s", expr, key);
        if (strcmp(key, "reference") == 0 && json_is_string(x))
            refs_push(out, json_string_value(x), e);
        else
            collect_in(x, e, into_contained, out, depth + 1,
                       strcmp(key, "contained") == 0);
    }
}

/* Every "reference" string of the resource v (its contained resources
 * too when into_contained; not those of resources inside it otherwise:
 * they are walked as resources of their own), with its path. */
static void
collect(const json_t *v, const char *expr, int into_contained,
        struct refs *out, int depth)
{
    collect_in(v, expr, into_contained, out, depth, 0);
}

/* Does a narrative div under v (not in contained) hold q1 or q2? */
static int
div_names(const json_t *v, const char *q1, const char *q2, int depth)
{
    const char *key;
    const json_t *x;
    size_t i;

    if (depth > 64)
        return 0;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) if (div_names(x, q1, q2, depth + 1))
            return 1;
        return 0;
    }
    json_object_foreach((json_t *)v, key, x) {
        const char *s = json_string_value(x);
        if (strcmp(key, "contained") == 0)
            continue;
        if (strcmp(key, "div") == 0 && s && (strstr(s, q1) || strstr(s, q2)))
            return 1;
        if ((json_is_object(x) || json_is_array(x)) &&
            div_names(x, q1, q2, depth + 1))
            return 1;
    }
    return 0;
}

/* Is there a string value "#id" under v other than a "reference" (a
 * canonical, uri or url naming a contained resource, as dom-3 counts
 * them: Questionnaire.item.answerValueSet "#vs")? */
static int
has_hash_value(const json_t *v, const char *id, int depth)
{
    const char *key;
    const json_t *x;
    size_t i;

    if (depth > 64)
        return 0;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) if (has_hash_value(x, id, depth + 1))
            return 1;
        return 0;
    }
    if (json_is_string(v))
        return json_string_value(v)[0] == '#' &&
               strcmp(json_string_value(v) + 1, id) == 0;
    json_object_foreach((json_t *)v, key, x) {
        if (strcmp(key, "reference") == 0 || strcmp(key, "div") == 0)
            continue;
        if (has_hash_value(x, id, depth + 1))
            return 1;
    }
    return 0;
}

/* Is there a "reference" starting with '#' under v? (no paths made) */
static int
has_local_ref(const json_t *v, int depth)
{
    const char *key;
    const json_t *x;
    size_t i;

    if (depth > 64)
        return 0;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) if (has_local_ref(x, depth + 1))
            return 1;
        return 0;
    }
    json_object_foreach((json_t *)v, key, x) {
        if (json_is_string(x)) {
            if (strcmp(key, "reference") == 0 &&
                json_string_value(x)[0] == '#')
                return 1;
        } else if ((json_is_object(x) || json_is_array(x)) &&
                   has_local_ref(x, depth + 1)) {
            return 1;
        }
    }
    return 0;
}

void
sl_val_check_contained(struct val_walk *w, const json_t *res,
                       const char *expr)
{
    const json_t *cont = json_object_get(res, "contained"), *c;
    struct refs refs = {0};
    char e[1024];
    size_t i, k;

    /* nothing contained and no "#id" reference: nothing to check (the
     * common case, found without making paths) */
    if (!json_is_array(cont) && !has_local_ref(res, 0))
        return;
    collect(res, expr, 1, &refs, 0);
    /* "#id" names a contained resource that is there */
    for (k = 0; k < refs.n; k++) {
        const char *r = refs.v[k].ref;
        int found = 0;
        if (r[0] != '#' || r[1] == '\0')
            continue;
        json_array_foreach(cont, i, c) {
            const char *id = json_string_value(json_object_get(c, "id"));
            if (id && strcmp(id, r + 1) == 0)
                found = 1;
        }
        if (!found)
            sl_val_add(w->out, SL_SEV_ERROR, "not-found", PX,
                       refs.v[k].expr,
                       "the reference names a contained resource that is "
                       "not in contained: add it, or point elsewhere");
    }
    json_array_foreach(cont, i, c) {
        const char *id = json_string_value(json_object_get(c, "id"));
        const json_t *meta = json_object_get(c, "meta");
        int used = 0;
        snprintf(e, sizeof(e), "%s.contained[%zu]", expr, i);
        if (!json_is_object(c))
            continue;
        if (json_object_get(c, "contained"))
            sl_val_add(w->out, SL_SEV_ERROR, "invariant", PX, e,
                       "dom-2: a contained resource must not contain "
                       "resources: move them up to the container");
        if (json_object_get(meta, "versionId") ||
            json_object_get(meta, "lastUpdated"))
            sl_val_add(w->out, SL_SEV_ERROR, "invariant", PX, e,
                       "dom-4: a contained resource must not have "
                       "meta.versionId or meta.lastUpdated: remove them");
        if (json_object_get(meta, "security"))
            sl_val_add(w->out, SL_SEV_ERROR, "invariant", PX, e,
                       "dom-5: a contained resource must not have a "
                       "security label: label the container instead");
        if (id == NULL) {
            sl_val_add(w->out, SL_SEV_ERROR, "required", PX, e,
                       "a contained resource needs an id, by which the "
                       "container references it (#id)");
            continue;
        }
        for (k = 0; k < refs.n && !used; k++)
            used = (refs.v[k].ref[0] == '#' &&
                    strcmp(refs.v[k].ref + 1, id) == 0) ||
                   (strcmp(refs.v[k].ref, "#") == 0 &&
                    strncmp(refs.v[k].expr, e, strlen(e)) == 0 &&
                    (refs.v[k].expr[strlen(e)] == '.'));
        if (!used)
            used = has_hash_value(res, id, 0);
        if (!used) {
            /* a narrative may point at it: <img src="#id">, href */
            char q1[300], q2[300];
            snprintf(q1, sizeof(q1), "\"#%s\"", id);
            snprintf(q2, sizeof(q2), "'#%s'", id);
            used = div_names(res, q1, q2, 0);
        }
        if (!used)
            sl_val_add(w->out, SL_SEV_ERROR, "invariant", PX, e,
                       "dom-3: the contained resource is not referenced "
                       "from the resource: reference it (#id) or remove "
                       "it");
    }
    refs_free(&refs);
}

/* Does fullUrl end with /Type/id (a RESTful URL) as the entry says? */
static int
full_url_matches(const char *fu, const char *rt, const char *id)
{
    size_t fl = strlen(fu), rl = strlen(rt), il = strlen(id);

    if (fl < rl + il + 2)
        return 0;
    return strcmp(fu + fl - il, id) == 0 && fu[fl - il - 1] == '/' &&
           strncmp(fu + fl - il - 1 - rl, rt, rl) == 0 &&
           (fl == rl + il + 1 || fu[fl - il - 2 - rl] == '/');
}

static int
resolves(const json_t *entries, const char *vref)
{
    const json_t *en;
    char ref[1024];
    const char *h = strstr(vref, "/_history/");
    size_t i, rl;

    /* a versioned reference names the resource's entry */
    snprintf(ref, sizeof(ref), "%.*s",
             (int)(h ? (size_t)(h - vref) : strlen(vref)), vref);
    rl = strlen(ref);

    json_array_foreach(entries, i, en) {
        const char *fu = json_string_value(json_object_get(en, "fullUrl"));
        const json_t *r = json_object_get(en, "resource");
        const char *rt = json_string_value(json_object_get(r, "resourceType"));
        const char *id = json_string_value(json_object_get(r, "id"));
        size_t fl;
        if (fu && strcmp(fu, ref) == 0)
            return 1;
        if (strncmp(ref, "urn:", 4) == 0)
            continue;
        /* relative Type/id: against a fullUrl or the entry's own */
        if (fu && (fl = strlen(fu)) > rl && fu[fl - rl - 1] == '/' &&
            strcmp(fu + fl - rl, ref) == 0)
            return 1;
        if (rt && id && strncmp(ref, rt, strlen(rt)) == 0 &&
            ref[strlen(rt)] == '/' && strcmp(ref + strlen(rt) + 1, id) == 0)
            return 1;
    }
    return 0;
}

/* The entry a reference from entry src resolves to by the fullUrl rules
 * of R4 (bundle.html#references), or -1: an absolute URL or a urn is an
 * entry's fullUrl; a relative Type/id is resolved against the base of
 * src's fullUrl when that is a RESTful URL, and otherwise names an entry
 * whose RESTful fullUrl ends with it (or one without a fullUrl, by its
 * type and id). A versioned reference names the resource's entry. */
static long
resolve_strict(const json_t *entries, size_t src, const char *vref)
{
    const json_t *en;
    const char *sfu = json_string_value(json_object_get(
        json_array_get(entries, src), "fullUrl"));
    const char *h = strstr(vref, "/_history/");
    char ref[1024], base[2100];
    size_t i, rl;
    int rel, rest = 0;

    snprintf(ref, sizeof(ref), "%.*s",
             (int)(h ? (size_t)(h - vref) : strlen(vref)), vref);
    rl = strlen(ref);
    rel = strstr(ref, "://") == NULL && strncmp(ref, "urn:", 4) != 0;
    base[0] = '\0';
    if (rel && sfu && strstr(sfu, "://")) {
        /* the base: the fullUrl less its last two segments (Type/id) */
        const char *e = sfu + strlen(sfu);
        int seg = 0;
        while (e > sfu && seg < 2)
            if (*--e == '/')
                seg++;
        if (seg == 2) {
            snprintf(base, sizeof(base), "%.*s/%s", (int)(e - sfu), sfu, ref);
            rest = 1;
        }
    }
    json_array_foreach(entries, i, en) {
        const char *fu = json_string_value(json_object_get(en, "fullUrl"));
        const json_t *r = json_object_get(en, "resource");
        const char *rt = json_string_value(json_object_get(r, "resourceType"));
        const char *id = json_string_value(json_object_get(r, "id"));
        size_t fl;
        if (!rel) {
            if (fu && strcmp(fu, ref) == 0)
                return (long)i;
            continue;
        }
        if (rest) {
            if (fu && strcmp(fu, base) == 0)
                return (long)i;
            continue;
        }
        if (fu && strstr(fu, "://") && (fl = strlen(fu)) > rl &&
            fu[fl - rl - 1] == '/' && strcmp(fu + fl - rl, ref) == 0)
            return (long)i;
        if (fu == NULL && rt && id && strncmp(ref, rt, strlen(rt)) == 0 &&
            ref[strlen(rt)] == '/' && strcmp(ref + strlen(rt) + 1, id) == 0)
            return (long)i;
    }
    return -1;
}

/* A relative reference Type/id whose id is the UUID of an entry's
 * urn:uuid fullUrl names that entry (a UUID is unique): the entry's
 * resource must be of that type. */
static void
check_uuid_types(struct val_walk *w, const json_t *entries, const json_t *r,
                 const char *e)
{
    struct refs refs = {0};
    char re[1100];
    size_t k, i;

    snprintf(re, sizeof(re), "%.1000s.resource", e);
    collect(r, re, 0, &refs, 0);
    for (k = 0; k < refs.n; k++) {
        const char *ref = refs.v[k].ref, *sl = strchr(ref, '/');
        const json_t *en;
        if (sl == NULL || strchr(sl + 1, '/') || strstr(ref, ":") ||
            strlen(sl + 1) != 36)
            continue;
        json_array_foreach(entries, i, en) {
            const char *fu = json_string_value(json_object_get(en, "fullUrl"));
            const char *rt = json_string_value(json_object_get(
                json_object_get(en, "resource"), "resourceType"));
            if (fu && rt && strncmp(fu, "urn:uuid:", 9) == 0 &&
                strcmp(fu + 9, sl + 1) == 0 &&
                (strlen(rt) != (size_t)(sl - ref) ||
                 strncmp(rt, ref, (size_t)(sl - ref)) != 0)) {
                sl_val_add(w->out, SL_SEV_ERROR, "invalid", PX,
                           refs.v[k].expr,
                           "the reference names a resource of another type "
                           "than the entry with that UUID (a %s): correct "
                           "the type or the reference", rt);
                break;
            }
        }
    }
    refs_free(&refs);
}

/* In a document, every entry is reachable from the Composition (the
 * first entry) by following references, forwards or backwards. */
static void
check_reachable(struct val_walk *w, const json_t *entries, const char *expr)
{
    size_t n = json_array_size(entries), i, k, m, nedge = 0, cap = 0;
    long *edge = NULL; /* pairs */
    unsigned char *seen;
    int grew;
    char e[1024];

    if (n < 2)
        return;
    seen = sl_calloc(n, 1);
    for (i = 0; i < n; i++) {
        const json_t *r = json_object_get(json_array_get(entries, i),
                                          "resource");
        struct refs refs = {0};
        collect(r, "", 1, &refs, 0);
        for (k = 0; k < refs.n; k++) {
            long t = refs.v[k].ref[0] == '#'
                         ? -1
                         : resolve_strict(entries, i, refs.v[k].ref);
            if (t < 0)
                continue;
            if (nedge == cap) {
                cap = cap ? 2 * cap : 32;
                edge = sl_realloc(edge, 2 * cap * sizeof(*edge));
            }
            edge[2 * nedge] = (long)i;
            edge[2 * nedge + 1] = t;
            nedge++;
        }
        refs_free(&refs);
    }
    seen[0] = 1;
    do {
        grew = 0;
        for (m = 0; m < nedge; m++) {
            long a = edge[2 * m], b = edge[2 * m + 1];
            if (seen[a] != seen[b]) {
                seen[a] = seen[b] = 1;
                grew = 1;
            }
        }
    } while (grew);
    for (i = 1; i < n; i++)
        if (!seen[i]) {
            snprintf(e, sizeof(e), "%.900s.entry[%zu]", expr, i);
            sl_val_add(w->out, SL_SEV_ERROR, "invalid", PX, e,
                       "the entry is not reachable by references from the "
                       "document's Composition (or back to it): reference "
                       "it, or leave it out of the document");
        }
    free(edge);
    free(seen);
}

void
sl_val_check_bundle(struct val_walk *w, const json_t *bundle,
                    const char *expr)
{
    const json_t *entries = json_object_get(bundle, "entry"), *en;
    const char *type = json_string_value(json_object_get(bundle, "type"));
    int closed = type && (strcmp(type, "document") == 0 ||
                          strcmp(type, "message") == 0 ||
                          strcmp(type, "transaction") == 0);
    char e[1024];
    size_t i, j;
    const json_t *links = json_object_get(bundle, "link"), *l1, *l2;

    /* a link relation names one link: two "next" links leave a client
     * not knowing which to follow (the reference validator holds this) */
    json_array_foreach(links, i, l1) {
        const char *r1 = json_string_value(json_object_get(l1, "relation"));
        for (j = 0; r1 && j < i; j++) {
            const char *r2;
            l2 = json_array_get(links, j);
            r2 = json_string_value(json_object_get(l2, "relation"));
            if (r2 && strcmp(r1, r2) == 0) {
                snprintf(e, sizeof(e), "%.900s.link[%zu]", expr, i);
                sl_val_add(w->out, SL_SEV_ERROR, "invalid", PX, e,
                           "a link with the same relation as link %zu: "
                           "each relation may occur once", j);
                break;
            }
        }
    }
    json_array_foreach(entries, i, en) {
        const char *fu = json_string_value(json_object_get(en, "fullUrl"));
        const json_t *r = json_object_get(en, "resource"), *en2;
        const char *rt = json_string_value(json_object_get(r, "resourceType"));
        const char *id = json_string_value(json_object_get(r, "id"));
        const char *ver = json_string_value(
            json_object_get(json_object_get(r, "meta"), "versionId"));
        snprintf(e, sizeof(e), "%s.entry[%zu]", expr, i);
        if (fu && rt && id &&
            (strncmp(fu, "http://", 7) == 0 ||
             strncmp(fu, "https://", 8) == 0) &&
            !full_url_matches(fu, rt, id))
            sl_val_add(w->out, SL_SEV_ERROR, "invalid", PX, e,
                       "the fullUrl does not end with the resource's "
                       "type and id (.../Type/id): make them agree");
        if (fu && rt && id == NULL && json_is_object(r) &&
            strcmp(rt, "OperationOutcome") != 0 &&
            (strncmp(fu, "http://", 7) == 0 ||
             strncmp(fu, "https://", 8) == 0) &&
            strcmp(type ? type : "", "transaction") != 0)
            sl_val_add(w->out, SL_SEV_ERROR, "invalid", PX, e,
                       "the fullUrl is a RESTful URL but the resource has "
                       "no id: give it the id the fullUrl ends with");
        if (fu && strncmp(fu, "urn:uuid:", 9) == 0 &&
            sl_val_prim_check("uuid", json_object_get(en, "fullUrl")))
            sl_val_add(w->out, SL_SEV_ERROR, "invalid", PX, e,
                       "the fullUrl is not a valid urn:uuid (lower-case "
                       "hex 8-4-4-4-12)");
        for (j = 0; fu && j < i; j++) {
            const char *fu2;
            const char *ver2;
            en2 = json_array_get(entries, j);
            fu2 = json_string_value(json_object_get(en2, "fullUrl"));
            ver2 = json_string_value(json_object_get(
                json_object_get(json_object_get(en2, "resource"), "meta"),
                "versionId"));
            if (fu2 && strcmp(fu, fu2) == 0 &&
                (ver == NULL || ver2 == NULL || strcmp(ver, ver2) == 0)) {
                sl_val_add(w->out, SL_SEV_ERROR, "invariant", PX, e,
                           "bdl-7: the fullUrl is the same as that of entry "
                           "%zu: entries with one fullUrl need different "
                           "meta.versionId", j);
                break;
            }
        }
        if (json_is_object(r))
            check_uuid_types(w, entries, r, e);
        if (closed && json_is_object(r)) {
            struct refs refs = {0};
            size_t k;
            char re[1024];
            snprintf(re, sizeof(re), "%.1000s.resource", e);
            collect(r, re, 1, &refs, 0);
            for (k = 0; k < refs.n; k++) {
                const char *ref = refs.v[k].ref;
                int urn = strncmp(ref, "urn:uuid:", 9) == 0 ||
                          strncmp(ref, "urn:oid:", 8) == 0;
                if (ref[0] == '#')
                    continue;
                if ((urn || strcmp(type, "document") == 0) &&
                    !strstr(ref, "://") && !resolves(entries, ref))
                    sl_val_add(w->out, SL_SEV_ERROR, "not-found", PX,
                               refs.v[k].expr,
                               "the reference names no entry of this %s "
                               "Bundle: add the resource as an entry, or "
                               "correct the reference", type);
            }
            refs_free(&refs);
        }
    }
    if (type && strcmp(type, "document") == 0)
        check_reachable(w, entries, expr);
}

/* val_slice.c - slicing of a profile's element: each item of the sliced
 * element is matched to a slice by the discriminators (value and pattern:
 * the slice's fixed or pattern value at the discriminator's path; exists:
 * whether the slice requires or forbids that path; type: the choice type
 * the slice allows; an extension's url: the slice's extension profile),
 * then each slice's cardinality, the closed rule (no item outside the
 * slices) and the ordered rule (items in the slices' order) are checked,
 * and the elements inside each slice on the items it matched. A
 * discriminator of type profile cannot be decided here: such a slice
 * matches no item and a warning says it was not checked. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate/val_profile.h"

#define MAXSLICES 64

struct slice {
    const json_t *el;
    const char *id;
    const char *name;
    long min, max;
    struct nodes items;
};

static const json_t *
find_id(const json_t *els, const char *id)
{
    const json_t *e;
    size_t i;

    json_array_foreach(els, i, e) {
        const char *x = json_string_value(json_object_get(e, "id"));
        if (x && strcmp(x, id) == 0)
            return e;
    }
    return NULL;
}

/* Does item match slice s by discriminator d? 1 yes, 0 no, -1 cannot
 * tell. */
static int
match_one(const struct sl_validator *vr, const json_t *els,
          const struct slice *s, const json_t *d, const json_t *item)
{
    const char *type = json_string_value(json_object_get(d, "type"));
    const char *path = json_string_value(json_object_get(d, "path"));
    const json_t *del, *want, *v;
    const char *which = NULL;
    struct nodes found = {0};
    char id[512];
    size_t i;
    int hit = 0;

    if (type == NULL || path == NULL)
        return -1;
    if (strcmp(path, "$this") == 0)
        del = s->el;
    else {
        snprintf(id, sizeof(id), "%s.%s", s->id, path);
        del = find_id(els, id);
    }
    if (strcmp(type, "value") == 0 || strcmp(type, "pattern") == 0) {
        want = del ? sl_valp_prefixed(del, "fixed", &which) : NULL;
        if (want == NULL && del)
            want = sl_valp_prefixed(del, "pattern", &which);
        if (want == NULL && strcmp(path, "url") == 0) {
            /* an extension slice: its url is its profile's */
            const json_t *t0 = json_array_get(json_object_get(s->el, "type"),
                                              0);
            want = json_array_get(json_object_get(t0, "profile"), 0);
        }
        if (want == NULL)
            return -1;
        if (strcmp(path, "$this") == 0)
            return sl_valp_match(want, item);
        sl_valp_navigate(item, path, "", &found);
        for (i = 0; i < found.n && !hit; i++)
            hit = sl_valp_match(want, found.v[i]);
        sl_valp_nodes_free(&found);
        return hit;
    }
    if (strcmp(type, "exists") == 0) {
        long mx;
        if (del == NULL)
            return -1;
        mx = json_is_string(json_object_get(del, "max")) &&
                     strcmp(json_string_value(json_object_get(del, "max")),
                            "0") == 0
                 ? 0
                 : 1;
        sl_valp_navigate(item, path, "", &found);
        hit = found.n > 0;
        sl_valp_nodes_free(&found);
        if (json_integer_value(json_object_get(del, "min")) >= 1)
            return hit;
        return mx == 0 ? !hit : -1;
    }
    if (strcmp(type, "type") == 0) {
        const json_t *types, *t;
        const char *k;
        json_t *x;
        size_t pl = strcspn(path, "[");
        if (del == NULL) {
            /* value[x], or a choice renamed in the slice (contentString) */
            const json_t *e2;
            size_t il;
            snprintf(id, sizeof(id), "%s.%.*s", s->id, (int)pl, path);
            il = strlen(id);
            json_array_foreach(els, i, e2) {
                const char *x2 = json_string_value(json_object_get(e2, "id"));
                if (x2 && strncmp(x2, id, il) == 0 &&
                    ((x2[il] >= 'A' && x2[il] <= 'Z') ||
                     strcmp(x2 + il, "[x]") == 0)) {
                    del = e2;
                    break;
                }
            }
        }
        types = json_object_get(del ? del : s->el, "type");
        if (strcmp(path, "$this") != 0) {
            int choice = 0;
            /* a choice: the member's suffix names the type */
            json_object_foreach((json_t *)item, k, x) {
                if (strncmp(k, path, pl) != 0 || k[pl] < 'A' || k[pl] > 'Z')
                    continue;
                choice = 1;
                json_array_foreach(types, i, t) {
                    const char *c =
                        json_string_value(json_object_get(t, "code"));
                    if (c && strcmp(k + pl + 1, c + 1) == 0 &&
                        (k[pl] == c[0] || k[pl] == c[0] - 'a' + 'A'))
                        return 1;
                }
                return 0;
            }
            if (choice || del == NULL)
                return del == NULL ? -1 : 0;
            /* a resource element (Bundle.entry.resource): its type */
            sl_valp_navigate(item, path, "", &found);
            for (i = 0; i < found.n && !hit; i++) {
                const char *rtype = json_string_value(
                    json_object_get(found.v[i], "resourceType"));
                size_t j;
                json_array_foreach(types, j, t) {
                    const char *c =
                        json_string_value(json_object_get(t, "code"));
                    if (c && rtype && strcmp(c, rtype) == 0)
                        hit = 1;
                }
            }
            sl_valp_nodes_free(&found);
            return hit;
        }
        v = json_object_get(item, "resourceType");
        json_array_foreach(types, i, t) {
            const char *c = json_string_value(json_object_get(t, "code"));
            if (c && json_is_string(v) && strcmp(json_string_value(v), c) == 0)
                return 1;
        }
        return v ? 0 : -1;
    }
    if (strcmp(type, "profile") == 0 && del != NULL) {
        /* the value at path conforms to a profile of the slice's type */
        const json_t *t;
        size_t j, k;
        int known = 0;
        sl_valp_navigate(item, strcmp(path, "$this") == 0 ? "" : path, "",
                         &found);
        json_array_foreach(json_object_get(del, "type"), j, t) {
            const json_t *p;
            json_array_foreach(json_object_get(t, "profile"), k, p) {
                for (i = 0; i < found.n && !hit; i++) {
                    int c = sl_valp_conforms(vr, found.v[i],
                                             json_string_value(p));
                    known |= c >= 0;
                    hit |= c == 1;
                }
            }
        }
        sl_valp_nodes_free(&found);
        return hit ? 1 : known ? 0 : -1;
    }
    return -1; /* a profile not loaded: not decided here */
}

/* 1 when every discriminator matches, 0 when one does not, -1 when one
 * cannot be told and none failed. */
static int
match(const struct sl_validator *vr, const json_t *els, const struct slice *s,
      const json_t *discs, const json_t *item)
{
    const json_t *d;
    size_t i;
    int r = 1;

    json_array_foreach(discs, i, d) {
        int m = match_one(vr, els, s, d, item);
        if (m == 0)
            return 0;
        if (m < 0)
            r = -1;
    }
    return r;
}

void
sl_val_slicing(const struct sl_validator *v,
               const struct nodes *roots, const char *root_path,
               const json_t *els, size_t at, const char *pname,
               struct sl_val_result *out)
{
    const json_t *base = json_array_get(els, at), *e;
    const json_t *slicing = json_object_get(base, "slicing");
    const json_t *discs = json_object_get(slicing, "discriminator");
    const char *bid = json_string_value(json_object_get(base, "id"));
    const char *path = json_string_value(json_object_get(base, "path"));
    const char *rules = json_string_value(json_object_get(slicing, "rules"));
    int ordered = json_is_true(json_object_get(slicing, "ordered"));
    int is_ext = path && (sl_str_has_suffix(path, ".extension") ||
                          sl_str_has_suffix(path, ".modifierExtension"));
    struct slice sl[MAXSLICES];
    size_t ns = 0, i, k, bl, rl = strlen(root_path);
    int undecided = 0;

    if (bid == NULL || path == NULL || strncmp(path, root_path, rl) != 0 ||
        path[rl] != '.')
        return;
    bl = strlen(bid);
    json_array_foreach(els, i, e) {
        const char *id = json_string_value(json_object_get(e, "id"));
        const json_t *mx = json_object_get(e, "max");
        if (!id || strncmp(id, bid, bl) != 0 || id[bl] != ':' ||
            strchr(id + bl + 1, '.') || strchr(id + bl + 1, ':') ||
            ns == MAXSLICES)
            continue;
        memset(&sl[ns], 0, sizeof(sl[ns]));
        sl[ns].el = e;
        sl[ns].id = id;
        sl[ns].name = id + bl + 1;
        sl[ns].min = (long)json_integer_value(json_object_get(e, "min"));
        sl[ns].max = !json_is_string(mx) ? -2
                     : strcmp(json_string_value(mx), "*") == 0
                         ? -1
                         : strtol(json_string_value(mx), NULL, 10);
        ns++;
    }
    if (ns == 0)
        return;
    for (i = 0; i < roots->n; i++) {
        struct nodes parents = {0};
        const char *last = strrchr(path, '.');
        char *pp = sl_strndup(path + rl, (size_t)(last - path - rl));
        size_t p;
        sl_valp_navigate(roots->v[i], pp[0] == '.' ? pp + 1 : pp,
                         roots->expr[i], &parents);
        free(pp);
        for (p = 0; p < parents.n; p++) {
            const char *key = NULL;
            const json_t *m = sl_valp_member(parents.v[p], last + 1,
                                             strlen(last + 1), &key);
            size_t cnt[MAXSLICES] = {0}, j, prev = 0;
            int unsure = 0;
            const json_t *x;
            char ex[1100];
            if (!json_is_array(m))
                continue;
            json_array_foreach(m, j, x) {
                int matched = 0, maybe = 0;
                snprintf(ex, sizeof(ex), "%s.%s[%zu]", parents.expr[p], key,
                         j);
                for (k = 0; k < ns; k++) {
                    int r = match(v, els, &sl[k], discs, x);
                    if (r < 0)
                        undecided = maybe = 1;
                    if (r != 1)
                        continue;
                    matched = 1;
                    cnt[k]++;
                    sl_valp_nodes_push(&sl[k].items, x, ex);
                    if (ordered && k < prev)
                        sl_val_add(out, SL_SEV_ERROR, "structure", pname, ex,
                                   "%s: the slices are ordered; this item "
                                   "of slice %s comes after a later slice's",
                                   bid, sl[k].name);
                    if (k > prev)
                        prev = k;
                    break;
                }
                unsure |= !matched && maybe;
                if (!matched && !maybe && rules &&
                    strcmp(rules, "closed") == 0)
                    sl_val_add(out, SL_SEV_ERROR, "structure", pname, ex,
                               "%s: the slicing is closed and this item "
                               "matches none of its slices", bid);
            }
            for (k = 0; k < ns && !is_ext; k++) {
                /* an item no discriminator could place may be in it */
                if (sl[k].min > 0 && (long)cnt[k] < sl[k].min && !unsure)
                    sl_val_add(out, SL_SEV_ERROR, "structure", pname,
                               parents.expr[p],
                               "slice %s: the profile needs at least %ld, "
                               "found %zu", sl[k].id, sl[k].min, cnt[k]);
                if (sl[k].max >= 0 && (long)cnt[k] > sl[k].max)
                    sl_val_add(out, SL_SEV_ERROR, "structure", pname,
                               parents.expr[p],
                               "slice %s: the profile allows at most %ld, "
                               "found %zu", sl[k].id, sl[k].max, cnt[k]);
            }
        }
        /* a slice required where the element is absent altogether */
        for (p = 0; p < parents.n && !is_ext; p++) {
            const char *key = NULL;
            if (sl_valp_member(parents.v[p], last + 1, strlen(last + 1),
                               &key) != NULL)
                continue;
            for (k = 0; k < ns; k++)
                if (sl[k].min > 0)
                    sl_val_add(out, SL_SEV_ERROR, "structure", pname,
                               parents.expr[p],
                               "slice %s: the profile needs at least %ld, "
                               "found 0", sl[k].id, sl[k].min);
        }
        sl_valp_nodes_free(&parents);
    }
    if (undecided)
        sl_val_add(out, SL_SEV_WARNING, "not-supported", pname, path,
                   "%s: a discriminator could not be evaluated (a profile "
                   "discriminator, or a slice without the value it needs): "
                   "the slices were not all checked", bid);
    /* the elements inside each slice, on its items */
    for (k = 0; k < ns; k++) {
        size_t il = strlen(sl[k].id);
        json_array_foreach(els, i, e) {
            const char *id = json_string_value(json_object_get(e, "id"));
            if (!id || strncmp(id, sl[k].id, il) != 0 || id[il] != '.')
                continue;
            if (strchr(id + il, ':') == NULL)
                sl_valp_check_element(v, &sl[k].items, path, e, 1, pname, out);
            if (json_object_get(e, "slicing"))
                sl_val_slicing(v, &sl[k].items, path, els, i, pname, out);
        }
        sl_valp_nodes_free(&sl[k].items);
    }
}

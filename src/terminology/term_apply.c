/* term_apply.c - maps applied to FHIR resources: the codings at the
 * job's element paths translated, the targets added beside the originals
 * or put in their place, and what did not map kept, dropped or sent to
 * quarantine. A small walk of its own over element paths ("Type.a.b",
 * arrays at any step), so that it depends on no de-identification code. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "terminology/terminology.h"

/* The defaults: medication[x] as its CodeableConcept form. */
const char *const sl_term_default_elements[] = {
    "Observation.code",
    "Observation.valueCodeableConcept",
    "Condition.code",
    "Procedure.code",
    "MedicationRequest.medicationCodeableConcept",
    "DiagnosticReport.code",
    NULL,
};

int
sl_term_element_check(const char *path, struct sl_err *err)
{
    const char *c = path;
    int seg = 0, len = 0;

    if (!isupper((unsigned char)*c))
        return SL_ERR(err, SL_ECONFIG, "element path \"%s\": starts with a "
                      "resource type (Observation.code)", path);
    for (; *c; c++) {
        if (*c == '.') {
            if (len == 0)
                break;
            seg++;
            len = 0;
        } else if (isalnum((unsigned char)*c) || *c == '_') {
            len++;
        } else {
            return SL_ERR(err, SL_ECONFIG, "element path \"%s\": '%c' is not "
                          "allowed (names separated by dots)", path, *c);
        }
    }
    if (seg == 0 || len == 0)
        return SL_ERR(err, SL_ECONFIG, "element path \"%s\": a resource type "
                      "and at least one element (Observation.code)", path);
    return SL_OK;
}

struct walk {
    const struct sl_term_apply *a;
    struct sl_buf where;
    int changed;
    struct sl_err *err;
    struct sl_err failed; /* why the server gave no answer */
    /* collecting the remote map's codings first (for one batch) */
    int collect;
    struct sl_term_coding *cv;
    size_t cn, ccap;
};

static const char *
str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Whether arr holds a coding with this system and code. */
static int
has_coding(const json_t *arr, const char *system, const char *code)
{
    size_t i;
    const json_t *c;

    json_array_foreach(arr, i, c)
    {
        const char *s = str(c, "system"), *k = str(c, "code");
        if (s && k && strcmp(s, system) == 0 && strcmp(k, code) == 0)
            return 1;
    }
    return 0;
}

static json_t *
coding_of(const struct sl_term_match *m)
{
    json_t *c = json_object();

    json_object_set_new(c, "system", json_string(m->system));
    if (m->version)
        json_object_set_new(c, "version", json_string(m->version));
    json_object_set_new(c, "code", json_string(m->code));
    if (m->display)
        json_object_set_new(c, "display", json_string(m->display));
    return c;
}

static int
remote_scope(const struct sl_term_apply *a, const char *system)
{
    const char *const *s;

    if (a->client == NULL || system == NULL)
        return 0;
    for (s = a->remote_sources; s && *s; s++)
        if (strcmp(*s, system) == 0)
            return 1;
    return 0;
}

static void
collect(struct walk *w, const json_t *c)
{
    const char *system = str(c, "system"), *code = str(c, "code");

    if (!remote_scope(w->a, system) || code == NULL)
        return;
    if (w->cn == w->ccap) {
        w->ccap = w->ccap ? 2 * w->ccap : 16;
        w->cv = sl_realloc(w->cv, w->ccap * sizeof(*w->cv));
    }
    w->cv[w->cn].system = system;
    w->cv[w->cn].version = str(c, "version");
    w->cv[w->cn].code = code;
    w->cn++;
}

/* One coding over the set: the first map that has it in scope answers
 * (the first that maps it, if several have it in scope), then the remote
 * map. */
static void
translate_one(struct walk *w, const json_t *c, struct sl_term_result *r,
              const char **map)
{
    const struct sl_term_apply *a = w->a;
    const char *system = str(c, "system"), *code = str(c, "code");
    const char *version = str(c, "version");
    struct sl_term_result tmp;
    size_t i;

    r->outcome = SL_TERM_OUT_OF_SCOPE;
    r->n = 0;
    *map = NULL;
    for (i = 0; i < sl_term_set_count(a->set); i++) {
        const struct sl_term_map *m = sl_term_set_map(a->set, i);
        sl_term_translate(a->set, m, system, version, code, a->target_system,
                          &tmp);
        if (tmp.outcome == SL_TERM_MAPPED) {
            *r = tmp;
            *map = sl_term_map_name(m);
            return;
        }
        if (tmp.outcome == SL_TERM_UNMAPPED && *map == NULL) {
            *r = tmp;
            *map = sl_term_map_name(m);
        }
    }
    if (r->outcome != SL_TERM_MAPPED && remote_scope(a, system) &&
        code != NULL) {
        struct sl_err e = {0};
        if (sl_term_client_translate(a->client, a->remote_map,
                                     a->remote_name, system, version, code,
                                     a->target_system, &tmp, &e) != SL_OK) {
            if (w->failed.code == SL_OK)
                w->failed = e;
            r->outcome = SL_TERM_FAILED;
            r->n = 0;
            *map = a->remote_name;
        } else if (tmp.outcome == SL_TERM_MAPPED || *map == NULL) {
            *r = tmp;
            *map = a->remote_name;
        }
    }
}

/* A CodeableConcept: its codings translated under the policy. */
static int
apply_cc(struct walk *w, json_t *cc)
{
    const struct sl_term_apply *a = w->a;
    json_t *codings = json_object_get(cc, "coding"), *out, *added, *c;
    size_t i, k, base = w->where.len;
    int touched = 0;

    if (!json_is_array(codings) || json_array_size(codings) == 0)
        return SL_OK;
    out = json_array();
    added = json_array();
    json_array_foreach(codings, i, c)
    {
        struct sl_term_result r;
        const char *map;

        if (w->collect) {
            collect(w, c);
            continue;
        }
        translate_one(w, c, &r, &map);
        if (r.outcome == SL_TERM_OUT_OF_SCOPE) {
            json_array_append(out, c);
            continue;
        }
        sl_buf_addf(&w->where, ".coding[%zu]", i);
        if (a->report)
            a->report(a->arg, map, r.outcome == SL_TERM_FAILED ? -1
                                   : r.outcome == SL_TERM_MAPPED,
                      w->where.data);
        if (r.outcome == SL_TERM_FAILED) {
            SL_ERR(w->err, SL_EQUARANTINE, "%s: could not translate a code "
                   "of %s through map %s: %s", w->where.data,
                   str(c, "system"), map, w->failed.msg);
            w->where.len = base;
            w->where.data[base] = '\0';
            json_decref(out);
            json_decref(added);
            return SL_EQUARANTINE;
        }
        if (r.outcome == SL_TERM_UNMAPPED) {
            if (a->unmapped == SL_TERM_QUARANTINE) {
                /* the system, not the code: a local code list may be
                 * more telling than its system */
                SL_ERR(w->err, SL_EQUARANTINE, "%s: a code of %s that map "
                       "%s does not translate", w->where.data,
                       str(c, "system"), map);
                w->where.len = base;
                w->where.data[base] = '\0';
                json_decref(out);
                json_decref(added);
                return SL_EQUARANTINE;
            }
            if (a->unmapped == SL_TERM_DROP)
                touched = 1;
            else
                json_array_append(out, c);
        } else {
            json_t *dest = a->policy == SL_TERM_REPLACE ? out : added;
            if (a->policy == SL_TERM_ADD)
                json_array_append(out, c);
            touched |= a->policy == SL_TERM_REPLACE;
            for (k = 0; k < r.n && sl_term_rel_is_match(r.m[k].rel); k++) {
                if (has_coding(codings, r.m[k].system, r.m[k].code) ||
                    has_coding(out, r.m[k].system, r.m[k].code) ||
                    has_coding(added, r.m[k].system, r.m[k].code))
                    continue;
                json_array_append_new(dest, coding_of(&r.m[k]));
                touched = 1;
            }
        }
        w->where.len = base;
        w->where.data[base] = '\0';
    }
    json_array_extend(out, added);
    json_decref(added);
    if (touched) {
        w->changed = 1;
        if (json_array_size(out) > 0)
            json_object_set(cc, "coding", out);
        else
            json_object_del(cc, "coding"); /* an empty array is not FHIR */
    }
    json_decref(out);
    return SL_OK;
}

/* A Coding element (one coding, no array to add to): with policy
 * replace its fields become the target's; with add it is left alone. */
static int
apply_coding(struct walk *w, json_t *c)
{
    const struct sl_term_apply *a = w->a;
    struct sl_term_result r;
    const char *map;
    json_t *t;

    if (a->policy != SL_TERM_REPLACE)
        return SL_OK;
    if (w->collect) {
        collect(w, c);
        return SL_OK;
    }
    translate_one(w, c, &r, &map);
    if (r.outcome == SL_TERM_OUT_OF_SCOPE)
        return SL_OK;
    if (a->report)
        a->report(a->arg, map, r.outcome == SL_TERM_FAILED ? -1
                               : r.outcome == SL_TERM_MAPPED,
                  w->where.data);
    if (r.outcome == SL_TERM_FAILED)
        return SL_ERR(w->err, SL_EQUARANTINE, "%s: could not translate a "
                      "code of %s through map %s: %s", w->where.data,
                      str(c, "system"), map, w->failed.msg);
    if (r.outcome == SL_TERM_MAPPED) {
        t = coding_of(&r.m[0]);
        json_object_clear(c);
        json_object_update(c, t);
        json_decref(t);
        w->changed = 1;
    } else if (a->unmapped == SL_TERM_QUARANTINE) {
        return SL_ERR(w->err, SL_EQUARANTINE, "%s: a code of %s that map %s "
                      "does not translate", w->where.data, str(c, "system"),
                      map);
    }
    /* drop: a Coding element cannot lose its only coding; kept */
    return SL_OK;
}

static int
walk(struct walk *w, json_t *v, const char *rest)
{
    size_t base = w->where.len, i, n;
    const char *dot;
    json_t *x;
    int rc = SL_OK;

    if (json_is_array(v)) {
        json_array_foreach(v, i, x)
        {
            sl_buf_addf(&w->where, "[%zu]", i);
            rc = walk(w, x, rest);
            w->where.len = base;
            w->where.data[base] = '\0';
            if (rc != SL_OK)
                return rc;
        }
        return SL_OK;
    }
    if (!json_is_object(v))
        return SL_OK;
    if (*rest == '\0') {
        if (json_object_get(v, "coding") != NULL)
            return apply_cc(w, v);
        if (json_object_get(v, "code") != NULL)
            return apply_coding(w, v);
        return SL_OK;
    }
    dot = strchr(rest, '.');
    n = dot ? (size_t)(dot - rest) : strlen(rest);
    {
        char key[128];
        if (n >= sizeof(key))
            return SL_OK;
        memcpy(key, rest, n);
        key[n] = '\0';
        if ((x = json_object_get(v, key)) == NULL)
            return SL_OK;
        sl_buf_addf(&w->where, ".%s", key);
        rc = walk(w, x, dot ? dot + 1 : "");
        w->where.len = base;
        w->where.data[base] = '\0';
    }
    return rc;
}

static int
apply_one(struct walk *w, json_t *res)
{
    const char *rt = str(res, "resourceType");
    const char *const *e;
    size_t i, tl;
    json_t *entry;
    int rc;

    if (rt == NULL)
        return SL_OK;
    if (strcmp(rt, "Bundle") == 0) {
        json_array_foreach(json_object_get(res, "entry"), i, entry)
        {
            json_t *r = json_object_get(entry, "resource");
            if (json_is_object(r) && (rc = apply_one(w, r)) != SL_OK)
                return rc;
        }
        return SL_OK;
    }
    tl = strlen(rt);
    for (e = w->a->elements ? w->a->elements : sl_term_default_elements; *e;
         e++) {
        if (strncmp(*e, rt, tl) != 0 || (*e)[tl] != '.')
            continue;
        sl_buf_reset(&w->where);
        sl_buf_adds(&w->where, rt);
        if ((rc = walk(w, res, *e + tl + 1)) != SL_OK)
            return rc;
    }
    return SL_OK;
}

int
sl_term_apply_resource(const struct sl_term_apply *a, json_t *res,
                       int *changed, struct sl_err *err)
{
    struct walk w;
    int rc;

    memset(&w, 0, sizeof(w));
    w.a = a;
    w.err = err;
    sl_buf_init(&w.where);
    if (a->client != NULL) {
        /* the remote map's codings of this resource asked in one go */
        w.collect = 1;
        apply_one(&w, res);
        w.collect = 0;
        if (w.cn > 0)
            sl_term_client_prefetch(a->client, a->remote_map, w.cv, w.cn,
                                    a->target_system);
        free(w.cv);
    }
    rc = apply_one(&w, res);
    sl_buf_free(&w.where);
    *changed = w.changed;
    return rc;
}

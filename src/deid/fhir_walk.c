/* fhir_walk.c - pass 2's walk of a resource (see fhir_int.h): each member
 * resolved against the R4 type table, judged by its rule or its parent's
 * default (fhir_call.c), changed by the rule's method (fhir_method.c) or
 * removed; nested resources walked in turn; the security label added. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deid/fhir_int.h"

#define SECURITY_SYSTEM \
    "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"

static int walk_obj(struct call *c, struct res *r, json_t *obj,
                    const char *base, int deflt, int at_root);

/* 1 for the base64 content of an Attachment or a Binary, whose
 * contentType says what it is. */
static int
is_content_data(const struct call *c, const struct el *e)
{
    return strcmp(e->key, "data") == 0 &&
           strcmp(e->type, "base64Binary") == 0 &&
           (strcmp(c->tpath, "Attachment.data") == 0 ||
            strcmp(c->cpath, "Binary.data") == 0);
}

/* Applies the rule (or the inherited default) to one value. *vp may be
 * replaced (the old reference is released). *used: the method applied. */
static int
element(struct call *c, struct res *r, struct el *e, json_t **vp, int deflt,
        int *used)
{
    struct sl_fhir_deid *d = c->d;
    json_t *v = *vp, *nv = NULL;
    int ri = fhir_call_match(c, e, v), m;
    const char *s = json_string_value(v);

    m = ri >= 0 ? d->rules[ri].method : deflt;
    /* an extension may hold anything (a name in a valueString inside a
     * kept CodeableConcept): it is kept only by a rule that selects it,
     * never by its parent's default; the parts of a kept complex
     * extension are the exception */
    if (ri < 0 && strcmp(e->type, "Extension") == 0 && !fhir_call_ext_part(c))
        m = FD_REMOVE;
    if (ri < 0 && m == FD_REMOVE)
        ri = R_NORULE(d);
    *used = m;
    if (strcmp(e->type, "Resource") == 0 && (m == FD_KEEP || m == FD_DESCEND)) {
        fhir_call_count(c, ri);
        return json_is_object(v) &&
                       fhir_walk_resource(c, r, v,
                                          strcmp(e->key, "contained") == 0)
                   ? ACT_KEEP
                   : ACT_REMOVE;
    }
    if (m != FD_KEEP || ri >= 0)
        fhir_call_count(c, ri);
    /* a complex element to scrub (an extension a site names) is kept, and
     * the strings inside it without a rule of their own are scrubbed */
    switch (m == FD_SCRUB && json_is_object(v) ? FD_KEEP : m) {
    case FD_KEEP:
    case FD_DESCEND:
        if (json_is_object(v)) {
            size_t nkeys;
            if (strcmp(e->type, "Attachment") == 0)
                fhir_method_describe_attachment(v);
            if (e->cref) {
                /* QuestionnaireResponse.item.item.linkId is
                 * QuestionnaireResponse.item.linkId for the rules */
                char saved[PATHLEN];
                struct phash ph = c->ph;
                memcpy(saved, c->cpath, strlen(c->cpath) + 1);
                snprintf(c->cpath, PATHLEN, "%s", e->base);
                fhir_call_hash_paths(c);
                walk_obj(c, r, v, e->base, m, 0);
                memcpy(c->cpath, saved, strlen(saved) + 1);
                c->ph = ph;
            } else
                walk_obj(c, r, v, e->base, m, 0);
            nkeys = json_object_size(v);
            if (nkeys == 0)
                return ACT_REMOVE;
            if (strcmp(e->type, "Extension") == 0 &&
                !json_object_get(v, "extension")) {
                const char *k;
                json_t *x;
                int has_value = 0;
                json_object_foreach(v, k, x)
                {
                    if (strncmp(k, "value", 5) == 0)
                        has_value = 1;
                }
                if (!has_value)
                    return ACT_REMOVE;
            }
            return ACT_KEEP;
        }
        /* content without a contentType cannot be told from binary, nor
         * read by the leak scan (and R4 wants one: att-1) */
        if (m == FD_KEEP && s && is_content_data(c, e) &&
            fhir_jstr(e->parent, "contentType") == NULL)
            return ACT_REMOVE;
        return m == FD_KEEP ? ACT_KEEP : ACT_REMOVE;
    case FD_REMOVE:
        return ACT_REMOVE;
    case FD_EMPTY:
        if (json_is_object(v))
            nv = fhir_method_dar_masked();
        else
            return ACT_REMOVE; /* the caller adds _key (see walk_obj) */
        break;
    case FD_REPLACE: {
        const char *val = d->rules[ri].value;
        double num;
        char *end;
        if (json_is_object(v)) /* a fixed string cannot be a complex value */
            break;
        if (json_is_number(v) &&
            (num = strtod(val, &end), *end == '\0' && end != val))
            nv = json_is_integer(v) ? json_integer((json_int_t)num)
                                    : json_real(num);
        else if (json_is_boolean(v))
            nv = json_boolean(strcmp(val, "true") == 0);
        else
            nv = json_string(val);
        break;
    }
    case FD_PSEUDONYMISE:
        if (s)
            nv = fhir_method_pseudonymise(c, r, e, s);
        break;
    case FD_UID:
        if (s) {
            char uid[SL_UID_MAX + 1], *t;
            int oid = strncmp(s, "urn:oid:", 8) == 0;
            sl_keys_uid(d->keys, oid ? s + 8 : s, uid);
            t = FHIR_JOIN(oid ? "urn:oid:" : "", uid, "");
            nv = json_string_nocheck(t); /* ASCII: a prefix, digits, dots */
            free(t);
        }
        break;
    case FD_DATE_SHIFT:
        if (s)
            nv = fhir_method_date_shift(c, r, e, s);
        break;
    case FD_GENERALISE:
        nv = fhir_method_generalise(c, r, e, v);
        break;
    case FD_PERTURB:
        if (json_is_number(v)) {
            nv = fhir_method_perturb(c, r, &d->rules[ri], v);
        } else if (json_is_object(v) &&
                   json_is_number(json_object_get(v, "value"))) {
            /* a Quantity: its value */
            json_t *p = fhir_method_perturb(c, r, &d->rules[ri],
                                            json_object_get(v, "value"));
            nv = json_deep_copy(v);
            json_object_set_new(nv, "value", p); /* steals p */
        }
        break;
    case FD_ENCRYPT:
        if (s)
            nv = fhir_method_encrypt(c, s);
        break;
    case FD_SCRUB:
        if (s == NULL && ri < 0) /* a number inside what is scrubbed */
            return ACT_KEEP;
        if (s && is_content_data(c, e)) {
            nv = fhir_method_scrub_data(c, r, e, s);
        } else if (s && strcmp(e->type, "xhtml") == 0) {
            nv = fhir_method_scrub_narrative(c, r, e, s);
        } else if (s) {
            struct fhir_scrub x = { &d->values, c, r };
            char *t = fhir_scrub_text(&x, s);
            if (t == NULL)
                return ACT_KEEP;
            nv = json_string(t);
            sl_freezero(t, strlen(t));
        }
        break;
    default:
        break;
    }
    if (nv == NULL)
        return ACT_REMOVE;
    json_decref(*vp);
    *vp = nv;
    return ACT_KEEP;
}

/* strlcpy: copies what fits of src into dst (cap bytes), NUL-terminated. */
static void
copyz(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* 1 when the JSON value has the shape of the element's type: an object
 * for a complex type, a string, number, boolean or null for a primitive.
 * Anything else is not FHIR and goes, whatever the rules say. */
static int
shape_ok(const struct el *e, const json_t *v)
{
    int complex = (e->type[0] >= 'A' && e->type[0] <= 'Z') || e->type[0] == '@';
    if (complex)
        return json_is_object(v);
    return !json_is_object(v) && !json_is_array(v);
}

/* One value of element e through element(), or removed when it does not
 * have e's shape; in_type: e starts a data type, whose paths the type's
 * rules are matched against while inside it. */
static int
judge(struct call *c, struct res *r, struct el *e, json_t **item, int deflt,
      int in_type)
{
    char saved[PATHLEN];
    uint64_t ht = c->ph.ht;
    int act;

    if (in_type) {
        memcpy(saved, c->tpath, strlen(c->tpath) + 1);
        copyz(c->tpath, PATHLEN, e->type);
        c->ph.ht = fhir_hash(c->tpath);
    }
    if (shape_ok(e, *item)) {
        int m = FD_REMOVE;
        act = element(c, r, e, item, deflt, &m);
        if (act == ACT_KEEP && (m == FD_KEEP || m == FD_SCRUB) &&
            !json_is_object(*item) && fhir_digits_leak(c, r, e, *item))
            act = ACT_REMOVE; /* the call has failed: quarantined */
    } else {
        fhir_call_count(c, R_UNKNOWN(c->d));
        act = ACT_REMOVE;
    }
    if (in_type) {
        memcpy(c->tpath, saved, strlen(saved) + 1);
        c->ph.ht = ht;
    }
    return act;
}

/* Fills e for key under the table path base; 0 when FHIR R4 has no such
 * element there. */
static int
resolve(struct el *e, const char *base, const char *key)
{
    const char *canon = e->canon;

    if (!sl_fhir_elem_resolve(base, key, e->canon, sizeof(e->canon), e->type,
                              sizeof(e->type)))
        return 0;
    e->key = key;
    if (e->type[0] == '@') {
        e->cref = 1;
        copyz(e->base, sizeof(e->base), e->type + 1);
        /* the type of a contentReference is that of its target */
        copyz(e->type, sizeof(e->type), "BackboneElement");
    } else if (strcmp(e->type, "BackboneElement") == 0 ||
               strcmp(e->type, "Element") == 0)
        copyz(e->base, sizeof(e->base), canon);
    else
        copyz(e->base, sizeof(e->base), e->type);
    return 1;
}

/* 1 when an element of type t is walked inside its data type (tpath). */
static int
type_walked_in(const char *t)
{
    return t[0] >= 'A' && t[0] <= 'Z' && sl_fhir_type_is_complex(t) &&
           strcmp(t, "BackboneElement") != 0 && strcmp(t, "Element") != 0 &&
           strcmp(t, "Resource") != 0;
}

/* What resolve and type_walked_in give for a key under a table path,
 * remembered per thread: the same few hundred (base, key) pairs come up
 * in every resource. Only the type table is behind it, so it holds for
 * every engine. */
#define RC_SIZE 1024
struct rc_ent {
    uint64_t h; /* 0: empty */
    unsigned char blen, klen, clen, tlen, elen, ok, cref, in_type;
    char bk[96]; /* base, NUL, key */
    char canon[96], type[48], ebase[96];
};
static pthread_key_t rc_key;
static pthread_once_t rc_once = PTHREAD_ONCE_INIT;
/* this thread's cache as the key holds it (the key frees it when the
 * thread ends): read for every member, without pthread_once and
 * pthread_getspecific each time */
static _Thread_local struct rc_ent *rc_mine;

static void
rc_free(void *p)
{
    if (p == rc_mine)
        rc_mine = NULL;
    free(p);
}

static void
rc_init(void)
{
    pthread_key_create(&rc_key, rc_free);
}

/* resolve() and in_type through the cache; hb, blen: fhir_hash(base),
 * strlen(base). */
static int
resolve_c(struct el *e, const char *base, uint64_t hb, size_t blen,
          const char *key, int *in_type)
{
    struct rc_ent *tab, *x;
    size_t klen = strlen(key);
    uint64_t h;
    int ok;

    if ((tab = rc_mine) == NULL) {
        pthread_once(&rc_once, rc_init);
        if ((tab = pthread_getspecific(rc_key)) == NULL) {
            tab = sl_calloc(RC_SIZE, sizeof(*tab));
            if (pthread_setspecific(rc_key, tab) != 0) {
                free(tab);
                tab = NULL;
            }
        }
        rc_mine = tab;
    }
    if (tab == NULL || blen + 1 + klen + 1 > sizeof(x->bk))
        goto uncached;
    h = fhir_hash_cont(hb * SL_FNV1A64_PRIME, key) | 1;
    x = &tab[h & (RC_SIZE - 1)];
    if (x->h == h && x->blen == blen && x->klen == klen &&
        memcmp(x->bk, base, blen) == 0 &&
        memcmp(x->bk + blen + 1, key, klen) == 0) {
        e->key = key;
        if (!x->ok)
            return 0;
        memcpy(e->canon, x->canon, x->clen + 1u);
        memcpy(e->type, x->type, x->tlen + 1u);
        memcpy(e->base, x->ebase, x->elen + 1u);
        e->cref = x->cref;
        *in_type = x->in_type;
        return 1;
    }
    e->cref = 0;
    ok = resolve(e, base, key);
    *in_type = ok && type_walked_in(e->type);
    if (!ok || (strlen(e->canon) < sizeof(x->canon) &&
                strlen(e->type) < sizeof(x->type) &&
                strlen(e->base) < sizeof(x->ebase))) {
        x->h = h;
        x->blen = (unsigned char)blen;
        x->klen = (unsigned char)klen;
        memcpy(x->bk, base, blen + 1);
        memcpy(x->bk + blen + 1, key, klen + 1);
        x->ok = (unsigned char)ok;
        if (ok) {
            x->clen = (unsigned char)strlen(e->canon);
            x->tlen = (unsigned char)strlen(e->type);
            x->elen = (unsigned char)strlen(e->base);
            memcpy(x->canon, e->canon, x->clen + 1u);
            memcpy(x->type, e->type, x->tlen + 1u);
            memcpy(x->ebase, e->base, x->elen + 1u);
            x->cref = (unsigned char)e->cref;
            x->in_type = (unsigned char)*in_type;
        }
    }
    return ok;
uncached:
    e->cref = 0;
    ok = resolve(e, base, key);
    *in_type = ok && type_walked_in(e->type);
    return ok;
}

/* A modifier extension changes the meaning of what holds it (a
 * "not done", a negation): removing it would deliver a resource that says
 * something else. So when the profile does not keep one, the resource is
 * quarantined instead. Returns 1 when e is no modifier extension. */
static int
modifier_gone(struct call *c, const struct el *e)
{
    if (strcmp(e->key, "modifierExtension") != 0)
        return 1;
    fhir_call_fail(c, SL_EQUARANTINE,
                   "%s: a modifier extension the profile does not keep "
                   "(removing it would change the meaning of the resource; "
                   "an extension rule for its URL may keep it)",
                   c->path);
    return 0;
}

/* Walks the members of obj, whose table path is base. */
static int
walk_obj(struct call *c, struct res *r, json_t *obj, const char *base,
         int deflt, int at_root)
{
    const char *key;
    json_t *v, *tmp;
    struct el e;
    int in_type;
    size_t i, blen = strlen(base);
    uint64_t hb = fhir_hash(base);
    /* the paths' lengths: each member's push is cut back to them */
    size_t lp = strlen(c->path), lc = strlen(c->cpath), lt = strlen(c->tpath);

    json_object_foreach_safe(obj, tmp, key, v)
    {
        int pl, cl, tl = -1, act = ACT_KEEP;
        const char *seg;
        struct phash ph = c->ph;

        if (at_root && strcmp(key, "resourceType") == 0)
            continue;
        if (key[0] == '_') /* primitive extensions: below */
            continue;
        e.root = at_root;
        e.parent = obj;
        if (!resolve_c(&e, base, hb, blen, key, &in_type)) {
            pl = fhir_call_push(c->path, ".", "?");
            fhir_call_count(c, R_UNKNOWN(c->d));
            if (pl >= 0)
                c->path[pl] = '\0';
            json_object_del(obj, key);
            continue;
        }
        /* the canonical segment: "value[x]" for "valueQuantity" */
        {
            seg = strrchr(e.canon, '.') + 1;
            pl = fhir_call_push_dot(c->path, lp, key);
            cl = fhir_call_push_dot(c->cpath, lc, seg);
            if (c->tpath[0])
                tl = fhir_call_push_dot(c->tpath, lt, seg);
            if (cl >= 0) {
                /* the three hashes go on with "." and seg in one pass
                 * over seg (this runs for every member) */
                uint64_t hc = fhir_hash_cont(c->ph.hc, "."),
                         hr = fhir_hash_cont(
                             c->ph.has_rel ? c->ph.hrel : fhir_hash(""), ".");
                const char *q;
                if (tl >= 0) {
                    uint64_t ht = fhir_hash_cont(c->ph.ht, ".");
                    for (q = seg; *q; q++) {
                        hc = sl_fnv1a64_step(hc, (unsigned char)*q);
                        hr = sl_fnv1a64_step(hr, (unsigned char)*q);
                        ht = sl_fnv1a64_step(ht, (unsigned char)*q);
                    }
                    c->ph.ht = ht;
                } else
                    for (q = seg; *q; q++) {
                        hc = sl_fnv1a64_step(hc, (unsigned char)*q);
                        hr = sl_fnv1a64_step(hr, (unsigned char)*q);
                    }
                c->ph.hc = hc;
                c->ph.hrel = hr;
                c->ph.has_rel = 1;
            } else if (tl >= 0)
                c->ph.ht = fhir_hash_cont(fhir_hash_cont(c->ph.ht, "."), seg);
        }
        if (pl < 0 || cl < 0 || (c->tpath[0] && tl < 0)) {
            fhir_call_fail(c, SL_EQUARANTINE, "%s: nested too deep", c->path);
            return -1;
        }
        if (json_is_array(v)) {
            for (i = 0; i < json_array_size(v);) {
                json_t *item = json_incref(json_array_get(v, i));
                act = judge(c, r, &e, &item, deflt, in_type);
                if (act == ACT_REMOVE && !modifier_gone(c, &e)) {
                    json_decref(item);
                    return -1;
                }
                if (act == ACT_REMOVE) {
                    json_array_remove(v, i);
                    json_decref(item);
                } else {
                    json_array_set_new(v, i, item); /* steals item */
                    i++;
                }
            }
            act = json_array_size(v) ? ACT_KEEP : ACT_REMOVE;
        } else {
            json_t *item = json_incref(v);
            act = judge(c, r, &e, &item, deflt, in_type);
            if (act == ACT_REMOVE && !modifier_gone(c, &e)) {
                json_decref(item);
                return -1;
            }
            if (act == ACT_KEEP && item != v)
                json_object_set(obj, key, item);
            json_decref(item);
        }
        if (act == ACT_REMOVE) {
            int ri = fhir_call_match(c, &e, v);
            if (ri >= 0 && c->d->rules[ri].method == FD_EMPTY &&
                !json_is_object(v) && !json_is_array(v)) {
                char *uk = sl_asprintf("_%s", key);
                json_object_set_new(obj, uk, fhir_method_dar_masked());
                free(uk);
            }
            json_object_del(obj, key);
        }
        c->path[pl] = '\0';
        c->cpath[cl] = '\0';
        if (tl >= 0)
            c->tpath[tl] = '\0';
        c->ph = ph;
        if (c->rc != SL_OK)
            return -1;
    }
    /* "_birthDate": the extensions of a primitive stay when it stays, or
     * when they say why it is absent */
    json_object_foreach_safe(obj, tmp, key, v)
    {
        json_t *ext;
        size_t j;
        char code[33] = "";
        struct el be;
        if (key[0] != '_')
            continue;
        /* only a data-absent-reason is known to be free of data, and only
         * its code (a token) is kept, in a fresh extension */
        ext = json_object_get(v, "extension");
        for (j = 0; j < json_array_size(ext); j++) {
            const json_t *x = json_array_get(ext, j);
            const char *u = fhir_jstr(x, "url"),
                       *vc = fhir_jstr(x, "valueCode");
            if (u && strcmp(u, DAR_URL) == 0)
                snprintf(code, sizeof(code), "%s",
                         vc && strlen(vc) < sizeof(code) &&
                                 strspn(vc, "abcdefghijklmnopqrstuvwxyz-") ==
                                     strlen(vc)
                             ? vc
                             : "masked");
        }
        memset(&be, 0, sizeof(be));
        if (code[0] && resolve(&be, base, key + 1)) {
            json_t *dar = json_pack("{s:[{s:s, s:s}]}", "extension", "url",
                                    DAR_URL, "valueCode", code);
            json_object_set_new(obj, key, dar); /* steals dar */
        } else {
            int pl = fhir_call_push(c->path, ".", key);
            if (json_object_get(obj, key + 1) == NULL)
                fhir_call_count(c, R_NORULE(c->d));
            if (pl >= 0)
                c->path[pl] = '\0';
            json_object_del(obj, key);
        }
    }
    return 0;
}

static void
add_security(const struct call *c, json_t *res)
{
    json_t *meta = json_object_get(res, "meta"), *sec, *lab;
    size_t i;

    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(res, "meta", meta); /* steals meta */
    }
    sec = json_object_get(meta, "security");
    if (!json_is_array(sec)) {
        sec = json_array();
        json_object_set_new(meta, "security", sec); /* steals sec */
    }
    for (i = 0; i < json_array_size(sec); i++) {
        const json_t *x = json_array_get(sec, i);
        const char *sys = fhir_jstr(x, "system"), *code = fhir_jstr(x, "code");
        if (sys && code && strcmp(sys, SECURITY_SYSTEM) == 0 &&
            strcmp(code, c->d->security_code) == 0)
            return;
    }
    /* built member by member: json_pack reads its format for each
     * resource (3,000 instructions a label); the members keep that order */
    lab = json_object();
    /* a constant in ASCII: jansson's UTF-8 check of it is skipped */
    json_object_set_new(lab, "system", json_string_nocheck(SECURITY_SYSTEM));
    json_object_set_new(lab, "code", json_string(c->d->security_code));
    json_array_append_new(sec, lab); /* steals lab */
}

/* De-identifies one resource (top level, Bundle entry or contained).
 * Returns 1 when it stays, 0 when it must go. */
int
fhir_walk_resource(struct call *c, struct res *parent, json_t *obj,
                   int contained)
{
    struct sl_fhir_deid *d = c->d;
    const char *type = fhir_jstr(obj, "resourceType"),
               *id = fhir_jstr(obj, "id");
    char save_p[PATHLEN], save_c[PATHLEN], save_t[PATHLEN];
    struct phash save_h;
    struct res r = { 0 };
    struct el e;
    int deflt = FD_DESCEND, ri;
    size_t mark, lp, lc, lt;

    if (c->depth >= 8) {
        fhir_call_fail(c, SL_EQUARANTINE, "%s: resources nested too deep",
                       c->path[0] ? c->path : "resource");
        return 0;
    }
    if (type == NULL || !sl_fhir_type_is_resource(type)) {
        fhir_call_fail(c, SL_EQUARANTINE, "%s: not a FHIR R4 resource type",
                       c->path[0] ? c->path : "resource");
        return 0;
    }
    /* the paths as strings, not their whole buffers: 3 KiB copied twice a
     * resource went through the cache for nothing */
    lp = strlen(c->path) + 1;
    lc = strlen(c->cpath) + 1;
    lt = strlen(c->tpath) + 1;
    memcpy(save_p, c->path, lp);
    memcpy(save_c, c->cpath, lc);
    memcpy(save_t, c->tpath, lt);
    save_h = c->ph;
    r.type = type;
    r.contained = contained;
    r.self = id ? FHIR_JOIN(type, "/", id) : NULL;
    /* its key and patient as pass 1 learned them (fhir_ref.c) */
    r.key =
        fhir_ref_key(type, id, contained ? NULL : fhir_ref_bundle_url(c, obj),
                     contained && parent ? parent->key : NULL);
    r.ck = contained && parent ? (parent->key ? sl_strdup(parent->key) : NULL)
           : r.key             ? sl_strdup(r.key)
                               : NULL;
    if (strcmp(type, "Patient") == 0) {
        r.pat_ref = r.key ? sl_strdup(r.key) : NULL;
        if (r.key == NULL)
            snprintf(r.why, sizeof(r.why),
                     "Patient.id: absent, and no fullUrl names the Patient");
    } else
        r.pat_ref =
            fhir_ref_patient_json(d, obj, type, r.ck, r.why, sizeof(r.why));
    if (r.pat_ref == NULL && parent && parent->pat_ref) {
        r.pat_ref = sl_strdup(parent->pat_ref);
        r.why[0] = '\0';
    }
    if (r.pat_ref)
        r.pat = fhir_map_get(&d->patients, r.pat_ref);
    if (parent && r.pat == NULL && parent->pat)
        r.pat = parent->pat;
    /* paths restart at each resource: "Patient.name" in a Bundle too */
    copyz(c->path, PATHLEN, type);
    copyz(c->cpath, PATHLEN, type);
    c->tpath[0] = '\0';
    fhir_call_hash_paths(c);
    memset(&e, 0, sizeof(e));
    snprintf(e.type, sizeof(e.type), "%s", type);
    ri = fhir_call_match(c, &e, obj);
    if (ri >= 0) {
        deflt = d->rules[ri].method;
        fhir_call_count(c, ri);
    }
    c->depth++;
    mark = c->nurls;
    if (strcmp(type, "Bundle") == 0)
        fhir_ref_bundle_push(c, obj); /* before the walk rewrites them */
    if (deflt == FD_KEEP || deflt == FD_DESCEND)
        walk_obj(c, &r, obj, type, deflt, 1);
    fhir_ref_bundle_pop(c, mark);
    c->depth--;
    if (c->rc == SL_OK && !contained && deflt != FD_REMOVE)
        add_security(c, obj);
    memcpy(c->path, save_p, lp);
    memcpy(c->cpath, save_c, lc);
    memcpy(c->tpath, save_t, lt);
    c->ph = save_h;
    free(r.self);
    free(r.key);
    free(r.ck);
    free(r.pat_ref);
    return deflt != FD_REMOVE && c->rc == SL_OK;
}

/* fhir_ref.c - references: the key of a resource, what a reference in any
 * of its forms names, and the patient a resource belongs to through the
 * FHIR R4 Patient compartment (fhir/fhir.h), in pass 1 (a tape) and pass 2
 * (jansson) alike (see fhir_int.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "deid/fhir_int.h"
#include "fhir/jtape.h"

#define MAX_HOPS 16 /* Encounter -> Encounter -> EpisodeOfCare ... */

/* The "Type/id" an absolute or relative URL names ([base/]Type/id
 * [/_history/vid]), or NULL (caller frees). */
static char *
url_target(const char *ref)
{
    const char *p, *seg[64];
    size_t nseg = 0, i;
    char *copy, *s, *res = NULL;

    copy = sl_strdup(ref);
    for (s = copy, p = copy; nseg < 64; s++) {
        if (*s == '/' || *s == '\0') {
            int end = *s == '\0';
            *s = '\0';
            seg[nseg++] = p;
            p = s + 1;
            if (end)
                break;
        }
    }
    for (i = nseg; i-- > 1;)
        if (sl_fhir_type_is_resource(seg[i - 1]) && seg[i][0] &&
            strcmp(seg[i], "_history") != 0) {
            res = FHIR_JOIN(seg[i - 1], "/", seg[i]);
            break;
        }
    free(copy);
    return res;
}

static int
hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

char *
fhir_ref_conditional(const char *ref)
{
    static const char pfx[] = "Patient?identifier=";
    const char *v;
    char *out, *o;

    if (strncmp(ref, pfx, sizeof(pfx) - 1) != 0)
        return NULL;
    v = ref + sizeof(pfx) - 1;
    if (*v == '\0' || strchr(v, '&') != NULL)
        return NULL; /* one parameter only: others we cannot search */
    out = sl_malloc(sizeof(pfx) + strlen(v));
    memcpy(out, pfx, sizeof(pfx) - 1);
    o = out + sizeof(pfx) - 1;
    for (; *v; v++) {
        if (*v == '%' && hexval(v[1]) >= 0 && hexval(v[2]) >= 0) {
            *o++ = (char)(hexval(v[1]) * 16 + hexval(v[2]));
            v += 2;
        } else
            *o++ = *v == '+' ? ' ' : *v;
    }
    *o = '\0';
    return out;
}

char *
fhir_ref_key(const char *type, const char *id, const char *full_url,
             const char *ck)
{
    char *t, *res;

    if (ck) { /* contained: its id is local to the container */
        if (id == NULL)
            return NULL;
        t = FHIR_JOIN(ck, "#", id);
        res = FHIR_JOIN(type, "/", t);
        free(t);
        return res;
    }
    if (id)
        return FHIR_JOIN(type, "/", id);
    if (full_url == NULL || full_url[0] == '\0')
        return NULL;
    if (strncmp(full_url, "urn:", 4) != 0 &&
        (t = url_target(full_url)) != NULL) {
        if (strncmp(t, type, strlen(type)) == 0 && t[strlen(type)] == '/')
            return t;
        free(t);
    }
    return FHIR_JOIN(type, "/", full_url);
}

char *
fhir_ref_resolve(const struct sl_fhir_deid *d, const char *ref, const char *ck)
{
    const struct fd_alias *a;
    char *t;

    if (ref[0] == '#') {
        if (ck == NULL)
            return NULL;
        if (ref[1] == '\0') /* the container */
            return sl_strdup(ck);
        t = FHIR_JOIN(ck, ref, "");
        a = fhir_map_get(&d->aliases, t);
        free(t);
        return a && a->key && !a->ambiguous ? sl_strdup(a->key) : NULL;
    }
    if (strchr(ref, '?')) {
        const struct fd_ident *id;
        if ((t = fhir_ref_conditional(ref)) == NULL)
            return NULL;
        if ((id = fhir_idents_get(&d->idents, t)) != NULL) {
            sl_freezero(t, strlen(t));
            return id->ambiguous ? NULL : sl_strdup(id->key);
        }
        a = fhir_map_get(&d->aliases, t);
        sl_freezero(t, strlen(t));
        return a && a->key && !a->ambiguous ? sl_strdup(a->key) : NULL;
    }
    /* a fullUrl: urn:uuid:, urn:oid:, or an absolute URL */
    if ((a = fhir_map_get(&d->aliases, ref)) != NULL && a->key)
        return sl_strdup(a->key);
    if (strncmp(ref, "urn:", 4) == 0)
        return NULL;
    return url_target(ref);
}

/* ---- reading a resource: a tape node or a jansson object ---- */

static void
refs_add(struct fd_refs *out, const char *s)
{
    if (s && out->n < FD_MAXREFS)
        out->v[out->n++] = s;
}

/* The references at path (dotted, below node v), through arrays. */
static void
tape_refs(const struct sl_jtape *t, size_t v, const char *path,
          struct fd_refs *out)
{
    char seg[64];
    size_t n = strcspn(path, "."), k;

    if (v == 0)
        return;
    if (t->n[v].type == SL_JT_ARRAY) {
        for (k = sl_jt_first(t, v); k; k = sl_jt_next(t, v, k))
            tape_refs(t, k, path, out);
        return;
    }
    if (*path == '\0') {
        refs_add(out, sl_jt_str(t, sl_jt_get(t, v, "reference")));
        return;
    }
    if (n >= sizeof(seg))
        return;
    memcpy(seg, path, n);
    seg[n] = '\0';
    tape_refs(t, sl_jt_get(t, v, seg), path[n] ? path + n + 1 : "", out);
}

static void
json_refs(const json_t *v, const char *path, struct fd_refs *out)
{
    char seg[64];
    size_t n = strcspn(path, "."), k;

    if (v == NULL)
        return;
    if (json_is_array(v)) {
        for (k = 0; k < json_array_size(v); k++)
            json_refs(json_array_get(v, k), path, out);
        return;
    }
    if (*path == '\0') {
        refs_add(out, fhir_jstr(v, "reference"));
        return;
    }
    if (n >= sizeof(seg))
        return;
    memcpy(seg, path, n);
    seg[n] = '\0';
    json_refs(json_object_get(v, seg), path[n] ? path + n + 1 : "", out);
}

static void
src_refs(const struct fd_src *src, const char *path, struct fd_refs *out)
{
    out->n = 0;
    if (src->t)
        tape_refs(src->t, src->node, path, out);
    else
        json_refs(src->j, path, out);
}

static int
key_is(const char *key, const char *type)
{
    size_t n = strlen(type);
    return strncmp(key, type, n) == 0 && key[n] == '/';
}

static int
key_is_context(const char *key)
{
    const char *slash = strchr(key, '/');
    char type[64];

    if (slash == NULL || (size_t)(slash - key) >= sizeof(type))
        return 0;
    memcpy(type, key, (size_t)(slash - key));
    type[slash - key] = '\0';
    return sl_fhir_is_context_type(type);
}

void
fhir_ref_find(const struct sl_fhir_deid *d, const char *type,
              const struct fd_src *src, const char *ck, struct fd_found *f)
{
    const struct sl_fhir_link *l;
    const char *bad = NULL, *bad_hop = NULL;
    struct fd_refs refs;
    size_t n, i, j;
    int any = 0;

    memset(f, 0, sizeof(*f));
    if ((l = sl_fhir_compartment_links_of(type, &n)) == NULL)
        return;
    f->member = 1;
    /* a reference that names a Patient, in the compartment's order */
    for (i = 0; i < n; i++) {
        if (l[i].kind == SL_FL_CONTEXT)
            continue;
        src_refs(src, l[i].path, &refs);
        for (j = 0; j < refs.n; j++) {
            char *k = fhir_ref_resolve(d, refs.v[j], ck);
            any = 1;
            if (k && key_is(k, "Patient")) {
                f->patient = k;
                return;
            }
            /* a Practitioner or a Group is not a patient, and not
             * a failure; a reference that resolves to nothing is */
            if (k == NULL && bad == NULL)
                bad = l[i].path;
            free(k);
        }
    }
    /* else an Encounter or EpisodeOfCare that leads to one */
    for (i = 0; i < n; i++) {
        if (l[i].kind != SL_FL_CONTEXT)
            continue;
        src_refs(src, l[i].path, &refs);
        for (j = 0; j < refs.n; j++) {
            char *k = fhir_ref_resolve(d, refs.v[j], ck);
            any = 1;
            if (k && key_is_context(k)) {
                f->hop = k;
                f->hop_path = l[i].path;
                return;
            }
            if (bad_hop == NULL)
                bad_hop = l[i].path;
            free(k);
        }
    }
    f->bad_path = bad ? bad : bad_hop;
    f->any = any;
}

const char *
fhir_ref_follow(const struct sl_fhir_deid *d, const char *hop, const char **end)
{
    const struct fd_node *nd = NULL;
    int i;

    *end = hop;
    for (i = 0; i < MAX_HOPS && hop; i++) {
        *end = hop;
        if ((nd = fhir_map_get(&d->nodes, hop)) == NULL)
            return NULL;
        if (nd->patient)
            return nd->patient;
        hop = nd->via;
    }
    return NULL;
}

/* pass 2 */
char *
fhir_ref_patient_json(const struct sl_fhir_deid *d, const json_t *res,
                      const char *type, const char *ck, char *why,
                      size_t whylen)
{
    struct fd_src src = { 0 };
    struct fd_found f;
    const char *p, *end;

    src.j = res;
    fhir_ref_find(d, type, &src, ck, &f);
    why[0] = '\0';
    if (f.patient)
        return f.patient;
    if (f.hop) {
        p = fhir_ref_follow(d, f.hop, &end);
        if (p) {
            free(f.hop);
            return sl_strdup(p);
        }
        snprintf(why, whylen,
                 "%s.%s: the %.*s it names leads to no patient in the input",
                 type, f.hop_path, (int)strcspn(f.hop, "/"), f.hop);
        free(f.hop);
        return NULL;
    }
    if (!f.member)
        return NULL;
    if (f.bad_path)
        snprintf(why, whylen,
                 "%s.%s: the reference names no resource of the input, so "
                 "its patient cannot be found",
                 type, f.bad_path);
    else {
        const struct sl_fhir_link *l;
        size_t n, i, at;
        l = sl_fhir_compartment_links_of(type, &n);
        at = (size_t)snprintf(why, whylen, "%s: none of ", type);
        for (i = 0; i < n && at < whylen; i++)
            at += (size_t)snprintf(why + at, whylen - at, "%s%s", i ? ", " : "",
                                   l[i].path);
        if (at < whylen)
            snprintf(why + at, whylen - at, " names its patient%s",
                     f.any ? " (they name no Patient)" : "");
    }
    return NULL;
}

void
fhir_ref_bundle_push(struct call *c, const json_t *bundle)
{
    const json_t *entries = json_object_get(bundle, "entry");
    size_t i;

    for (i = 0; i < json_array_size(entries); i++) {
        const json_t *e = json_array_get(entries, i),
                     *res = json_object_get(e, "resource");
        const char *url = fhir_jstr(e, "fullUrl");
        if (!json_is_object(res) || url == NULL)
            continue;
        if (c->nurls == c->capurls) {
            c->capurls = c->capurls ? c->capurls * 2 : 16;
            c->urls = sl_realloc(c->urls, c->capurls * sizeof(*c->urls));
        }
        c->urls[c->nurls].res = res;
        c->urls[c->nurls].url = sl_strdup(url);
        c->nurls++;
    }
}

void
fhir_ref_bundle_pop(struct call *c, size_t mark)
{
    while (c->nurls > mark) {
        c->nurls--;
        sl_freezero(c->urls[c->nurls].url, strlen(c->urls[c->nurls].url));
    }
    if (c->nurls == 0) {
        free(c->urls);
        c->urls = NULL;
        c->capurls = 0;
    }
}

const char *
fhir_ref_bundle_url(struct call *c, const json_t *obj)
{
    size_t k, i;

    /* entries are walked in order: start after the last one found */
    for (k = 0; k < c->nurls; k++) {
        i = (c->urlnext + k) % c->nurls;
        if (c->urls[i].res == obj) {
            c->urlnext = i + 1;
            return c->urls[i].url;
        }
    }
    return NULL;
}

/* ---- the base of absolute references (issue 10, section 5) ---- */

/* The start of the last "Type/id" pair of s (a resource type of R4, then
 * an id that is not "_history"), or NULL. */
static const char *
last_type_id(const char *s)
{
    const char *p, *slash, *last = NULL;

    for (p = s; (slash = strchr(p, '/')) != NULL; p = slash + 1) {
        const char *id = slash + 1;
        size_t tlen = (size_t)(slash - p), idlen = strcspn(id, "/");
        char type[64];

        if (tlen == 0 || tlen >= sizeof(type) || idlen == 0 ||
            (idlen == 8 && memcmp(id, "_history", 8) == 0))
            continue;
        memcpy(type, p, tlen);
        type[tlen] = '\0';
        if (sl_fhir_type_is_resource(type))
            last = p;
    }
    return last;
}

char *
fhir_ref_urn_id(const struct sl_fhir_deid *d, const char *urn)
{
    char ps[SL_PSEUDONYM_LEN + 1], uuid[40], uid[SL_UID_MAX + 1];

    /* as the rewrite of the fullUrl itself (fhir_method.c) */
    if (strncmp(urn, "urn:uuid:", 9) == 0) {
        sl_keys_pseudonym(d->keys, SL_KD_RESOURCE_ID, urn, strlen(urn), ps);
        sl_fhir_uuid_from_pseudonym(ps, uuid);
        return sl_strdup(uuid);
    }
    if (strncmp(urn, "urn:oid:", 8) == 0) {
        sl_keys_uid(d->keys, urn + 8, uid);
        return sl_strdup(uid);
    }
    return NULL;
}

/* A split entry's reference to a fullUrl: "Type/newid" of what it names. */
static char *
split_ref(struct call *c, const char *s, char *t)
{
    char ps[SL_PSEUDONYM_LEN + 1];
    char *k, *id, *res = NULL;
    const char *slash;

    k = fhir_ref_resolve(c->d, s, NULL);
    if (k == NULL || (slash = strchr(k, '/')) == NULL) {
        fhir_call_fail(c, SL_EQUARANTINE,
                       "%s: names a Bundle entry's fullUrl that no entry "
                       "of the input has; taken out of its Bundle it would "
                       "resolve to nothing",
                       c->path);
    } else if (strncmp(slash + 1, "urn:", 4) == 0) {
        /* an entry without id: the id it is given (fhir_write.c) */
        if ((id = fhir_ref_urn_id(c->d, slash + 1)) != NULL) {
            res = fhir_join3(k, (size_t)(slash - k) + 1, id, "");
            free(id);
        }
    } else {
        sl_keys_pseudonym(c->d->keys, SL_KD_RESOURCE_ID, k, strlen(k), ps);
        res = fhir_join3(k, (size_t)(slash - k) + 1, ps, "");
    }
    if (k)
        sl_freezero(k, strlen(k));
    free(t);
    return res;
}

char *
fhir_ref_rebase(struct call *c, const char *s, char *t, enum fd_ref_kind kind)
{
    const struct sl_fhir_deid *d = c->d;
    const char *at, *id;
    char uuid[40], *ps, *res;

    if (t == NULL)
        return NULL;
    if (c->split && kind == FD_RK_REFERENCE && strncmp(s, "urn:", 4) == 0)
        return split_ref(c, s, t);
    if (t[0] == '#' || strncmp(t, "urn:", 4) == 0 ||
        (at = last_type_id(t)) == NULL || at == t)
        return t; /* relative, local or a URN: no server's name in it */
    if (d->ref_base[0] != '\0') {
        res = FHIR_JOIN(d->ref_base, "/", at);
    } else if (kind == FD_RK_FULLURL) {
        /* a fullUrl must be absolute: a UUID of the pseudonymous id, so
         * that it is the same wherever the resource is named */
        id = strchr(at, '/') + 1;
        ps = sl_strndup(id, strcspn(id, "/"));
        sl_fhir_uuid_from_pseudonym(ps, uuid);
        free(ps);
        res = FHIR_JOIN("urn:uuid:", uuid, "");
    } else {
        res = sl_strdup(at);
    }
    free(t);
    return res;
}

int
sl_fhir_deid_set_reference_base(struct sl_fhir_deid *d, const char *base,
                                struct sl_err *err)
{
    size_t n, i;

    if (base == NULL || base[0] == '\0') {
        d->ref_base[0] = '\0';
        return SL_OK;
    }
    n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    if ((strncmp(base, "https://", 8) != 0 &&
         strncmp(base, "http://", 7) != 0) ||
        n <= (size_t)(base[4] == 's' ? 8 : 7) || n > FD_REF_BASE_MAX ||
        strcspn(base, "?#") < n)
        return SL_ERR(err, SL_EUSAGE,
                      "wants an absolute http:// or "
                      "https:// URL of at most %d characters, without a "
                      "query or fragment",
                      FD_REF_BASE_MAX);
    for (i = 0; i < n; i++)
        if ((unsigned char)base[i] <= ' ' || base[i] == '"' || base[i] == 0x7f)
            return SL_ERR(err, SL_EUSAGE,
                          "a space, quote or control "
                          "character at position %zu",
                          i + 1);
    memcpy(d->ref_base, base, n);
    d->ref_base[n] = '\0';
    return SL_OK;
}

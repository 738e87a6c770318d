/* fhir_learn.c - pass 1 of the FHIR engine (see fhir.h): learns patients
 * (the identifier their date shift derives from, the latest date of their
 * record), which patient each resource and encounter belongs to (through
 * the Patient compartment, see fhir_ref.c), what every form of reference
 * names (Bundle fullUrls, contained ids, Patient?identifier=), and the
 * values (names, identifiers, contact details: fhir_learn_values.c) that
 * free text is scrubbed of and the output is scanned for.
 * Learning reads a tape (fhir/jtape.h): NDJSON lines are scanned straight
 * into one, other inputs are jansson documents turned into one. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "deid/fhir_int.h"
#include "fhir/jtape.h"

#define MIN_LEARNED 3 /* shorter values are not scrubbed nor scanned */

static const char *
tstr(const struct sl_jtape *t, size_t o, const char *key)
{
    return sl_jt_str(t, sl_jt_get(t, o, key));
}

/* Identifier values anywhere, the displays of references to people and
 * organisations, identifying extensions (fhir_learn_values.c); the
 * latest full date of the record. key: the member name v is (an element
 * of) the value of, or NULL. */
static void
learn_walk(struct fd_lvals *d, const struct sl_jtape *t, size_t v,
           const char *key, char *latest)
{
    const struct sl_jt_node *nd = &t->n[v];
    struct sl_fhir_date dt;
    size_t k;

    if (v == 0)
        return;
    if (nd->type == SL_JT_OBJECT) {
        if (key && strcmp(key, "identifier") == 0) {
            const char *s = sl_jt_str(t, sl_jt_get(t, v, "value"));
            if (s)
                fhir_lv_add(d, s, strlen(s));
        }
        fhir_learn_object(d, t, v, key, d->party);
        for (k = sl_jt_first(t, v); k; k = sl_jt_next(t, v, k))
            learn_walk(d, t, k + 1, t->n[k].v.s, latest);
    } else if (nd->type == SL_JT_ARRAY) {
        for (k = sl_jt_first(t, v); k; k = sl_jt_next(t, v, k))
            learn_walk(d, t, k, key, latest);
    } else if (nd->type == SL_JT_STRING && latest &&
               sl_fhir_date_parse(nd->v.s, &dt) >= SL_FD_DAY &&
               strncmp(nd->v.s, latest, 10) > 0) {
        memcpy(latest, nd->v.s, 10);
        latest[10] = '\0';
    }
}

static int
has_type_code_t(const struct sl_jtape *t, size_t ident, const char *code)
{
    size_t codings = sl_jt_get(t, sl_jt_get(t, ident, "type"), "coding"), k;

    if (codings == 0 || t->n[codings].type != SL_JT_ARRAY)
        return 0;
    for (k = sl_jt_first(t, codings); k; k = sl_jt_next(t, codings, k)) {
        const char *c = tstr(t, k, "code");
        if (c && strcmp(c, code) == 0)
            return 1;
    }
    return 0;
}

static struct fd_patient *
patient_get(struct sl_fhir_deid *d, const char *ref, const char **key)
{
    void **slot = fhir_map_put(&d->patients, ref);
    if (*slot == NULL)
        *slot = fhir_map_alloc(&d->patients, sizeof(struct fd_patient));
    if (key) /* the map's own copy: encounters share it */
        *key = d->patients.keys[slot - d->patients.vals];
    return *slot;
}

/* form names key; the later input wins, as when learned in order */
static void
alias_put(struct sl_fhir_deid *d, const char *form, const char *key, long rank)
{
    void **slot = fhir_map_put(&d->aliases, form);
    struct fd_alias *a = *slot;

    if (a == NULL)
        *slot = a = fhir_map_alloc(&d->aliases, sizeof(*a));
    if (a->key == NULL || rank >= a->rank) {
        free(a->key);
        a->key = sl_strdup(key);
        a->rank = rank;
    }
}

/* A Patient's identifier as Patient?identifier= names it; one that two
 * patients share names neither, whatever the order they come in. */
static void
alias_ident(struct sl_fhir_deid *d, const char *sys, const char *sep,
            const char *val, const char *key)
{
    char *form = fhir_join3("Patient?identifier=", 19, sys, ""), *f2;
    const char *pk;

    f2 = FHIR_JOIN(form, sep, val);
    /* the Patient's entry: its key lives as long as the forms */
    patient_get(d, key, &pk);
    fhir_idents_put(&d->idents, f2, pk);
    sl_freezero(f2, strlen(f2));
    free(form);
}

static struct fd_node *
node_get(struct sl_fhir_deid *d, const char *key, const char **mkey)
{
    void **slot = fhir_map_put(&d->nodes, key);
    if (*slot == NULL)
        *slot = fhir_map_alloc(&d->nodes, sizeof(struct fd_node));
    if (mkey) /* the map's own copy */
        *mkey = d->nodes.keys[slot - d->nodes.vals];
    return *slot;
}

/* The latest date of a resource that reaches its patient through hop:
 * to that patient, or, until the chain leads to one, to the last context
 * resource of the chain, which hands it on when it learns more. */
static void
pend_latest(struct sl_fhir_deid *d, const char *hop, int32_t latest)
{
    const char *end, *p = fhir_ref_follow(d, hop, &end);
    struct fd_node *nd;

    if (latest == 0)
        return;
    if (p) {
        struct fd_patient *pt = patient_get(d, p, NULL);
        if (latest > pt->latest)
            pt->latest = latest;
        return;
    }
    nd = node_get(d, end, NULL);
    if (latest > nd->latest)
        nd->latest = latest;
}

static void
learn_mrn(struct sl_fhir_deid *d, const struct sl_jtape *t, size_t res,
          struct fd_patient *p, long rank)
{
    size_t ids = sl_jt_get(t, res, "identifier"), x;

    if (ids && t->n[ids].type != SL_JT_ARRAY)
        ids = 0;
    for (x = sl_jt_first(t, ids); x; x = sl_jt_next(t, ids, x)) {
        const char *sys = tstr(t, x, "system"), *val = tstr(t, x, "value");
        if (val == NULL)
            continue;
        if (d->pid_system ? (sys && strcmp(sys, d->pid_system) == 0)
                          : has_type_code_t(t, x, "MR")) {
            size_t n = strlen(val) + 1;
            if (p->mrn) /* replaced: wiped now, freed with the map */
                explicit_bzero(p->mrn, strlen(p->mrn));
            p->mrn = memcpy(fhir_map_alloc(&d->patients, n), val, n);
            p->mrn_rank = (int32_t)rank;
            __atomic_store_n(&p->shift, 0, __ATOMIC_RELAXED); /* its own */
            return;
        }
    }
}

/* What Patient?identifier= references may name this Patient by. */
static void
learn_idents(struct sl_fhir_deid *d, const struct sl_jtape *t, size_t res,
             const char *key)
{
    size_t ids = sl_jt_get(t, res, "identifier"), x;

    if (ids && t->n[ids].type != SL_JT_ARRAY)
        ids = 0;
    for (x = sl_jt_first(t, ids); x; x = sl_jt_next(t, ids, x)) {
        const char *sys = tstr(t, x, "system"), *val = tstr(t, x, "value");
        if (val == NULL || val[0] == '\0')
            continue;
        alias_ident(d, "", "", val, key);
        alias_ident(d, sys ? sys : "", "|", val, key);
    }
}

/* The values res (of type) teaches; its latest full date into latest
 * (or NULL). */
static void
learn_values(struct fd_lvals *lc, const struct sl_jtape *t, size_t res,
             const char *type, char *latest)
{
    int party = lc->party;

    lc->party = fhir_learn_is_party(type);
    if (lc->party)
        fhir_learn_party(lc, t, res);
    learn_walk(lc, t, res, NULL, latest);
    lc->party = party;
}

static int learn_resource(struct sl_fhir_deid *d, const struct sl_jtape *t,
                          size_t res, int depth, long rank,
                          struct fd_lvals *lc, const char *full_url,
                          const char *ck, struct sl_fhir_learn_batch *b);

/* Parameters.parameter (and its parts, as deep as they go): the
 * resources they carry are learned as any other. */
static void
learn_parameters(struct sl_fhir_deid *d, const struct sl_jtape *t, size_t ps,
                 int depth, long rank, struct fd_lvals *lc,
                 struct sl_fhir_learn_batch *b)
{
    size_t k;

    if (ps == 0 || t->n[ps].type != SL_JT_ARRAY || depth > 8)
        return;
    for (k = sl_jt_first(t, ps); k; k = sl_jt_next(t, ps, k)) {
        size_t r = sl_jt_get(t, k, "resource");
        if (r && t->n[r].type == SL_JT_OBJECT)
            learn_resource(d, t, r, depth + 1, rank, lc, NULL, NULL, b);
        fhir_learn_parameter(lc, t, k);
        learn_parameters(d, t, sl_jt_get(t, k, "part"), depth + 1, rank, lc,
                         b);
    }
}

/* The aliases the entries of Bundle res give their resources (their
 * fullUrls). Under d->learn_lock. */
static void
learn_bundle_aliases(struct sl_fhir_deid *d, const struct sl_jtape *t,
                     size_t res, long rank)
{
    size_t entries = sl_jt_get(t, res, "entry"), e;

    if (entries && t->n[entries].type != SL_JT_ARRAY)
        entries = 0;
    for (e = sl_jt_first(t, entries); e; e = sl_jt_next(t, entries, e)) {
        size_t r = sl_jt_get(t, e, "resource");
        const char *fu = tstr(t, e, "fullUrl"),
                   *rt = tstr(t, r, "resourceType"),
                   *rid = tstr(t, r, "id");
        char *k;
        if (fu == NULL || rt == NULL ||
            (k = fhir_ref_key(rt, rid, fu, NULL)) == NULL)
            continue;
        /* an absolute URL ending in the key needs no alias */
        if (strncmp(fu, "urn:", 4) == 0 || strlen(fu) <= strlen(k) ||
            strcmp(fu + strlen(fu) - strlen(k), k) != 0 ||
            fu[strlen(fu) - strlen(k) - 1] != '/')
            alias_put(d, fu, k, rank);
        free(k);
    }
}

/* What resource res (of type, with id) of key tells the maps: its
 * patient, the context resources it names, its identifiers and aliases.
 * Under d->learn_lock; latest: its latest full date, which this may
 * change; ck: the key of its container, or NULL. */
static void
learn_locked(struct sl_fhir_deid *d, const struct sl_jtape *t, size_t res,
             const char *type, const char *id, const char *key, const char *ck,
             char *latest, long rank)
{
    struct fd_src src = { 0 };
    struct fd_found f = { 0 };
    char *pref = NULL;

    src.t = t;
    src.node = res;
    if (strcmp(type, "Patient") == 0) {
        pref = key ? sl_strdup(key) : NULL;
    } else {
        fhir_ref_find(d, type, &src, ck ? ck : key, &f);
        pref = f.patient;
        if (pref == NULL && f.hop) {
            const char *end, *p = fhir_ref_follow(d, f.hop, &end);
            if (p)
                pref = sl_strdup(p);
        }
    }
    if (key && sl_fhir_is_context_type(type)) {
        /* resources that name this one reach its patient, whether they
         * came before it in the input or come after */
        struct fd_node *nd = node_get(d, key, NULL);
        if (pref && (nd->patient == NULL || rank < nd->rank)) {
            patient_get(d, pref, &nd->patient);
            nd->rank = (int32_t)rank;
            if (nd->latest > fhir_day_pack(latest))
                fhir_day_unpack(nd->latest, latest);
        } else if (pref == NULL && f.hop && nd->patient == NULL &&
                   (nd->via == NULL || rank < nd->rank)) {
            node_get(d, f.hop, &nd->via);
            nd->rank = (int32_t)rank;
            if (nd->latest > fhir_day_pack(latest))
                fhir_day_unpack(nd->latest, latest);
            nd->latest = 0; /* handed on */
            pend_latest(d, f.hop, fhir_day_pack(latest));
        }
    } else if (pref == NULL && f.hop)
        pend_latest(d, f.hop, fhir_day_pack(latest));
    if (pref) {
        struct fd_patient *p = patient_get(d, pref, NULL);
        if (fhir_day_pack(latest) > p->latest)
            p->latest = fhir_day_pack(latest);
        /* the first input wins, as when learned in order */
        if (strcmp(type, "Patient") == 0 &&
            (p->mrn == NULL || rank < p->mrn_rank))
            learn_mrn(d, t, res, p, rank);
    }
    if (key && ck == NULL && strcmp(type, "Patient") == 0)
        learn_idents(d, t, res, key);
    if (key && ck && id) {
        char *form = FHIR_JOIN(ck, "#", id);
        alias_put(d, form, key, rank);
        free(form);
    }
    free(f.hop);
    free(pref);
}

/* The learning of a chunk's items, whose parts under the learning lock
 * wait for sl_fhir_deid_learn_flush (fhir.h): one lock a chunk rather
 * than two a resource. The tapes must live until then. */
struct fd_pend {
    const struct sl_jtape *t;
    size_t node;
    int bundle; /* the aliases of a Bundle's entries; else a resource */
    const char *type, *id; /* in t */
    char *key, *ck;        /* owned */
    char latest[11];
    long rank;
};
struct sl_fhir_learn_batch {
    struct fd_pend *p;
    size_t n, cap;
    struct sl_fhir_vkey *k;
    size_t nk, capk;
};

static struct fd_pend *
pend_add(struct sl_fhir_learn_batch *b)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->p = sl_realloc(b->p, b->cap * sizeof(*b->p));
    }
    memset(&b->p[b->n], 0, sizeof(b->p[b->n]));
    return &b->p[b->n++];
}

/* full_url: of the Bundle entry res is in, or NULL; ck: the key of the
 * resource res is contained in, or NULL; b: where the parts under the
 * lock wait, or NULL to take the lock now. */
static int
learn_resource(struct sl_fhir_deid *d, const struct sl_jtape *t, size_t res,
               int depth, long rank, struct fd_lvals *lc, const char *full_url,
               const char *ck, struct sl_fhir_learn_batch *b)
{
    const char *type = tstr(t, res, "resourceType"), *id = tstr(t, res, "id");
    size_t entries, e;
    char latest[11] = "", *key;

    if (type == NULL || depth > 8)
        return SL_OK;
    if (strcmp(type, "Bundle") == 0) {
        entries = sl_jt_get(t, res, "entry");
        if (entries && t->n[entries].type != SL_JT_ARRAY)
            entries = 0;
        if (b != NULL) {
            struct fd_pend *pd = pend_add(b);
            pd->t = t;
            pd->node = res;
            pd->bundle = 1;
            pd->rank = rank;
        } else {
            pthread_mutex_lock(&d->learn_lock);
            learn_bundle_aliases(d, t, res, rank);
            pthread_mutex_unlock(&d->learn_lock);
        }
        for (e = sl_jt_first(t, entries); e; e = sl_jt_next(t, entries, e))
            learn_resource(d, t, sl_jt_get(t, e, "resource"), depth + 1, rank,
                           lc, tstr(t, e, "fullUrl"), NULL, b);
        learn_walk(lc, t, sl_jt_get(t, res, "identifier"), "identifier", NULL);
        return SL_OK;
    }
    if (strcmp(type, "Parameters") == 0) {
        learn_parameters(d, t, sl_jt_get(t, res, "parameter"), depth, rank,
                         lc, b);
        return SL_OK;
    }
    learn_values(lc, t, res, type, latest);
    key = fhir_ref_key(type, id, full_url, ck);
    if (b != NULL) {
        struct fd_pend *pd = pend_add(b);
        pd->t = t;
        pd->node = res;
        pd->type = type;
        pd->id = id;
        pd->key = key ? sl_strdup(key) : NULL;
        pd->ck = ck ? sl_strdup(ck) : NULL;
        memcpy(pd->latest, latest, sizeof(latest));
        pd->rank = rank;
    } else {
        pthread_mutex_lock(&d->learn_lock);
        learn_locked(d, t, res, type, id, key, ck, latest, rank);
        pthread_mutex_unlock(&d->learn_lock);
    }
    {
        /* contained resources: their ids are local to this one; without
         * a key for it, only their values are learned */
        size_t cs = sl_jt_get(t, res, "contained"), x;
        if (cs && t->n[cs].type == SL_JT_ARRAY)
            for (x = sl_jt_first(t, cs); x; x = sl_jt_next(t, cs, x)) {
                const char *xt = tstr(t, x, "resourceType");
                if (key && ck == NULL)
                    learn_resource(d, t, x, depth + 1, rank, lc, NULL, key, b);
                else if (xt && depth < 8)
                    learn_values(lc, t, x, xt, NULL);
            }
    }
    free(key);
    return SL_OK;
}

/* The values of lc into the set: folded and hashed here, without the
 * lock; into b to wait for the flush, or put now under the lock. */
static void
learn_lvals(struct sl_fhir_deid *d, const struct fd_lvals *lc,
            struct sl_fhir_learn_batch *b)
{
    struct sl_fhir_vkey kb[64];
    size_t i, k, nk;

    for (i = 0; i < lc->n;) {
        for (nk = 0; i < lc->n && nk < 64; i++)
            if (sl_fhir_vset_key(lc->v[i].s, lc->v[i].n, MIN_LEARNED, &kb[nk]))
                nk++;
        if (nk == 0)
            continue;
        if (b != NULL) {
            if (b->nk + nk > b->capk) {
                b->capk = (b->nk + nk) * 2;
                b->k = sl_realloc(b->k, b->capk * sizeof(*b->k));
            }
            memcpy(b->k + b->nk, kb, nk * sizeof(*kb));
            b->nk += nk;
            continue;
        }
        pthread_mutex_lock(&d->learn_lock);
        for (k = 0; k < nk; k++)
            sl_fhir_vset_put(&d->values, &kb[k]);
        pthread_mutex_unlock(&d->learn_lock);
    }
}

int
sl_fhir_deid_learn_tape_batch(struct sl_fhir_deid *d,
                              const struct sl_jtape *t, long rank,
                              struct sl_fhir_learn_batch *b,
                              struct sl_err *err)
{
    struct fd_lvals lc = { 0 };
    int rc;

    if (t->len < 2 || t->n[SL_JT_ROOT].type != SL_JT_OBJECT ||
        !tstr(t, SL_JT_ROOT, "resourceType"))
        return SL_ERR(err, SL_EPARSE, "not a FHIR resource (no resourceType)");
    /* the walks run without the lock; the maps and the set under it (now,
     * or at the flush of b) */
    rc = learn_resource(d, t, SL_JT_ROOT, 0, rank, &lc, NULL, NULL, b);
    learn_lvals(d, &lc, b);
    fhir_lv_free(&lc);
    return rc;
}

int
sl_fhir_deid_learn_tape(struct sl_fhir_deid *d, const struct sl_jtape *t,
                        long rank, struct sl_err *err)
{
    return sl_fhir_deid_learn_tape_batch(d, t, rank, NULL, err);
}

struct sl_fhir_learn_batch *
sl_fhir_learn_batch_new(void)
{
    return sl_calloc(1, sizeof(struct sl_fhir_learn_batch));
}

void
sl_fhir_deid_learn_flush(struct sl_fhir_deid *d, struct sl_fhir_learn_batch *b)
{
    size_t i;

    if (b == NULL || (b->n == 0 && b->nk == 0))
        return;
    pthread_mutex_lock(&d->learn_lock);
    for (i = 0; i < b->n; i++) {
        struct fd_pend *p = &b->p[i];
        if (p->bundle)
            learn_bundle_aliases(d, p->t, p->node, p->rank);
        else
            learn_locked(d, p->t, p->node, p->type, p->id, p->key, p->ck,
                         p->latest, p->rank);
    }
    for (i = 0; i < b->nk; i++)
        sl_fhir_vset_put(&d->values, &b->k[i]);
    pthread_mutex_unlock(&d->learn_lock);
    for (i = 0; i < b->n; i++) {
        free(b->p[i].key);
        free(b->p[i].ck);
    }
    b->n = b->nk = 0;
}

void
sl_fhir_learn_batch_free(struct sl_fhir_learn_batch *b)
{
    size_t i;

    if (b == NULL)
        return;
    for (i = 0; i < b->n; i++) {
        free(b->p[i].key);
        free(b->p[i].ck);
    }
    free(b->p);
    free(b->k);
    free(b);
}

int
sl_fhir_deid_learn_at(struct sl_fhir_deid *d, const json_t *resource, long rank,
                      struct sl_err *err)
{
    struct sl_jtape t = { 0 };
    int rc;

    if (!json_is_object(resource) || !fhir_jstr(resource, "resourceType"))
        return SL_ERR(err, SL_EPARSE, "not a FHIR resource (no resourceType)");
    if (!sl_jtape_from_json(&t, resource))
        rc = SL_ERR(err, SL_EPARSE, "resource nested too deep");
    else
        rc = sl_fhir_deid_learn_tape(d, &t, rank, err);
    sl_jtape_free(&t);
    return rc;
}

int
sl_fhir_deid_learn(struct sl_fhir_deid *d, const json_t *resource,
                   struct sl_err *err)
{
    return sl_fhir_deid_learn_at(d, resource, 0, err);
}

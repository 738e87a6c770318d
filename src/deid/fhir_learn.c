/* fhir_learn.c - pass 1 of the FHIR engine (see fhir.h): learns patients
 * (the identifier their date shift derives from, the latest date of their
 * record), which patient each resource and encounter belongs to, the
 * targets of Bundle fullUrls, and the values (names, identifiers, contact
 * details) that free text is scrubbed of and the output is scanned for.
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

/* The values one resource teaches, gathered without the lock and added
 * to the set under it at the end. */
struct lctx {
    const char **v;
    size_t n, cap;
};

static void
learn_str(struct lctx *d, const struct sl_jtape *t, size_t v)
{
    const char *s = sl_jt_str(t, v);
    if (s == NULL)
        return;
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 32;
        d->v = sl_realloc(d->v, d->cap * sizeof(*d->v));
    }
    d->v[d->n++] = s;
}

static void
learn_each(struct lctx *d, const struct sl_jtape *t, size_t v,
           void (*fn)(struct lctx *, const struct sl_jtape *, size_t))
{
    size_t k;
    if (v && t->n[v].type == SL_JT_ARRAY)
        for (k = sl_jt_first(t, v); k; k = sl_jt_next(t, v, k))
            fn(d, t, k);
    else if (v)
        fn(d, t, v);
}

static void
learn_name(struct lctx *d, const struct sl_jtape *t, size_t n)
{
    if (t->n[n].type == SL_JT_STRING) { /* Organization.name */
        learn_str(d, t, n);
        return;
    }
    learn_str(d, t, sl_jt_get(t, n, "family"));
    learn_str(d, t, sl_jt_get(t, n, "text"));
    learn_each(d, t, sl_jt_get(t, n, "given"), learn_str);
}

static void
learn_telecom(struct lctx *d, const struct sl_jtape *t, size_t v)
{
    learn_str(d, t, sl_jt_get(t, v, "value"));
}

static void
learn_address(struct lctx *d, const struct sl_jtape *t, size_t a)
{
    learn_each(d, t, sl_jt_get(t, a, "line"), learn_str);
    learn_str(d, t, sl_jt_get(t, a, "city"));
    learn_str(d, t, sl_jt_get(t, a, "district"));
    learn_str(d, t, sl_jt_get(t, a, "text"));
    learn_str(d, t, sl_jt_get(t, a, "postalCode"));
}

static void
learn_party(struct lctx *d, const struct sl_jtape *t, size_t o)
{
    learn_each(d, t, sl_jt_get(t, o, "name"), learn_name);
    learn_each(d, t, sl_jt_get(t, o, "alias"), learn_str);
    learn_each(d, t, sl_jt_get(t, o, "telecom"), learn_telecom);
    learn_each(d, t, sl_jt_get(t, o, "address"), learn_address);
    learn_each(d, t, sl_jt_get(t, o, "contact"), learn_party);
}

/* Identifier values anywhere; the latest full date of the record. key:
 * the member name v is (an element of) the value of, or NULL. */
static void
learn_walk(struct lctx *d, const struct sl_jtape *t, size_t v,
           const char *key, char *latest)
{
    const struct sl_jt_node *nd = &t->n[v];
    struct sl_fhir_date dt;
    size_t k;

    if (v == 0)
        return;
    if (nd->type == SL_JT_OBJECT) {
        if (key && strcmp(key, "identifier") == 0)
            learn_str(d, t, sl_jt_get(t, v, "value"));
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

static void
refs_of(const struct sl_jtape *t, size_t res, const char *prefs[3],
        const char *erefs[2])
{
    size_t i;

    for (i = 0; i < 3; i++)
        prefs[i] =
            tstr(t, sl_jt_get(t, res, fhir_ref_pat_keys[i]), "reference");
    for (i = 0; i < 2; i++)
        erefs[i] =
            tstr(t, sl_jt_get(t, res, fhir_ref_enc_keys[i]), "reference");
}

static int
learn_resource(struct sl_fhir_deid *d, const struct sl_jtape *t, size_t res,
               int depth, long rank, struct lctx *lc)
{
    const char *type = tstr(t, res, "resourceType"), *id = tstr(t, res, "id");
    const char *prefs[3], *erefs[2];
    size_t entries, e;
    char latest[11] = "", *pref = NULL;

    if (type == NULL || depth > 8)
        return SL_OK;
    if (strcmp(type, "Bundle") == 0) {
        entries = sl_jt_get(t, res, "entry");
        if (entries && t->n[entries].type != SL_JT_ARRAY)
            entries = 0;
        pthread_mutex_lock(&d->learn_lock);
        for (e = sl_jt_first(t, entries); e; e = sl_jt_next(t, entries, e)) {
            size_t r = sl_jt_get(t, e, "resource");
            const char *fu = tstr(t, e, "fullUrl"),
                       *rt = tstr(t, r, "resourceType"),
                       *rid = tstr(t, r, "id");
            if (fu && rt && rid && strncmp(fu, "urn:uuid:", 9) == 0) {
                /* the later input wins, as when learned in order */
                void **slot = fhir_map_put(&d->urns, fu);
                struct fd_urn *u = *slot;
                if (u == NULL)
                    *slot = u = fhir_map_alloc(&d->urns, sizeof(*u));
                if (u->ref == NULL || rank >= u->rank) {
                    free(u->ref);
                    u->ref = FHIR_JOIN(rt, "/", rid);
                    u->rank = rank;
                }
            }
        }
        pthread_mutex_unlock(&d->learn_lock);
        for (e = sl_jt_first(t, entries); e; e = sl_jt_next(t, entries, e))
            learn_resource(d, t, sl_jt_get(t, e, "resource"), depth + 1, rank,
                           lc);
        learn_walk(lc, t, sl_jt_get(t, res, "identifier"), "identifier", NULL);
        return SL_OK;
    }
    if (strcmp(type, "Patient") == 0 || strcmp(type, "RelatedPerson") == 0 ||
        strcmp(type, "Practitioner") == 0 || strcmp(type, "Person") == 0 ||
        strcmp(type, "Organization") == 0 ||
        strcmp(type, "PractitionerRole") == 0)
        learn_party(lc, t, res);
    refs_of(t, res, prefs, erefs);
    learn_walk(lc, t, res, NULL, latest);
    /* what follows reads and writes the maps */
    pthread_mutex_lock(&d->learn_lock);
    if (strcmp(type, "Patient") == 0 && id)
        pref = FHIR_JOIN("Patient/", id, "");
    else
        pref = fhir_ref_patient(d, prefs, erefs);
    if (strcmp(type, "Encounter") == 0 && id) {
        /* resources that name only this encounter belong to its patient,
         * whether they came before it in the input or come after */
        char *eref = FHIR_JOIN("Encounter/", id, "");
        void **slot = fhir_map_put(&d->encounters, eref);
        struct fd_encounter *enc = *slot;
        if (enc == NULL)
            *slot = enc = fhir_map_alloc(&d->encounters, sizeof(*enc));
        if (pref && (enc->patient == NULL || rank < enc->rank)) {
            patient_get(d, pref, &enc->patient);
            enc->rank = (int32_t)rank;
            if (enc->latest > fhir_day_pack(latest))
                fhir_day_unpack(enc->latest, latest);
        }
        free(eref);
    } else if (pref == NULL) {
        char *eref = fhir_ref_encounter(d, erefs);
        if (eref) {
            void **slot = fhir_map_put(&d->encounters, eref);
            struct fd_encounter *enc = *slot;
            if (enc == NULL)
                *slot = enc = fhir_map_alloc(&d->encounters, sizeof(*enc));
            if (enc->patient)
                pref = sl_strdup(enc->patient);
            else if (fhir_day_pack(latest) > enc->latest)
                enc->latest = fhir_day_pack(latest);
            free(eref);
        }
    }
    if (pref) {
        struct fd_patient *p = patient_get(d, pref, NULL);
        if (fhir_day_pack(latest) > p->latest)
            p->latest = fhir_day_pack(latest);
        /* the first input wins, as when learned in order */
        if (strcmp(type, "Patient") == 0 &&
            (p->mrn == NULL || rank < p->mrn_rank)) {
            size_t ids = sl_jt_get(t, res, "identifier"), x;
            if (ids && t->n[ids].type != SL_JT_ARRAY)
                ids = 0;
            for (x = sl_jt_first(t, ids); x; x = sl_jt_next(t, ids, x)) {
                const char *sys = tstr(t, x, "system"),
                           *val = tstr(t, x, "value");
                if (val == NULL)
                    continue;
                if (d->pid_system ? (sys && strcmp(sys, d->pid_system) == 0)
                                  : has_type_code_t(t, x, "MR")) {
                    size_t n = strlen(val) + 1;
                    if (p->mrn) /* replaced: wiped now, freed with the map */
                        explicit_bzero(p->mrn, strlen(p->mrn));
                    p->mrn = memcpy(fhir_map_alloc(&d->patients, n), val, n);
                    p->mrn_rank = (int32_t)rank;
                    break;
                }
            }
        }
    }
    pthread_mutex_unlock(&d->learn_lock);
    free(pref);
    return SL_OK;
}

int
sl_fhir_deid_learn_tape(struct sl_fhir_deid *d, const struct sl_jtape *t,
                        long rank, struct sl_err *err)
{
    struct lctx lc = { 0 };
    size_t i;
    int rc;

    if (t->len < 2 || t->n[SL_JT_ROOT].type != SL_JT_OBJECT ||
        !tstr(t, SL_JT_ROOT, "resourceType"))
        return SL_ERR(err, SL_EPARSE, "not a FHIR resource (no resourceType)");
    /* the walks run without the lock; the maps and the set under it */
    rc = learn_resource(d, t, SL_JT_ROOT, 0, rank, &lc);
    pthread_mutex_lock(&d->learn_lock);
    for (i = 0; i < lc.n; i++)
        sl_fhir_vset_add(&d->values, lc.v[i], MIN_LEARNED);
    pthread_mutex_unlock(&d->learn_lock);
    free(lc.v);
    return rc;
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

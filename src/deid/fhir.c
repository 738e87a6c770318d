/* fhir.c - the FHIR R4 de-identification engine (see fhir.h): compiles the
 * <fhir> rules of a profile chain, learns patients in pass 1 and rewrites
 * resources in pass 2, guided by the R4 type table (src/fhir/fhir.h).
 *
 * How an element is judged. Every element of a resource has a canonical
 * path ("Observation.value[x].value"), a path inside its data type when it
 * is inside one ("Quantity.value") and a type ("decimal"). The rule that
 * applies is, from the most to the least specific: an extension rule whose
 * URL is the extension's; a path rule on the resource path; a path rule
 * on the data type path; a type rule. A rule with a condition (system,
 * type-code) that holds beats one without; between equals, the later one
 * (later document of the chain, later in the document) wins. With no rule,
 * the element inherits its parent's default: "keep" keeps what has no rule
 * below it, "descend" removes it. A resource starts as "descend". Elements
 * that FHIR R4 does not define are always removed (an allow-list). */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/hash.h"
#include "deid/fhir.h"
#include "deid/fhir_int.h"
#include "fhir/jtape.h"

enum fd_method {
    FD_KEEP,
    FD_DESCEND,
    FD_REMOVE,
    FD_EMPTY,
    FD_REPLACE,
    FD_PSEUDONYMISE,
    FD_UID,
    FD_DATE_SHIFT,
    FD_GENERALISE,
    FD_PERTURB,
    FD_ENCRYPT,
    FD_SCRUB,
    FD_NMETHODS
};

static const char *const method_names[FD_NMETHODS] = {
    "keep", "descend",    "remove",     "empty",   "replace", "pseudonymise",
    "uid",  "date-shift", "generalise", "perturb", "encrypt", "scrub"
};

enum fd_sel { SEL_EXT, SEL_PATH, SEL_RPATH, SEL_TPATH, SEL_TYPE };

struct fd_count {
    char *path;
    uint64_t hash; /* of path: merging compares it first */
    long n;
};

struct fd_rule {
    char *id;
    int method;
    int sel;
    char *target;    /* URL, canonical path, or type */
    char *ctype;     /* a path written with a concrete choice: its type */
    char *value;     /* replace */
    double bound;    /* perturb */
    int bound_pct;   /* bound is a percentage of the value */
    char *system;    /* condition: the object's system (trailing '*': prefix) */
    char *type_code; /* condition: a code of the object's type.coding */
    char *code;      /* condition: the object's code (Quantity.code "a") */
    int doc;         /* index in the chain; -1 for the built-in pseudo rules */
    uint64_t hash;   /* of target, to skip most strcmp calls */
    struct fd_count *counts; /* explain; guarded by the engine's lock */
    size_t ncounts, capcounts;
};

/* A patient learned in pass 1. */
struct fd_patient {
    char *mrn;        /* the identifier the date shift derives from, or
                       * NULL (in the map's chunks) */
    int32_t mrn_rank; /* the rank of the input it came from */
    int32_t latest;   /* latest full date of the record (day_pack), 0: none */
};

/* An Encounter seen in pass 1, so that a resource that names only its
 * encounter reaches the encounter's patient: the patient ("Patient/id",
 * NULL until the Encounter itself is learned) and, until then, the latest
 * full date of the resources that named it. */
struct fd_encounter {
    const char *patient; /* the key of d->patients (stable until freed) */
    int32_t rank;        /* of the input the Encounter came from */
    int32_t latest;      /* day_pack */
};

/* "YYYY-MM-DD" (a date that parsed to the day) as YYYYMMDD, "" as 0: in
 * the order of the strings, in 4 bytes instead of 11 per patient and per
 * encounter. */
static int32_t
day_pack(const char *s)
{
    int32_t v = 0;
    int i;

    if (s[0] == '\0')
        return 0;
    for (i = 0; i < 10; i++)
        if (s[i] >= '0' && s[i] <= '9')
            v = v * 10 + (s[i] - '0');
    return v;
}

static void
day_unpack(int32_t v, char out[11])
{
    int i;

    if (v <= 0) {
        out[0] = '\0';
        return;
    }
    for (i = 9; i >= 0; i--) {
        if (i == 4 || i == 7) {
            out[i] = '-';
            continue;
        }
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
    out[10] = '\0';
}

/* A Bundle entry's fullUrl: what it names, from the input of that rank. */
struct fd_urn {
    char *ref; /* "Type/id" */
    long rank;
};

/* Keys and values of a map live in chunks freed with it: one allocation
 * per 64 KiB instead of two per entry (pass 1 keeps an entry per patient
 * and per encounter, and malloc's own overhead was a fifth of that). */
struct fd_chunk {
    struct fd_chunk *next;
    size_t used, cap;
    char data[];
};

/* A string-keyed map (open addressing); values come from map_alloc, and
 * what they point to is freed by the map's user through free_val. */
struct fd_map {
    char **keys;
    void **vals;
    size_t cap, n;
    struct fd_chunk *chunks;
};

struct sl_fhir_deid {
    const struct sl_keys *keys;
    char *chain_desc;
    struct sl_strv doc_names; /* "basic 1" per chain document */
    struct fd_rule *rules;    /* nrules, then the two pseudo rules */
    size_t nrules;
    /* rules by the hash of their target: bucket heads and chains of rule
     * indexes, highest index first (-1 ends) */
    int *bucket, *chain;
    size_t nbuckets;
    char *security_code;
    char *pid_system;
    int shift_min, shift_max;
    unsigned char enc_key[32];
    int has_enc_key;
    struct fd_map patients;   /* "Patient/id" -> struct fd_patient */
    struct fd_map urns;       /* "urn:uuid:..." -> struct fd_urn */
    struct fd_map encounters; /* "Encounter/id" -> struct fd_encounter */
    struct sl_fhir_vset values;
    pthread_mutex_t lock;
    pthread_mutex_t learn_lock; /* pass 1 on several threads */
    int no_counts; /* nobody will ask for --explain: count nothing */
};

#define R_NORULE(d)  ((int)(d)->nrules)     /* inherited "remove" */
#define R_UNKNOWN(d) ((int)(d)->nrules + 1) /* not defined in R4 */

#define SECURITY_SYSTEM \
    "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
#define DAR_URL       "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
#define ENC_PREFIX    "sluice-aes256gcm:"
#define REDACTED_TEXT "[redacted]"
#define MIN_LEARNED   3 /* shorter values are not scrubbed nor scanned */

/* ---- map ---- */

/* FNV-1a from the short seed (common/hash.h) */
static uint64_t
hash_str(const char *s)
{
    return sl_fnv1a64_cont(SL_FNV1A64_OFFSET_SHORT, s);
}

/* hash_str of a string that goes on with s, from the hash h of what
 * came before */
static uint64_t
hash_cont(uint64_t h, const char *s)
{
    return sl_fnv1a64_cont(h, s);
}

static size_t
map_slot(const struct fd_map *m, const char *k)
{
    size_t i = (size_t)hash_str(k) & (m->cap - 1);
    while (m->keys[i] != NULL && strcmp(m->keys[i], k) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static void *
map_get(const struct fd_map *m, const char *k)
{
    size_t i;
    if (m->cap == 0)
        return NULL;
    i = map_slot(m, k);
    return m->keys[i] ? m->vals[i] : NULL;
}

/* size zeroed bytes that live as long as m (8-byte aligned). */
static void *
map_alloc(struct fd_map *m, size_t size)
{
    void *p;

    size = (size + 7) & ~(size_t)7;
    if (m->chunks == NULL || m->chunks->cap - m->chunks->used < size) {
        size_t cap = 65536 - sizeof(struct fd_chunk);
        struct fd_chunk *c;
        if (size > cap)
            cap = size;
        c = sl_malloc(sizeof(*c) + cap);
        c->next = m->chunks;
        c->used = 0;
        c->cap = cap;
        m->chunks = c;
    }
    p = m->chunks->data + m->chunks->used;
    m->chunks->used += size;
    memset(p, 0, size);
    return p;
}

/* Returns the slot's value pointer for k, creating an empty slot. */
static void **
map_put(struct fd_map *m, const char *k)
{
    size_t i;

    /* grown at three quarters full: linear probing stays short there, and
     * pass 1 keeps a map entry per patient */
    if ((m->n + 1) * 4 > m->cap * 3) {
        struct fd_map t = { 0 };
        t.cap = m->cap ? m->cap * 2 : 64;
        t.keys = sl_calloc(t.cap, sizeof(char *));
        t.vals = sl_calloc(t.cap, sizeof(void *));
        for (i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t j = map_slot(&t, m->keys[i]);
                t.keys[j] = m->keys[i];
                t.vals[j] = m->vals[i];
            }
        free(m->keys);
        free(m->vals);
        m->keys = t.keys;
        m->vals = t.vals;
        m->cap = t.cap;
    }
    i = map_slot(m, k);
    if (m->keys[i] == NULL) {
        size_t n = strlen(k) + 1;
        m->keys[i] = memcpy(map_alloc(m, n), k, n);
        m->n++;
    }
    return &m->vals[i];
}

static void
map_free(struct fd_map *m, void (*free_val)(void *))
{
    size_t i;
    for (i = 0; i < m->cap; i++)
        if (m->keys[i] && free_val)
            free_val(m->vals[i]);
    while (m->chunks) {
        struct fd_chunk *c = m->chunks;
        m->chunks = c->next;
        explicit_bzero(c->data, c->used); /* ids of patients */
        free(c);
    }
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

static void
urn_free(void *p)
{
    struct fd_urn *u = p;
    if (u)
        free(u->ref);
}

/* a, b and c joined (no printf: this runs for every reference and id);
 * n: the bytes of a to take. Caller frees. */
static char *
join3(const char *a, size_t n, const char *b, const char *c)
{
    size_t lb = strlen(b), lc = strlen(c);
    char *t = sl_malloc(n + lb + lc + 1);

    memcpy(t, a, n);
    memcpy(t + n, b, lb);
    memcpy(t + n + lb, c, lc + 1);
    return t;
}

#define JOIN(a, b, c) join3((a), strlen(a), (b), (c))

/* ---- compiling the profile ---- */

static char *
xattr(xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    char *s;
    if (v == NULL)
        return NULL;
    s = sl_strdup((const char *)v);
    xmlFree(v);
    return s;
}

static void
rule_clear(struct fd_rule *r)
{
    size_t i;
    free(r->id);
    free(r->target);
    free(r->ctype);
    free(r->value);
    free(r->system);
    free(r->type_code);
    free(r->code);
    for (i = 0; i < r->ncounts; i++)
        free(r->counts[i].path);
    free(r->counts);
    memset(r, 0, sizeof(*r));
}

/* Checks a rule path against the type table and writes its canonical
 * form ("Observation.valueQuantity" -> "Observation.value[x]" and type
 * "Quantity" in ctype). Returns 0 when a segment is not defined. */
static int
canon_path(const char *path, struct sl_buf *canon, char **ctype)
{
    char base[320], seg[128], cn[320], type[64];
    const char *p = path, *dot;
    size_t n;
    int last;

    n = strcspn(p, ".");
    if (n == 0 || n >= sizeof(base))
        return 0;
    memcpy(base, p, n);
    base[n] = '\0';
    sl_buf_adds(canon, base);
    if (!sl_fhir_type_lookup(base))
        return 0;
    p += n;
    while (*p == '.') {
        p++;
        dot = strchr(p, '.');
        n = dot ? (size_t)(dot - p) : strlen(p);
        last = dot == NULL;
        if (n == 0 || n >= sizeof(seg))
            return 0;
        memcpy(seg, p, n);
        seg[n] = '\0';
        p += n;
        if (n > 3 && strcmp(seg + n - 3, "[x]") == 0) {
            const char *t;
            if (snprintf(cn, sizeof(cn), "%s.%s", base, seg) >=
                    (int)sizeof(cn) ||
                (t = sl_fhir_type_lookup(cn)) == NULL)
                return 0;
            snprintf(type, sizeof(type), "%.*s", (int)strcspn(t, "|"), t);
        } else if (!sl_fhir_elem_resolve(base, seg, cn, sizeof(cn), type,
                                         sizeof(type)))
            return 0;
        sl_buf_addc(canon, '.');
        sl_buf_adds(canon, strrchr(cn, '.') + 1);
        if (last && strchr(cn, '[') && !strchr(seg, '[')) {
            free(*ctype);
            *ctype = sl_strdup(type);
        }
        if (type[0] == '@')
            snprintf(base, sizeof(base), "%s", type + 1);
        else if (sl_fhir_type_is_complex(type) &&
                 strcmp(type, "BackboneElement") != 0 &&
                 strcmp(type, "Element") != 0)
            snprintf(base, sizeof(base), "%s", type);
        else
            snprintf(base, sizeof(base), "%s", cn);
    }
    return 1;
}

static int
parse_method(const char *s)
{
    int i;
    if (s == NULL)
        return -1;
    if (strcmp(s, "pseudonymize") == 0)
        return FD_PSEUDONYMISE;
    if (strcmp(s, "generalize") == 0)
        return FD_GENERALISE;
    for (i = 0; i < FD_NMETHODS; i++)
        if (strcmp(s, method_names[i]) == 0)
            return i;
    return -1;
}

/* Parses one <rule>; on success *r is filled (owned by the caller). */
static int
parse_rule(xmlNode *n, const struct sl_profile_doc *doc, int di, int seq,
           struct fd_rule *r, struct sl_err *err)
{
    char *m = xattr(n, "method"), *path = xattr(n, "path"),
         *type = xattr(n, "type"), *ext = xattr(n, "extension"),
         *bound = xattr(n, "bound");
    struct sl_buf canon;
    int line = (int)xmlGetLineNo(n), rc = SL_OK, nsel;

    sl_buf_init(&canon);
    memset(r, 0, sizeof(*r));
    r->doc = di;
    r->id = xattr(n, "id");
    if (r->id == NULL)
        r->id = sl_asprintf("%s#%d", doc->name ? doc->name : "profile", seq);
    r->value = xattr(n, "value");
    r->system = xattr(n, "system");
    r->type_code = xattr(n, "type-code");
    r->code = xattr(n, "code");
    if ((r->method = parse_method(m)) < 0) {
        rc = SL_ERR(err, SL_ECONFIG, "%s:%d: rule %s: unknown method",
                    doc->path, line, r->id);
        goto out;
    }
    nsel = (path != NULL) + (type != NULL) + (ext != NULL);
    if (nsel != 1) {
        rc = SL_ERR(err, SL_ECONFIG,
                    "%s:%d: rule %s: needs exactly one of path, type, "
                    "extension",
                    doc->path, line, r->id);
        goto out;
    }
    if (ext) {
        r->sel = SEL_EXT;
        r->target = ext;
        ext = NULL;
    } else if (type) {
        if (!sl_fhir_type_lookup(type) && strcmp(type, "xhtml") != 0) {
            rc = SL_ERR(err, SL_ECONFIG,
                        "%s:%d: rule %s: %s is not a FHIR R4 type", doc->path,
                        line, r->id, type);
            goto out;
        }
        r->sel = SEL_TYPE;
        r->target = type;
        type = NULL;
    } else {
        int generic = strncmp(path, "Resource.", 9) == 0 ||
                      strncmp(path, "DomainResource.", 15) == 0;
        if (!canon_path(path, &canon, &r->ctype)) {
            rc = SL_ERR(err, SL_ECONFIG,
                        "%s:%d: rule %s: %s is not an element of FHIR R4",
                        doc->path, line, r->id, path);
            goto out;
        }
        if (generic) {
            r->sel = SEL_RPATH; /* matched on what follows the type */
            r->target = sl_strdup(strchr(canon.data, '.'));
        } else {
            char first[128];
            snprintf(first, sizeof(first), "%.*s",
                     (int)strcspn(canon.data, "."), canon.data);
            r->sel = sl_fhir_type_is_resource(first) ? SEL_PATH : SEL_TPATH;
            r->target = sl_buf_steal(&canon);
        }
    }
    if (r->method == FD_REPLACE && r->value == NULL) {
        rc = SL_ERR(err, SL_ECONFIG, "%s:%d: rule %s: replace needs a value",
                    doc->path, line, r->id);
        goto out;
    }
    if (r->method == FD_PERTURB) {
        char *end = NULL;
        if (bound)
            r->bound = strtod(bound, &end);
        if (bound == NULL || end == bound || r->bound <= 0 ||
            (*end && strcmp(end, "%") != 0)) {
            rc = SL_ERR(err, SL_ECONFIG,
                        "%s:%d: rule %s: perturb needs a bound > 0 (a number, "
                        "or a percentage like 5%%)",
                        doc->path, line, r->id);
            goto out;
        }
        r->bound_pct = *end == '%';
    }
out:
    if (rc != SL_OK)
        rule_clear(r);
    free(m);
    free(path);
    free(type);
    free(ext);
    free(bound);
    sl_buf_free(&canon);
    return rc;
}

/* "file:PATH" (32 raw bytes or 64 hex characters) or "env:NAME" (64 hex). */
static int
load_enc_key(struct sl_fhir_deid *d, const char *ref, const char *where,
             struct sl_err *err)
{
    char *data = NULL;
    size_t len = 0, i;
    int rc = SL_OK;

    if (strncmp(ref, "file:", 5) == 0) {
        if ((rc = sl_file_read(ref + 5, &data, &len, err)) != SL_OK)
            goto out;
    } else if (strncmp(ref, "env:", 4) == 0 && getenv(ref + 4)) {
        data = sl_strdup(getenv(ref + 4));
        len = strlen(data);
    } else {
        rc = SL_ERR(err, SL_EKEY,
                    "%s: encrypt-key must be file:PATH or "
                    "env:NAME of a set variable",
                    where);
        goto out;
    }
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    if (len == 32) {
        memcpy(d->enc_key, data, 32);
    } else if (len == 64 && strspn(data, "0123456789abcdefABCDEF") >= 64) {
        for (i = 0; i < 32; i++) {
            char hx[3] = { data[2 * i], data[2 * i + 1], 0 };
            d->enc_key[i] = (unsigned char)strtoul(hx, NULL, 16);
        }
    } else {
        rc = SL_ERR(err, SL_EKEY,
                    "%s: the encryption key must be 32 bytes "
                    "or 64 hex characters",
                    where);
        goto out;
    }
    d->has_enc_key = 1;
out:
    if (data)
        sl_freezero(data, strlen(data));
    return rc;
}

static int
compile_doc(struct sl_fhir_deid *d, const struct sl_profile_doc *doc, int di,
            size_t *cap, struct sl_err *err)
{
    xmlNode *n;
    char *a;
    int seq = 0, rc = SL_OK;
    long v;
    size_t i;

    if ((a = xattr(doc->fhir, "security-label")) != NULL) {
        free(d->security_code);
        d->security_code = a;
    }
    if ((a = xattr(doc->fhir, "patient-identifier-system")) != NULL) {
        free(d->pid_system);
        d->pid_system = a;
    }
    if ((a = xattr(doc->fhir, "date-shift-min")) != NULL) {
        rc = sl_parse_long(a, 1, 36500, &v);
        d->shift_min = (int)v;
        free(a);
        if (rc != SL_OK)
            return SL_ERR(err, SL_ECONFIG, "%s: date-shift-min: 1 to 36500",
                          doc->path);
    }
    if ((a = xattr(doc->fhir, "date-shift-max")) != NULL) {
        rc = sl_parse_long(a, 1, 36500, &v);
        d->shift_max = (int)v;
        free(a);
        if (rc != SL_OK)
            return SL_ERR(err, SL_ECONFIG, "%s: date-shift-max: 1 to 36500",
                          doc->path);
    }
    if ((a = xattr(doc->fhir, "encrypt-key")) != NULL) {
        rc = load_enc_key(d, a, doc->path, err);
        free(a);
        if (rc != SL_OK)
            return rc;
    }
    for (n = doc->fhir->children; n; n = n->next) {
        struct fd_rule r;
        if (n->type != XML_ELEMENT_NODE ||
            strcmp((const char *)n->name, "rule") != 0)
            continue;
        if ((rc = parse_rule(n, doc, di, ++seq, &r, err)) != SL_OK)
            return rc;
        /* the same id in a later document replaces the earlier rule */
        for (i = 0; i < d->nrules; i++)
            if (strcmp(d->rules[i].id, r.id) == 0) {
                rule_clear(&d->rules[i]);
                memmove(&d->rules[i], &d->rules[i + 1],
                        (d->nrules - i - 1) * sizeof(r));
                d->nrules--;
                break;
            }
        r.hash = hash_str(r.target);
        if (d->nrules + 3 > *cap) {
            *cap = *cap ? *cap * 2 : 64;
            d->rules = sl_realloc(d->rules, *cap * sizeof(r));
        }
        d->rules[d->nrules++] = r;
    }
    return SL_OK;
}

int
sl_fhir_deid_new(const struct sl_profile_chain *chain,
                 const struct sl_keys *keys, struct sl_fhir_deid **out,
                 struct sl_err *err)
{
    struct sl_fhir_deid *d = sl_calloc(1, sizeof(*d));
    size_t i, cap = 0;
    int rc = SL_OK;

    d->keys = keys;
    d->shift_min = 1;
    d->shift_max = 365;
    pthread_mutex_init(&d->lock, NULL);
    pthread_mutex_init(&d->learn_lock, NULL);
    for (i = 0; chain && i < chain->n; i++) {
        const struct sl_profile_doc *doc = &chain->docs[i];
        sl_strv_push_owned(&d->doc_names,
                           sl_asprintf("%s %s", doc->name ? doc->name : "?",
                                       doc->version ? doc->version : "?"));
        if (doc->fhir == NULL)
            continue;
        if ((rc = compile_doc(d, doc, (int)i, &cap, err)) != SL_OK)
            goto out;
    }
    if (d->shift_max < d->shift_min) {
        rc = SL_ERR(err, SL_ECONFIG,
                    "profile: date-shift-max is below date-shift-min");
        goto out;
    }
    if (d->security_code == NULL)
        d->security_code = sl_strdup("PSEUDED");
    d->rules = sl_realloc(d->rules, (d->nrules + 2) * sizeof(*d->rules));
    memset(&d->rules[d->nrules], 0, 2 * sizeof(*d->rules));
    d->rules[d->nrules].id = sl_strdup("(no rule)");
    d->rules[d->nrules].method = FD_REMOVE;
    d->rules[d->nrules].doc = -1;
    d->rules[d->nrules + 1].id = sl_strdup("(not in FHIR R4)");
    d->rules[d->nrules + 1].method = FD_REMOVE;
    d->rules[d->nrules + 1].doc = -1;
    d->chain_desc = chain ? sl_profile_chain_describe(chain) : NULL;
    for (d->nbuckets = 64; d->nbuckets < 2 * d->nrules;)
        d->nbuckets *= 2;
    d->bucket = sl_malloc(d->nbuckets * sizeof(int));
    d->chain = sl_malloc((d->nrules + 1) * sizeof(int));
    for (i = 0; i < d->nbuckets; i++)
        d->bucket[i] = -1;
    for (i = 0; i < d->nrules; i++) { /* ascending: heads end up highest */
        size_t b = (size_t)d->rules[i].hash & (d->nbuckets - 1);
        d->chain[i] = d->bucket[b];
        d->bucket[b] = (int)i;
    }
    *out = d;
    d = NULL;
out:
    sl_fhir_deid_free(d);
    return rc;
}

/* Sets (or replaces) the AES-256-GCM key of the encrypt method: 32 bytes,
 * copied. Overrides the profile's encrypt-key. Call before pass 2. */
int
sl_fhir_deid_set_encrypt_key(struct sl_fhir_deid *d, const void *key,
                             size_t len, struct sl_err *err)
{
    if (len != sizeof(d->enc_key))
        return SL_ERR(err, SL_EKEY, "the encryption key must be 32 bytes");
    memcpy(d->enc_key, key, len);
    d->has_enc_key = 1;
    return SL_OK;
}

void
sl_fhir_deid_free(struct sl_fhir_deid *d)
{
    size_t i;

    if (d == NULL)
        return;
    if (d->rules)
        for (i = 0; i < d->nrules + 2; i++)
            rule_clear(&d->rules[i]);
    free(d->rules);
    free(d->bucket);
    free(d->chain);
    free(d->chain_desc);
    sl_strv_free(&d->doc_names);
    free(d->security_code);
    free(d->pid_system);
    OPENSSL_cleanse(d->enc_key, sizeof(d->enc_key));
    map_free(&d->patients, NULL); /* MRNs too: wiped with the chunks */
    map_free(&d->urns, urn_free);
    map_free(&d->encounters, NULL);
    sl_fhir_vset_free(&d->values);
    pthread_mutex_destroy(&d->lock);
    pthread_mutex_destroy(&d->learn_lock);
    free(d);
}

/* ---- references ---- */

static const char *
jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The "Type/id" a reference string points to, or NULL (caller frees). */
static char *
ref_target(const struct sl_fhir_deid *d, const char *ref)
{
    const char *p, *seg[64];
    size_t nseg = 0, i;
    char *copy, *s, *res = NULL;

    if (strncmp(ref, "urn:uuid:", 9) == 0) {
        const struct fd_urn *u = map_get(&d->urns, ref);
        return u ? sl_strdup(u->ref) : NULL;
    }
    if (strchr(ref, '?') || ref[0] == '#')
        return NULL;
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
            res = JOIN(seg[i - 1], "/", seg[i]);
            break;
        }
    free(copy);
    return res;
}

/* The "Encounter/id" that refs (the references of encounter and of
 * context, as in MedicationAdministration; NULL when absent) name, or NULL
 * (caller frees). */
static char *
encounter_of_refs(const struct sl_fhir_deid *d, const char *const refs[2])
{
    size_t i;

    for (i = 0; i < 2; i++) {
        char *t;
        if (refs[i] == NULL || (t = ref_target(d, refs[i])) == NULL)
            continue;
        if (strncmp(t, "Encounter/", 10) == 0)
            return t;
        free(t);
    }
    return NULL;
}

/* The reference of subject, patient or beneficiary (prefs) as
 * "Patient/id"; else the patient of the Encounter that erefs name, as
 * learned in pass 1. */
static char *
patient_of_refs(const struct sl_fhir_deid *d, const char *const prefs[3],
                const char *const erefs[2])
{
    const struct fd_encounter *enc;
    char *eref;
    size_t i;

    for (i = 0; i < 3; i++) {
        char *t;
        if (prefs[i] == NULL || (t = ref_target(d, prefs[i])) == NULL)
            continue;
        if (strncmp(t, "Patient/", 8) == 0)
            return t;
        free(t);
    }
    if ((eref = encounter_of_refs(d, erefs)) == NULL)
        return NULL;
    enc = map_get(&d->encounters, eref);
    free(eref);
    return enc && enc->patient ? sl_strdup(enc->patient) : NULL;
}

static const char *const pat_keys[3] = { "subject", "patient", "beneficiary" };
static const char *const enc_keys[2] = { "encounter", "context" };

static char *
patient_of(const struct sl_fhir_deid *d, const json_t *res)
{
    const char *prefs[3], *erefs[2];
    size_t i;

    for (i = 0; i < 3; i++)
        prefs[i] = jstr(json_object_get(res, pat_keys[i]), "reference");
    for (i = 0; i < 2; i++)
        erefs[i] = jstr(json_object_get(res, enc_keys[i]), "reference");
    return patient_of_refs(d, prefs, erefs);
}

/* ---- pass 1 ----
 * Learning reads a tape (fhir/jtape.h): NDJSON lines are scanned straight
 * into one, other inputs are jansson documents turned into one. */

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
has_type_code(const json_t *ident, const char *code)
{
    const json_t *codings =
        json_object_get(json_object_get(ident, "type"), "coding");
    size_t i;
    for (i = 0; i < json_array_size(codings); i++) {
        const char *c = jstr(json_array_get(codings, i), "code");
        if (c && strcmp(c, code) == 0)
            return 1;
    }
    return 0;
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
    void **slot = map_put(&d->patients, ref);
    if (*slot == NULL)
        *slot = map_alloc(&d->patients, sizeof(struct fd_patient));
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
        prefs[i] = tstr(t, sl_jt_get(t, res, pat_keys[i]), "reference");
    for (i = 0; i < 2; i++)
        erefs[i] = tstr(t, sl_jt_get(t, res, enc_keys[i]), "reference");
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
                       *rt = tstr(t, r, "resourceType"), *rid = tstr(t, r, "id");
            if (fu && rt && rid && strncmp(fu, "urn:uuid:", 9) == 0) {
                /* the later input wins, as when learned in order */
                void **slot = map_put(&d->urns, fu);
                struct fd_urn *u = *slot;
                if (u == NULL)
                    *slot = u = map_alloc(&d->urns, sizeof(*u));
                if (u->ref == NULL || rank >= u->rank) {
                    free(u->ref);
                    u->ref = JOIN(rt, "/", rid);
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
        pref = JOIN("Patient/", id, "");
    else
        pref = patient_of_refs(d, prefs, erefs);
    if (strcmp(type, "Encounter") == 0 && id) {
        /* resources that name only this encounter belong to its patient,
         * whether they came before it in the input or come after */
        char *eref = JOIN("Encounter/", id, "");
        void **slot = map_put(&d->encounters, eref);
        struct fd_encounter *enc = *slot;
        if (enc == NULL)
            *slot = enc = map_alloc(&d->encounters, sizeof(*enc));
        if (pref && (enc->patient == NULL || rank < enc->rank)) {
            patient_get(d, pref, &enc->patient);
            enc->rank = (int32_t)rank;
            if (enc->latest > day_pack(latest))
                day_unpack(enc->latest, latest);
        }
        free(eref);
    } else if (pref == NULL) {
        char *eref = encounter_of_refs(d, erefs);
        if (eref) {
            void **slot = map_put(&d->encounters, eref);
            struct fd_encounter *enc = *slot;
            if (enc == NULL)
                *slot = enc = map_alloc(&d->encounters, sizeof(*enc));
            if (enc->patient)
                pref = sl_strdup(enc->patient);
            else if (day_pack(latest) > enc->latest)
                enc->latest = day_pack(latest);
            free(eref);
        }
    }
    if (pref) {
        struct fd_patient *p = patient_get(d, pref, NULL);
        if (day_pack(latest) > p->latest)
            p->latest = day_pack(latest);
        /* the first input wins, as when learned in order */
        if (strcmp(type, "Patient") == 0 &&
            (p->mrn == NULL || rank < p->mrn_rank)) {
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
                    p->mrn = memcpy(map_alloc(&d->patients, n), val, n);
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

    if (!json_is_object(resource) || !jstr(resource, "resourceType"))
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

/* ---- pass 2 ---- */

#define PATHLEN 1024

struct lcount {
    int rule;
    uint64_t hash; /* of path */
    char *path;
    long n;
};

/* One call of sl_fhir_deid_resource. */
struct call {
    struct sl_fhir_deid *d;
    struct lcount *lc;
    size_t nlc, caplc;
    int rc;    /* first failure (quarantine, key error) */
    int depth; /* resources within resources (Bundle, contained) */
    struct sl_err *err;
    char path[PATHLEN];  /* concrete resource path, for explain */
    char cpath[PATHLEN]; /* canonical resource path */
    char tpath[PATHLEN]; /* canonical path inside the data type, or "" */
    /* hashes of cpath, of its part from the first '.' (has_rel: there is
     * one) and of tpath, kept as they change: rules are found by them */
    struct phash {
        uint64_t hc, hrel, ht;
        int has_rel;
    } ph;
    /* pseudonyms already computed in this call (a Bundle names its
     * patient and encounter many times): hash of domain and value */
    struct {
        uint64_t h;
        char *v;
        const char *domain;
        char ps[SL_PSEUDONYM_LEN + 1];
    } memo[64];
};

/* The resource being walked. */
struct res {
    const char *type;
    char *self; /* "Type/id", or NULL */
    int contained;
    const struct fd_patient *pat;
    char *pat_ref; /* "Patient/id" */
    int shift, have_shift;
};

/* The element being judged. */
struct el {
    const char *key;
    char type[64];
    char base[320];  /* table path of its children */
    char canon[320]; /* table path of the element */
    int cref;        /* a contentReference: its children are base's */
    int root;        /* a direct child of the resource */
    json_t *parent;
};

static void
count(struct call *c, int rule)
{
    uint64_t h;
    size_t i;
    if (rule < 0 || c->d->no_counts)
        return;
    h = hash_str(c->path);
    for (i = 0; i < c->nlc; i++)
        if (c->lc[i].hash == h && c->lc[i].rule == rule &&
            strcmp(c->lc[i].path, c->path) == 0) {
            c->lc[i].n++;
            return;
        }
    if (c->nlc == c->caplc) {
        c->caplc = c->caplc ? c->caplc * 2 : 32;
        c->lc = sl_realloc(c->lc, c->caplc * sizeof(*c->lc));
    }
    c->lc[c->nlc].rule = rule;
    c->lc[c->nlc].hash = h;
    c->lc[c->nlc].path = sl_strdup(c->path);
    c->lc[c->nlc].n = 1;
    c->nlc++;
}

static void
merge_counts(struct call *c)
{
    struct sl_fhir_deid *d = c->d;
    size_t i, j;

    pthread_mutex_lock(&d->lock);
    for (i = 0; i < c->nlc; i++) {
        struct fd_rule *r = &d->rules[c->lc[i].rule];
        for (j = 0; j < r->ncounts; j++)
            if (r->counts[j].hash == c->lc[i].hash &&
                strcmp(r->counts[j].path, c->lc[i].path) == 0)
                break;
        if (j == r->ncounts) {
            if (r->ncounts == r->capcounts) {
                r->capcounts = r->capcounts ? r->capcounts * 2 : 8;
                r->counts =
                    sl_realloc(r->counts, r->capcounts * sizeof(*r->counts));
            }
            r->counts[j].path = c->lc[i].path;
            r->counts[j].hash = c->lc[i].hash;
            r->counts[j].n = 0;
            c->lc[i].path = NULL;
            r->ncounts++;
        }
        r->counts[j].n += c->lc[i].n;
    }
    pthread_mutex_unlock(&d->lock);
}

/* c->ph from the paths as they are */
static void
ph_set(struct call *c)
{
    const char *rel = strchr(c->cpath, '.');
    c->ph.hc = hash_str(c->cpath);
    c->ph.has_rel = rel != NULL;
    c->ph.hrel = rel ? hash_str(rel) : 0;
    c->ph.ht = hash_str(c->tpath);
}

static int
push(char *buf, const char *sep, const char *s)
{
    size_t n = strlen(buf), a = strlen(sep), b = strlen(s);
    if (n + a + b + 1 > PATHLEN)
        return -1;
    memcpy(buf + n, sep, a);
    memcpy(buf + n + a, s, b + 1);
    return (int)n;
}

static int
cond_holds(const struct fd_rule *r, const json_t *v)
{
    if (r->system) {
        const char *s = jstr(v, "system");
        size_t n = strlen(r->system);
        if (s == NULL)
            return 0;
        if (n > 0 && r->system[n - 1] == '*' ? strncmp(s, r->system, n - 1)
                                             : strcmp(s, r->system))
            return 0;
    }
    if (r->type_code && !has_type_code(v, r->type_code))
        return 0;
    if (r->code) {
        const char *code = jstr(v, "code");
        if (code == NULL || strcmp(code, r->code) != 0)
            return 0;
    }
    return 1;
}

/* Scores rule i for the element (-1: it does not apply). */
static int
score_rule(const struct call *c, const struct el *e, const json_t *v,
           const struct fd_rule *r, const char *rel, const char *url)
{
    int score = -1;

    switch (r->sel) {
    case SEL_EXT:
        if (url && strcmp(url, r->target) == 0)
            score = 8;
        break;
    case SEL_PATH:
        if (strcmp(r->target, c->cpath) == 0 &&
            (r->ctype == NULL || strcmp(r->ctype, e->type) == 0))
            score = 6;
        break;
    case SEL_RPATH:
        if (rel && strcmp(r->target, rel) == 0)
            score = 6;
        break;
    case SEL_TPATH:
        if (c->tpath[0] && strcmp(r->target, c->tpath) == 0 &&
            (r->ctype == NULL || strcmp(r->ctype, e->type) == 0))
            score = 4;
        break;
    default:
        if (strcmp(r->target, e->type) == 0)
            score = 2;
        /* the parts of a complex extension (relative URLs) follow the
         * rule of the extension they are in */
        if (score >= 0 && strcmp(e->type, "Extension") == 0) {
            const char *u = jstr(v, "url");
            if (u && !strchr(u, ':'))
                score = -1;
        }
        break;
    }
    if (score >= 0 && (r->system || r->type_code || r->code)) {
        if (!json_is_object(v) || !cond_holds(r, v))
            return -1;
        score++;
    }
    return score;
}

/* The index of the rule for the element, or -1: the candidates are the
 * rules whose target hashes like the element's path, data type path,
 * type, generic path or extension URL. */
static int
match(const struct call *c, const struct el *e, const json_t *v)
{
    const struct sl_fhir_deid *d = c->d;
    const char *rel = strchr(c->cpath, '.');
    const char *url = strcmp(e->type, "Extension") == 0 ? jstr(v, "url") : NULL;
    uint64_t h[5];
    int best = -1, bscore = -1, k, nh = 0;

    h[nh++] = c->ph.hc;
    h[nh++] = hash_str(e->type);
    if (c->tpath[0])
        h[nh++] = c->ph.ht;
    if (rel)
        h[nh++] = c->ph.hrel;
    if (url)
        h[nh++] = hash_str(url);
    for (k = 0; k < nh; k++) {
        int i;
        for (i = d->bucket[(size_t)h[k] & (d->nbuckets - 1)]; i >= 0;
             i = d->chain[i]) {
            const struct fd_rule *r = &d->rules[i];
            int score;
            if (r->hash != h[k])
                continue;
            score = score_rule(c, e, v, r, rel, url);
            if (score > bscore || (score == bscore && score >= 0 && i > best)) {
                bscore = score;
                best = i;
            }
        }
    }
    return best;
}

static int fail(struct call *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct call *c, int code, const char *fmt, ...)
{
    va_list ap;
    char msg[512];

    if (c->rc != SL_OK)
        return c->rc;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->rc = SL_ERR(c->err, code, "%s", msg);
    return c->rc;
}

static void
pseudonym(struct call *c, const char *domain, const char *v, char *out)
{
    uint64_t h = hash_str(v) ^ hash_str(domain);
    size_t slot = (size_t)h & 63;

    if (c->memo[slot].v && c->memo[slot].h == h &&
        c->memo[slot].domain == domain && strcmp(c->memo[slot].v, v) == 0) {
        memcpy(out, c->memo[slot].ps, SL_PSEUDONYM_LEN + 1);
        return;
    }
    sl_keys_pseudonym(c->d->keys, domain, v, strlen(v), out);
    if (c->memo[slot].v)
        sl_freezero(c->memo[slot].v, strlen(c->memo[slot].v));
    c->memo[slot].v = sl_strdup(v);
    c->memo[slot].h = h;
    c->memo[slot].domain = domain;
    memcpy(c->memo[slot].ps, out, SL_PSEUDONYM_LEN + 1);
}

/* A reference rewritten to the pseudonymous ids, or NULL when it cannot
 * be kept (conditional references name identifiers). Caller frees. */
static char *
rewrite_ref(struct call *c, const char *s, int request_url)
{
    char ps[SL_PSEUDONYM_LEN + 1], uuid[40], uid[SL_UID_MAX + 1];
    const char *q, *slash, *prev = NULL, *p;
    char *t, *res = NULL;

    if (s[0] == '#') {
        if (s[1] == '\0')
            return sl_strdup("#");
        pseudonym(c, SL_KD_RESOURCE_ID, s, ps);
        return JOIN("#", ps, "");
    }
    if (strncmp(s, "urn:uuid:", 9) == 0) {
        pseudonym(c, SL_KD_RESOURCE_ID, s, ps);
        sl_fhir_uuid_from_pseudonym(ps, uuid);
        return JOIN("urn:uuid:", uuid, "");
    }
    if (strncmp(s, "urn:oid:", 8) == 0) {
        sl_keys_uid(c->d->keys, s + 8, uid);
        return JOIN("urn:oid:", uid, "");
    }
    if ((q = strchr(s, '?')) != NULL) {
        /* a conditional URL: its query names identifiers; a request URL
         * keeps the bare type ("Patient?identifier=…" -> "Patient") */
        if (request_url && q > s && memchr(s, '/', (size_t)(q - s)) == NULL) {
            t = sl_strndup(s, (size_t)(q - s));
            if (sl_fhir_type_is_resource(t))
                return t;
            free(t);
        }
        return NULL;
    }
    if (sl_fhir_type_is_resource(s))
        return sl_strdup(s); /* a request URL of a create */
    /* [base/]Type/id[/_history/vid]: find the last Type/id pair */
    for (p = s;; p = slash + 1) {
        slash = strchr(p, '/');
        if (slash == NULL)
            break;
        if ((size_t)(slash - p) < 64 && slash > p && *p >= 'A' && *p <= 'Z') {
            char type[64];
            const char *id = slash + 1;
            size_t idlen = strcspn(id, "/");
            memcpy(type, p, (size_t)(slash - p));
            type[slash - p] = '\0';
            if (sl_fhir_type_is_resource(type) && idlen > 0 &&
                strncmp(id, "_history", idlen) != 0)
                prev = p;
        }
    }
    if (prev) {
        const char *id = strchr(prev, '/') + 1;
        size_t idlen = strcspn(id, "/");
        char *tid = sl_strndup(prev, (size_t)(id - prev) + idlen);
        pseudonym(c, SL_KD_RESOURCE_ID, tid, ps);
        res = join3(s, (size_t)(id - s), ps, id + idlen);
        free(tid);
    }
    return res;
}

static int
res_shift(const struct call *c, struct res *r)
{
    if (!r->have_shift) {
        const char *k = r->pat && r->pat->mrn ? r->pat->mrn
                        : r->pat_ref          ? r->pat_ref
                        : r->self             ? r->self
                                              : "";
        r->shift =
            sl_keys_date_shift(c->d->keys, k, c->d->shift_min, c->d->shift_max);
        r->have_shift = 1;
    }
    return r->shift;
}

/* Patient.birthDate: nobody is shown older than 90 at the record's
 * latest date (Safe Harbor (C): ages over 89 in one group). */
static void
cap_birth(const struct res *r, struct sl_fhir_date *b, int shift, int year_only)
{
    struct sl_fhir_date last;
    char latest[11];

    if (r->pat == NULL || r->pat->latest == 0)
        return;
    day_unpack(r->pat->latest, latest);
    if (sl_fhir_date_parse(latest, &last) < SL_FD_DAY)
        return;
    if (shift)
        sl_fhir_date_shift(&last, shift);
    if (sl_fhir_date_age_at(b, &last) <= 89)
        return;
    b->y = last.y - 90;
    if (year_only)
        return;
    b->m = last.m;
    b->d = last.d;
    if (b->prec == SL_FD_TIME)
        b->prec = SL_FD_DAY;
}

static int
is_date_type(const char *t)
{
    return strcmp(t, "date") == 0 || strcmp(t, "dateTime") == 0 ||
           strcmp(t, "instant") == 0;
}

static json_t *
date_shift(struct call *c, struct res *r, const struct el *e, const char *s)
{
    struct sl_fhir_date dt;
    char out[64];
    int shift = res_shift(c, r);

    if (sl_fhir_date_parse(s, &dt) == SL_FD_BAD)
        return NULL;
    sl_fhir_date_shift(&dt, shift);
    if (strcmp(c->cpath, "Patient.birthDate") == 0)
        cap_birth(r, &dt, shift, 0);
    (void)e;
    sl_fhir_date_format(&dt, out, sizeof(out));
    return json_string(out);
}

static json_t *
generalise(struct call *c, struct res *r, const struct el *e, json_t *v)
{
    const char *s = json_string_value(v);
    struct sl_fhir_date dt;
    char out[64];

    if (s && is_date_type(e->type)) {
        if (sl_fhir_date_parse(s, &dt) == SL_FD_BAD)
            return NULL;
        if (strcmp(c->cpath, "Patient.birthDate") == 0)
            cap_birth(r, &dt, 0, 1);
        if (strcmp(e->type, "instant") == 0)
            snprintf(out, sizeof(out), "%04d-01-01T00:00:00Z", dt.y);
        else
            snprintf(out, sizeof(out), "%04d", dt.y);
        return json_string(out);
    }
    if (s && strcmp(e->key, "postalCode") == 0)
        return sl_fhir_zip3(s, out) ? json_string(out) : NULL;
    if (json_is_number(v)) /* an age: over 89 becomes 90 */
        return json_number_value(v) > 89 ? json_integer(90) : json_incref(v);
    if (json_is_object(v)) { /* Age, or a Quantity holding an age */
        json_t *val = json_object_get(v, "value");
        json_t *out_v = json_deep_copy(v);
        if (json_is_number(val) && json_number_value(val) > 89)
            json_object_set_new(out_v, "value", json_integer(90));
        return out_v;
    }
    return NULL;
}

static json_t *
perturb(struct call *c, const struct res *r, const struct fd_rule *rule,
        json_t *v)
{
    double x = json_number_value(v), bound = rule->bound, u = 0, scale;
    char seed[PATHLEN + 128], ps[SL_PSEUDONYM_LEN + 1], txt[64];
    int i, dec = 0;
    const char *dot;

    if (rule->bound_pct)
        bound = fabs(x) * rule->bound / 100.0;
    snprintf(txt, sizeof(txt), "%.15g", x);
    snprintf(seed, sizeof(seed), "%s|%s|%s", r->self ? r->self : "", c->path,
             txt);
    sl_keys_pseudonym(c->d->keys, "perturb", seed, strlen(seed), ps);
    for (i = 0; i < 6; i++) {
        int b = ps[i] >= 'a' ? ps[i] - 'a' : ps[i] - '2' + 26;
        u = u * 32 + b;
    }
    u /= 1073741824.0; /* 32^6: u in [0, 1) */
    x += (2 * u - 1) * bound;
    if (json_is_integer(v))
        return json_integer((json_int_t)llround(x));
    if ((dot = strchr(txt, '.')) != NULL && !strchr(txt, 'e'))
        dec = (int)strlen(dot + 1);
    scale = pow(10, dec);
    return json_real(round(x * scale) / scale);
}

static json_t *
encrypt_value(struct call *c, const char *s)
{
    unsigned char nonce[12], tag[16], *buf = NULL, *b64 = NULL;
    size_t n = strlen(s), blen;
    int len = 0, fin = 0;
    EVP_CIPHER_CTX *x = NULL;
    json_t *res = NULL;

    if (!c->d->has_enc_key) {
        fail(c, SL_EKEY,
             "%s: the encrypt method needs a key (the profile's "
             "encrypt-key, or the API)",
             c->path);
        return NULL;
    }
    if (n > 1 << 20 || RAND_bytes(nonce, sizeof(nonce)) != 1)
        goto out;
    buf = sl_malloc(12 + n + 16);
    memcpy(buf, nonce, 12);
    if ((x = EVP_CIPHER_CTX_new()) == NULL ||
        EVP_EncryptInit_ex(x, EVP_aes_256_gcm(), NULL, c->d->enc_key, nonce) !=
            1 ||
        EVP_EncryptUpdate(x, buf + 12, &len, (const unsigned char *)s,
                          (int)n) != 1 ||
        EVP_EncryptFinal_ex(x, buf + 12 + len, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
        goto out;
    memcpy(buf + 12 + len + fin, tag, 16);
    blen = (size_t)(12 + len + fin + 16);
    b64 = sl_malloc(4 * ((blen + 2) / 3) + 1);
    EVP_EncodeBlock(b64, buf, (int)blen);
    {
        char *t = sl_asprintf("%s%s", ENC_PREFIX, (char *)b64);
        res = json_string(t);
        free(t);
    }
out:
    if (res == NULL)
        fail(c, SL_EINTERNAL, "%s: encryption failed", c->path);
    EVP_CIPHER_CTX_free(x);
    if (buf)
        sl_freezero(buf, 12 + n + 16);
    free(b64);
    return res;
}

/* Attachment.data that is text: decoded, scrubbed, encoded again. */
static json_t *
scrub_attachment(struct call *c, const struct el *e, const char *b64)
{
    const char *ct = jstr(e->parent, "contentType");
    size_t n = strlen(b64), dlen;
    unsigned char *dec;
    char *clean, *enc;
    int w;
    json_t *res;

    if (ct == NULL || strncmp(ct, "text/", 5) != 0 || n % 4 != 0)
        return NULL;
    dec = sl_malloc(n / 4 * 3 + 1);
    w = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)n);
    if (w < 0) {
        free(dec);
        return NULL;
    }
    dlen = (size_t)w;
    while (dlen > 0 && n > 0 && b64[n - 1] == '=') { /* padding */
        dlen--;
        n--;
    }
    dec[dlen] = '\0';
    if (strlen((char *)dec) != dlen) { /* not text after all */
        sl_freezero(dec, dlen);
        return NULL;
    }
    clean = sl_fhir_vset_scrub(&c->d->values, (char *)dec, REDACTED_TEXT);
    if (clean == NULL) {
        sl_freezero(dec, dlen);
        return json_string(b64);
    }
    enc = sl_malloc(4 * ((strlen(clean) + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)enc, (unsigned char *)clean,
                    (int)strlen(clean));
    res = json_string(enc);
    free(enc);
    sl_freezero(clean, strlen(clean));
    sl_freezero(dec, dlen);
    return res;
}

static json_t *
pseudonymise(struct call *c, struct res *r, const struct el *e, const char *s)
{
    char ps[SL_PSEUDONYM_LEN + 1], uid[SL_UID_MAX + 1];
    char *t;
    json_t *res;

    if (e->root && strcmp(e->key, "id") == 0) {
        if (r->contained) {
            t = JOIN("#", s, "");
        } else
            t = JOIN(r->type, "/", s);
        pseudonym(c, SL_KD_RESOURCE_ID, t, ps);
        free(t);
        return json_string(ps);
    }
    if (strcmp(c->tpath, "Reference.reference") == 0 ||
        strcmp(c->cpath, "Bundle.entry.fullUrl") == 0 ||
        strcmp(c->cpath, "Bundle.entry.request.url") == 0 ||
        strcmp(c->cpath, "Bundle.entry.response.location") == 0) {
        int req = strcmp(c->cpath, "Bundle.entry.request.url") == 0;
        t = rewrite_ref(c, s, req);
        if (t == NULL)
            return NULL;
        if (req && strchr(s, '?')) {
            /* the query of a conditional URL names identifiers and goes:
             * a conditional update becomes a create; a conditional delete
             * or patch cannot be kept */
            const char *method = jstr(e->parent, "method");
            if (method && strcmp(method, "PUT") == 0) {
                json_object_set_new(e->parent, "method", json_string("POST"));
            } else if (method && strcmp(method, "POST") != 0 &&
                       strcmp(method, "GET") != 0) {
                free(t);
                fail(c, SL_EQUARANTINE,
                     "%s: a conditional %s names identifiers and cannot be "
                     "rewritten",
                     c->path,
                     strcmp(method, "DELETE") == 0 ? "delete" : "patch");
                return NULL;
            }
        }
        res = json_string(t);
        free(t);
        return res;
    }
    if (strcmp(c->tpath, "Identifier.value") == 0) {
        const char *sys = jstr(e->parent, "system");
        if (strncmp(s, "urn:oid:", 8) == 0) {
            sl_keys_uid(c->d->keys, s + 8, uid);
            t = JOIN("urn:oid:", uid, "");
            res = json_string(t);
            free(t);
            return res;
        }
        if (sys && strcmp(sys, "urn:dicom:uid") == 0) {
            sl_keys_uid(c->d->keys, s, uid);
            return json_string(uid);
        }
        pseudonym(c, SL_KD_IDENTIFIER, s, ps);
        return json_string(ps);
    }
    pseudonym(
        c, strncmp(c->tpath, "HumanName.", 10) == 0 ? SL_KD_NAME : SL_KD_TEXT,
        s, ps);
    return json_string(ps);
}

static json_t *
dar_masked(void)
{
    /* json_pack "s" copies */
    return json_pack("{s:[{s:s, s:s}]}", "extension", "url", DAR_URL,
                     "valueCode", "masked");
}

enum { ACT_KEEP, ACT_REMOVE };

static int walk_obj(struct call *c, struct res *r, json_t *obj,
                    const char *base, int deflt, int at_root);
static int do_resource(struct call *c, struct res *parent, json_t *obj,
                       int contained);

/* Applies the rule (or the inherited default) to one value. *vp may be
 * replaced (the old reference is released). */
static int
element(struct call *c, struct res *r, struct el *e, json_t **vp, int deflt)
{
    struct sl_fhir_deid *d = c->d;
    json_t *v = *vp, *nv = NULL;
    int ri = match(c, e, v), m;
    const char *s = json_string_value(v);

    m = ri >= 0 ? d->rules[ri].method : deflt;
    if (ri < 0 && m == FD_REMOVE)
        ri = R_NORULE(d);
    if (strcmp(e->type, "Resource") == 0 && (m == FD_KEEP || m == FD_DESCEND)) {
        count(c, ri);
        return json_is_object(v) &&
                       do_resource(c, r, v, strcmp(e->key, "contained") == 0)
                   ? ACT_KEEP
                   : ACT_REMOVE;
    }
    if (m != FD_KEEP || ri >= 0)
        count(c, ri);
    switch (m) {
    case FD_KEEP:
    case FD_DESCEND:
        if (json_is_object(v)) {
            size_t nkeys;
            if (e->cref) {
                /* QuestionnaireResponse.item.item.linkId is
                 * QuestionnaireResponse.item.linkId for the rules */
                char saved[PATHLEN];
                struct phash ph = c->ph;
                memcpy(saved, c->cpath, strlen(c->cpath) + 1);
                snprintf(c->cpath, PATHLEN, "%s", e->base);
                ph_set(c);
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
        return m == FD_KEEP ? ACT_KEEP : ACT_REMOVE;
    case FD_REMOVE:
        return ACT_REMOVE;
    case FD_EMPTY:
        if (json_is_object(v))
            nv = dar_masked();
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
            nv = pseudonymise(c, r, e, s);
        break;
    case FD_UID:
        if (s) {
            char uid[SL_UID_MAX + 1], *t;
            int oid = strncmp(s, "urn:oid:", 8) == 0;
            sl_keys_uid(d->keys, oid ? s + 8 : s, uid);
            t = JOIN(oid ? "urn:oid:" : "", uid, "");
            nv = json_string(t);
            free(t);
        }
        break;
    case FD_DATE_SHIFT:
        if (s)
            nv = date_shift(c, r, e, s);
        break;
    case FD_GENERALISE:
        nv = generalise(c, r, e, v);
        break;
    case FD_PERTURB:
        if (json_is_number(v)) {
            nv = perturb(c, r, &d->rules[ri], v);
        } else if (json_is_object(v) &&
                   json_is_number(json_object_get(v, "value"))) {
            /* a Quantity: its value */
            json_t *p =
                perturb(c, r, &d->rules[ri], json_object_get(v, "value"));
            nv = json_deep_copy(v);
            json_object_set_new(nv, "value", p); /* steals p */
        }
        break;
    case FD_ENCRYPT:
        if (s)
            nv = encrypt_value(c, s);
        break;
    case FD_SCRUB:
        if (s && strcmp(e->key, "data") == 0 &&
            strcmp(c->tpath, "Attachment.data") == 0) {
            nv = scrub_attachment(c, e, s);
        } else if (s) {
            char *t =
                strcmp(e->type, "xhtml") == 0
                    ? sl_fhir_vset_scrub_markup(&d->values, s, REDACTED_TEXT)
                    : sl_fhir_vset_scrub(&d->values, s, REDACTED_TEXT);
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
        c->ph.ht = hash_str(c->tpath);
    }
    if (shape_ok(e, *item)) {
        act = element(c, r, e, item, deflt);
    } else {
        count(c, R_UNKNOWN(c->d));
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

static void
rc_init(void)
{
    pthread_key_create(&rc_key, free);
}

/* resolve() and in_type through the cache; hb, blen: hash_str(base),
 * strlen(base). */
static int
resolve_c(struct el *e, const char *base, uint64_t hb, size_t blen,
          const char *key, int *in_type)
{
    struct rc_ent *tab, *x;
    size_t klen = strlen(key);
    uint64_t h;
    int ok;

    pthread_once(&rc_once, rc_init);
    if ((tab = pthread_getspecific(rc_key)) == NULL) {
        tab = sl_calloc(RC_SIZE, sizeof(*tab));
        if (pthread_setspecific(rc_key, tab) != 0) {
            free(tab);
            tab = NULL;
        }
    }
    if (tab == NULL || blen + 1 + klen + 1 > sizeof(x->bk))
        goto uncached;
    h = hash_cont(hb * SL_FNV1A64_PRIME, key) | 1;
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
    uint64_t hb = hash_str(base);

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
            pl = push(c->path, ".", "?");
            count(c, R_UNKNOWN(c->d));
            if (pl >= 0)
                c->path[pl] = '\0';
            json_object_del(obj, key);
            continue;
        }
        /* the canonical segment: "value[x]" for "valueQuantity" */
        {
            seg = strrchr(e.canon, '.') + 1;
            pl = push(c->path, ".", key);
            cl = push(c->cpath, ".", seg);
            if (c->tpath[0])
                tl = push(c->tpath, ".", seg);
            if (cl >= 0) {
                c->ph.hc = hash_cont(hash_cont(c->ph.hc, "."), seg);
                c->ph.hrel = hash_cont(
                    hash_cont(c->ph.has_rel ? c->ph.hrel : hash_str(""), "."),
                    seg);
                c->ph.has_rel = 1;
            }
            if (tl >= 0)
                c->ph.ht = hash_cont(hash_cont(c->ph.ht, "."), seg);
        }
        if (pl < 0 || cl < 0 || (c->tpath[0] && tl < 0)) {
            fail(c, SL_EQUARANTINE, "%s: nested too deep", c->path);
            return -1;
        }
        if (json_is_array(v)) {
            for (i = 0; i < json_array_size(v);) {
                json_t *item = json_incref(json_array_get(v, i));
                act = judge(c, r, &e, &item, deflt, in_type);
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
            if (act == ACT_KEEP && item != v)
                json_object_set(obj, key, item);
            json_decref(item);
        }
        if (act == ACT_REMOVE) {
            int ri = match(c, &e, v);
            if (ri >= 0 && c->d->rules[ri].method == FD_EMPTY &&
                !json_is_object(v) && !json_is_array(v)) {
                char *uk = sl_asprintf("_%s", key);
                json_object_set_new(obj, uk, dar_masked());
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
            const char *u = jstr(x, "url"), *vc = jstr(x, "valueCode");
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
            int pl = push(c->path, ".", key);
            if (json_object_get(obj, key + 1) == NULL)
                count(c, R_NORULE(c->d));
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
    json_t *meta = json_object_get(res, "meta"), *sec;
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
        const char *sys = jstr(x, "system"), *code = jstr(x, "code");
        if (sys && code && strcmp(sys, SECURITY_SYSTEM) == 0 &&
            strcmp(code, c->d->security_code) == 0)
            return;
    }
    json_array_append_new(sec,
                          json_pack("{s:s, s:s}", "system", SECURITY_SYSTEM,
                                    "code", c->d->security_code));
}

/* De-identifies one resource (top level, Bundle entry or contained).
 * Returns 1 when it stays, 0 when it must go. */
static int
do_resource(struct call *c, struct res *parent, json_t *obj, int contained)
{
    struct sl_fhir_deid *d = c->d;
    const char *type = jstr(obj, "resourceType"), *id = jstr(obj, "id");
    char save_p[PATHLEN], save_c[PATHLEN], save_t[PATHLEN];
    struct phash save_h;
    struct res r = { 0 };
    struct el e;
    int deflt = FD_DESCEND, ri;

    if (c->depth >= 8) {
        fail(c, SL_EQUARANTINE, "%s: resources nested too deep",
             c->path[0] ? c->path : "resource");
        return 0;
    }
    if (type == NULL || !sl_fhir_type_is_resource(type)) {
        fail(c, SL_EQUARANTINE, "%s: not a FHIR R4 resource type",
             c->path[0] ? c->path : "resource");
        return 0;
    }
    memcpy(save_p, c->path, PATHLEN);
    memcpy(save_c, c->cpath, PATHLEN);
    memcpy(save_t, c->tpath, PATHLEN);
    save_h = c->ph;
    r.type = type;
    r.contained = contained;
    r.self = id ? JOIN(type, "/", id) : NULL;
    if (strcmp(type, "Patient") == 0 && r.self && !contained)
        r.pat_ref = sl_strdup(r.self);
    else
        r.pat_ref = patient_of(d, obj);
    if (r.pat_ref == NULL && parent && parent->pat_ref)
        r.pat_ref = sl_strdup(parent->pat_ref);
    if (r.pat_ref)
        r.pat = map_get(&d->patients, r.pat_ref);
    if (parent && r.pat == NULL && parent->pat)
        r.pat = parent->pat;
    /* paths restart at each resource: "Patient.name" in a Bundle too */
    copyz(c->path, PATHLEN, type);
    copyz(c->cpath, PATHLEN, type);
    c->tpath[0] = '\0';
    ph_set(c);
    memset(&e, 0, sizeof(e));
    snprintf(e.type, sizeof(e.type), "%s", type);
    ri = match(c, &e, obj);
    if (ri >= 0) {
        deflt = d->rules[ri].method;
        count(c, ri);
    }
    c->depth++;
    if (deflt == FD_KEEP || deflt == FD_DESCEND)
        walk_obj(c, &r, obj, type, deflt, 1);
    c->depth--;
    if (c->rc == SL_OK && !contained && deflt != FD_REMOVE)
        add_security(c, obj);
    memcpy(c->path, save_p, PATHLEN);
    memcpy(c->cpath, save_c, PATHLEN);
    memcpy(c->tpath, save_t, PATHLEN);
    c->ph = save_h;
    free(r.self);
    free(r.pat_ref);
    return deflt != FD_REMOVE && c->rc == SL_OK;
}

/* The leak scan: every string of the output against every learned value. */
static void
scan(struct call *c, json_t *v, char *path)
{
    const char *k;
    json_t *x;
    size_t i, a, b;

    if (c->rc != SL_OK)
        return;
    if (json_is_object(v)) {
        json_object_foreach(v, k, x)
        {
            int pl = push(path, ".", k);
            scan(c, x, path);
            if (pl >= 0)
                path[pl] = '\0';
        }
    } else if (json_is_array(v)) {
        for (i = 0; i < json_array_size(v); i++)
            scan(c, json_array_get(v, i), path);
    } else if (json_is_string(v) &&
               (sl_str_has_suffix(path, ".text.div")
                    ? sl_fhir_vset_find_markup(&c->d->values,
                                               json_string_value(v))
                    : sl_fhir_vset_find(&c->d->values, json_string_value(v),
                                        json_string_length(v), 0, &a, &b))) {
        fail(c, SL_EQUARANTINE,
             "leak scan: a value learned from the input (a name, "
             "identifier, contact or address) remains at %s",
             path);
    }
}

/* ---- writing the output: json_dumps(v, JSON_COMPACT), byte for byte,
 * with the leak scan done on the way (the same strings, paths and order
 * as scan above) ---- */

struct dump {
    struct call *c;
    struct sl_buf *out;
    char *path;
    size_t plen;
    int bad; /* a string that is not UTF-8: json_dumps decides */
};

static const char hexd[] = "0123456789ABCDEF";

/* sl_buf_add without the function call and the NUL while it fits; the
 * caller ends the buffer with sl_buf_add(b, "", 0). */
static inline void
bput(struct sl_buf *b, const void *p, size_t n)
{
    if (b->cap - b->len > n) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    } else
        sl_buf_add(b, p, n);
}

static inline void
bputc(struct sl_buf *b, char ch)
{
    if (b->cap - b->len > 1)
        b->data[b->len++] = ch;
    else
        sl_buf_add(b, &ch, 1);
}

/* A JSON string as jansson writes it: '"', '\\' and control characters
 * escaped (\b \f \n \r \t or \u00XX), everything else as it is; 0 when
 * s is not valid UTF-8 (json_dumps then fails). */
static int
dump_str(struct sl_buf *b, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len, *run;

    bputc(b, '"');
    run = p;
    while (p < end) {
        unsigned c = *p;
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0x80) {
            /* jansson's utf8_iterate: strict UTF-8 */
            size_t n, i;
            uint32_t v;
            if (c <= 0xC1)
                return 0;
            n = c <= 0xDF ? 2 : c <= 0xEF ? 3 : c <= 0xF4 ? 4 : 0;
            if (n == 0 || (size_t)(end - p) < n)
                return 0;
            v = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
            for (i = 1; i < n; i++) {
                if (p[i] < 0x80 || p[i] > 0xBF)
                    return 0;
                v = (v << 6) | (p[i] & 0x3F);
            }
            if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) ||
                (n == 2 && v < 0x80) || (n == 3 && v < 0x800) ||
                (n == 4 && v < 0x10000))
                return 0;
            p += n;
            continue;
        }
        bput(b, run, (size_t)(p - run));
        switch (c) {
        case '"': bput(b, "\\\"", 2); break;
        case '\\': bput(b, "\\\\", 2); break;
        case '\b': bput(b, "\\b", 2); break;
        case '\f': bput(b, "\\f", 2); break;
        case '\n': bput(b, "\\n", 2); break;
        case '\r': bput(b, "\\r", 2); break;
        case '\t': bput(b, "\\t", 2); break;
        default: {
            char u[6] = { '\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15] };
            bput(b, u, 6);
        }
        }
        run = ++p;
    }
    bput(b, run, (size_t)(p - run));
    bputc(b, '"');
    return 1;
}

/* Returns 0 to stop: a leak (c->rc is set) or a string json_dumps would
 * refuse (dp->bad). */
static int
dump_val(struct dump *dp, json_t *v)
{
    struct sl_buf *b = dp->out;
    char num[64];
    size_t a, e;

    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        size_t klen;
        json_t *x;
        int first = 1;
        bputc(b, '{');
        json_object_keylen_foreach(v, k, klen, x)
        {
            size_t pl = dp->plen;
            if (!first)
                bputc(b, ',');
            first = 0;
            if (!dump_str(b, k, klen)) {
                dp->bad = 1;
                return 0;
            }
            bputc(b, ':');
            /* the path as scan's push makes it (a key that does not fit
             * is left out) */
            if (strlen(k) != klen) { /* scan's path would differ */
                dp->bad = 1;
                return 0;
            }
            if (pl + 1 + klen + 1 <= PATHLEN) {
                dp->path[pl] = '.';
                memcpy(dp->path + pl + 1, k, klen + 1);
                dp->plen = pl + 1 + klen;
            }
            if (!dump_val(dp, x))
                return 0;
            dp->plen = pl;
            dp->path[pl] = '\0';
        }
        bputc(b, '}');
        return 1;
    }
    case JSON_ARRAY: {
        size_t i, n = json_array_size(v);
        bputc(b, '[');
        for (i = 0; i < n; i++) {
            if (i)
                bputc(b, ',');
            if (!dump_val(dp, json_array_get(v, i)))
                return 0;
        }
        bputc(b, ']');
        return 1;
    }
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        int markup = dp->plen >= 9 &&
                     memcmp(dp->path + dp->plen - 9, ".text.div", 9) == 0;
        if (markup ? sl_fhir_vset_find_markup(&dp->c->d->values, s)
                   : sl_fhir_vset_find(&dp->c->d->values, s, n, 0, &a, &e)) {
            fail(dp->c, SL_EQUARANTINE,
                 "leak scan: a value learned from the input (a name, "
                 "identifier, contact or address) remains at %s",
                 dp->path);
            return 0;
        }
        if (!dump_str(b, s, n)) {
            dp->bad = 1;
            return 0;
        }
        return 1;
    }
    case JSON_INTEGER: {
        /* "%" JSON_INTEGER_FORMAT */
        json_int_t x = json_integer_value(v);
        unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x
                                     : (unsigned long long)x;
        char *p = num + sizeof(num);
        do {
            *--p = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (x < 0)
            *--p = '-';
        bput(b, p, (size_t)(num + sizeof(num) - p));
        return 1;
    }
    case JSON_REAL: {
        /* jansson's own formatting of reals */
        size_t n = json_dumpb(v, num, sizeof(num), JSON_ENCODE_ANY);
        if (n == 0 || n > sizeof(num)) {
            dp->bad = 1;
            return 0;
        }
        bput(b, num, n);
        return 1;
    }
    case JSON_TRUE:
        bput(b, "true", 4);
        return 1;
    case JSON_FALSE:
        bput(b, "false", 5);
        return 1;
    default:
        bput(b, "null", 4);
        return 1;
    }
}

/* sl_fhir_deid_resource; with out, the resource is also written there
 * (as json_dumps(resource, JSON_COMPACT)) and scanned on the way. */
static int
deid_resource(struct sl_fhir_deid *d, json_t *resource, struct sl_buf *out,
              struct sl_err *err)
{
    struct call *c = sl_malloc(sizeof(*c));
    size_t i;
    int rc;

    /* memo and the counts zeroed; the paths are set before use */
    memset(c, 0, offsetof(struct call, path));
    memset(c->memo, 0, sizeof(c->memo));
    c->path[0] = c->cpath[0] = c->tpath[0] = '\0';
    ph_set(c);
    c->d = d;
    c->err = err;
    if (!json_is_object(resource) || !jstr(resource, "resourceType")) {
        rc = SL_ERR(err, SL_EPARSE, "not a FHIR resource (no resourceType)");
        goto out;
    }
    if (!do_resource(c, NULL, resource, 0) && c->rc == SL_OK)
        fail(c, SL_EQUARANTINE, "%s: the profile removes this resource",
             jstr(resource, "resourceType"));
    if (c->rc == SL_OK && out) {
        struct dump dp = { 0 };
        size_t at = out->len;
        snprintf(c->path, PATHLEN, "%s", jstr(resource, "resourceType"));
        dp.c = c;
        dp.out = out;
        dp.path = c->path;
        dp.plen = strlen(c->path);
        if (dump_val(&dp, resource)) {
            sl_buf_add(out, "", 0); /* the NUL */
        } else {
            out->len = at;
            sl_buf_add(out, "", 0);
            if (dp.bad) { /* json_dumps decides, after the scan as it was */
                snprintf(c->path, PATHLEN, "%s", jstr(resource, "resourceType"));
                scan(c, resource, c->path);
                if (c->rc == SL_OK) {
                    char *text = json_dumps(resource, JSON_COMPACT);
                    if (text == NULL)
                        fail(c, SL_EINTERNAL, "%s: cannot write it as JSON",
                             jstr(resource, "resourceType"));
                    else
                        sl_buf_adds(out, text);
                    free(text);
                }
            }
        }
    } else if (c->rc == SL_OK) {
        snprintf(c->path, PATHLEN, "%s", jstr(resource, "resourceType"));
        scan(c, resource, c->path);
    }
    rc = c->rc;
    if ((rc == SL_OK || rc == SL_EQUARANTINE) && !d->no_counts)
        merge_counts(c);
out:
    for (i = 0; i < c->nlc; i++)
        free(c->lc[i].path);
    for (i = 0; i < 64; i++)
        if (c->memo[i].v)
            sl_freezero(c->memo[i].v, strlen(c->memo[i].v));
    free(c->lc);
    free(c);
    return rc;
}

int
sl_fhir_deid_resource(struct sl_fhir_deid *d, json_t *resource,
                      struct sl_err *err)
{
    return deid_resource(d, resource, NULL, err);
}

int
sl_fhir_deid_resource_json(struct sl_fhir_deid *d, json_t *resource,
                           struct sl_buf *out, struct sl_err *err)
{
    return deid_resource(d, resource, out, err);
}

/* ---- provenance ---- */

json_t *
sl_fhir_deid_provenance(const struct sl_fhir_deid *d, const json_t *target,
                        const char *recorded)
{
    json_t *prov, *targets = json_array(), *policy = json_array();
    size_t i;

    for (i = 0; i < json_array_size(target); i++) {
        const char *ref = json_string_value(json_array_get(target, i));
        if (ref)
            json_array_append_new(targets,
                                  json_pack("{s:s}", "reference", ref));
    }
    if (json_array_size(targets) == 0) {
        json_decref(targets);
        json_decref(policy);
        return NULL;
    }
    for (i = 0; i < d->doc_names.n; i++) {
        /* "basic 1" -> urn:sluice:deid:profile:basic:1 */
        char *u = sl_asprintf("urn:sluice:deid:profile:%s", d->doc_names.v[i]);
        char *sp = strchr(u + 24, ' ');
        if (sp)
            *sp = ':';
        json_array_append_new(policy, json_string(u));
        free(u);
    }
    /* json_pack "o" steals targets and policy */
    prov = json_pack(
        "{s:s, s:o, s:s, s:o, s:{s:s}, s:[{s:{s:[{s:s, s:s}]}, s:{s:s}}]}",
        "resourceType", "Provenance", "target", targets, "recorded", recorded,
        "policy", policy, "activity", "text",
        "de-identification (sluice profile chain)", "agent", "type", "coding",
        "system",
        "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
        "code", "assembler", "who", "display", "sluice " PACKAGE_VERSION);
    return prov;
}

/* ---- explain ---- */

void
sl_fhir_deid_set_explain(struct sl_fhir_deid *d, int on)
{
    d->no_counts = !on;
}

static int
count_cmp(const void *a, const void *b)
{
    return strcmp(((const struct fd_count *)a)->path,
                  ((const struct fd_count *)b)->path);
}

void
sl_fhir_deid_explain(const struct sl_fhir_deid *d, FILE *f)
{
    struct sl_fhir_deid *m = (struct sl_fhir_deid *)d; /* for the lock */
    size_t i, j;

    pthread_mutex_lock(&m->lock);
    fprintf(f, "FHIR profile chain: %s\n",
            d->chain_desc ? d->chain_desc : "(none)");
    fprintf(f, "security label: %s; date shift %d to %d days back\n",
            d->security_code, d->shift_min, d->shift_max);
    for (i = 0; i < d->nrules + 2; i++) {
        struct fd_rule *r = &m->rules[i];
        const char *from = r->doc >= 0 && (size_t)r->doc < d->doc_names.n
                               ? d->doc_names.v[r->doc]
                               : "built in";
        if (r->ncounts == 0)
            continue;
        qsort(r->counts, r->ncounts, sizeof(*r->counts), count_cmp);
        fprintf(f, "rule %s (%s, %s):\n", r->id, method_names[r->method], from);
        for (j = 0; j < r->ncounts; j++)
            fprintf(f, "  %s %ld\n", r->counts[j].path, r->counts[j].n);
    }
    pthread_mutex_unlock(&m->lock);
}

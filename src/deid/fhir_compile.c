/* fhir_compile.c - the <fhir> rules of a profile chain compiled into an
 * engine (see fhir.h): rule paths checked against the R4 type table and
 * made canonical, rules indexed by the hash of their target, the engine's
 * settings and its encryption key. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <openssl/crypto.h>

#include "deid/fhir_int.h"

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
        if (strcmp(s, fhir_method_names[i]) == 0)
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
         *name = xattr(n, "element"), *bound = xattr(n, "bound");
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
    nsel = (path != NULL) + (type != NULL) + (ext != NULL) + (name != NULL);
    if (nsel != 1) {
        rc = SL_ERR(err, SL_ECONFIG,
                    "%s:%d: rule %s: needs exactly one of path, type, "
                    "extension, element",
                    doc->path, line, r->id);
        goto out;
    }
    if (name) {
        /* an element name as R4 writes them: a lowercase letter, then
         * letters and digits */
        if (name[0] < 'a' || name[0] > 'z' ||
            strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "0123456789") != strlen(name)) {
            rc = SL_ERR(err, SL_ECONFIG,
                        "%s:%d: rule %s: element=\"%s\" is not an element "
                        "name (description, comment...)",
                        doc->path, line, r->id, name);
            goto out;
        }
        r->sel = SEL_NAME;
        r->target = name;
        name = NULL;
    } else if (ext) {
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
    free(name);
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
                /* not a second copy of the last rule for a free after an
                 * error */
                memset(&d->rules[d->nrules], 0, sizeof(r));
                break;
            }
        r.hash = fhir_hash(r.target);
        if (r.sel == SEL_NAME)
            d->has_name_rules = 1;
        if (d->nrules + 3 > *cap) {
            size_t old = *cap;
            *cap = *cap ? *cap * 2 : 64;
            d->rules = sl_realloc(d->rules, *cap * sizeof(r));
            /* sl_fhir_deid_free clears two slots past the rules, which
             * are the pseudo rules only once the chain is compiled: a
             * profile error before that must find them empty */
            memset(&d->rules[old], 0, (*cap - old) * sizeof(r));
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
    d->serial = fhir_memo_serial();
    fhir_idents_init(&d->idents);
    d->shift_min = 1;
    d->shift_max = 365;
    pthread_mutex_init(&d->lock, NULL);
    sl_mutex_init_short(&d->learn_lock);
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
    /* dates found in free text follow the profile's rule for dateTime
     * (the last one wins, as in the look-up) */
    for (i = d->nrules; i-- > 0;)
        if (d->rules[i].sel == SEL_TYPE &&
            strcmp(d->rules[i].target, "dateTime") == 0) {
            d->text_shift = d->rules[i].method == FD_DATE_SHIFT;
            break;
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
    /* the rows of hit counters, each on whole cache lines of its own */
    d->hits_row = (d->nrules + 2 + 7) & ~(size_t)7;
    d->hits = aligned_alloc(64, FD_HIT_SHARDS * d->hits_row * sizeof(*d->hits));
    if (d->hits == NULL) {
        rc = SL_ERR(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < FD_HIT_SHARDS * d->hits_row; i++)
        atomic_init(&d->hits[i], 0);
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

static void
alias_free(void *p)
{
    struct fd_alias *a = p;
    if (a && a->key) /* keys of patients */
        sl_freezero(a->key, strlen(a->key));
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
    free((void *)d->hits);
    free(d->chain_desc);
    sl_strv_free(&d->doc_names);
    free(d->security_code);
    free(d->pid_system);
    OPENSSL_cleanse(d->enc_key, sizeof(d->enc_key));
    fhir_map_free(&d->patients, NULL); /* MRNs too: wiped with the chunks */
    fhir_map_free(&d->aliases, alias_free); /* identifiers: wiped too */
    fhir_idents_free(&d->idents);
    fhir_map_free(&d->nodes, NULL);
    sl_fhir_vset_free(&d->values);
    fhir_memo_release(); /* this thread's; the others' go with them */
    pthread_mutex_destroy(&d->lock);
    pthread_mutex_destroy(&d->learn_lock);
    free(d);
}

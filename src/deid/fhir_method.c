/* fhir_method.c - what the methods of a rule make of one value (see
 * fhir_int.h): pseudonyms and rewritten references, shifted and
 * generalised dates, perturbed numbers, encrypted and scrubbed text. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "deid/fhir_int.h"

const char *const fhir_method_names[FD_NMETHODS] = {
    "keep", "descend",    "remove",     "empty",   "replace", "pseudonymise",
    "uid",  "date-shift", "generalise", "perturb", "encrypt", "scrub"
};

static void
pseudonym(struct call *c, const char *domain, const char *v, char *out)
{
    uint64_t h;
    size_t slot;

    if (strlen(v) <= FHIR_MEMO_KEY) { /* remembered across resources */
        fhir_memo_pseudonym(c->d, domain, v, out);
        return;
    }
    h = fhir_hash(v) ^ fhir_hash(domain);
    slot = (size_t)h & 63;
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
        return FHIR_JOIN("#", ps, "");
    }
    if (strncmp(s, "urn:uuid:", 9) == 0) {
        pseudonym(c, SL_KD_RESOURCE_ID, s, ps);
        sl_fhir_uuid_from_pseudonym(ps, uuid);
        return FHIR_JOIN("urn:uuid:", uuid, "");
    }
    if (strncmp(s, "urn:oid:", 8) == 0) {
        sl_keys_uid(c->d->keys, s + 8, uid);
        return FHIR_JOIN("urn:oid:", uid, "");
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
        res = fhir_join3(s, (size_t)(id - s), ps, id + idlen);
        free(tid);
    }
    return res;
}

int
fhir_method_shift(struct call *c, struct res *r)
{
    if (!r->have_shift) {
        const char *k = r->pat && r->pat->mrn ? r->pat->mrn
                        : r->pat_ref          ? r->pat_ref
                        : r->self             ? r->self
                        : r->key              ? r->key
                                              : "";
        /* a resource of the Patient compartment whose patient cannot be
         * found is not given an offset of its own (fhir_ref.c) */
        if (r->pat_ref == NULL && r->why[0])
            fhir_call_fail(c, SL_EQUARANTINE,
                           "%s; its dates would be shifted apart from its "
                           "patient's",
                           r->why);
        if (r->pat && r->pat->mrn) {
            /* const to pass 2 but for this one cache (see fd_patient) */
            int32_t *cache = (int32_t *)&r->pat->shift;
            r->shift = __atomic_load_n(cache, __ATOMIC_RELAXED);
            if (r->shift == 0) {
                r->shift = fhir_memo_date_shift(c->d, k);
                __atomic_store_n(cache, r->shift, __ATOMIC_RELAXED);
            }
        } else
            r->shift = fhir_memo_date_shift(c->d, k);
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
    fhir_day_unpack(r->pat->latest, latest);
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

json_t *
fhir_method_date_shift(struct call *c, struct res *r, const struct el *e,
                       const char *s)
{
    struct sl_fhir_date dt;
    char out[64];
    int shift = fhir_method_shift(c, r);

    if (sl_fhir_date_parse(s, &dt) == SL_FD_BAD)
        return NULL;
    sl_fhir_date_shift(&dt, shift);
    if (strcmp(c->cpath, "Patient.birthDate") == 0)
        cap_birth(r, &dt, shift, 0);
    (void)e;
    sl_fhir_date_format(&dt, out, sizeof(out));
    return json_string(out);
}

json_t *
fhir_method_generalise(struct call *c, struct res *r, const struct el *e,
                       json_t *v)
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

json_t *
fhir_method_perturb(struct call *c, const struct res *r,
                    const struct fd_rule *rule, json_t *v)
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

json_t *
fhir_method_encrypt(struct call *c, const char *s)
{
    unsigned char nonce[12], tag[16], *buf = NULL, *b64 = NULL;
    size_t n = strlen(s), blen;
    int len = 0, fin = 0;
    EVP_CIPHER_CTX *x = NULL;
    json_t *res = NULL;

    if (!c->d->has_enc_key) {
        fhir_call_fail(c, SL_EKEY,
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
        char *t = sl_asprintf("%s%s", FHIR_ENC_PREFIX, (char *)b64);
        res = json_string(t);
        free(t);
    }
out:
    if (res == NULL)
        fhir_call_fail(c, SL_EINTERNAL, "%s: encryption failed", c->path);
    EVP_CIPHER_CTX_free(x);
    if (buf)
        sl_freezero(buf, 12 + n + 16);
    free(b64);
    return res;
}

/* size and hash of an Attachment set to describe data: its bytes, and
 * the base64 of its SHA-1 (R4: Attachment.hash); with only_present, only
 * those the Attachment still has. */
static void
describe(json_t *att, const unsigned char *data, size_t n, int only_present)
{
    unsigned char md[20];
    char *h;

    if (EVP_Digest(data, n, md, NULL, EVP_sha1(), NULL) != 1)
        return;
    h = sl_fhir_b64_encode(md, sizeof(md));
    if (!only_present || json_object_get(att, "size"))
        json_object_set_new(att, "size", json_integer((json_int_t)n));
    if (!only_present || json_object_get(att, "hash"))
        json_object_set_new(att, "hash", json_string(h));
    free(h);
}

void
fhir_method_describe_attachment(json_t *att)
{
    const char *b64 = fhir_jstr(att, "data");
    unsigned char *dec;
    size_t n;

    if (b64 == NULL ||
        (dec = sl_fhir_b64_decode(b64, strlen(b64), &n)) == NULL)
        return;
    describe(att, dec, n, 0);
    sl_freezero(dec, n + 1);
}

json_t *
fhir_method_scrub_data(struct call *c, struct res *r, const struct el *e,
                       const char *b64)
{
    struct fhir_scrub x = { &c->d->values, c, r };
    int kind = sl_fhir_content_kind(fhir_jstr(e->parent, "contentType"));
    unsigned char *dec = NULL;
    char *clean = NULL, *enc;
    size_t n = 0;
    json_t *res = NULL;

    if (kind == SL_FHIR_CT_OTHER || kind == SL_FHIR_CT_PDF)
        return NULL; /* binary: cannot be scrubbed, so not kept */
    if ((dec = sl_fhir_b64_decode(b64, strlen(b64), &n)) == NULL)
        return NULL;
    /* text the scrubber cannot read (another charset, escapes) could
     * hide a name from it: it goes */
    if (!sl_fhir_utf8_ok(dec, n) ||
        (kind == SL_FHIR_CT_RTF && sl_fhir_rtf_escaped((char *)dec)))
        goto out;
    if (kind == SL_FHIR_CT_XML) {
        if (fhir_xhtml_scrub(&x, (char *)dec, n, 0, &clean) != SL_OK)
            goto out;
    } else
        clean = fhir_scrub_text(&x, (char *)dec);
    if (clean == NULL) {
        res = json_string(b64); /* size and hash already describe it */
        goto out;
    }
    enc = sl_fhir_b64_encode((unsigned char *)clean, strlen(clean));
    res = json_string(enc);
    free(enc);
    /* only those still there: one judged and removed stays removed */
    describe(e->parent, (unsigned char *)clean, strlen(clean), 1);
out:
    if (clean)
        sl_freezero(clean, strlen(clean));
    sl_freezero(dec, n + 1);
    return res;
}

json_t *
fhir_method_scrub_narrative(struct call *c, struct res *r, const struct el *e,
                            const char *s)
{
    struct fhir_scrub x = { &c->d->values, c, r };
    char *clean = NULL;
    json_t *res;

    if (fhir_xhtml_scrub(&x, s, strlen(s), FX_DIV, &clean) != SL_OK) {
        /* never passed through: R4 needs div (txt-2: with some text)
         * whenever text is there, so a placeholder, and the status that
         * says the narrative is not available */
        json_object_set_new(e->parent, "status", json_string("empty"));
        return json_string(FHIR_EMPTY_DIV);
    }
    if (clean == NULL)
        return json_string(s);
    res = json_string(clean);
    sl_freezero(clean, strlen(clean));
    return res;
}

json_t *
fhir_method_pseudonymise(struct call *c, struct res *r, const struct el *e,
                         const char *s)
{
    char ps[SL_PSEUDONYM_LEN + 1], uid[SL_UID_MAX + 1];
    char *t;
    json_t *res;

    if (e->root && strcmp(e->key, "id") == 0) {
        if (r->contained) {
            t = FHIR_JOIN("#", s, "");
        } else
            t = FHIR_JOIN(r->type, "/", s);
        pseudonym(c, SL_KD_RESOURCE_ID, t, ps);
        free(t);
        return json_string_nocheck(ps); /* base32: ASCII */
    }
    if (strcmp(c->tpath, "Reference.reference") == 0 ||
        strcmp(c->cpath, "Bundle.entry.fullUrl") == 0 ||
        strcmp(c->cpath, "Bundle.entry.request.url") == 0 ||
        strcmp(c->cpath, "Bundle.entry.response.location") == 0) {
        int req = strcmp(c->cpath, "Bundle.entry.request.url") == 0;
        t = fhir_ref_rebase(c, s, rewrite_ref(c, s, req),
                            strcmp(c->cpath, "Bundle.entry.fullUrl") == 0
                                ? FD_RK_FULLURL
                                : FD_RK_REFERENCE);
        if (t == NULL)
            return NULL;
        if (req && strchr(s, '?')) {
            /* the query of a conditional URL names identifiers and goes:
             * a conditional update becomes a create; a conditional delete
             * or patch cannot be kept */
            const char *method = fhir_jstr(e->parent, "method");
            if (method && strcmp(method, "PUT") == 0) {
                json_object_set_new(e->parent, "method", json_string("POST"));
            } else if (method && strcmp(method, "POST") != 0 &&
                       strcmp(method, "GET") != 0) {
                free(t);
                fhir_call_fail(
                    c, SL_EQUARANTINE,
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
        const char *sys = fhir_jstr(e->parent, "system");
        if (strncmp(s, "urn:oid:", 8) == 0) {
            sl_keys_uid(c->d->keys, s + 8, uid);
            t = FHIR_JOIN("urn:oid:", uid, "");
            res = json_string(t);
            free(t);
            return res;
        }
        if (sys && strcmp(sys, "urn:dicom:uid") == 0) {
            sl_keys_uid(c->d->keys, s, uid);
            return json_string_nocheck(uid); /* digits and dots */
        }
        pseudonym(c, SL_KD_IDENTIFIER, s, ps);
        return json_string_nocheck(ps); /* base32: ASCII */
    }
    pseudonym(
        c, strncmp(c->tpath, "HumanName.", 10) == 0 ? SL_KD_NAME : SL_KD_TEXT,
        s, ps);
    return json_string_nocheck(ps); /* base32: ASCII */
}

json_t *
fhir_method_dar_masked(void)
{
    /* json_pack "s" copies */
    return json_pack("{s:[{s:s, s:s}]}", "extension", "url", DAR_URL,
                     "valueCode", "masked");
}

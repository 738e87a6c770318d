/* fhir_write.c - the end of pass 2 (see fhir.h): the de-identified
 * resource written as json_dumps(v, JSON_COMPACT) writes it, byte for
 * byte, with the leak scan done on the way (dump_val: the same strings,
 * paths and order as scan, which looks at the jansson tree when the
 * writer leaves the decision to json_dumps). */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deid/fhir_int.h"
#include "fhir/jtape.h"
#include "pdf/pdf.h"

/* The base64 content of an Attachment or a Binary (key "data" beside a
 * contentType), read as the reader of the output would: 0 clean, 1 a
 * learned value, 2 not readable (binary, another charset, RTF escapes,
 * markup that does not parse, not base64). What is not readable is not
 * shown to be clean: only a profile that keeps such data gets here. */
static int
data_find(const struct sl_fhir_vset *vs, const char *ct, const char *s,
          size_t n)
{
    int kind = sl_fhir_content_kind(ct), r;
    unsigned char *dec;
    size_t m, a, b;

    if (n >= strlen(FHIR_ENC_PREFIX) &&
        memcmp(s, FHIR_ENC_PREFIX, strlen(FHIR_ENC_PREFIX)) == 0)
        return sl_fhir_vset_find(vs, s, n, 0, &a, &b); /* our ciphertext */
    if ((dec = sl_fhir_b64_decode(s, n, &m)) == NULL)
        return 2;
    if (kind == SL_FHIR_CT_PDF) {
        /* a PDF the profile keeps: its text, as a reader would see it */
        char *text = NULL;
        size_t tn = 0;
        struct sl_err e2 = {0};
        if (sl_pdf_text(dec, m, &text, &tn, &e2) != SL_OK)
            r = 2;
        else
            r = sl_fhir_vset_find(vs, text, tn, 0, &a, &b);
        if (text)
            sl_freezero(text, tn + 1);
        sl_freezero(dec, m + 1);
        return r;
    }
    if (kind == SL_FHIR_CT_OTHER || !sl_fhir_utf8_ok(dec, m) ||
        (kind == SL_FHIR_CT_RTF && sl_fhir_rtf_escaped((char *)dec)))
        r = 2;
    else if (kind == SL_FHIR_CT_XML)
        r = fhir_xhtml_find(vs, (char *)dec, m, 0);
    else
        r = sl_fhir_vset_find(vs, (char *)dec, m, 0, &a, &b);
    sl_freezero(dec, m + 1);
    return r;
}

/* A FHIR decimal as the input most likely wrote it: the shortest form of
 * up to 15 significant digits that reads back as the same double (5.4,
 * not jansson's "%.17g" 5.4000000000000004, which claims a precision the
 * source never had), else the 17 digits that always do; ".0" added to a
 * whole number, as jansson does, so that it stays a decimal. Returns the
 * length, or 0 for what JSON cannot hold (inf, nan). */
static size_t
real_text(double d, char *buf, size_t cap)
{
    int p, n = 0;

    if (d != d || d - d != 0)
        return 0;
    for (p = 1; p <= 17; p++) {
        n = snprintf(buf, cap, "%.*g", p > 15 ? 17 : p, d);
        if (n <= 0 || (size_t)n >= cap)
            return 0;
        if (p > 15 || strtod(buf, NULL) == d)
            break;
    }
    if (strpbrk(buf, ".eE") == NULL) {
        if ((size_t)n + 2 >= cap)
            return 0;
        memcpy(buf + n, ".0", 3);
        n += 2;
    }
    return (size_t)n;
}

/* The leak scan of one string s of the output at path (plen bytes), the
 * member key of obj (NULL in an array). Returns 0, or fails the call
 * (quarantine) and returns 1. */
static int
leaks(struct call *c, const json_t *obj, const char *key, const char *s,
      size_t n, const char *path, size_t plen)
{
    const struct sl_fhir_vset *vs = &c->d->values;
    const char *ct;
    size_t a, b;
    int r;

    if (plen >= 9 && memcmp(path + plen - 9, ".text.div", 9) == 0)
        r = fhir_xhtml_find(vs, s, n, FX_DIV);
    else if (obj && key[0] == 'd' && strcmp(key, "data") == 0 &&
             (ct = fhir_jstr(obj, "contentType")) != NULL)
        r = data_find(vs, ct, s, n);
    else if (fhir_memo_scan_clean(vs, s, n))
        r = 0; /* this string was scanned clean before */
    else if ((r = sl_fhir_vset_find(vs, s, n, 0, &a, &b)) == 0)
        fhir_memo_scan_clean_add(vs, s, n);
    if (r == 0)
        return 0;
    if (r == 2)
        fhir_call_fail(c, SL_EQUARANTINE,
                       "leak scan: %s: the leak scan cannot read what the "
                       "profile keeps there (binary data, text in another "
                       "charset, or markup that does not parse)",
                       path);
    else
        fhir_call_fail(c, SL_EQUARANTINE,
                       "leak scan: a value learned from the input (a name, "
                       "identifier, contact or address) remains at %s",
                       path);
    return 1;
}

/* The decimal digits of an integer as json_dumps writes it, into num
 * (at least 24 bytes); returns where they start. */
static char *
int_digits(json_int_t x, char *num, size_t size)
{
    unsigned long long u =
        x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
    char *p = num + size;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (x < 0)
        *--p = '-';
    return p;
}

/* Integers are leak-scanned too (an MRN kept in a valueInteger), from
 * this many digits: shorter numbers are measurements and counts far more
 * often than identifiers, and a learned value that short would match
 * them. */
#define LEAK_INT_DIGITS 6

static int
int_leaks(struct call *c, json_int_t x, const char *path, size_t plen)
{
    char num[32], *p = int_digits(x, num, sizeof(num));
    size_t n = (size_t)(num + sizeof(num) - p);

    if (*p == '-') {
        p++;
        n--;
    }
    if (n < LEAK_INT_DIGITS)
        return 0;
    return leaks(c, NULL, NULL, p, n, path, plen);
}

/* The leak scan: every string of the output against every learned value. */
static void
scan(struct call *c, json_t *v, const json_t *obj, const char *key,
     char *path)
{
    const char *k;
    json_t *x;
    size_t i;

    if (c->rc != SL_OK)
        return;
    if (json_is_object(v)) {
        json_object_foreach(v, k, x)
        {
            int pl = fhir_call_push(path, ".", k);
            scan(c, x, v, k, path);
            if (pl >= 0)
                path[pl] = '\0';
        }
    } else if (json_is_array(v)) {
        for (i = 0; i < json_array_size(v); i++)
            scan(c, json_array_get(v, i), NULL, NULL, path);
    } else if (json_is_string(v)) {
        leaks(c, obj, key, json_string_value(v), json_string_length(v), path,
              strlen(path));
    } else if (json_is_integer(v)) {
        int_leaks(c, json_integer_value(v), path, strlen(path));
    }
}

struct dump {
    struct call *c;
    struct sl_buf *out;
    char *path;
    size_t plen;
    int bad; /* a string that is not UTF-8: json_dumps decides */
    const json_t *obj; /* the object of the value being written, or NULL */
    const char *key;   /* its key there */
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
        unsigned c;
        if ((p = sl_jt_plain_end(p, end)) >= end)
            break;
        c = *p;
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
            dp->obj = v;
            dp->key = k;
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
            dp->obj = NULL;
            if (!dump_val(dp, json_array_get(v, i)))
                return 0;
        }
        bputc(b, ']');
        return 1;
    }
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (leaks(dp->c, dp->obj, dp->key, s, n, dp->path, dp->plen))
            return 0;
        if (!dump_str(b, s, n)) {
            dp->bad = 1;
            return 0;
        }
        return 1;
    }
    case JSON_INTEGER: {
        /* "%" JSON_INTEGER_FORMAT */
        json_int_t x = json_integer_value(v);
        char *p = int_digits(x, num, sizeof(num));
        if (int_leaks(dp->c, x, dp->path, dp->plen))
            return 0;
        bput(b, p, (size_t)(num + sizeof(num) - p));
        return 1;
    }
    case JSON_REAL: {
        size_t n;
        const char *t = sl_jtape_real_text(v, &n);
        if (t != NULL) { /* as it was read: 1.50 stays 1.50 */
            bput(b, t, n);
            return 1;
        }
        n = real_text(json_real_value(v), num, sizeof(num));
        if (n == 0) {
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
 * (as json_dumps(resource, JSON_COMPACT)) and scanned on the way. split:
 * an entry taken out of its Bundle, whose fullUrl was full_url (or NULL),
 * see sl_fhir_deid_entry_json. */
static int
deid_resource(struct sl_fhir_deid *d, json_t *resource, int split,
              const char *full_url, struct sl_buf *out, struct sl_err *err)
{
    /* on the stack: 7 KiB from the heap each resource took the large-block
     * path of malloc, which sorts the small free blocks every time */
    struct call call, *c = &call;
    size_t i;
    int rc;

    /* memo and the counts zeroed; the paths are set before use */
    memset(c, 0, offsetof(struct call, path));
    memset(c->memo, 0, sizeof(c->memo));
    c->path[0] = c->cpath[0] = c->tpath[0] = '\0';
    fhir_call_hash_paths(c);
    c->d = d;
    c->err = err;
    if (!json_is_object(resource) || !fhir_jstr(resource, "resourceType")) {
        rc = SL_ERR(err, SL_EPARSE, "not a FHIR resource (no resourceType)");
        goto out;
    }
    c->split = split;
    if (full_url) {
        /* the entry's fullUrl names the resource, as in its Bundle */
        c->urls = sl_malloc(sizeof(*c->urls));
        c->urls[0].res = resource;
        c->urls[0].url = sl_strdup(full_url);
        c->nurls = c->capurls = 1;
    }
    if (!fhir_walk_resource(c, NULL, resource, 0) && c->rc == SL_OK)
        fhir_call_fail(c, SL_EQUARANTINE,
                       "%s: the profile removes this resource",
                       fhir_jstr(resource, "resourceType"));
    if (c->rc == SL_OK && split && full_url &&
        json_object_get(resource, "id") == NULL) {
        /* no fullUrl goes with it: it is named by an id made of its
         * pseudonymised fullUrl, as references to it are (fhir_ref.c) */
        char *id = fhir_ref_urn_id(d, full_url);
        if (id == NULL)
            fhir_call_fail(c, SL_EQUARANTINE,
                           "%s: no id, and its Bundle entry's fullUrl is "
                           "not a urn:uuid: or urn:oid:, so taken out of "
                           "its Bundle nothing could name it",
                           fhir_jstr(resource, "resourceType"));
        else
            json_object_set_new(resource, "id", json_string(id));
        free(id);
    }
    if (c->rc == SL_OK && out) {
        struct dump dp = { 0 };
        size_t at = out->len;
        snprintf(c->path, PATHLEN, "%s", fhir_jstr(resource, "resourceType"));
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
                snprintf(c->path, PATHLEN, "%s",
                         fhir_jstr(resource, "resourceType"));
                scan(c, resource, NULL, NULL, c->path);
                if (c->rc == SL_OK) {
                    char *text = json_dumps(resource, JSON_COMPACT);
                    if (text == NULL)
                        fhir_call_fail(c, SL_EINTERNAL,
                                       "%s: cannot write it as JSON",
                                       fhir_jstr(resource, "resourceType"));
                    else
                        sl_buf_adds(out, text);
                    free(text);
                }
            }
        }
    } else if (c->rc == SL_OK) {
        snprintf(c->path, PATHLEN, "%s", fhir_jstr(resource, "resourceType"));
        scan(c, resource, NULL, NULL, c->path);
    }
    rc = c->rc;
    if ((rc == SL_OK || rc == SL_EQUARANTINE) && !d->no_counts)
        fhir_call_merge_counts(c);
    else if (rc == SL_OK || rc == SL_EQUARANTINE)
        fhir_call_merge_hits(c);
out:
    fhir_ref_bundle_pop(c, 0);
    for (i = 0; i < c->nlc; i++)
        free(c->lc[i].path);
    for (i = 0; i < 64; i++)
        if (c->memo[i].v)
            sl_freezero(c->memo[i].v, strlen(c->memo[i].v));
    free(c->lc);
    return rc;
}

int
sl_fhir_deid_resource(struct sl_fhir_deid *d, json_t *resource,
                      struct sl_err *err)
{
    return deid_resource(d, resource, 0, NULL, NULL, err);
}

int
sl_fhir_deid_resource_json(struct sl_fhir_deid *d, json_t *resource,
                           struct sl_buf *out, struct sl_err *err)
{
    return deid_resource(d, resource, 0, NULL, out, err);
}

int
sl_fhir_deid_entry_json(struct sl_fhir_deid *d, json_t *resource,
                        const char *full_url, struct sl_buf *out,
                        struct sl_err *err)
{
    return deid_resource(d, resource, 1, full_url, out, err);
}

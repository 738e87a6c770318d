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
            int pl = fhir_call_push(path, ".", k);
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
        fhir_call_fail(c, SL_EQUARANTINE,
                       "leak scan: a value learned from the input (a name, "
                       "identifier, contact or address) remains at %s",
                       path);
    }
}

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
            fhir_call_fail(dp->c, SL_EQUARANTINE,
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
    fhir_call_hash_paths(c);
    c->d = d;
    c->err = err;
    if (!json_is_object(resource) || !fhir_jstr(resource, "resourceType")) {
        rc = SL_ERR(err, SL_EPARSE, "not a FHIR resource (no resourceType)");
        goto out;
    }
    if (!fhir_walk_resource(c, NULL, resource, 0) && c->rc == SL_OK)
        fhir_call_fail(c, SL_EQUARANTINE,
                       "%s: the profile removes this resource",
                       fhir_jstr(resource, "resourceType"));
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
                scan(c, resource, c->path);
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
        scan(c, resource, c->path);
    }
    rc = c->rc;
    if ((rc == SL_OK || rc == SL_EQUARANTINE) && !d->no_counts)
        fhir_call_merge_counts(c);
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

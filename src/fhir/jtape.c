/* jtape.c - the fast JSON reader of jtape.h. It accepts only what
 * jansson's json_loadb(..., JSON_REJECT_DUPLICATES) accepts, with the same
 * value: the JSON grammar (RFC 8259) with jansson's rules on top: an object
 * or an array at the top, whitespace of space, tab, CR and LF only, strict
 * UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF), no
 * \u0000, no lone surrogate escapes, integers within json_int_t (strtoll),
 * reals that do not overflow (strtod), no duplicate keys in an object.
 * Anything else, and anything it does not want to decide (very deep
 * nesting, objects of very many members, very long numbers), is left to
 * jansson by returning 0. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/jtape.h"

#define MAX_DEPTH   200 /* jansson's limit is 2048: deeper goes to jansson */
#define MAX_MEMBERS 64  /* duplicate keys are looked for pairwise */
#define MAX_NUMBER  64  /* bytes of a number */

struct ps {
    struct sl_jtape *t;
    unsigned char *p, *end;
    int depth;
};

void
sl_jtape_free(struct sl_jtape *t)
{
    free(t->n);
    memset(t, 0, sizeof(*t));
}

static size_t
push_node(struct sl_jtape *t, int type)
{
    struct sl_jt_node *nd;

    if (t->len == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->n = sl_realloc(t->n, t->cap * sizeof(*t->n));
    }
    nd = &t->n[t->len];
    nd->type = (unsigned char)type;
    nd->end = (uint32_t)(t->len + 1);
    nd->len = 0;
    nd->v.s = NULL;
    return t->len++;
}

/* 1 for the bytes a string holds as they are (printable ASCII but '"' and
 * '\\'); the others need a look. */
const unsigned char sl_jt_plain[256] = {
    [0x20] = 1, 1, 0 /* '"' */, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0x30] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0x40] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0x50] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* '\\' */, 1, 1, 1,
    [0x60] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0x70] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* The length of the UTF-8 sequence at p, checked as jansson checks it
 * (utf8_check_first, utf8_check_full), or 0. */
static size_t
utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned u = p[0];
    size_t n, i;
    uint32_t v;

    if (u < 0x80)
        return 1;
    if (u <= 0xC1)
        return 0; /* a continuation byte, or an overlong ASCII */
    if (u <= 0xDF) {
        n = 2;
        v = u & 0x1F;
    } else if (u <= 0xEF) {
        n = 3;
        v = u & 0x0F;
    } else if (u <= 0xF4) {
        n = 4;
        v = u & 0x07;
    } else
        return 0;
    if ((size_t)(end - p) < n)
        return 0;
    for (i = 1; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    if ((n == 2 && v < 0x80) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000))
        return 0;
    return n;
}

static int
hex4(const unsigned char *p, const unsigned char *end, uint32_t *out)
{
    uint32_t v = 0;
    int i;

    if (end - p < 4)
        return 0;
    for (i = 0; i < 4; i++) {
        unsigned c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return 0;
    }
    *out = v;
    return 1;
}

/* A string; s->p is after the opening quote. Decoded in place, ended by a
 * NUL (the decoded form is never longer than the text). */
static int
parse_string(struct ps *s)
{
    unsigned char *p = s->p, *end = s->end, *start = p, *w;
    size_t idx;

    p = (unsigned char *)sl_jt_plain_end(p, end);
    w = p;
    for (;;) {
        unsigned c;
        while (p < end && sl_jt_plain[*p])
            *w++ = *p++;
        if (p >= end)
            return 0;
        c = *p;
        if (c == '"') {
            p++;
            break;
        }
        if (c < 0x20)
            return 0;
        if (c >= 0x80) {
            size_t n = utf8_seq(p, end);
            if (n == 0)
                return 0;
            while (n--)
                *w++ = *p++;
            continue;
        }
        /* an escape */
        if (++p >= end)
            return 0;
        c = *p++;
        switch (c) {
        case '"':
        case '\\':
        case '/':
            *w++ = (unsigned char)c;
            break;
        case 'b':
            *w++ = '\b';
            break;
        case 'f':
            *w++ = '\f';
            break;
        case 'n':
            *w++ = '\n';
            break;
        case 'r':
            *w++ = '\r';
            break;
        case 't':
            *w++ = '\t';
            break;
        case 'u': {
            uint32_t v, v2;
            if (!hex4(p, end, &v))
                return 0;
            p += 4;
            if (v == 0)
                return 0; /* \u0000: jansson refuses it */
            if (v >= 0xD800 && v <= 0xDBFF) {
                if (end - p < 2 || p[0] != '\\' || p[1] != 'u' ||
                    !hex4(p + 2, end, &v2) || v2 < 0xDC00 || v2 > 0xDFFF)
                    return 0;
                p += 6;
                v = ((v - 0xD800) << 10) + (v2 - 0xDC00) + 0x10000;
            } else if (v >= 0xDC00 && v <= 0xDFFF)
                return 0;
            if (v < 0x80) {
                *w++ = (unsigned char)v;
            } else if (v < 0x800) {
                *w++ = (unsigned char)(0xC0 | (v >> 6));
                *w++ = (unsigned char)(0x80 | (v & 0x3F));
            } else if (v < 0x10000) {
                *w++ = (unsigned char)(0xE0 | (v >> 12));
                *w++ = (unsigned char)(0x80 | ((v >> 6) & 0x3F));
                *w++ = (unsigned char)(0x80 | (v & 0x3F));
            } else {
                *w++ = (unsigned char)(0xF0 | (v >> 18));
                *w++ = (unsigned char)(0x80 | ((v >> 12) & 0x3F));
                *w++ = (unsigned char)(0x80 | ((v >> 6) & 0x3F));
                *w++ = (unsigned char)(0x80 | (v & 0x3F));
            }
            break;
        }
        default:
            return 0;
        }
    }
    *w = '\0'; /* at or before the closing quote */
    if ((size_t)(w - start) > UINT32_MAX)
        return 0;
    idx = push_node(s->t, SL_JT_STRING);
    s->t->n[idx].v.s = (const char *)start;
    s->t->n[idx].len = (uint32_t)(w - start);
    s->p = p;
    return 1;
}

static int
is_digit(unsigned c)
{
    return c >= '0' && c <= '9';
}

/* Whether a decimal's text t (n bytes) must be kept for the writer to
 * give it back: the shortest text of its double (sl_fhir_real_text) is t
 * itself unless t ends in a zero after the point (1.50: FHIR counts the
 * precision), has an exponent, more than 15 digits, or is under 1e-4. */
static int
keep_text(const char *t, size_t n)
{
    size_t digits = 0, i;

    if (t[n - 1] == '0')
        return 1; /* the point is there: this is a decimal */
    for (i = 0; i < n; i++) {
        if (t[i] == 'e' || t[i] == 'E')
            return 1;
        digits += t[i] >= '0' && t[i] <= '9';
    }
    if (digits > 15)
        return 1;
    if (*t == '-')
        t++;
    return strncmp(t, "0.000", 5) == 0;
}

static int
parse_number(struct ps *s)
{
    unsigned char *p = s->p, *end = s->end, *start = p;
    char buf[MAX_NUMBER];
    int real = 0;
    size_t n, idx;
    char *e;

    if (*p == '-')
        p++;
    if (p >= end)
        return 0;
    if (*p == '0')
        p++;
    else if (is_digit(*p))
        while (p < end && is_digit(*p))
            p++;
    else
        return 0;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !is_digit(*p))
            return 0;
        while (p < end && is_digit(*p))
            p++;
        real = 1;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p))
            return 0;
        while (p < end && is_digit(*p))
            p++;
        real = 1;
    }
    n = (size_t)(p - start);
    if (n >= sizeof(buf))
        return 0;
    memcpy(buf, start, n);
    buf[n] = '\0';
    errno = 0;
    if (real) {
        double r = strtod(buf, &e);
        if (e != buf + n || ((r == HUGE_VAL || r == -HUGE_VAL) && errno == ERANGE))
            return 0;
        idx = push_node(s->t, SL_JT_REAL);
        if (keep_text(buf, n)) { /* the text is kept, the value read again */
            s->t->n[idx].v.s = (const char *)start;
            s->t->n[idx].len = (uint32_t)n;
        } else {
            s->t->n[idx].v.r = r;
        }
    } else {
        long long i = strtoll(buf, &e, 10);
        if (e != buf + n || errno == ERANGE)
            return 0;
        idx = push_node(s->t, SL_JT_INTEGER);
        s->t->n[idx].v.i = (json_int_t)i;
    }
    s->p = p;
    return 1;
}

static void
skip_ws(struct ps *s)
{
    while (s->p < s->end &&
           (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

static int parse_value(struct ps *s);

static int
literal(struct ps *s, const char *word, size_t n, int type)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return 0;
    s->p += n;
    push_node(s->t, type);
    return 1;
}

static int
parse_object(struct ps *s)
{
    struct sl_jtape *t = s->t;
    size_t idx = push_node(t, SL_JT_OBJECT), nm = 0, j;
    uint32_t keys[MAX_MEMBERS];

    s->p++; /* '{' */
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return 1;
    }
    for (;;) {
        size_t k;
        skip_ws(s);
        if (s->p >= s->end || *s->p != '"' || nm == MAX_MEMBERS)
            return 0;
        s->p++;
        if (!parse_string(s))
            return 0;
        k = t->len - 1;
        for (j = 0; j < nm; j++)
            if (t->n[keys[j]].len == t->n[k].len &&
                memcmp(t->n[keys[j]].v.s, t->n[k].v.s, t->n[k].len) == 0)
                return 0; /* a duplicate key */
        keys[nm++] = (uint32_t)k;
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':')
            return 0;
        s->p++;
        if (!parse_value(s))
            return 0;
        skip_ws(s);
        if (s->p >= s->end)
            return 0;
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p != '}')
            return 0;
        s->p++;
        break;
    }
    t->n[idx].len = (uint32_t)nm;
    t->n[idx].end = (uint32_t)t->len;
    return 1;
}

static int
parse_array(struct ps *s)
{
    struct sl_jtape *t = s->t;
    size_t idx = push_node(t, SL_JT_ARRAY), n = 0;

    s->p++; /* '[' */
    skip_ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return 1;
    }
    for (;;) {
        if (!parse_value(s))
            return 0;
        n++;
        skip_ws(s);
        if (s->p >= s->end)
            return 0;
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p != ']')
            return 0;
        s->p++;
        break;
    }
    t->n[idx].len = (uint32_t)n;
    t->n[idx].end = (uint32_t)t->len;
    return 1;
}

static int
parse_value(struct ps *s)
{
    int ok;

    skip_ws(s);
    if (s->p >= s->end || s->t->len >= UINT32_MAX - 1)
        return 0;
    switch (*s->p) {
    case '{':
    case '[':
        if (++s->depth > MAX_DEPTH)
            return 0;
        ok = *s->p == '{' ? parse_object(s) : parse_array(s);
        s->depth--;
        return ok;
    case '"':
        s->p++;
        return parse_string(s);
    case 't':
        return literal(s, "true", 4, SL_JT_TRUE);
    case 'f':
        return literal(s, "false", 5, SL_JT_FALSE);
    case 'n':
        return literal(s, "null", 4, SL_JT_NULL);
    default:
        if (*s->p == '-' || is_digit(*s->p))
            return parse_number(s);
        return 0;
    }
}

int
sl_jtape_parse(struct sl_jtape *t, char *text, size_t len)
{
    struct ps s;

    t->len = 0;
    push_node(t, SL_JT_NULL); /* node 0: "none" */
    s.t = t;
    s.p = (unsigned char *)text;
    s.end = s.p + len;
    s.depth = 0;
    skip_ws(&s);
    /* jansson wants an object or an array at the top */
    if (s.p >= s.end || (*s.p != '{' && *s.p != '['))
        return 0;
    if (!parse_value(&s))
        return 0;
    skip_ws(&s);
    return s.p == s.end;
}

static int
from_json(struct sl_jtape *t, const json_t *v, int depth)
{
    size_t idx;

    if (depth > 4096 || t->len >= UINT32_MAX - 2)
        return 0;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        size_t klen;
        json_t *c;
        idx = push_node(t, SL_JT_OBJECT);
        json_object_keylen_foreach((json_t *)v, k, klen, c)
        {
            if (klen > UINT32_MAX)
                return 0;
            size_t ki = push_node(t, SL_JT_STRING);
            t->n[ki].v.s = k;
            t->n[ki].len = (uint32_t)klen;
            if (!from_json(t, c, depth + 1))
                return 0;
            t->n[idx].len++;
        }
        t->n[idx].end = (uint32_t)t->len;
        return 1;
    }
    case JSON_ARRAY: {
        size_t i;
        idx = push_node(t, SL_JT_ARRAY);
        for (i = 0; i < json_array_size(v); i++) {
            if (!from_json(t, json_array_get(v, i), depth + 1))
                return 0;
            t->n[idx].len++;
        }
        t->n[idx].end = (uint32_t)t->len;
        return 1;
    }
    case JSON_STRING:
        if (json_string_length(v) > UINT32_MAX)
            return 0;
        idx = push_node(t, SL_JT_STRING);
        t->n[idx].v.s = json_string_value(v);
        t->n[idx].len = (uint32_t)json_string_length(v);
        return 1;
    case JSON_INTEGER:
        idx = push_node(t, SL_JT_INTEGER);
        t->n[idx].v.i = json_integer_value(v);
        return 1;
    case JSON_REAL: {
        size_t tn = 0;
        const char *tx = sl_jtape_real_text(v, &tn);
        idx = push_node(t, SL_JT_REAL);
        if (tx != NULL && tn < MAX_NUMBER) {
            t->n[idx].v.s = tx;
            t->n[idx].len = (uint32_t)tn;
        } else {
            t->n[idx].v.r = json_real_value(v);
        }
        return 1;
    }
    case JSON_TRUE:
        push_node(t, SL_JT_TRUE);
        return 1;
    case JSON_FALSE:
        push_node(t, SL_JT_FALSE);
        return 1;
    default:
        push_node(t, SL_JT_NULL);
        return 1;
    }
}

int
sl_jtape_from_json(struct sl_jtape *t, const json_t *v)
{
    t->len = 0;
    push_node(t, SL_JT_NULL);
    return v != NULL && from_json(t, v, 0);
}

json_t *
sl_jtape_to_json(const struct sl_jtape *t, size_t i)
{
    const struct sl_jt_node *nd = &t->n[i];
    size_t k;
    json_t *v, *c;

    switch (nd->type) {
    case SL_JT_OBJECT:
        if ((v = json_object()) == NULL)
            return NULL;
        for (k = i + 1; k < nd->end; k = t->n[k + 1].end) {
            if ((c = sl_jtape_to_json(t, k + 1)) == NULL ||
                json_object_setn_new_nocheck(v, t->n[k].v.s, t->n[k].len, c) !=
                    0) {
                json_decref(v);
                return NULL;
            }
        }
        return v;
    case SL_JT_ARRAY:
        if ((v = json_array()) == NULL)
            return NULL;
        for (k = i + 1; k < nd->end; k = t->n[k].end) {
            if ((c = sl_jtape_to_json(t, k)) == NULL ||
                json_array_append_new(v, c) != 0) {
                json_decref(v);
                return NULL;
            }
        }
        return v;
    case SL_JT_STRING:
        return json_stringn_nocheck(nd->v.s, nd->len);
    case SL_JT_INTEGER:
        return json_integer(nd->v.i);
    case SL_JT_REAL:
        if (nd->len > 0) /* see keep_text */
            return sl_jtape_real_lex(sl_jt_real(t, i), nd->v.s, nd->len);
        return json_real(nd->v.r);
    case SL_JT_TRUE:
        return json_true();
    case SL_JT_FALSE:
        return json_false();
    default:
        return json_null();
    }
}

double
sl_jt_real(const struct sl_jtape *t, size_t i)
{
    const struct sl_jt_node *nd = &t->n[i];
    char buf[MAX_NUMBER];

    if (nd->len == 0)
        return nd->v.r;
    memcpy(buf, nd->v.s, nd->len);
    buf[nd->len] = '\0';
    return strtod(buf, NULL);
}

size_t
sl_jt_get(const struct sl_jtape *t, size_t obj, const char *key)
{
    size_t k, n;

    if (obj == 0 || t->n[obj].type != SL_JT_OBJECT)
        return 0;
    n = strlen(key);
    for (k = obj + 1; k < t->n[obj].end; k = t->n[k + 1].end)
        if (t->n[k].len == n && memcmp(t->n[k].v.s, key, n) == 0)
            return k + 1;
    return 0;
}

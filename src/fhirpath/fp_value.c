/* fp_value.c - FHIRPath items: collections, System values, conversion of
 * FHIR primitives, string and JSON forms. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhirpath/fp_int.h"

void
fp_item_clear(struct fp_item *it)
{
    json_decref(it->j);
    json_decref(it->ext);
    it->j = it->ext = NULL;
}

void
fp_item_copy(struct fp_item *dst, const struct fp_item *src)
{
    *dst = *src;
    json_incref(dst->j);
    json_incref(dst->ext);
}

static struct fp_item *
slot(struct fp_coll *c)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 4;
        c->v = sl_realloc(c->v, c->cap * sizeof(*c->v));
    }
    return &c->v[c->n++];
}

void
fp_coll_add(struct fp_coll *c, const struct fp_item *it)
{
    fp_item_copy(slot(c), it);
}

void
fp_coll_take(struct fp_coll *c, struct fp_item *it)
{
    *slot(c) = *it;
    it->j = it->ext = NULL;
}

void
fp_coll_free(struct fp_coll *c)
{
    size_t i;

    for (i = 0; i < c->n; i++)
        fp_item_clear(&c->v[i]);
    free(c->v);
    c->v = NULL;
    c->n = c->cap = 0;
}

void
fp_coll_move(struct fp_coll *dst, struct fp_coll *src)
{
    fp_coll_free(dst);
    *dst = *src;
    memset(src, 0, sizeof(*src));
}

static void
add_sys(struct fp_coll *c, int kind, json_t *j)
{
    struct fp_item *it = slot(c);

    memset(it, 0, sizeof(*it));
    it->kind = kind;
    it->j = j;
}

void
fp_add_bool(struct fp_coll *c, int b)
{
    add_sys(c, FK_BOOL, json_boolean(b));
}

void
fp_add_int(struct fp_coll *c, json_int_t v)
{
    add_sys(c, FK_INT, json_integer(v));
}

void
fp_add_int_d(struct fp_coll *c, double d)
{
    if (isfinite(d) && d > -9.2e18 && d < 9.2e18)
        fp_add_int(c, (json_int_t)d);
}

void
fp_add_dec(struct fp_coll *c, double v)
{
    add_sys(c, FK_DEC, json_real(isfinite(v) ? v : 0));
}

void
fp_add_str(struct fp_coll *c, int kind, const char *s)
{
    json_t *j = json_string(s);

    if (j == NULL) /* not UTF-8: keep the bytes as they are */
        j = json_stringn_nocheck(s, strlen(s));
    add_sys(c, kind, j);
}

void
fp_add_qty(struct fp_coll *c, double v, const char *unit)
{
    json_t *j;

    /* an infinite or NaN value (a unit conversion by zero) is no quantity */
    if (!isfinite(v) || unit == NULL ||
        (j = json_pack("{s:f,s:s}", "value", v, "unit", unit)) == NULL)
        return;
    add_sys(c, FK_QTY, j);
}

void
fp_add_node(struct fp_coll *c, json_t *j, json_t *ext, const char *type,
            const char *path)
{
    struct fp_item *it = slot(c);

    memset(it, 0, sizeof(*it));
    it->kind = FK_NODE;
    it->j = json_incref(j);
    it->ext = json_incref(ext);
    fp_strlcpy(it->type, type ? type : "", sizeof(it->type));
    fp_strlcpy(it->path, path ? path : "", sizeof(it->path));
}

/* FHIR primitive type names by the System type they carry. */
static int
fhir_prim_kind(const char *t)
{
    static const struct {
        const char *name;
        int kind;
    } tab[] = {
        { "boolean", FK_BOOL },      { "integer", FK_INT },
        { "unsignedInt", FK_INT },   { "positiveInt", FK_INT },
        { "decimal", FK_DEC },       { "date", FK_DATE },
        { "dateTime", FK_DATETIME }, { "instant", FK_DATETIME },
        { "time", FK_TIME },         { "string", FK_STR },
        { "code", FK_STR },          { "id", FK_STR },
        { "uri", FK_STR },           { "url", FK_STR },
        { "canonical", FK_STR },     { "oid", FK_STR },
        { "uuid", FK_STR },          { "markdown", FK_STR },
        { "base64Binary", FK_STR },  { "xhtml", FK_STR },
    };
    size_t i;

    for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (strcmp(t, tab[i].name) == 0)
            return tab[i].kind;
    return -1;
}

/* UCUM code for a FHIR Quantity's time unit written as a calendar word. */
void
fp_item_system(const struct fp_item *in, struct fp_item *out)
{
    int k;

    memset(out, 0, sizeof(*out));
    if (in->kind != FK_NODE || in->j == NULL) {
        fp_item_copy(out, in);
        return;
    }
    if (json_is_object(in->j)) {
        if (strcmp(in->type, "Quantity") == 0 || strcmp(in->type, "Age") == 0 ||
            strcmp(in->type, "Duration") == 0 ||
            strcmp(in->type, "Distance") == 0 ||
            strcmp(in->type, "Count") == 0 ||
            strcmp(in->type, "SimpleQuantity") == 0 ||
            strcmp(in->type, "MoneyQuantity") == 0) {
            json_t *v = json_object_get(in->j, "value");
            const char *u = json_string_value(json_object_get(in->j, "code"));
            if (json_is_number(v)) {
                if (u == NULL)
                    u = json_string_value(json_object_get(in->j, "unit"));
                out->kind = FK_QTY;
                out->j = json_pack("{s:f,s:s}", "value", json_number_value(v),
                                   "unit", u ? u : "1");
                return;
            }
        }
        fp_item_copy(out, in);
        return;
    }
    k = in->type[0] ? fhir_prim_kind(in->type) : -1;
    if (k < 0) { /* type not known: by the JSON kind */
        if (json_is_boolean(in->j))
            k = FK_BOOL;
        else if (json_is_integer(in->j))
            k = FK_INT;
        else if (json_is_real(in->j))
            k = FK_DEC;
        else if (json_is_string(in->j))
            k = FK_STR;
        else {
            fp_item_copy(out, in);
            return;
        }
    }
    out->kind = k;
    if (k == FK_DEC && json_is_integer(in->j))
        out->j = json_real((double)json_integer_value(in->j));
    else if (k == FK_INT && json_is_real(in->j)) {
        double d = json_real_value(in->j);
        if (d > -9.2e18 && d < 9.2e18)
            out->j = json_integer((json_int_t)d);
        else { /* an "integer" too large for one: a decimal */
            out->kind = FK_DEC;
            out->j = json_incref(in->j);
        }
    } else
        out->j = json_incref(in->j);
    if ((k == FK_DATETIME || k == FK_DATE) && json_is_string(in->j) &&
        strchr(json_string_value(in->j), 'T') == NULL &&
        strcmp(in->type, "dateTime") == 0)
        out->kind = FK_DATETIME; /* still a dateTime, at date precision */
}

const char *
fp_item_str(const struct fp_item *it)
{
    return json_string_value(it->j);
}

int
fp_item_num(const struct fp_item *it, double *d)
{
    if ((it->kind == FK_INT || it->kind == FK_DEC ||
         (it->kind == FK_NODE && it->j && !json_is_object(it->j))) &&
        json_is_number(it->j)) {
        *d = json_number_value(it->j);
        return 1;
    }
    return 0;
}

const char *
fp_item_typename(const struct fp_item *it)
{
    static const char *const sys[] = { "",
                                       "System.Boolean",
                                       "System.Integer",
                                       "System.Decimal",
                                       "System.String",
                                       "System.Date",
                                       "System.DateTime",
                                       "System.Time",
                                       "System.Quantity" };
    static _Thread_local char buf[64];

    if (it->kind != FK_NODE)
        return sys[it->kind];
    snprintf(buf, sizeof(buf), "FHIR.%s", it->type[0] ? it->type : "Element");
    return buf;
}

/* A number the way JavaScript prints it: the shortest digits that read
 * back the same, in plain notation from 1e-7 to 1e21 (padded with zeros,
 * as JavaScript does, past the 17th digit), without a trailing ".0". */
static void
fmt_num(char *buf, size_t len, double d)
{
    char e[64], digits[32];
    int p, exp10, nd = 0, neg = d < 0, i;
    size_t o = 0;
    const char *q;

    if (d == 0 || !isfinite(d)) {
        snprintf(buf, len, "0");
        return;
    }
    for (p = 0; p <= 16; p++) {
        snprintf(e, sizeof(e), "%.*e", p, d);
        if (strtod(e, NULL) == d)
            break;
    }
    /* mantissa digits and exponent of "-d.ddde+XX" */
    for (q = e + neg; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9' && nd < (int)sizeof(digits) - 1)
            digits[nd++] = *q;
    digits[nd] = '\0';
    {
        /* "%.17g" wrote it: an exponent of at most three digits */
        long v = *q ? strtol(q + 1, NULL, 10) : 0;
        exp10 = v > 9999 ? 9999 : v < -9999 ? -9999 : (int)v;
    }
    if (fabs(d) < 1e-7 || fabs(d) >= 1e21) { /* 1e-8, -1.5e+21 */
        snprintf(buf, len, "%s%c%s%s%se%c%d", neg ? "-" : "", digits[0],
                 nd > 1 ? "." : "", digits + 1, "", exp10 < 0 ? '-' : '+',
                 abs(exp10));
        return;
    }
    if (neg && o + 1 < len)
        buf[o++] = '-';
    if (exp10 < 0) {
        for (i = 0; i < 2 && o + 1 < len; i++)
            buf[o++] = "0."[i];
        for (i = 0; i < -exp10 - 1 && o + 1 < len; i++)
            buf[o++] = '0';
        for (i = 0; i < nd && o + 1 < len; i++)
            buf[o++] = digits[i];
    } else {
        for (i = 0; i < nd || i <= exp10; i++) {
            if (i == exp10 + 1 && i < nd && o + 1 < len)
                buf[o++] = '.';
            if (o + 1 < len)
                buf[o++] = i < nd ? digits[i] : '0';
        }
    }
    buf[o] = '\0';
}

char *
fp_item_to_string(const struct fp_item *in)
{
    struct fp_item it;
    char num[64], *s = NULL;

    fp_item_system(in, &it);
    switch (it.kind) {
    case FK_BOOL:
        s = sl_strdup(json_is_true(it.j) ? "true" : "false");
        break;
    case FK_INT:
        s = sl_asprintf("%lld", (long long)json_integer_value(it.j));
        break;
    case FK_DEC:
        fmt_num(num, sizeof(num), json_number_value(it.j));
        s = sl_strdup(num);
        break;
    case FK_STR:
    case FK_DATE:
    case FK_DATETIME:
    case FK_TIME:
        s = sl_strdup(json_string_value(it.j));
        break;
    case FK_QTY: {
        const char *u = json_string_value(json_object_get(it.j, "unit"));
        fmt_num(num, sizeof(num),
                json_number_value(json_object_get(it.j, "value")));
        if (u && (strncmp(u, "year", 4) == 0 || strncmp(u, "month", 5) == 0 ||
                  strncmp(u, "week", 4) == 0 || strncmp(u, "day", 3) == 0 ||
                  strncmp(u, "hour", 4) == 0 || strncmp(u, "minute", 6) == 0 ||
                  strncmp(u, "second", 6) == 0 ||
                  strncmp(u, "millisecond", 11) == 0))
            s = sl_asprintf("%s %s", num, u);
        else
            s = sl_asprintf("%s '%s'", num, u ? u : "1");
        break;
    }
    default:
        break;
    }
    fp_item_clear(&it);
    return s;
}

json_t *
fp_item_to_json(const struct fp_item *it)
{
    char *s;
    json_t *j;

    switch (it->kind) {
    case FK_NODE:
        if (it->j == NULL)
            return json_null();
        /* a decimal that is whole prints as an integer in JavaScript */
        if (json_is_real(it->j) &&
            json_real_value(it->j) == floor(json_real_value(it->j)) &&
            fabs(json_real_value(it->j)) < 9e15)
            return json_integer((json_int_t)json_real_value(it->j));
        return json_incref(it->j);
    case FK_BOOL:
    case FK_INT:
    case FK_STR:
        return json_incref(it->j);
    case FK_DEC:
        if (json_real_value(it->j) == floor(json_real_value(it->j)) &&
            fabs(json_real_value(it->j)) < 9e15)
            return json_integer((json_int_t)json_real_value(it->j));
        return json_incref(it->j);
    default:
        s = fp_item_to_string(it);
        j = s ? json_string(s) : json_null();
        free(s);
        return j ? j : json_null();
    }
}

/* ---- the public result API ---------------------------------------------- */
struct sl_fp_result {
    struct fp_coll c;
};

struct sl_fp_result *fp_result_new(struct fp_coll *c);
struct sl_fp_result *
fp_result_new(struct fp_coll *c)
{
    struct sl_fp_result *r = sl_calloc(1, sizeof(*r));
    fp_coll_move(&r->c, c);
    return r;
}

size_t
sl_fp_result_count(const struct sl_fp_result *r)
{
    return r ? r->c.n : 0;
}

json_t *
sl_fp_result_json(const struct sl_fp_result *r, size_t i)
{
    if (r == NULL || i >= r->c.n)
        return NULL;
    return fp_item_to_json(&r->c.v[i]);
}

char *
sl_fp_result_string(const struct sl_fp_result *r, size_t i)
{
    if (r == NULL || i >= r->c.n)
        return NULL;
    return fp_item_to_string(&r->c.v[i]);
}

const char *
sl_fp_result_type(const struct sl_fp_result *r, size_t i)
{
    if (r == NULL || i >= r->c.n)
        return NULL;
    return fp_item_typename(&r->c.v[i]);
}

/* Appends j as JSON text with numbers in JavaScript's form. */
static void
dump_json(struct sl_buf *b, json_t *j)
{
    char num[64];
    size_t i;
    const char *k;
    json_t *v;
    char *s;

    switch (json_typeof(j)) {
    case JSON_OBJECT:
        sl_buf_addc(b, '{');
        i = 0;
        json_object_foreach(j, k, v)
        {
            json_t *ks = json_string(k);
            if (i++)
                sl_buf_addc(b, ',');
            s = json_dumps(ks, JSON_ENCODE_ANY);
            sl_buf_adds(b, s);
            free(s);
            json_decref(ks);
            sl_buf_addc(b, ':');
            dump_json(b, v);
        }
        sl_buf_addc(b, '}');
        break;
    case JSON_ARRAY:
        sl_buf_addc(b, '[');
        json_array_foreach(j, i, v)
        {
            if (i)
                sl_buf_addc(b, ',');
            dump_json(b, v);
        }
        sl_buf_addc(b, ']');
        break;
    case JSON_REAL:
        fmt_num(num, sizeof(num), json_real_value(j));
        sl_buf_adds(b, num);
        break;
    default:
        s = json_dumps(j, JSON_ENCODE_ANY);
        sl_buf_adds(b, s ? s : "null");
        free(s);
        break;
    }
}

char *
sl_fp_result_dump(const struct sl_fp_result *r)
{
    struct sl_buf b;
    size_t i;

    sl_buf_init(&b);
    sl_buf_addc(&b, '[');
    for (i = 0; r && i < r->c.n; i++) {
        json_t *j = fp_item_to_json(&r->c.v[i]);
        if (i)
            sl_buf_addc(&b, ',');
        dump_json(&b, j);
        json_decref(j);
    }
    sl_buf_addc(&b, ']');
    return sl_buf_steal(&b);
}

void
sl_fp_result_free(struct sl_fp_result *r)
{
    if (r == NULL)
        return;
    fp_coll_free(&r->c);
    free(r);
}

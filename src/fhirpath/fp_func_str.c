/* fp_func_str.c - FHIRPath functions on single values: strings (with
 * regular expressions), maths, conversions, and the current date. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fhirpath/fp_int.h"

/* The input as one string; 0 ok (*s borrowed from *it), 1 empty. */
static int
in_str(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
       struct fp_item *it, const char **s)
{
    int rc = fp_single(cx, n, in, it);

    if (rc != 0)
        return rc;
    if (it->kind != FK_STR) {
        fp_item_clear(it);
        return fp_err(cx, n, SL_EPARSE, "%s() needs a string, not %s", n->name,
                      fp_item_typename(&in->v[0]));
    }
    *s = fp_item_str(it);
    return 0;
}

/* Number of UTF-8 characters; byte offset of character k. */
static size_t
u8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static size_t
u8_off(const char *s, size_t k)
{
    size_t i = 0;
    while (s[i] && k > 0) {
        i++;
        while (((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        k--;
    }
    return i;
}

/* FHIRPath (PCRE-like) regex to POSIX ERE: \d \s \w and their negations. */
static char *
to_ere(const char *re)
{
    struct sl_buf b;

    sl_buf_init(&b);
    for (; *re; re++) {
        if (re[0] == '[') {
            /* a bracket expression: POSIX has no escapes inside, so an
             * escaped ] goes first, an escaped - last, others as they are */
            struct sl_buf in;
            int close = 0, dash = 0, neg = 0;
            const char *p = re + 1;
            sl_buf_init(&in);
            sl_buf_adds(&in, "");
            if (*p == '^') {
                neg = 1;
                p++;
            }
            for (; *p && *p != ']'; p++) {
                if (p[0] == '\\' && p[1]) {
                    p++;
                    switch (*p) {
                    case ']':
                        close = 1;
                        break;
                    case '-':
                        dash = 1;
                        break;
                    case 'd':
                        sl_buf_adds(&in, "[:digit:]");
                        break;
                    case 's':
                        sl_buf_adds(&in, "[:space:]");
                        break;
                    case 'w':
                        sl_buf_adds(&in, "[:alnum:]_");
                        break;
                    case 'n':
                        sl_buf_addc(&in, '\n');
                        break;
                    case 't':
                        sl_buf_addc(&in, '\t');
                        break;
                    default:
                        sl_buf_addc(&in, *p);
                        break;
                    }
                } else {
                    sl_buf_addc(&in, *p);
                }
            }
            if (*p != ']') { /* unterminated: let regcomp say so */
                sl_buf_free(&in);
                sl_buf_adds(&b, re);
                break;
            }
            sl_buf_addc(&b, '[');
            if (neg)
                sl_buf_addc(&b, '^');
            if (close)
                sl_buf_addc(&b, ']');
            sl_buf_adds(&b, in.data);
            if (dash)
                sl_buf_addc(&b, '-');
            sl_buf_addc(&b, ']');
            sl_buf_free(&in);
            re = p;
            continue;
        }
        if (re[0] == '\\' && re[1]) {
            switch (re[1]) {
            case 'd':
                sl_buf_adds(&b, "[0-9]");
                re++;
                continue;
            case 'D':
                sl_buf_adds(&b, "[^0-9]");
                re++;
                continue;
            case 's':
                sl_buf_adds(&b, "[[:space:]]");
                re++;
                continue;
            case 'S':
                sl_buf_adds(&b, "[^[:space:]]");
                re++;
                continue;
            case 'w':
                sl_buf_adds(&b, "[[:alnum:]_]");
                re++;
                continue;
            case 'W':
                sl_buf_adds(&b, "[^[:alnum:]_]");
                re++;
                continue;
            default:
                sl_buf_addc(&b, re[0]);
                sl_buf_addc(&b, re[1]);
                re++;
                continue;
            }
        }
        /* (?: non-capturing groups are plain groups in ERE */
        if (re[0] == '(' && re[1] == '?' && re[2] == ':') {
            sl_buf_addc(&b, '(');
            re += 2;
            continue;
        }
        sl_buf_addc(&b, *re);
    }
    return sl_buf_steal(&b);
}

static int
compile_re(struct fp_ctx *cx, const struct fp_node *n, const char *re, int full,
           regex_t *rx)
{
    char *ere = to_ere(re), *pat;
    int rc;

    pat = full ? sl_asprintf("^(%s)$", ere) : sl_strdup(ere);
    rc = regcomp(rx, pat, REG_EXTENDED | (full ? REG_NOSUB : 0));
    free(ere);
    free(pat);
    return rc == 0 ? SL_OK
                   : fp_err(cx, n, SL_EPARSE,
                            "%s(): not a valid regular "
                            "expression",
                            n->name);
}

/* startsWith endsWith contains indexOf matches matchesFull */
static int
f_strtest(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
          struct fp_coll *out)
{
    struct fp_item it;
    const char *s, *f = n->name;
    char *a = NULL;
    int rc;

    if ((rc = in_str(cx, n, in, &it, &s)) != 0)
        return rc == 1 ? SL_OK : rc;
    if ((rc = fp_arg_str(cx, n, 0, &a)) != SL_OK || a == NULL)
        goto out;
    if (strcmp(f, "startsWith") == 0) {
        fp_add_bool(out, strncmp(s, a, strlen(a)) == 0);
    } else if (strcmp(f, "endsWith") == 0) {
        size_t ls = strlen(s), la = strlen(a);
        fp_add_bool(out, la <= ls && strcmp(s + ls - la, a) == 0);
    } else if (strcmp(f, "contains") == 0) {
        fp_add_bool(out, strstr(s, a) != NULL);
    } else if (strcmp(f, "indexOf") == 0) {
        const char *p = strstr(s, a);
        if (p == NULL)
            fp_add_int(out, -1);
        else {
            char *pre = sl_strndup(s, (size_t)(p - s));
            fp_add_int(out, (json_int_t)u8_len(pre));
            free(pre);
        }
    } else {
        regex_t rx;
        if ((rc = compile_re(cx, n, a, strcmp(f, "matchesFull") == 0, &rx)) ==
            SL_OK) {
            fp_add_bool(out, regexec(&rx, s, 0, NULL, 0) == 0);
            regfree(&rx);
        }
    }
out:
    free(a);
    fp_item_clear(&it);
    return rc;
}

static int
f_substring(struct fp_ctx *cx, const struct fp_node *n,
            const struct fp_coll *in, struct fp_coll *out)
{
    struct fp_item it;
    const char *s;
    long start = 0, len = -1;
    int rc, e1, e2 = 1;
    size_t l, a, b;

    if ((rc = in_str(cx, n, in, &it, &s)) != 0)
        return rc == 1 ? SL_OK : rc;
    if ((rc = fp_arg_int(cx, n, 0, &start, &e1)) != SL_OK ||
        (n->nargs > 1 && (rc = fp_arg_int(cx, n, 1, &len, &e2)) != SL_OK))
        goto out;
    l = u8_len(s);
    if (e1 || start < 0 || (size_t)start >= l)
        goto out;
    a = u8_off(s, (size_t)start);
    if (e2 || len < 0 || (size_t)len > l - (size_t)start)
        b = strlen(s);
    else
        b = u8_off(s, (size_t)(start + len));
    {
        char *sub = sl_strndup(s + a, b - a);
        fp_add_str(out, FK_STR, sub);
        free(sub);
    }
out:
    fp_item_clear(&it);
    return rc;
}

/* upper lower length trim toChars */
static int
f_strone(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
         struct fp_coll *out)
{
    struct fp_item it;
    const char *s, *f = n->name;
    char *t;
    int rc;
    size_t i, l;

    if ((rc = in_str(cx, n, in, &it, &s)) != 0)
        return rc == 1 ? SL_OK : rc;
    if (strcmp(f, "length") == 0) {
        fp_add_int(out, (json_int_t)u8_len(s));
    } else if (strcmp(f, "toChars") == 0) {
        for (i = 0; s[i];) {
            size_t k = u8_off(s + i, 1);
            t = sl_strndup(s + i, k);
            fp_add_str(out, FK_STR, t);
            free(t);
            i += k;
        }
    } else if (strcmp(f, "trim") == 0) {
        while (isspace((unsigned char)*s))
            s++;
        l = strlen(s);
        while (l > 0 && isspace((unsigned char)s[l - 1]))
            l--;
        t = sl_strndup(s, l);
        fp_add_str(out, FK_STR, t);
        free(t);
    } else {
        t = sl_strdup(s);
        for (i = 0; t[i]; i++)
            t[i] = (char)(f[0] == 'u' ? toupper((unsigned char)t[i])
                                      : tolower((unsigned char)t[i]));
        fp_add_str(out, FK_STR, t);
        free(t);
    }
    fp_item_clear(&it);
    return SL_OK;
}

static int
f_replace(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
          struct fp_coll *out)
{
    struct fp_item it;
    const char *s;
    char *pat = NULL, *rep = NULL;
    struct sl_buf b;
    int rc;

    sl_buf_init(&b);
    if ((rc = in_str(cx, n, in, &it, &s)) != 0)
        return rc == 1 ? SL_OK : rc;
    if ((rc = fp_arg_str(cx, n, 0, &pat)) != SL_OK ||
        (rc = fp_arg_str(cx, n, 1, &rep)) != SL_OK || pat == NULL ||
        rep == NULL)
        goto out;
    if (strcmp(n->name, "replace") == 0) {
        size_t pl = strlen(pat);
        if (pl == 0) { /* between every character */
            size_t i = 0;
            sl_buf_adds(&b, rep);
            while (s[i]) {
                size_t k = u8_off(s + i, 1);
                sl_buf_add(&b, s + i, k);
                sl_buf_adds(&b, rep);
                i += k;
            }
        } else {
            const char *p;
            while ((p = strstr(s, pat)) != NULL) {
                sl_buf_add(&b, s, (size_t)(p - s));
                sl_buf_adds(&b, rep);
                s = p + pl;
            }
            sl_buf_adds(&b, s);
        }
    } else { /* replaceMatches, $1 for groups */
        regex_t rx;
        regmatch_t m[10];
        if ((rc = compile_re(cx, n, pat, 0, &rx)) != SL_OK)
            goto out;
        while (*s && regexec(&rx, s, 10, m, 0) == 0) {
            const char *r;
            sl_buf_add(&b, s, (size_t)m[0].rm_so);
            for (r = rep; *r; r++) {
                if (r[0] == '$' && isdigit((unsigned char)r[1])) {
                    int g = r[1] - '0';
                    if (m[g].rm_so >= 0)
                        sl_buf_add(&b, s + m[g].rm_so,
                                   (size_t)(m[g].rm_eo - m[g].rm_so));
                    r++;
                } else {
                    sl_buf_addc(&b, *r);
                }
            }
            if (m[0].rm_eo == 0) { /* an empty match: step one character */
                if (*s)
                    sl_buf_addc(&b, *s++);
            } else {
                s += m[0].rm_eo;
            }
        }
        sl_buf_adds(&b, s);
        regfree(&rx);
    }
    fp_add_str(out, FK_STR, b.data ? b.data : "");
out:
    sl_buf_free(&b);
    free(pat);
    free(rep);
    fp_item_clear(&it);
    return rc;
}

static int
f_split(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
        struct fp_coll *out)
{
    struct fp_item it;
    const char *s, *p;
    char *sep = NULL, *t;
    int rc;

    if ((rc = in_str(cx, n, in, &it, &s)) != 0)
        return rc == 1 ? SL_OK : rc;
    if ((rc = fp_arg_str(cx, n, 0, &sep)) != SL_OK || sep == NULL)
        goto out;
    while (sep[0] && (p = strstr(s, sep)) != NULL) {
        t = sl_strndup(s, (size_t)(p - s));
        fp_add_str(out, FK_STR, t);
        free(t);
        s = p + strlen(sep);
    }
    fp_add_str(out, FK_STR, s);
out:
    free(sep);
    fp_item_clear(&it);
    return rc;
}

static int
f_join(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
       struct fp_coll *out)
{
    char *sep = NULL;
    struct sl_buf b;
    size_t i;
    int rc;

    if (in->n == 0)
        return SL_OK;
    if (n->nargs > 0 && (rc = fp_arg_str(cx, n, 0, &sep)) != SL_OK)
        return rc;
    sl_buf_init(&b);
    sl_buf_adds(&b, "");
    for (i = 0; i < in->n; i++) {
        struct fp_item it;
        fp_item_system(&in->v[i], &it);
        if (it.kind != FK_STR) {
            fp_item_clear(&it);
            sl_buf_free(&b);
            free(sep);
            return fp_err(cx, n, SL_EPARSE, "join() needs strings");
        }
        if (i && sep)
            sl_buf_adds(&b, sep);
        sl_buf_adds(&b, fp_item_str(&it));
        fp_item_clear(&it);
    }
    fp_add_str(out, FK_STR, b.data);
    sl_buf_free(&b);
    free(sep);
    return SL_OK;
}

/* ---- maths ----------------------------------------------------------- */
static int
f_math(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
       struct fp_coll *out)
{
    struct fp_item it;
    const char *f = n->name;
    double x, r;
    int rc, isint;

    if ((rc = fp_single(cx, n, in, &it)) != 0)
        return rc == 1 ? SL_OK : rc;
    if (it.kind == FK_QTY && strcmp(f, "abs") == 0) {
        fp_add_qty(out, fabs(json_number_value(json_object_get(it.j, "value"))),
                   json_string_value(json_object_get(it.j, "unit")));
        goto out;
    }
    if (!fp_item_num(&it, &x)) {
        rc = fp_err(cx, n, SL_EPARSE, "%s() needs a number", f);
        goto out;
    }
    isint = it.kind == FK_INT;
    if (strcmp(f, "abs") == 0) {
        isint ? fp_add_int_d(out, fabs(x)) : fp_add_dec(out, fabs(x));
    } else if (strcmp(f, "ceiling") == 0) {
        fp_add_int_d(out, ceil(x));
    } else if (strcmp(f, "floor") == 0) {
        fp_add_int_d(out, floor(x));
    } else if (strcmp(f, "truncate") == 0) {
        fp_add_int_d(out, trunc(x));
    } else if (strcmp(f, "exp") == 0) {
        fp_add_dec(out, exp(x));
    } else if (strcmp(f, "ln") == 0) {
        if (x > 0)
            fp_add_dec(out, log(x));
    } else if (strcmp(f, "sqrt") == 0) {
        if (x >= 0)
            fp_add_dec(out, sqrt(x));
    } else if (strcmp(f, "round") == 0) {
        long p = 0;
        int e = 1;
        if (n->nargs && (rc = fp_arg_int(cx, n, 0, &p, &e)) != SL_OK)
            goto out;
        r = pow(10, (double)p);
        fp_add_dec(out, round(x * r) / r);
    } else { /* log, power */
        struct fp_coll a = { 0 };
        double y;
        if ((rc = fp_arg(cx, n, 0, &a)) != SL_OK || a.n != 1 ||
            !fp_item_num(&a.v[0], &y)) {
            fp_coll_free(&a);
            goto out;
        }
        if (strcmp(f, "log") == 0) {
            if (x > 0 && y > 0 && y != 1)
                fp_add_dec(out, log(x) / log(y));
        } else {
            r = pow(x, y);
            if (isfinite(r))
                (isint && a.v[0].kind == FK_INT) ? fp_add_int_d(out, r)
                                                 : fp_add_dec(out, r);
        }
        fp_coll_free(&a);
    }
out:
    fp_item_clear(&it);
    return rc;
}

/* ---- conversions ------------------------------------------------------- */
/* Converts it to kind; 1 on success (appended to out when out != NULL). */
static int
convert(const struct fp_item *it, int kind, struct fp_coll *out)
{
    const char *s = it->kind == FK_STR ? fp_item_str(it) : NULL;
    double d;
    char *end, *str;

    switch (kind) {
    case FK_BOOL:
        if (it->kind == FK_BOOL) {
            if (out)
                fp_add_bool(out, json_is_true(it->j));
            return 1;
        }
        if (fp_item_num(it, &d) && (d == 0 || d == 1)) {
            if (out)
                fp_add_bool(out, d == 1);
            return 1;
        }
        if (s) {
            static const char *const t[] = {
                "true", "t", "yes", "y", "1", "1.0"
            };
            static const char *const f[] = {
                "false", "f", "no", "n", "0", "0.0"
            };
            size_t i;
            for (i = 0; i < 6; i++) {
                if (strcasecmp(s, t[i]) == 0 || strcasecmp(s, f[i]) == 0) {
                    if (out)
                        fp_add_bool(out, strcasecmp(s, t[i]) == 0);
                    return 1;
                }
            }
        }
        return 0;
    case FK_INT:
        if (it->kind == FK_INT || it->kind == FK_BOOL) {
            if (out)
                fp_add_int(out, it->kind == FK_BOOL
                                    ? json_is_true(it->j)
                                    : json_integer_value(it->j));
            return 1;
        }
        if (s && *s) {
            long long v = strtoll(s, &end, 10);
            if (*end == '\0' &&
                (isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+')) {
                if (out)
                    fp_add_int(out, (json_int_t)v);
                return 1;
            }
        }
        return 0;
    case FK_DEC:
        if (it->kind == FK_INT || it->kind == FK_DEC || it->kind == FK_BOOL) {
            if (out)
                fp_add_dec(out, it->kind == FK_BOOL ? json_is_true(it->j)
                                                    : json_number_value(it->j));
            return 1;
        }
        if (s && *s && strspn(s, "+-0123456789.") == strlen(s)) {
            d = strtod(s, &end);
            if (*end == '\0') {
                if (out)
                    fp_add_dec(out, d);
                return 1;
            }
        }
        return 0;
    case FK_STR:
        if ((str = fp_item_to_string(it)) == NULL)
            return 0;
        if (out)
            fp_add_str(out, FK_STR, str);
        free(str);
        return 1;
    case FK_DATE:
    case FK_DATETIME:
    case FK_TIME: {
        const char *v = it->kind == FK_STR || it->kind == FK_DATE ||
                                it->kind == FK_DATETIME || it->kind == FK_TIME
                            ? fp_item_str(it)
                            : NULL;
        if (v == NULL ||
            (it->kind != FK_STR && (it->kind == FK_TIME) != (kind == FK_TIME)))
            return 0;
        if (kind == FK_DATE) {
            char buf[16];
            size_t l = strcspn(v, "T");
            if (l >= sizeof(buf) || !fp_date_valid(v, FK_DATETIME))
                return 0;
            memcpy(buf, v, l);
            buf[l] = '\0';
            if (out)
                fp_add_str(out, FK_DATE, buf);
            return 1;
        }
        if (!fp_date_valid(v, kind))
            return 0;
        if (out)
            fp_add_str(out, kind, v);
        return 1;
    }
    case FK_QTY:
        if (it->kind == FK_QTY) {
            if (out)
                fp_coll_add(out, it);
            return 1;
        }
        if (it->kind == FK_INT || it->kind == FK_DEC) {
            if (out)
                fp_add_qty(out, json_number_value(it->j), "1");
            return 1;
        }
        if (s) {
            d = strtod(s, &end);
            if (end == s)
                return 0;
            while (*end == ' ')
                end++;
            if (*end == '\0') {
                if (out)
                    fp_add_qty(out, d, "1");
                return 1;
            }
            if (*end == '\'' && end[1] && end[strlen(end) - 1] == '\'') {
                char *u = sl_strndup(end + 1, strlen(end) - 2);
                if (out)
                    fp_add_qty(out, d, u);
                free(u);
                return 1;
            }
        }
        return 0;
    }
    return 0;
}

static int
f_convert(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
          struct fp_coll *out)
{
    static const struct {
        const char *suffix;
        int kind;
    } tab[] = { { "Boolean", FK_BOOL }, { "Integer", FK_INT },
                { "Decimal", FK_DEC },  { "String", FK_STR },
                { "Date", FK_DATE },    { "DateTime", FK_DATETIME },
                { "Time", FK_TIME },    { "Quantity", FK_QTY } };
    struct fp_item it;
    const char *f = n->name;
    int test = strncmp(f, "convertsTo", 10) == 0, rc, ok;
    const char *suffix = f + (test ? 10 : 2);
    size_t i;

    if ((rc = fp_single(cx, n, in, &it)) != 0)
        return rc == 1 ? SL_OK : rc;
    for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (strcmp(suffix, tab[i].suffix) == 0)
            break;
    ok = i < sizeof(tab) / sizeof(tab[0]) &&
         convert(&it, tab[i].kind, test ? NULL : out);
    if (test)
        fp_add_bool(out, ok);
    fp_item_clear(&it);
    return SL_OK;
}

static int
f_now(struct fp_ctx *cx, const struct fp_node *n, const struct fp_coll *in,
      struct fp_coll *out)
{
    char buf[64];
    time_t t = time(NULL);
    struct tm tm;

    (void)cx, (void)in;
    gmtime_r(&t, &tm);
    if (strcmp(n->name, "today") == 0) {
        strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
        fp_add_str(out, FK_DATE, buf);
    } else if (strcmp(n->name, "timeOfDay") == 0) {
        strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
        fp_add_str(out, FK_TIME, buf);
    } else {
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
        fp_add_str(out, FK_DATETIME, buf);
    }
    return SL_OK;
}

static int
f_precision(struct fp_ctx *cx, const struct fp_node *n,
            const struct fp_coll *in, struct fp_coll *out)
{
    struct fp_item it;
    int rc, p = -1;
    double d;

    if ((rc = fp_single(cx, n, in, &it)) != 0)
        return rc == 1 ? SL_OK : rc;
    if (it.kind == FK_DATE || it.kind == FK_DATETIME || it.kind == FK_TIME) {
        p = fp_date_precision(fp_item_str(&it), it.kind);
    } else if (fp_item_num(&it, &d)) {
        char buf[64], *dot;
        snprintf(buf, sizeof(buf), "%.15g", d);
        dot = strchr(buf, '.');
        p = dot ? (int)strlen(dot + 1) : 0;
    }
    if (p >= 0)
        fp_add_int(out, p);
    fp_item_clear(&it);
    return SL_OK;
}

const struct fp_fn_entry fp_fns_str[] = {
    { "startsWith", 1, 1, f_strtest },
    { "endsWith", 1, 1, f_strtest },
    { "contains", 1, 1, f_strtest },
    { "indexOf", 1, 1, f_strtest },
    { "matches", 1, 1, f_strtest },
    { "matchesFull", 1, 1, f_strtest },
    { "substring", 1, 2, f_substring },
    { "upper", 0, 0, f_strone },
    { "lower", 0, 0, f_strone },
    { "length", 0, 0, f_strone },
    { "trim", 0, 0, f_strone },
    { "toChars", 0, 0, f_strone },
    { "replace", 2, 2, f_replace },
    { "replaceMatches", 2, 2, f_replace },
    { "split", 1, 1, f_split },
    { "join", 0, 1, f_join },
    { "abs", 0, 0, f_math },
    { "ceiling", 0, 0, f_math },
    { "floor", 0, 0, f_math },
    { "truncate", 0, 0, f_math },
    { "exp", 0, 0, f_math },
    { "ln", 0, 0, f_math },
    { "sqrt", 0, 0, f_math },
    { "round", 0, 1, f_math },
    { "log", 1, 1, f_math },
    { "power", 1, 1, f_math },
    { "toBoolean", 0, 0, f_convert },
    { "convertsToBoolean", 0, 0, f_convert },
    { "toInteger", 0, 0, f_convert },
    { "convertsToInteger", 0, 0, f_convert },
    { "toDecimal", 0, 0, f_convert },
    { "convertsToDecimal", 0, 0, f_convert },
    { "toString", 0, 0, f_convert },
    { "convertsToString", 0, 0, f_convert },
    { "toDate", 0, 0, f_convert },
    { "convertsToDate", 0, 0, f_convert },
    { "toDateTime", 0, 0, f_convert },
    { "convertsToDateTime", 0, 0, f_convert },
    { "toTime", 0, 0, f_convert },
    { "convertsToTime", 0, 0, f_convert },
    { "toQuantity", 0, 1, f_convert },
    { "convertsToQuantity", 0, 1, f_convert },
    { "now", 0, 0, f_now },
    { "today", 0, 0, f_now },
    { "timeOfDay", 0, 0, f_now },
    { "precision", 0, 0, f_precision },
    { NULL, 0, 0, NULL },
};

char *
sl_fp_regex_ere(const char *re)
{
    return to_ere(re);
}

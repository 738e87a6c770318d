/* fp_compare.c - FHIRPath equality (=), equivalence (~) and ordering of
 * items; dates and times with partial precision; quantities with UCUM
 * units and calendar durations; date arithmetic. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhirpath/fp_int.h"

/* ---- dates and times ---------------------------------------------------- */
/* Precisions: 1 year, 2 month, 3 day, 4 hour, 5 minute, 6 second (with
 * or without milliseconds: one precision, as the spec says). */
struct dt {
    int prec, has_date, has_tz, has_ms;
    int y, mo, d, h, mi, s, ms, tz; /* tz in minutes east of UTC */
};

static int
digits(const char *s, int n, int *out)
{
    int i, v = 0;

    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* The time part "hh[:mm[:ss[.fff]]][zone]" from s into t. */
static int
parse_time(const char *s, struct dt *t, int base)
{
    t->prec = base;
    if (digits(s, 2, &t->h) != 0 || t->h > 23)
        return -1;
    s += 2;
    t->prec = base + 1;
    if (*s == ':') {
        if (digits(s + 1, 2, &t->mi) != 0 || t->mi > 59)
            return -1;
        s += 3;
        t->prec = base + 2;
        if (*s == ':') {
            if (digits(s + 1, 2, &t->s) != 0 || t->s > 60)
                return -1;
            s += 3;
            t->prec = base + 3;
            if (*s == '.') {
                int n = 0, v = 0;
                s++;
                while (isdigit((unsigned char)s[n])) {
                    if (n < 3)
                        v = v * 10 + (s[n] - '0');
                    n++;
                }
                if (n == 0)
                    return -1;
                for (int k = n; k < 3; k++)
                    v *= 10;
                t->ms = v;
                t->has_ms = 1;
                s += n;
            }
        }
    }
    if (*s == 'Z') {
        t->has_tz = 1;
        s++;
    } else if (*s == '+' || *s == '-') {
        int hh, mm;
        if (digits(s + 1, 2, &hh) != 0 || s[3] != ':' ||
            digits(s + 4, 2, &mm) != 0)
            return -1;
        t->has_tz = 1;
        t->tz = (*s == '-' ? -1 : 1) * (hh * 60 + mm);
        s += 6;
    }
    return *s == '\0' ? 0 : -1;
}

/* Parses a date, dateTime (kind FK_DATE/FK_DATETIME) or time. */
static int
dt_parse(const char *s, int kind, struct dt *t)
{
    memset(t, 0, sizeof(*t));
    t->mo = t->d = 1;
    if (s == NULL)
        return -1;
    if (kind == FK_TIME) {
        if (s[0] == 'T')
            s++;
        t->has_date = 0;
        return parse_time(s, t, 0) == 0 && !t->has_tz ? 0 : -1;
    }
    t->has_date = 1;
    if (digits(s, 4, &t->y) != 0)
        return -1;
    s += 4;
    t->prec = 1;
    if (*s == '-') {
        if (digits(s + 1, 2, &t->mo) != 0 || t->mo < 1 || t->mo > 12)
            return -1;
        s += 3;
        t->prec = 2;
        if (*s == '-') {
            if (digits(s + 1, 2, &t->d) != 0 || t->d < 1 || t->d > 31)
                return -1;
            s += 3;
            t->prec = 3;
        }
    }
    if (*s == 'T') {
        if (t->prec != 3)
            return s[1] == '\0' ? 0 : -1;
        if (s[1] == '\0')
            return 0;
        return parse_time(s + 1, t, 3);
    }
    return *s == '\0' ? 0 : -1;
}

/* Days from 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static long
days_from_civil(long y, int m, int d)
{
    long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void
civil_from_days(long z, int *y, int *m, int *d)
{
    long era, doe, yoe, yy, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    yy = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

static int
month_days(int y, int m)
{
    static const int md[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : md[m - 1];
}

/* Normalises a date-time with a time of day to UTC. */
static void
dt_utc(struct dt *t)
{
    long long min;
    long days;

    if (!t->has_date || t->prec < 4 || !t->has_tz || t->tz == 0)
        return;
    min = (long long)days_from_civil(t->y, t->mo, t->d) * 1440 + t->h * 60 +
          t->mi - t->tz;
    days = (long)(min >= 0 ? min / 1440 : (min - 1439) / 1440);
    min -= (long long)days * 1440;
    civil_from_days(days, &t->y, &t->mo, &t->d);
    t->h = (int)(min / 60);
    t->mi = (int)(min % 60);
    t->tz = 0;
}

/* Compares two dates/times field by field: -1/0/1 in *cmp and 0, or -1
 * when equal up to the shorter precision and the precisions differ. */
static int
dt_compare(struct dt a, struct dt b, int *cmp)
{
    int fa[6], fb[6], i, p, off;

    dt_utc(&a);
    dt_utc(&b);
    off = a.has_date ? 0 : 3;
    fa[0] = a.y, fa[1] = a.mo, fa[2] = a.d, fa[3] = a.h, fa[4] = a.mi;
    fa[5] = a.s * 1000 + a.ms;
    fb[0] = b.y, fb[1] = b.mo, fb[2] = b.d, fb[3] = b.h, fb[4] = b.mi;
    fb[5] = b.s * 1000 + b.ms;
    p = a.prec < b.prec ? a.prec : b.prec;
    for (i = off; i < off + p && i < 6; i++) {
        if (fa[i] != fb[i]) {
            *cmp = fa[i] < fb[i] ? -1 : 1;
            return 0;
        }
    }
    *cmp = 0;
    return a.prec == b.prec ? 0 : -1;
}

static void
dt_format(const struct dt *t, int kind, char *out, size_t len)
{
    size_t n = 0;

    out[0] = '\0';
    if (kind != FK_TIME) {
        n += (size_t)snprintf(out + n, len - n, "%04d", t->y);
        if (t->prec >= 2)
            n += (size_t)snprintf(out + n, len - n, "-%02d", t->mo);
        if (t->prec >= 3)
            n += (size_t)snprintf(out + n, len - n, "-%02d", t->d);
        if (t->prec < 4)
            return;
        n += (size_t)snprintf(out + n, len - n, "T");
    }
    {
        int base = kind == FK_TIME ? 0 : 3;
        n += (size_t)snprintf(out + n, len - n, "%02d", t->h);
        if (t->prec >= base + 2)
            n += (size_t)snprintf(out + n, len - n, ":%02d", t->mi);
        if (t->prec >= base + 3)
            n += (size_t)snprintf(out + n, len - n, ":%02d", t->s);
        if (t->prec >= base + 3 && t->has_ms)
            n += (size_t)snprintf(out + n, len - n, ".%03d", t->ms);
    }
    if (t->has_tz && kind != FK_TIME) {
        if (t->tz == 0)
            snprintf(out + n, len - n, "Z");
        else
            snprintf(out + n, len - n, "%c%02d:%02d", t->tz < 0 ? '-' : '+',
                     abs(t->tz) / 60, abs(t->tz) % 60);
    }
}

/* ---- quantities --------------------------------------------------------- */
/* Dimensions: mass, length, time, amount, volume-free (volume is L^3) */
struct unit {
    const char *code;
    double factor;      /* to the base unit of its dimension */
    signed char dim[4]; /* g, m, s, mol */
};

static const struct unit units[] = {
    { "g", 1, { 1, 0, 0, 0 } },
    { "m", 1, { 0, 1, 0, 0 } },
    { "s", 1, { 0, 0, 1, 0 } },
    { "mol", 1, { 0, 0, 0, 1 } },
    { "L", 1e-3, { 0, 3, 0, 0 } },
    { "l", 1e-3, { 0, 3, 0, 0 } },
    { "min", 60, { 0, 0, 1, 0 } },
    { "h", 3600, { 0, 0, 1, 0 } },
    { "d", 86400, { 0, 0, 1, 0 } },
    { "wk", 604800, { 0, 0, 1, 0 } },
    { "mo", 2629800, { 0, 0, 1, 0 } },
    { "a", 31557600, { 0, 0, 1, 0 } },
    { "[lb_av]", 453.59237, { 1, 0, 0, 0 } },
    { "[oz_av]", 28.349523125, { 1, 0, 0, 0 } },
    { "[in_i]", 0.0254, { 0, 1, 0, 0 } },
    { "[ft_i]", 0.3048, { 0, 1, 0, 0 } },
    { "[mi_i]", 1609.344, { 0, 1, 0, 0 } },
    { "1", 1, { 0, 0, 0, 0 } },
    { "%", 0.01, { 0, 0, 0, 0 } },
    { "mm[Hg]", 133.322, { 1, -1, -2, 0 } },
    { "[iU]", 1, { 0, 0, 0, 0 } },
    { "U", 1, { 0, 0, 0, 0 } },
    { NULL, 0, { 0, 0, 0, 0 } },
};

static const struct {
    const char *p;
    double f;
} prefixes[] = { { "k", 1e3 },   { "h", 1e2 },   { "da", 1e1 }, { "d", 1e-1 },
                 { "c", 1e-2 },  { "m", 1e-3 },  { "u", 1e-6 }, { "n", 1e-9 },
                 { "p", 1e-12 }, { "f", 1e-15 }, { "M", 1e6 },  { "G", 1e9 },
                 { NULL, 0 } };

/* A calendar word ("year", "days") as the UCUM unit it compares with;
 * *exact is 0 for year and month (not equal to 'a' and 'mo'). */
static const char *
calendar_ucum(const char *w, int *exact)
{
    static const struct {
        const char *w, *u;
        int exact;
    } tab[] = { { "year", "a", 0 },   { "month", "mo", 0 },
                { "week", "wk", 1 },  { "day", "d", 1 },
                { "hour", "h", 1 },   { "minute", "min", 1 },
                { "second", "s", 1 }, { "millisecond", "ms", 1 } };
    size_t i, n;

    for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
        n = strlen(tab[i].w);
        if (strncmp(w, tab[i].w, n) == 0 &&
            (w[n] == '\0' || (w[n] == 's' && w[n + 1] == '\0'))) {
            *exact = tab[i].exact;
            return tab[i].u;
        }
    }
    return NULL;
}

/* One unit term ("mg", "cm2", "L"): factor and dimension. */
static int
unit_term(const char *s, size_t n, double *f, int dim[4])
{
    char buf[32];
    int exp = 1, i, k;
    size_t e = n;

    if (n == 0 || n >= sizeof(buf))
        return -1;
    while (e > 0 && (isdigit((unsigned char)s[e - 1]) || s[e - 1] == '-') &&
           s[0] != '[')
        e--;
    if (e < n && e > 0) {
        memcpy(buf, s + e, n - e);
        buf[n - e] = '\0';
        long v = strtol(buf, NULL, 10); /* digits and '-' only, see above */
        exp = v > 999 ? 999 : v < -999 ? -999 : (int)v;
    } else {
        e = n;
    }
    memcpy(buf, s, e);
    buf[e] = '\0';
    if (strcmp(buf, "10*") == 0 ||
        (isdigit((unsigned char)buf[0]) && strspn(buf, "0123456789") == e)) {
        *f = strcmp(buf, "10*") == 0 ? pow(10, exp) : pow(atof(buf), exp);
        return 0;
    }
    for (i = 0; units[i].code; i++) {
        if (strcmp(buf, units[i].code) == 0) {
            *f = pow(units[i].factor, exp);
            for (k = 0; k < 4; k++)
                dim[k] += units[i].dim[k] * exp;
            return 0;
        }
    }
    for (i = 0; prefixes[i].p; i++) {
        size_t pl = strlen(prefixes[i].p);
        if (strncmp(buf, prefixes[i].p, pl) != 0)
            continue;
        for (k = 0; units[k].code; k++) {
            if (strcmp(buf + pl, units[k].code) == 0 &&
                units[k].code[0] != '[') {
                int d;
                *f = pow(prefixes[i].f * units[k].factor, exp);
                for (d = 0; d < 4; d++)
                    dim[d] += units[k].dim[d] * exp;
                return 0;
            }
        }
    }
    return -1;
}

/* A UCUM unit with '.' and one '/' ("mg/dL", "kg.m-2"). */
static int
unit_parse(const char *u, double *factor, int dim[4])
{
    const char *p = u;
    int sign = 1, k;

    *factor = 1;
    memset(dim, 0, 4 * sizeof(int));
    while (*p) {
        size_t n = strcspn(p, "./");
        double f;
        int d[4] = { 0, 0, 0, 0 };
        if (unit_term(p, n, &f, d) != 0)
            return -1;
        *factor *= sign > 0 ? f : 1 / f;
        for (k = 0; k < 4; k++)
            dim[k] += sign * d[k];
        p += n;
        if (*p == '/')
            sign = -1;
        if (*p)
            p++;
    }
    return 0;
}

int
fp_qty_convert(double v, const char *from, const char *to, double *out)
{
    double ff, ft;
    int df[4], dt_[4], ex;
    const char *c;

    if (strcmp(from, to) == 0) {
        *out = v;
        return 0;
    }
    if ((c = calendar_ucum(from, &ex)) != NULL)
        from = c;
    if ((c = calendar_ucum(to, &ex)) != NULL)
        to = c;
    if (strcmp(from, to) == 0) {
        *out = v;
        return 0;
    }
    if (unit_parse(from, &ff, df) != 0 || unit_parse(to, &ft, dt_) != 0 ||
        memcmp(df, dt_, sizeof(df)) != 0 || !(ft != 0) || !isfinite(ff) ||
        !isfinite(v * ff / ft))
        return -1;
    *out = v * ff / ft;
    return 0;
}

/* Compares quantities: 0 and *cmp, or -1 when not comparable. */
static int
qty_compare(json_t *a, json_t *b, int *cmp, int *calendar_mismatch)
{
    double va = json_number_value(json_object_get(a, "value"));
    double vb = json_number_value(json_object_get(b, "value")), vc;
    const char *ua = json_string_value(json_object_get(a, "unit"));
    const char *ub = json_string_value(json_object_get(b, "unit"));
    int ea = 1, eb = 1, ca, cb;

    ca = calendar_ucum(ua, &ea) != NULL;
    cb = calendar_ucum(ub, &eb) != NULL;
    /* 1 year is not 1 'a': calendar years and months have no fixed length */
    *calendar_mismatch = ca != cb && (!ea || !eb);
    if (fp_qty_convert(vb, ub, ua, &vc) != 0)
        return -1;
    /* compare at a relative precision that hides conversion rounding */
    if (fabs(va - vc) <= 1e-9 * fmax(fabs(va), fabs(vc)))
        *cmp = 0;
    else
        *cmp = va < vc ? -1 : 1;
    return 0;
}

/* ---- equality and ordering ---------------------------------------------- */
static int
is_datekind(int k)
{
    return k == FK_DATE || k == FK_DATETIME || k == FK_TIME;
}

int
fp_item_compare(const struct fp_item *a0, const struct fp_item *b0, int *cmp)
{
    struct fp_item a, b;
    double x, y;
    int rc = -2, mm;

    fp_item_system(a0, &a);
    fp_item_system(b0, &b);
    if (fp_item_num(&a, &x) && fp_item_num(&b, &y)) {
        *cmp = x < y ? -1 : x > y ? 1 : 0;
        rc = 0;
    } else if (a.kind == FK_STR && b.kind == FK_STR) {
        int c = strcmp(fp_item_str(&a), fp_item_str(&b));
        *cmp = c < 0 ? -1 : c > 0;
        rc = 0;
    } else if (is_datekind(a.kind) && is_datekind(b.kind) &&
               (a.kind == FK_TIME) == (b.kind == FK_TIME)) {
        struct dt da, db;
        if (dt_parse(fp_item_str(&a), a.kind, &da) == 0 &&
            dt_parse(fp_item_str(&b), b.kind, &db) == 0)
            rc = dt_compare(da, db, cmp);
    } else if (a.kind == FK_STR && is_datekind(b.kind)) {
        struct dt da, db; /* a string compared to a date: as a date */
        if (dt_parse(fp_item_str(&a), b.kind, &da) == 0 &&
            dt_parse(fp_item_str(&b), b.kind, &db) == 0)
            rc = dt_compare(da, db, cmp);
    } else if (is_datekind(a.kind) && b.kind == FK_STR) {
        struct dt da, db;
        if (dt_parse(fp_item_str(&a), a.kind, &da) == 0 &&
            dt_parse(fp_item_str(&b), a.kind, &db) == 0)
            rc = dt_compare(da, db, cmp);
    } else if (a.kind == FK_QTY && b.kind == FK_QTY) {
        rc = qty_compare(a.j, b.j, cmp, &mm) == 0 ? 0 : -1;
    }
    fp_item_clear(&a);
    fp_item_clear(&b);
    return rc;
}

int
fp_item_equal(const struct fp_item *a0, const struct fp_item *b0)
{
    struct fp_item a, b;
    double x, y;
    int r = 0, cmp, mm;

    fp_item_system(a0, &a);
    fp_item_system(b0, &b);
    if (a.kind == FK_NODE || b.kind == FK_NODE) {
        r = a.kind == b.kind && a.j && b.j && json_equal(a.j, b.j);
    } else if (fp_item_num(&a, &x) && fp_item_num(&b, &y)) {
        r = x == y;
    } else if (a.kind == FK_BOOL && b.kind == FK_BOOL) {
        r = json_is_true(a.j) == json_is_true(b.j);
    } else if (is_datekind(a.kind) || is_datekind(b.kind)) {
        r = 0;
        if (fp_item_compare(&a, &b, &cmp) == 0)
            r = cmp == 0;
        else if (fp_item_compare(&a, &b, &cmp) == -1)
            r = -1;
    } else if (a.kind == FK_STR && b.kind == FK_STR) {
        r = strcmp(fp_item_str(&a), fp_item_str(&b)) == 0;
    } else if (a.kind == FK_QTY && b.kind == FK_QTY) {
        if (qty_compare(a.j, b.j, &cmp, &mm) != 0)
            r = 0; /* units of different dimensions are not equal */
        else
            r = mm ? -1 : cmp == 0;
    }
    fp_item_clear(&a);
    fp_item_clear(&b);
    return r;
}

/* Strings equivalent: case ignored, every whitespace character taken as
 * a space (as HL7's JavaScript engine reads "normalizing whitespace"). */
static int
str_equiv(const char *a, const char *b)
{
    for (;; a++, b++) {
        if (*a == '\0' || *b == '\0')
            return *a == *b;
        if (isspace((unsigned char)*a) && isspace((unsigned char)*b))
            continue;
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    }
}

static int
decimals_of(double v)
{
    char buf[64], *dot;
    snprintf(buf, sizeof(buf), "%.15g", v);
    dot = strchr(buf, '.');
    return dot ? (int)strlen(dot + 1) : 0;
}

int
fp_item_equiv(const struct fp_item *a0, const struct fp_item *b0)
{
    struct fp_item a, b;
    double x, y;
    int r = 0, cmp, mm;

    fp_item_system(a0, &a);
    fp_item_system(b0, &b);
    if (a.kind == FK_NODE || b.kind == FK_NODE) {
        r = a.kind == b.kind && a.j && b.j && json_equal(a.j, b.j);
    } else if (fp_item_num(&a, &x) && fp_item_num(&b, &y)) {
        /* decimals equal at the precision of the less precise */
        int p =
            decimals_of(x) < decimals_of(y) ? decimals_of(x) : decimals_of(y);
        double m = pow(10, p);
        r = fabs(round(x * m) - round(y * m)) < 0.5;
    } else if (a.kind == FK_STR && b.kind == FK_STR) {
        r = str_equiv(fp_item_str(&a), fp_item_str(&b));
    } else if (is_datekind(a.kind) || is_datekind(b.kind)) {
        r = fp_item_compare(&a, &b, &cmp) == 0 && cmp == 0;
    } else if (a.kind == FK_BOOL && b.kind == FK_BOOL) {
        r = json_is_true(a.j) == json_is_true(b.j);
    } else if (a.kind == FK_QTY && b.kind == FK_QTY) {
        r = qty_compare(a.j, b.j, &cmp, &mm) == 0 && cmp == 0;
    }
    fp_item_clear(&a);
    fp_item_clear(&b);
    return r;
}

/* ---- date arithmetic ---------------------------------------------------- */
int
fp_date_add(const struct fp_item *d0, const struct fp_item *q0, int sign,
            struct fp_coll *out)
{
    struct fp_item d, q;
    struct dt t;
    const char *u;
    double v;
    int ex, rc = -1;
    char buf[64];
    long long n;

    fp_item_system(d0, &d);
    fp_item_system(q0, &q);
    if (q.kind != FK_QTY || !is_datekind(d.kind) ||
        dt_parse(fp_item_str(&d), d.kind, &t) != 0)
        goto out;
    v = sign * json_number_value(json_object_get(q.j, "value"));
    u = json_string_value(json_object_get(q.j, "unit"));
    if (!(fabs(v) < 1e9) || u == NULL) /* far past any calendar */
        goto out;
    /* UCUM's 'a' and 'mo' are mean lengths, not calendar years and months:
     * date arithmetic takes them only as the words (year, month) */
    if (strcmp(u, "a") == 0 || strcmp(u, "mo") == 0)
        goto out;
    if (calendar_ucum(u, &ex) != NULL)
        u = calendar_ucum(u, &ex);
    n = (long long)trunc(v);
    if (strcmp(u, "a") == 0 || strcmp(u, "mo") == 0) {
        long long months = strcmp(u, "a") == 0 ? n * 12 : n;
        if (t.prec == 1 || !t.has_date) {
            t.y += (int)(months / 12);
        } else {
            long long m = (long long)t.y * 12 + (t.mo - 1) + months;
            t.y = (int)(m / 12);
            t.mo = (int)(m % 12) + 1;
        }
        if (t.has_date && t.d > month_days(t.y, t.mo))
            t.d = month_days(t.y, t.mo);
    } else {
        double secs;
        if (strcmp(u, "wk") == 0)
            secs = v * 604800;
        else if (strcmp(u, "d") == 0)
            secs = v * 86400;
        else if (strcmp(u, "h") == 0)
            secs = v * 3600;
        else if (strcmp(u, "min") == 0)
            secs = v * 60;
        else if (strcmp(u, "s") == 0)
            secs = v;
        else if (strcmp(u, "ms") == 0)
            secs = v / 1000;
        else
            goto out;
        if (t.has_date && t.prec < 3) {
            /* below a day's precision: whole years or months only */
            long long days = (long long)trunc(secs / 86400);
            if (t.prec == 1)
                t.y += (int)(days / 365);
            else {
                long long m = (long long)t.y * 12 + (t.mo - 1) + days / 30;
                t.y = (int)(m / 12);
                t.mo = (int)(m % 12) + 1;
            }
        } else {
            long long ms, day = 0;
            if (t.has_date)
                day = days_from_civil(t.y, t.mo, t.d);
            ms = (((day * 24 + t.h) * 60 + t.mi) * 60 + t.s) * 1000LL + t.ms;
            if (t.has_date && t.prec == 3)
                ms += (long long)trunc(secs / 86400) * 86400000LL;
            else
                ms += (long long)llround(secs * 1000);
            if (!t.has_date) {
                ms %= 86400000LL;
                if (ms < 0)
                    ms += 86400000LL;
                day = 0;
            } else {
                day =
                    ms >= 0 ? ms / 86400000LL : (ms - 86399999LL) / 86400000LL;
                ms -= day * 86400000LL;
                civil_from_days((long)day, &t.y, &t.mo, &t.d);
            }
            t.h = (int)(ms / 3600000);
            t.mi = (int)(ms / 60000 % 60);
            t.s = (int)(ms / 1000 % 60);
            t.ms = (int)(ms % 1000);
        }
    }
    dt_format(&t, d.kind, buf, sizeof(buf));
    fp_add_str(out, d.kind, buf);
    rc = 0;
out:
    fp_item_clear(&d);
    fp_item_clear(&q);
    return rc;
}

/* Used by the functions: 1 if s is a valid date/time of that kind. */
int fp_date_valid(const char *s, int kind);
int
fp_date_valid(const char *s, int kind)
{
    struct dt t;
    return dt_parse(s, kind, &t) == 0 &&
           (!t.has_date || t.prec < 3 || t.d <= month_days(t.y, t.mo));
}

/* The precision of a date/time string in digits (for precision()). */
int fp_date_precision(const char *s, int kind);
int
fp_date_precision(const char *s, int kind)
{
    static const int yd[] = { 0, 4, 6, 8, 10, 12, 14 };
    static const int td[] = { 0, 2, 4, 6 };
    struct dt t;

    if (dt_parse(s, kind, &t) != 0)
        return -1;
    if (!t.has_date)
        return td[t.prec] + (t.has_ms ? 3 : 0);
    return yd[t.prec] + (t.has_ms ? 3 : 0);
}

int
sl_fp_ucum_convert(double v, const char *from, const char *to, double *out)
{
    if (from == NULL || to == NULL)
        return -1;
    return fp_qty_convert(v, from, to, out);
}

/* term_dec.c - exact decimal arithmetic for unit conversion: a value
 * (decimal text) times a factor NUM[/DEN] (decimal texts), computed on
 * integers (mantissa and power of ten, 128 bits), never in binary
 * floating point, then rounded half away from zero to the significant
 * digits of the value as written ("95" has 2, "5.30" has 3, "0.040" has
 * 2), but never to the left of the units digit, so that no result needs
 * an exponent (7 mmol/L of glucose is 126 mg/dL, not 1E2). A result too
 * large for 128 bits is refused, not approximated. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "terminology/term_int.h"

typedef unsigned __int128 u128;

#define MAX_DIGITS 19 /* of one operand's mantissa: < 10^19 < 2^64 */

struct dec {
    int neg;
    u128 m;  /* value = m * 10^e */
    int e;
    int sig; /* significant digits as written (1 for zero) */
};

/* Reads [-]DIGITS[.DIGITS][e[+-]N]; 0 on success. */
static int
dec_parse(const char *s, size_t n, struct dec *d)
{
    size_t i = 0;
    int digits = 0, seen_nz = 0, frac = 0, in_frac = 0;

    memset(d, 0, sizeof(*d));
    if (i < n && (s[i] == '-' || s[i] == '+'))
        d->neg = s[i++] == '-';
    for (; i < n; i++) {
        if (s[i] == '.' && !in_frac) {
            in_frac = 1;
            continue;
        }
        if (!isdigit((unsigned char)s[i]))
            break;
        if (s[i] != '0')
            seen_nz = 1;
        if (seen_nz) {
            if (++d->sig > MAX_DIGITS)
                return -1;
        }
        d->m = d->m * 10 + (u128)(s[i] - '0');
        digits++;
        frac += in_frac;
    }
    if (digits == 0)
        return -1;
    d->e = -frac;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = 0, ev = 0, ed = 0;
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            eneg = s[i++] == '-';
        for (; i < n && isdigit((unsigned char)s[i]) && ed < 4; i++, ed++)
            ev = ev * 10 + (s[i] - '0');
        if (ed == 0)
            return -1;
        d->e += eneg ? -ev : ev;
    }
    if (i != n)
        return -1;
    if (d->sig == 0)
        d->sig = 1;
    return 0;
}

static int
ndigits(u128 v)
{
    int n = 1;

    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

/* v * 10^k, or 0 on overflow (v > 0). */
static int
scale(u128 v, int k, u128 *out)
{
    static const u128 lim = ~(u128)0 / 10;

    while (k-- > 0) {
        if (v > lim)
            return -1;
        v *= 10;
    }
    *out = v;
    return 0;
}

int
term_dec_convert(const char *value, const char *factor, char *out,
                 size_t outlen)
{
    struct dec v, num, den;
    const char *slash = strchr(factor, '/');
    u128 p, d, q, r, a, b;
    int e, lead, x, s, k, len, i;
    char digits[48];

    if (dec_parse(value, strlen(value), &v) != 0 ||
        dec_parse(factor, slash ? (size_t)(slash - factor) : strlen(factor),
                  &num) != 0)
        return -1;
    if (slash) {
        if (dec_parse(slash + 1, strlen(slash + 1), &den) != 0)
            return -1;
    } else {
        memset(&den, 0, sizeof(den));
        den.m = 1;
    }
    if (den.m == 0 || num.neg || den.neg)
        return -1;
    p = v.m * num.m; /* both < 10^19: < 10^38 < 2^128 */
    d = den.m;
    e = v.e + num.e - den.e;
    if (p == 0) {
        snprintf(out, outlen, "0");
        return 0;
    }
    /* the place of the leading digit of p/d */
    k = ndigits(p) - ndigits(d);
    if (k >= 0) {
        if (scale(d, k, &a) != 0)
            return -1;
        lead = p >= a ? k : k - 1;
    } else {
        if (scale(p, -k, &a) != 0)
            return -1;
        lead = a >= d ? k : k - 1;
    }
    lead += e;
    x = lead - v.sig + 1; /* the place of the last digit kept */
    if (x > 0)
        x = 0;
    s = e - x; /* result = p * 10^s / d, rounded to an integer */
    if (s >= 0) {
        if (scale(p, s, &a) != 0)
            return -1;
        b = d;
    } else {
        a = p;
        if (scale(d, -s, &b) != 0)
            return -1;
    }
    q = a / b;
    r = a % b;
    if (r >= b - r) /* half away from zero */
        q++;
    /* q * 10^x, x <= 0, as plain decimal text */
    len = 0;
    do {
        digits[len++] = (char)('0' + (int)(q % 10));
        q /= 10;
    } while (q > 0 && len < (int)sizeof(digits) - 1);
    while (len <= -x) /* a zero before the point */
        digits[len++] = '0';
    k = 0;
    if (v.neg && (size_t)k < outlen)
        out[k++] = '-';
    for (i = len - 1; i >= 0; i--) {
        if ((size_t)k + 2 >= outlen)
            return -1;
        out[k++] = digits[i];
        if (i == -x && x < 0)
            out[k++] = '.';
    }
    out[k] = '\0';
    return 0;
}

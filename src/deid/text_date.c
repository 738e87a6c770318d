/* text_date.c - dates in free text (see text_detect.h): numeric
 * (ISO, US, European) and with month names, read and written again
 * moved or reduced to the year. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/date.h"
#include "deid/text_detect_int.h"

/* ---- month names ---- */

static const char *const months[12] = { "january", "february", "march",
                                        "april",   "may",      "june",
                                        "july",    "august",   "september",
                                        "october", "november", "december" };

/* The month (1-12) whose name or abbreviation ("Mar", "Sept", "Mar.")
 * is the capitalised word [a, b), or 0; *named: 1 abbreviated, 2 full */
int
sl_text_month(const struct scan *s, size_t a, size_t b, unsigned char *named)
{
    size_t n = b - a, k, i;

    static const unsigned char mlen[12] = { 7, 8, 5, 5, 3, 4,
                                            4, 6, 9, 7, 8, 8 };
    unsigned char c;

    if (n < 3 || n > 9 || !is_upper(s->t[a]))
        return 0;
    /* only a, d, f, j, m, n, o, s begin a month */
    c = (unsigned char)lower(s->t[a]);
    if (strchr("adfjmnos", c) == NULL)
        return 0;
    for (k = 0; k < 12; k++) {
        const char *m = months[k];
        size_t ml = mlen[k];
        if (n > ml || (unsigned char)m[0] != c)
            continue;
        for (i = 0; i < n; i++)
            if (lower(s->t[a + i]) != (unsigned char)m[i])
                break;
        if (i < n)
            continue;
        if (n == ml) {
            *named = 2;
            return (int)k + 1;
        }
        if (n == 3 || (n == 4 && k == 8)) { /* "Mar", "Sept" */
            *named = 1;
            return (int)k + 1;
        }
    }
    return 0;
}

/* ---- dates ---- */

static int
valid_md(int m, int d)
{
    return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* the end of an ordinal suffix ("st", "nd", "rd", "th") at i, or i */
static size_t
ordinal(const struct scan *s, size_t i)
{
    static const char *const suf[] = { "st", "nd", "rd", "th" };
    size_t k;

    for (k = 0; k < 4; k++)
        if (lower(at(s, i)) == (unsigned char)suf[k][0] &&
            lower(at(s, i + 1)) == (unsigned char)suf[k][1] &&
            !is_alnum(at(s, i + 2)))
            return i + 2;
    return i;
}

/* a year of four digits (1800-2199) at i: its end, or i */
static size_t
year4(const struct scan *s, size_t i, int *y)
{
    int v;

    if (ndigits(s, i) != 4)
        return i;
    v = num(s, i, 4);
    if (v < 1800 || v > 2199)
        return i;
    *y = v;
    return i + 4;
}

/* "2021-03-04", "03/04/1950", "04.03.1950", "3/4/50" at i (a digit at a
 * word start) */
size_t
sl_text_date_numeric(struct scan *s, size_t i)
{
    size_t n1 = ndigits(s, i), n2, n3, j;
    char sep = (char)at(s, i + n1);
    int a, b, c, y = 0, m, d;
    unsigned char order;
    struct sl_text_span *sp;

    if (sep != '-' && sep != '/' && sep != '.')
        return 0;
    n2 = ndigits(s, i + n1 + 1);
    if (n2 < 1 || n2 > 2 || at(s, i + n1 + 1 + n2) != (unsigned char)sep)
        return 0;
    j = i + n1 + 1 + n2 + 1;
    n3 = ndigits(s, j);
    a = num(s, i, n1);
    b = num(s, i + n1 + 1, n2);
    if (n1 == 4 && (n3 == 1 || n3 == 2)) {
        c = num(s, j, n3);
        if (a < 1800 || a > 2199 || !valid_md(b, c))
            return 0;
        y = a, m = b, d = c, order = SL_TD_YMD;
    } else if ((n1 == 1 || n1 == 2) && (n3 == 4 || n3 == 2)) {
        c = num(s, j, n3);
        if (n3 == 4 && (c < 1800 || c > 2199))
            return 0;
        y = n3 == 4 ? c : 0;
        /* '.' is European; '/' and '-' American unless the first
         * number cannot be a month */
        if ((sep == '.' || a > 12) && valid_md(b, a))
            m = b, d = a, order = SL_TD_DMY;
        else if (valid_md(a, b))
            m = a, d = b, order = SL_TD_MDY;
        else
            return 0;
    } else
        return 0;
    j += n3;
    /* "1.2.3.4" or "1-2-3-4" is not a date */
    if (is_alnum(at(s, j)) ||
        (at(s, j) == (unsigned char)sep && is_digit(at(s, j + 1))))
        return 0;
    sp = sl_text_add(s, i, j, SL_TEXT_DATE);
    sp->y = y, sp->m = m, sp->d = d, sp->order = order, sp->sep = sep;
    sp->pad = (unsigned char)(order == SL_TD_YMD ? n2 == 2 : n1 == 2);
    return j;
}

/* "4 March 1950", "4th of Mar, 1950", "4 March" at i (a digit) */
size_t
sl_text_date_dmy(struct scan *s, size_t i)
{
    size_t n = ndigits(s, i), j, we, k;
    int d, m, y = 0;
    unsigned char named = 0, ordsuf;
    struct sl_text_span *sp;

    if (n < 1 || n > 2)
        return 0;
    d = num(s, i, n);
    j = ordinal(s, i + n);
    ordsuf = j != i + n;
    if (at(s, j) != ' ' && at(s, j) != '-')
        return 0;
    j++;
    if (word_is(s, j, word_end(s, j), "of") && at(s, j + 2) == ' ')
        j += 3;
    we = word_end(s, j);
    if ((m = sl_text_month(s, j, we, &named)) == 0 || !valid_md(m, d))
        return 0;
    j = we;
    if (at(s, j) == '.')
        j++;
    k = j;
    if (at(s, k) == ',')
        k++;
    if (at(s, k) == ' ' || at(s, k) == '-') {
        size_t e = year4(s, k + 1, &y);
        if (e != k + 1 && !is_alnum(at(s, e)))
            j = e;
        else
            y = 0;
    }
    sp = sl_text_add(s, i, j, SL_TEXT_DATE);
    sp->y = y, sp->m = m, sp->d = d, sp->order = SL_TD_DMY, sp->named = named;
    sp->ordsuf = ordsuf;
    return j;
}

/* "March 4, 1950", "Mar 4 1950", "March 1950", "March 4th" at i (a
 * capitalised word ending at we) */
size_t
sl_text_date_named(struct scan *s, size_t i, size_t we)
{
    unsigned char named = 0, ordsuf = 0;
    int m = sl_text_month(s, i, we, &named), d = 0, y = 0;
    size_t j = we, n, e;
    struct sl_text_span *sp;

    if (m == 0)
        return 0;
    if (at(s, j) == '.')
        j++;
    if (at(s, j) != ' ')
        return 0;
    j++;
    n = ndigits(s, j);
    if (n == 4) {
        if ((e = year4(s, j, &y)) == j || is_alnum(at(s, e)))
            return 0;
        sp = sl_text_add(s, i, e, SL_TEXT_DATE);
        sp->y = y, sp->m = m, sp->order = SL_TD_MY, sp->named = named;
        return e;
    }
    if (n < 1 || n > 2 || !valid_md(m, num(s, j, n)))
        return 0;
    d = num(s, j, n);
    j += n;
    e = ordinal(s, j);
    ordsuf = e != j;
    j = e;
    if (is_alnum(at(s, j)))
        return 0;
    e = j;
    if (at(s, e) == ',')
        e++;
    if (at(s, e) == ' ') {
        size_t ye = year4(s, e + 1, &y);
        if (ye != e + 1 && !is_alnum(at(s, ye)))
            j = ye;
        else
            y = 0;
    }
    sp = sl_text_add(s, i, j, SL_TEXT_DATE);
    sp->y = y, sp->m = m, sp->d = d, sp->order = SL_TD_MDY, sp->named = named;
    sp->ordsuf = ordsuf;
    return j;
}

int
sl_text_date_write(const struct sl_text_span *sp, int days, int year_only,
                   struct sl_buf *out)
{
    long y = sp->y;
    int m = sp->m, d = sp->d ? sp->d : 15;
    char sep[2] = { sp->sep, '\0' };

    if (sp->y == 0)
        return 0;
    if (year_only) {
        sl_buf_addf(out, "%04ld", y);
        return 1;
    }
    sl_civil_from_days(sl_days_from_civil(y, m, d) + days, &y, &m, &d);
    if (sp->sep) {
        int w = sp->pad ? 2 : 1;
        if (sp->order == SL_TD_YMD)
            sl_buf_addf(out, "%04ld%s%0*d%s%0*d", y, sep, w, m, sep, w, d);
        else
            sl_buf_addf(out, "%0*d%s%0*d%s%04ld", w,
                        sp->order == SL_TD_MDY ? m : d, sep, w,
                        sp->order == SL_TD_MDY ? d : m, sep, y);
        return 1;
    }
    {
        char mname[16];
        const char *sfx = d == 1 || d == 21 || d == 31 ? "st"
                          : d == 2 || d == 22          ? "nd"
                          : d == 3 || d == 23          ? "rd"
                                                       : "th";
        size_t n = sp->named == 2 ? strlen(months[m - 1]) : 3;
        memcpy(mname, months[m - 1], n);
        mname[n] = '\0';
        mname[0] = (char)(mname[0] - 32);
        if (sp->order == SL_TD_MY)
            sl_buf_addf(out, "%s %04ld", mname, y);
        else if (sp->order == SL_TD_DMY)
            sl_buf_addf(out, "%d%s %s %04ld", d, sp->ordsuf ? sfx : "", mname,
                        y);
        else
            sl_buf_addf(out, "%s %d%s, %04ld", mname, d, sp->ordsuf ? sfx : "",
                        y);
    }
    return 1;
}

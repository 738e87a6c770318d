/* text_detect.c - the free-text detectors (see text_detect.h): one
 * hand-written scan from word start to word start; each detector looks
 * only at the word it starts on and the few that follow, so the cost is
 * linear in the text. The name dictionary (text_names.inc) is generated
 * at build time from profiles/names/names.tsv. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/date.h"
#include "deid/text_detect.h"

const char *const sl_text_kind_names[SL_TEXT_NKINDS] = {
    "name", "date", "phone", "email", "url",
    "ip",   "natid", "id",   "zip",   "age",
    "address"
};

/* ---- the name dictionary ---- */

enum { NF_GIVEN = 1, NF_SUR = 2, NF_WORD = 4, NF_EPONYM = 8 };

struct name_ent {
    const char *n;
    unsigned char f;
};

static const struct name_ent names[] = {
#include "deid/text_names.inc"
};

static int
name_cmp(const void *k, const void *e)
{
    return strcmp(k, ((const struct name_ent *)e)->n);
}

/* ---- characters ---- */

static int
is_digit(unsigned char c)
{
    return (unsigned)(c - '0') < 10u;
}

static int
is_upper(unsigned char c)
{
    return (unsigned)(c - 'A') < 26u;
}

static int
is_lower(unsigned char c)
{
    return (unsigned)(c - 'a') < 26u;
}

static int
is_alpha(unsigned char c)
{
    return is_upper(c) || is_lower(c);
}

static int
is_alnum(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c >= 0x80;
}

static unsigned char
lower(unsigned char c)
{
    return is_upper(c) ? (unsigned char)(c + 32) : c;
}

/* The state of one scan */
struct scan {
    const unsigned char *t;
    size_t len;
    struct sl_text_spans *out;
    size_t prev_s, prev_e;   /* the previous word, or prev_e == 0 */
    size_t prev2_s, prev2_e; /* the one before it, or prev2_e == 0 */
};

static unsigned char
at(const struct scan *s, size_t i)
{
    return i < s->len ? s->t[i] : 0;
}

static size_t
ndigits(const struct scan *s, size_t i)
{
    size_t j = i;

    while (j < s->len && is_digit(s->t[j]))
        j++;
    return j - i;
}

static int
num(const struct scan *s, size_t i, size_t n)
{
    int v = 0;

    while (n--)
        v = v * 10 + (s->t[i++] - '0');
    return v;
}

/* 1 when the word at [a, b) is w (lowercase ASCII), ignoring case */
static int
word_is(const struct scan *s, size_t a, size_t b, const char *w)
{
    size_t n = strlen(w), i;

    if (b - a != n)
        return 0;
    for (i = 0; i < n; i++)
        if (lower(s->t[a + i]) != (unsigned char)w[i])
            return 0;
    return 1;
}

static int
word_in(const struct scan *s, size_t a, size_t b, const char *const *list)
{
    for (; *list; list++)
        if (word_is(s, a, b, *list))
            return 1;
    return 0;
}

static struct sl_text_span *
add(struct scan *s, size_t a, size_t b, int kind)
{
    struct sl_text_spans *o = s->out;
    struct sl_text_span *sp;

    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 8;
        o->v = sl_realloc(o->v, o->cap * sizeof(*o->v));
    }
    sp = &o->v[o->n++];
    memset(sp, 0, sizeof(*sp));
    sp->start = a;
    sp->end = b;
    sp->kind = kind;
    return sp;
}

/* the end of the word (letters and digits) that starts at i */
static size_t
word_end(const struct scan *s, size_t i)
{
    while (i < s->len && is_alnum(s->t[i]))
        i++;
    return i;
}

/* ---- month names ---- */

static const char *const months[12] = { "january", "february", "march",
                                        "april",   "may",      "june",
                                        "july",    "august",   "september",
                                        "october", "november", "december" };

/* The month (1-12) whose name or abbreviation ("Mar", "Sept", "Mar.")
 * is the capitalised word [a, b), or 0; *named: 1 abbreviated, 2 full */
static int
month_of(const struct scan *s, size_t a, size_t b, unsigned char *named)
{
    size_t n = b - a, k, i;

    if (n < 3 || n > 9 || !is_upper(s->t[a]))
        return 0;
    for (k = 0; k < 12; k++) {
        const char *m = months[k];
        size_t ml = strlen(m);
        if (n > ml)
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
static size_t
date_numeric(struct scan *s, size_t i)
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
    sp = add(s, i, j, SL_TEXT_DATE);
    sp->y = y, sp->m = m, sp->d = d, sp->order = order, sp->sep = sep;
    sp->pad = (unsigned char)(order == SL_TD_YMD ? n2 == 2 : n1 == 2);
    return j;
}

/* "4 March 1950", "4th of Mar, 1950", "4 March" at i (a digit) */
static size_t
date_dmy_named(struct scan *s, size_t i)
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
    if ((m = month_of(s, j, we, &named)) == 0 || !valid_md(m, d))
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
    sp = add(s, i, j, SL_TEXT_DATE);
    sp->y = y, sp->m = m, sp->d = d, sp->order = SL_TD_DMY, sp->named = named;
    sp->ordsuf = ordsuf;
    return j;
}

/* "March 4, 1950", "Mar 4 1950", "March 1950", "March 4th" at i (a
 * capitalised word ending at we) */
static size_t
date_named(struct scan *s, size_t i, size_t we)
{
    unsigned char named = 0, ordsuf = 0;
    int m = month_of(s, i, we, &named), d = 0, y = 0;
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
        sp = add(s, i, e, SL_TEXT_DATE);
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
    sp = add(s, i, j, SL_TEXT_DATE);
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

/* ---- numbers ---- */

/* "123-45-6789" */
static size_t
ssn(struct scan *s, size_t i)
{
    if (ndigits(s, i) == 3 && at(s, i + 3) == '-' && ndigits(s, i + 4) == 2 &&
        at(s, i + 6) == '-' && ndigits(s, i + 7) == 4 && !is_alnum(at(s, i + 11)))
        return add(s, i, i + 11, SL_TEXT_NATID), i + 11;
    return 0;
}

/* the end of a phone number's digit groups from i: "555-123-4567",
 * "555.123.4567", "555 123 4567", "(555) 123-4567", "+44 20 7946 0958",
 * "1-800-555-0199"; 0 when it is not one */
static size_t
phone(struct scan *s, size_t i)
{
    size_t j = i, n, groups = 0, digits = 0;
    int intl = at(s, i) == '+';

    if (intl)
        j++;
    if (at(s, j) == '(') {
        if (ndigits(s, j + 1) != 3 || at(s, j + 4) != ')')
            return 0;
        j += 5;
        if (at(s, j) == ' ')
            j++;
        if (ndigits(s, j) != 3 || at(s, j + 3) != '-' || ndigits(s, j + 4) != 4)
            return 0;
        j += 8;
        goto done;
    }
    for (;;) {
        n = ndigits(s, j);
        if (n == 0 || n > 5)
            return 0;
        groups++;
        digits += n;
        j += n;
        if ((at(s, j) == '-' || at(s, j) == '.' || at(s, j) == ' ') &&
            is_digit(at(s, j + 1)) && groups < 6)
            j++;
        else
            break;
    }
    if (intl) {
        if (digits < 8 || digits > 15 || groups < 2)
            return 0;
    } else {
        /* NANP: [1-]ddd-ddd-dddd */
        size_t k = i, g[4], ng = 0;
        while (k < j && ng < 4) {
            g[ng++] = ndigits(s, k);
            k += g[ng - 1] + 1;
        }
        if (!(ng == 3 && g[0] == 3 && g[1] == 3 && g[2] == 4) &&
            !(ng == 4 && g[0] == 1 && g[1] == 3 && g[2] == 3 && g[3] == 4))
            return 0;
        if (groups != ng)
            return 0;
    }
done:
    if (is_alnum(at(s, j)))
        return 0;
    add(s, i, j, SL_TEXT_PHONE);
    return j;
}

/* "192.168.1.20" */
static size_t
ipv4(struct scan *s, size_t i)
{
    size_t j = i, n;
    int k;

    for (k = 0; k < 4; k++) {
        n = ndigits(s, j);
        if (n < 1 || n > 3 || num(s, j, n) > 255)
            return 0;
        j += n;
        if (k < 3) {
            if (at(s, j) != '.')
                return 0;
            j++;
        }
    }
    if (is_alnum(at(s, j)) || (at(s, j) == '.' && is_digit(at(s, j + 1))))
        return 0;
    add(s, i, j, SL_TEXT_IP);
    return j;
}

static const char *const age_words[] = { "aged", "age", NULL };
static const char *const id_words[] = {
    "mrn",    "mr",    "acct",   "account", "id",       "record",
    "chart",  "member", "policy", "claim",   "medicare", "medicaid",
    "encounter", "visit", "accession", "specimen", "invoice", "case", NULL
};
static const char *const natid_words[] = { "ssn",   "passport", "licence",
                                           "license", "nhs",    "sin",
                                           "dl",    NULL };
static const char *const number_words[] = { "number", "no", "num", "nr",
                                            NULL };
static const char *const zip_words[] = { "zip", "postcode", "postal", "code",
                                         NULL };
/* the USPS codes of states and territories */
static const char states[] =
    "AK AL AR AS AZ CA CO CT DC DE FL GA GU HI IA ID IL IN KS KY LA MA MD ME "
    "MI MN MO MP MS MT NC ND NE NH NJ NM NV NY OH OK OR PA PR RI SC SD TN TX "
    "UT VA VI VT WA WI WV WY";

static int
is_state(const struct scan *s, size_t a, size_t b)
{
    const char *p;

    if (b - a != 2 || !is_upper(s->t[a]) || !is_upper(s->t[a + 1]))
        return 0;
    for (p = states; *p; p += 3)
        if (p[0] == (char)s->t[a] && p[1] == (char)s->t[a + 1])
            return 1;
    return 0;
}

/* a number that an age over 89 qualifies: "92-year-old", "95 yo",
 * "91 y/o", "93 years old" (the number at [i, e)) */
static int
age_after(const struct scan *s, size_t e)
{
    static const char *const unit[] = { "year", "years", "yr", "yrs", "yo",
                                        "y", NULL };
    size_t j = e, we;

    if (at(s, j) == '-' || at(s, j) == ' ')
        j++;
    we = word_end(s, j);
    if (!word_in(s, j, we, unit))
        return 0;
    if (word_is(s, j, we, "y"))
        return at(s, we) == '/' || at(s, we) == '.'; /* y/o, y.o. */
    if (word_is(s, j, we, "yo"))
        return 1;
    j = we;
    if (at(s, j) == '-' || at(s, j) == ' ')
        j++;
    we = word_end(s, j);
    return word_is(s, j, we, "old") || word_is(s, j, we, "of");
}

/* "12 Elm Street", "4500 North Lake Shore Dr.": a house number at
 * [i, e), one to three capitalised words and a street word; its end, or
 * 0 */
static size_t
street(struct scan *s, size_t i, size_t e)
{
    static const char *const sfx[] = {
        "street", "st",     "avenue", "ave",    "road",  "rd",    "boulevard",
        "blvd",   "lane",   "ln",     "drive",  "dr",    "court", "ct",
        "way",    "place",  "pl",     "terrace", "parkway", "highway",
        "hwy",    "circle", "square", "close",  NULL
    };
    size_t j = e, we;
    int k;

    if (e - i > 5)
        return 0;
    for (k = 0; k < 4; k++) {
        if (at(s, j) != ' ' || !is_upper(at(s, j + 1)))
            return 0;
        j++;
        we = word_end(s, j);
        if (k > 0 && word_in(s, j, we, sfx)) {
            if (at(s, we) == '.')
                we++;
            add(s, i, we, SL_TEXT_ADDRESS);
            return we;
        }
        j = we;
    }
    return 0;
}

/* A number at i (a digit at a word start) */
static size_t
number(struct scan *s, size_t i)
{
    size_t n = ndigits(s, i), e, j, k, pw = s->prev_e ? s->prev_s : 0;
    int prev = s->prev_e != 0;

    if ((e = ssn(s, i)) || (e = ipv4(s, i)) || (e = phone(s, i)) ||
        (e = date_numeric(s, i)) || (e = date_dmy_named(s, i)))
        return e;
    e = i + n;
    /* the whole token: digits, letters, inner '-' ("12345-AB") */
    j = e;
    while (is_alnum(at(s, j)) || (at(s, j) == '-' && is_alnum(at(s, j + 1))))
        j++;
    if (n >= 2 && n <= 3 && (j == e || at(s, e) == '-')) {
        int v = num(s, i, n);
        if (v >= 90 && v <= 125 &&
            (age_after(s, e) || (prev && word_in(s, pw, s->prev_e, age_words))))
            return add(s, i, e, SL_TEXT_AGE), e;
    }
    if (j == e && (k = street(s, i, e)) != 0)
        return k;
    if (prev && n >= 3) {
        /* "MRN 123", "account number 123", "SSN: …" */
        size_t as = pw, ae = s->prev_e;
        if (word_in(s, as, ae, number_words) && s->prev2_e)
            as = s->prev2_s, ae = s->prev2_e;
        if (word_in(s, as, ae, natid_words))
            return add(s, i, j, SL_TEXT_NATID), j;
        if (word_in(s, as, ae, id_words))
            return add(s, i, j, SL_TEXT_ID), j;
    }
    if (n == 5 && prev &&
        (is_state(s, pw, s->prev_e) || word_in(s, pw, s->prev_e, zip_words))) {
        if (at(s, e) == '-' && ndigits(s, e + 1) == 4)
            e += 5;
        if (!is_alnum(at(s, e)))
            return add(s, i, e, SL_TEXT_ZIP), e;
    }
    if (i > 0 && s->t[i - 1] == '#' && n >= 4)
        return add(s, i, j, SL_TEXT_ID), j;
    /* a long run of digits that is not a decimal or a grouped number */
    if (n >= 6 && !(i > 0 && (s->t[i - 1] == '.' || s->t[i - 1] == ',')) &&
        !((at(s, e) == '.' || at(s, e) == ',') && is_digit(at(s, e + 1))))
        return add(s, i, j, SL_TEXT_ID), j;
    /* letters and digits with five digits or more: "A12345678" */
    if (j > e) {
        size_t d = 0, l = 0;
        for (k = i; k < j; k++) {
            d += is_digit(s->t[k]);
            l += is_alpha(s->t[k]);
        }
        if (d >= 5 && l > 0)
            return add(s, i, j, SL_TEXT_ID), j;
    }
    return j;
}

/* ---- words ---- */

/* "https://…", "www.…": its end, or 0 */
static size_t
url(struct scan *s, size_t i)
{
    static const char *const pre[] = { "http://", "https://", "ftp://",
                                       "www.", NULL };
    size_t j = 0, k, n;

    for (k = 0; pre[k]; k++) {
        n = strlen(pre[k]);
        if (i + n <= s->len && strncasecmp((const char *)s->t + i, pre[k], n) == 0) {
            j = i + n;
            break;
        }
    }
    if (j == 0 || !is_alnum(at(s, j)))
        return 0;
    while (j < s->len && s->t[j] > ' ' && s->t[j] != '<' && s->t[j] != '>' &&
           s->t[j] != '"')
        j++;
    while (j > i && strchr(".,;:!?)]'", s->t[j - 1]))
        j--;
    add(s, i, j, SL_TEXT_URL);
    return j;
}

static int
email_local(unsigned char c)
{
    return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' ||
           c == '-';
}

/* "first.last@example.org": its end, or 0 */
static size_t
email(struct scan *s, size_t i)
{
    size_t j = i, dots = 0, last;

    while (j < s->len && email_local(s->t[j]))
        j++;
    if (at(s, j) != '@' || j == i)
        return 0;
    j++;
    last = j;
    while (j < s->len && (is_alnum(s->t[j]) || s->t[j] == '-' ||
                          (s->t[j] == '.' && is_alnum(at(s, j + 1))))) {
        if (s->t[j] == '.')
            dots++;
        j++;
    }
    if (dots == 0 || j == last)
        return 0;
    add(s, i, j, SL_TEXT_EMAIL);
    return j;
}

/* "SW1A 1AA", "M1 1AE": a UK postcode at i; its end, or 0 */
static size_t
postcode(struct scan *s, size_t i)
{
    size_t j = i, k;

    for (k = 0; k < 2 && is_upper(at(s, j)); k++)
        j++;
    if (k == 0 || !is_digit(at(s, j)))
        return 0;
    j++;
    if (is_digit(at(s, j)) || is_upper(at(s, j)))
        j++;
    if (at(s, j) != ' ' || !is_digit(at(s, j + 1)) || !is_upper(at(s, j + 2)) ||
        !is_upper(at(s, j + 3)) || is_alnum(at(s, j + 4)))
        return 0;
    add(s, i, j + 4, SL_TEXT_ZIP);
    return j + 4;
}

/* The dictionary flags of the capitalised word [a, b) (a possessive "'s"
 * taken off), or 0 */
static int
name_flags(const struct scan *s, size_t a, size_t b)
{
    char k[32];
    size_t n = b - a, i;
    const struct name_ent *e;

    if (n >= 2 && s->t[b - 2] == '\'' && lower(s->t[b - 1]) == 's')
        n -= 2;
    if (n < 2 || n >= sizeof(k))
        return 0;
    for (i = 0; i < n; i++)
        k[i] = (char)lower(s->t[a + i]);
    k[n] = '\0';
    e = bsearch(k, names, sizeof(names) / sizeof(names[0]), sizeof(names[0]),
                name_cmp);
    return e ? e->f : 0;
}

/* A capitalised word at i: letters with inner ' or - ("O'Brien",
 * "Smith-Jones"), the first upper case and the rest not all upper case
 * unless caps is set; or an initial "J."; its end, or 0. */
static size_t
cap_word(const struct scan *s, size_t i, int *initial)
{
    size_t j = i;

    *initial = 0;
    if (!is_upper(at(s, i)))
        return 0;
    if (at(s, i + 1) == '.' && !is_alnum(at(s, i + 2))) {
        *initial = 1;
        return i + 2;
    }
    j = i + 1;
    while (is_alpha(at(s, j)) ||
           ((at(s, j) == '\'' || at(s, j) == '-') && is_alpha(at(s, j + 1))))
        j++;
    if (j - i < 2 || is_digit(at(s, j)))
        return 0;
    return j;
}

#define MAXPARTS 4

/* 1 when the word [a, b) is all capitals ("SMITH") */
static int
all_caps(const struct scan *s, size_t a, size_t b)
{
    for (; a < b; a++)
        if (is_lower(s->t[a]))
            return 0;
    return 1;
}

static int
is_strong_given(int f)
{
    return (f & NF_GIVEN) && !(f & (NF_WORD | NF_EPONYM));
}

/* 1 when the word after e (a space, then a capitalised word) is a
 * surname that is not a given name, a common word or an eponym */
static int
strong_surname_next(const struct scan *s, size_t e)
{
    int ini, f;
    size_t e2;

    if (at(s, e) != ' ' || (e2 = cap_word(s, e + 1, &ini)) == 0 || ini ||
        all_caps(s, e + 1, e2))
        return 0;
    f = name_flags(s, e + 1, e2);
    return f == NF_SUR;
}

/* Names at i, a capitalised word: the run of capitalised words from
 * there (at most MAXPARTS; it ends after a part that cannot be a given
 * name) is a name when a title stands before it, when two or more of
 * them are dictionary names (a given name or an initial then a surname,
 * or one that is neither a common word nor an eponym), or when it is one
 * given name that is neither (and not in capitals: "ED"). Returns the
 * end of what was read, or 0. */
static size_t
names_at(struct scan *s, size_t i, int after_title)
{
    size_t st[MAXPARTS], en[MAXPARTS], j = i, np = 0, k;
    int fl[MAXPARTS], ini[MAXPARTS], caps = 0, strong = 0, words = 0;
    unsigned char named;

    while (np < MAXPARTS) {
        size_t e = cap_word(s, j, &ini[np]);
        if (e == 0)
            break;
        fl[np] = ini[np] ? 0 : name_flags(s, j, e);
        /* a month is a date's word before it is a name */
        if (fl[np] && month_of(s, j, e, &named))
            fl[np] |= NF_WORD;
        /* a word the dictionary does not know is a name part only after
         * a title, an initial or a given name that is not a common word
         * ("Patricia Okafor", "J. Okafor"), or before a surname that is
         * not one ("Priya Fitzgerald") */
        if (!ini[np] && fl[np] == 0 && !(after_title && np == 0) &&
            !(np > 0 && (after_title || ini[np - 1] ||
                         is_strong_given(fl[np - 1]))) &&
            !(np == 0 && strong_surname_next(s, e)))
            break;
        if (!ini[np])
            caps |= all_caps(s, j, e);
        if (e - j > 2 && s->t[e - 2] == '\'' && lower(s->t[e - 1]) == 's')
            e -= 2; /* "Smith's" */
        st[np] = j;
        en[np] = e;
        np++;
        /* the run goes on after an initial, a given name, or the first
         * word after a title or before a surname */
        if (at(s, e) != ' ' ||
            !(ini[np - 1] || (fl[np - 1] & NF_GIVEN) ||
              (np == 1 && fl[0] == 0)))
            break;
        j = e + 1;
    }
    /* "Walker, Daniel": a surname, a comma, a given name, one of them
     * not a common word */
    if (np == 1 && !ini[0] && (fl[0] & NF_SUR) && at(s, en[0]) == ',' &&
        at(s, en[0] + 1) == ' ') {
        int i2, f2;
        size_t e2 = cap_word(s, en[0] + 2, &i2);
        if (e2 && !i2 && ((f2 = name_flags(s, en[0] + 2, e2)) & NF_GIVEN) &&
            !all_caps(s, st[0], en[0]) && !all_caps(s, en[0] + 2, e2) &&
            (is_strong_given(f2) || !(fl[0] & (NF_WORD | NF_EPONYM)))) {
            add(s, st[0], e2, SL_TEXT_NAME);
            return e2;
        }
    }
    /* a trailing initial is the next sentence's capital: "… Smith. A" */
    while (np > 0 && ini[np - 1])
        np--;
    if (np == 0)
        return 0;
    if (after_title) {
        add(s, st[0], en[np - 1], SL_TEXT_NAME);
        return en[np - 1];
    }
    for (k = 0; k < np; k++) {
        if (ini[k])
            continue;
        words++;
        if (!(fl[k] & (NF_WORD | NF_EPONYM)))
            strong++;
    }
    if (words == 0)
        return 0;
    if (np >= 2) {
        int first_given = ini[0] || (fl[0] & NF_GIVEN);
        int last_sur = (fl[np - 1] & NF_SUR) != 0;
        if ((strong && !caps) || (first_given && last_sur)) {
            add(s, st[0], en[np - 1], SL_TEXT_NAME);
            return en[np - 1];
        }
        return 0;
    }
    if ((fl[0] & NF_GIVEN) && !(fl[0] & (NF_WORD | NF_EPONYM)) && !caps) {
        add(s, st[0], en[0], SL_TEXT_NAME);
        return en[0];
    }
    return 0;
}

static const char *const titles[] = { "dr",   "mr",    "mrs",    "ms",
                                      "miss", "mx",    "prof",   "professor",
                                      "sr",   "nurse", "doctor", NULL };

/* words that name the person after them: "daughter Maria" */
static const char *const kin[] = {
    "wife",     "husband", "daughter", "son",     "mother",  "father",
    "sister",   "brother", "spouse",   "partner", "friend",  "niece",
    "nephew",   "aunt",    "uncle",    "grandson", "granddaughter",
    "caregiver", "guardian", NULL
};

/* 1 when text may hold something the detectors find: a digit, an upper
 * case letter, '@', "www." or "://" */
static int
worth_scanning(const unsigned char *t, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = t[i];
        if (is_digit(c) || is_upper(c) || c == '@' ||
            (c == '.' && i >= 3 && t[i - 1] == 'w' && t[i - 2] == 'w' &&
             t[i - 3] == 'w') ||
            (c == ':' && i + 2 < len && t[i + 1] == '/' && t[i + 2] == '/'))
            return 1;
    }
    return 0;
}

size_t
sl_text_detect(const char *text, size_t len, struct sl_text_spans *out)
{
    struct scan s = { (const unsigned char *)text, len, out, 0, 0, 0, 0 };
    size_t n0 = out->n, i, e, we;
    int title = 0;

    if (!worth_scanning(s.t, len))
        return 0;
    for (i = 0; i < len; i++) {
        unsigned char c = s.t[i];
        if (!(is_alnum(c) || c == '+' || c == '(') ||
            (i > 0 && is_alnum(s.t[i - 1])))
            continue;
        e = 0;
        if (c == '+' || c == '(') {
            if (is_digit(at(&s, i + 1)) && (e = phone(&s, i)) != 0)
                i = e - 1;
            continue;
        }
        we = word_end(&s, i);
        if ((e = email(&s, i)) != 0 ||
            (strchr("hHwWfF", c) && (e = url(&s, i)) != 0)) {
            i = e - 1;
            title = 0;
            s.prev_e = s.prev2_e = 0;
            continue;
        }
        if (is_digit(c)) {
            e = number(&s, i);
        } else if (is_upper(c)) {
            if ((e = date_named(&s, i, we)) == 0 && (e = postcode(&s, i)) == 0)
                e = names_at(&s, i, title);
        }
        if (e == 0 && is_alpha(c)) {
            /* letters then digits: "MRN12345678" */
            size_t k, d = 0, j = i;
            while (is_alnum(at(&s, j)) ||
                   (at(&s, j) == '-' && is_alnum(at(&s, j + 1))))
                j++;
            for (k = i; k < j; k++)
                d += is_digit(s.t[k]);
            if (d >= 5)
                e = (add(&s, i, j, SL_TEXT_ID), j);
        }
        title = 0;
        if (e > i) {
            s.prev_e = s.prev2_e = 0;
            i = e - 1;
            continue;
        }
        /* a plain word: the next one may be what it announces ("Dr.",
         * "MRN:", "Acct #", "aged") */
        s.prev2_s = s.prev_s;
        s.prev2_e = s.prev_e;
        s.prev_s = i;
        s.prev_e = we;
        title = (is_upper(c) && word_in(&s, i, we, titles)) ||
                word_in(&s, i, we, kin);
        e = we;
        if (at(&s, e) == '.')
            e++;
        if (title && at(&s, e) != ' ')
            title = 0;
        while (e < len && (s.t[e] == ':' || s.t[e] == '#' || s.t[e] == ' '))
            e++;
        i = e - 1;
    }
    return out->n - n0;
}

void
sl_text_spans_free(struct sl_text_spans *s)
{
    if (s == NULL)
        return;
    free(s->v);
    memset(s, 0, sizeof(*s));
}

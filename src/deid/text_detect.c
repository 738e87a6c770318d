/* text_detect.c - the free-text detectors (see text_detect.h): one
 * hand-written scan from word start to word start; each detector looks
 * only at the word it starts on and the few that follow, so the cost is
 * linear in the text. Dates are text_date.c, names text_names.c. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "deid/text_detect_int.h"

const char *const sl_text_kind_names[SL_TEXT_NKINDS] = {
    "name",  "date", "phone", "email", "url",    "ip",
    "natid", "id",   "zip",   "age",   "address"
};

struct sl_text_span *
sl_text_add(struct scan *s, size_t a, size_t b, int kind)
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

/* ---- numbers ---- */

/* "123-45-6789" */
static size_t
ssn(struct scan *s, size_t i)
{
    if (ndigits(s, i) == 3 && at(s, i + 3) == '-' && ndigits(s, i + 4) == 2 &&
        at(s, i + 6) == '-' && ndigits(s, i + 7) == 4 &&
        !is_alnum(at(s, i + 11)))
        return sl_text_add(s, i, i + 11, SL_TEXT_NATID), i + 11;
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
    sl_text_add(s, i, j, SL_TEXT_PHONE);
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
    sl_text_add(s, i, j, SL_TEXT_IP);
    return j;
}

static const char *const age_words[] = { "aged", "age", NULL };
static const char *const id_words[] = {
    "mrn",      "mr",       "acct",      "account", "id",
    "record",   "chart",    "member",    "policy",  "claim",
    "medicare", "medicaid", "encounter", "visit",   "accession",
    "specimen", "invoice",  "case",      NULL
};
static const char *const natid_words[] = { "ssn",     "passport", "licence",
                                           "license", "nhs",      "sin",
                                           "dl",      NULL };
static const char *const number_words[] = { "number", "no", "num", "nr", NULL };
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
    /* codes of two letters, each followed by a space or the end */
    for (p = states;; p += 3) {
        if (p[0] == (char)s->t[a] && p[1] == (char)s->t[a + 1])
            return 1;
        if (p[2] == '\0')
            return 0;
    }
}

/* a number that an age over 89 qualifies: "92-year-old", "95 yo",
 * "91 y/o", "93 years old" (the number at [i, e)) */
static int
age_after(const struct scan *s, size_t e)
{
    static const char *const unit[] = { "year", "years", "yr", "yrs",
                                        "yo",   "y",     NULL };
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
        "street", "st",        "avenue",  "ave",     "road",
        "rd",     "boulevard", "blvd",    "lane",    "ln",
        "drive",  "dr",        "court",   "ct",      "way",
        "place",  "pl",        "terrace", "parkway", "highway",
        "hwy",    "circle",    "square",  "close",   NULL
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
            sl_text_add(s, i, we, SL_TEXT_ADDRESS);
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
        (e = sl_text_date_numeric(s, i)) || (e = sl_text_date_dmy(s, i)))
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
            return sl_text_add(s, i, e, SL_TEXT_AGE), e;
    }
    if (j == e && (k = street(s, i, e)) != 0)
        return k;
    if (prev && n >= 3) {
        /* "MRN 123", "account number 123", "SSN: …" */
        size_t as = pw, ae = s->prev_e;
        if (word_in(s, as, ae, number_words) && s->prev2_e)
            as = s->prev2_s, ae = s->prev2_e;
        if (word_in(s, as, ae, natid_words))
            return sl_text_add(s, i, j, SL_TEXT_NATID), j;
        if (word_in(s, as, ae, id_words))
            return sl_text_add(s, i, j, SL_TEXT_ID), j;
    }
    if (n == 5 && prev &&
        (is_state(s, pw, s->prev_e) || word_in(s, pw, s->prev_e, zip_words))) {
        if (at(s, e) == '-' && ndigits(s, e + 1) == 4)
            e += 5;
        if (!is_alnum(at(s, e)))
            return sl_text_add(s, i, e, SL_TEXT_ZIP), e;
    }
    if (i > 0 && s->t[i - 1] == '#' && n >= 4)
        return sl_text_add(s, i, j, SL_TEXT_ID), j;
    /* a long run of digits that is not a decimal or a grouped number */
    if (n >= 6 && !(i > 0 && (s->t[i - 1] == '.' || s->t[i - 1] == ',')) &&
        !((at(s, e) == '.' || at(s, e) == ',') && is_digit(at(s, e + 1))))
        return sl_text_add(s, i, j, SL_TEXT_ID), j;
    /* letters and digits with five digits or more: "A12345678" */
    if (j > e) {
        size_t d = 0, l = 0;
        for (k = i; k < j; k++) {
            d += is_digit(s->t[k]);
            l += is_alpha(s->t[k]);
        }
        if (d >= 5 && l > 0)
            return sl_text_add(s, i, j, SL_TEXT_ID), j;
    }
    return j;
}

/* ---- words ---- */

/* "https://…", "www.…": its end, or 0 */
static size_t
url(struct scan *s, size_t i)
{
    static const char *const pre[] = { "http://", "https://", "ftp://", "www.",
                                       NULL };
    size_t j = 0, k, n;

    for (k = 0; pre[k]; k++) {
        n = strlen(pre[k]);
        if (i + n <= s->len &&
            strncasecmp((const char *)s->t + i, pre[k], n) == 0) {
            j = i + n;
            break;
        }
    }
    if (j == 0 || !is_alnum(at(s, j)))
        return 0;
    while (j < s->len && s->t[j] > ' ' && s->t[j] != '<' && s->t[j] != '>' &&
           s->t[j] != '"')
        j++;
    while (j > i && s->t[j - 1] && strchr(".,;:!?)]'", s->t[j - 1]))
        j--;
    sl_text_add(s, i, j, SL_TEXT_URL);
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
    sl_text_add(s, i, j, SL_TEXT_EMAIL);
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
    sl_text_add(s, i, j + 4, SL_TEXT_ZIP);
    return j + 4;
}

/* The dictionary flags of the capitalised word [a, b) (a possessive "'s"
 * taken off), or 0 */
static const char *const titles[] = { "dr",   "mr",    "mrs",    "ms",
                                      "miss", "mx",    "prof",   "professor",
                                      "sr",   "nurse", "doctor", NULL };

/* words that name the person after them: "daughter Maria" */
static const char *const kin[] = {
    "wife",     "husband",       "daughter",  "son",      "mother",
    "father",   "sister",        "brother",   "spouse",   "partner",
    "friend",   "niece",         "nephew",    "aunt",     "uncle",
    "grandson", "granddaughter", "caregiver", "guardian", NULL
};

/* 1 when the word [a, b) has no lower-case letter */
static int
all_upper(const struct scan *s, size_t a, size_t b)
{
    for (; a < b; a++)
        if (is_lower(s->t[a]))
            return 0;
    return 1;
}

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
            if ((e = sl_text_date_named(&s, i, we)) == 0 &&
                (e = postcode(&s, i)) == 0)
                e = sl_text_names_at(&s, i, title);
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
                e = (sl_text_add(&s, i, j, SL_TEXT_ID), j);
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
        /* a title in capitals only with its dot: MR, MS, DR and SR are
         * also "magnetic resonance", "multiple sclerosis", "diabetic
         * retinopathy", "sustained release" */
        title = (is_upper(c) && word_in(&s, i, we, titles) &&
                 (!all_upper(&s, i, we) || at(&s, we) == '.')) ||
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

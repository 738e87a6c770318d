/* dicom_deid_values.c - value transforms of the DICOM engine: action
 * codes, dummy values, date shifts with their precision, identifier
 * tokens, the word scan and the scrub. Pure functions, no DCMTK. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/date.h"
#include "deid/dicom_deid_int.h"
#include "deid/text_detect.h"

static const struct {
    const char *code;
    int action;
} action_codes[] = {
    { "K", SL_DDA_K },
    { "X", SL_DDA_X },
    { "Z", SL_DDA_Z },
    { "D", SL_DDA_D },
    { "C", SL_DDA_C },
    { "U", SL_DDA_U },
    { "X/Z", SL_DDA_XZ },
    { "X/D", SL_DDA_XD },
    { "Z/D", SL_DDA_ZD },
    { "X/Z/D", SL_DDA_XZD },
    { "X/Z/U*", SL_DDA_XZU },
    { "X/Z/U", SL_DDA_XZU },
    { "pseudonym", SL_DDA_PSEUDONYM },
    { "name-pseudonym", SL_DDA_NAME },
    { "scrub", SL_DDA_SCRUB },
};

int
sl_dd_action_parse(const char *s)
{
    size_t i;

    if (s == NULL)
        return SL_DDA_NONE;
    for (i = 0; i < sizeof(action_codes) / sizeof(action_codes[0]); i++)
        if (strcmp(s, action_codes[i].code) == 0)
            return action_codes[i].action;
    return SL_DDA_NONE;
}

const char *
sl_dd_action_name(int a)
{
    size_t i;

    for (i = 0; i < sizeof(action_codes) / sizeof(action_codes[0]); i++)
        if (action_codes[i].action == a)
            return action_codes[i].code;
    return "-";
}

/* ---- dates ------------------------------------------------------------ */

static int
all_digits(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

static unsigned
num(const char *s, size_t n)
{
    unsigned v = 0;
    size_t i;

    for (i = 0; i < n; i++)
        v = v * 10 + (unsigned)(s[i] - '0');
    return v;
}

/* Shifts one DA/DT value of length n. Precision is kept: a year alone is
 * shifted from its middle (2 July), a year and month from the 15th, so
 * the result stays within the shift's reach. */
static int
shift_one(const char *s, size_t n, int days, struct sl_buf *out)
{
    size_t digits = 0;
    long y;
    unsigned m = 7, d = 2;
    char tmp[16];

    while (digits < n && isdigit((unsigned char)s[digits]))
        digits++;
    if (n == 0) /* an empty value stays empty */
        return 0;
    if (digits != 4 && digits != 6 && digits < 8)
        return -1;
    y = (long)num(s, 4);
    if (digits >= 6) {
        m = num(s + 4, 2);
        d = 15;
    }
    if (digits >= 8)
        d = num(s + 6, 2);
    if (m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    {
        int cm, cd;
        sl_civil_from_days(sl_days_from_civil(y, (int)m, (int)d) + days, &y,
                           &cm, &cd);
        m = (unsigned)cm;
        d = (unsigned)cd;
    }
    if (y < 0 || y > 9999)
        return -1;
    if (digits == 4)
        snprintf(tmp, sizeof(tmp), "%04ld", y);
    else if (digits == 6)
        snprintf(tmp, sizeof(tmp), "%04ld%02u", y, m);
    else
        snprintf(tmp, sizeof(tmp), "%04ld%02u%02u", y, m, d);
    sl_buf_adds(out, tmp);
    /* The time part of a DT (and anything after 8 digits) is kept. */
    if (digits > 8 || n > digits)
        sl_buf_add(out, s + (digits >= 8 ? 8 : digits),
                   n - (digits >= 8 ? 8 : digits));
    return 0;
}

int
sl_dd_shift_dates(const char *value, const char *vr, int days,
                  struct sl_buf *out)
{
    const char *p = value;

    sl_buf_reset(out);
    for (;;) {
        const char *end = strchr(p, '\\');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        const char *dash = memchr(p, '-', n);

        /* A DA range (query form) "A-B": both ends. A DT offset "-0500"
         * comes after at least 4 digits and is kept by shift_one. */
        if (strcmp(vr, "DA") == 0 && dash != NULL) {
            if (shift_one(p, (size_t)(dash - p), days, out) != 0)
                return -1;
            sl_buf_addc(out, '-');
            if (shift_one(dash + 1, n - (size_t)(dash - p) - 1, days, out) != 0)
                return -1;
        } else if (strcmp(vr, "DA") == 0 && (n != 8 || !all_digits(p, n)) &&
                   n != 0) {
            return -1;
        } else if (shift_one(p, n, days, out) != 0) {
            return -1;
        }
        if (end == NULL)
            break;
        sl_buf_addc(out, '\\');
        p = end + 1;
    }
    return 0;
}

/* ---- dummies ---------------------------------------------------------- */

const char *
sl_dd_dummy(const char *vr)
{
    static const struct {
        const char *vr, *value;
    } dummies[] = {
        { "AE", "ANONYMIZED" },
        { "AS", "000Y" },
        { "CS", "ANONYMIZED" },
        { "DA", "19000101" },
        { "DS", "0" },
        { "DT", "19000101000000" },
        { "IS", "0" },
        { "LO", "ANONYMIZED" },
        { "LT", "ANONYMIZED" },
        { "PN", "ANONYMIZED" },
        { "SH", "ANONYMIZED" },
        { "ST", "ANONYMIZED" },
        { "TM", "000000" },
        { "UC", "ANONYMIZED" },
        { "UR", "urn:oid:2.25.0" },
        { "UT", "ANONYMIZED" },
        { "US", "0" },
        { "SS", "0" },
        { "UL", "0" },
        { "SL", "0" },
        { "UV", "0" },
        { "SV", "0" },
        { "FL", "0" },
        { "FD", "0" },
    };
    size_t i;

    for (i = 0; i < sizeof(dummies) / sizeof(dummies[0]); i++)
        if (strcmp(vr, dummies[i].vr) == 0)
            return dummies[i].value;
    return NULL;
}

int
sl_dd_vr_is_text(const char *vr)
{
    static const char *const text[] = { "AE", "LO", "LT", "PN", "SH",
                                        "ST", "UC", "UT", "UR" };
    size_t i;

    for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
        if (strcmp(vr, text[i]) == 0)
            return 1;
    return 0;
}

/* ---- identifiers ------------------------------------------------------ */

/* Tokens shorter than this are too common to look for ("Li" would match
 * everywhere); the whole value is still looked for. */
#define MIN_TOKEN 3

static void
push_token(struct sl_strv *sv, const char *s, size_t n)
{
    size_t i, alnum = 0;

    while (n > 0 && (s[0] == ' ' || s[0] == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    for (i = 0; i < n; i++)
        if (isalnum((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80)
            alnum++;
    if (alnum < MIN_TOKEN)
        return;
    for (i = 0; i < sv->n; i++)
        if (strlen(sv->v[i]) == n && strncmp(sv->v[i], s, n) == 0)
            return;
    sl_strv_push_owned(sv, sl_strndup(s, n));
}

void
sl_dd_tokens(const char *value, const char *vr, struct sl_strv *sv)
{
    const char *p = value;
    const int pn = strcmp(vr, "PN") == 0;

    for (;;) {
        const char *end = strchr(p, '\\');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

        push_token(sv, p, n);
        if (pn) {
            size_t i, start = 0;
            /* Name components and words: "Doe^John Q" looks for "Doe",
             * "John". */
            for (i = 0; i <= n; i++) {
                if (i == n || p[i] == '^' || p[i] == '=' || p[i] == ' ') {
                    push_token(sv, p + start, i - start);
                    start = i + 1;
                }
            }
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
}

static int
word_char(int c)
{
    return isalnum(c) || c >= 0x80;
}

/* Position of the first whole-word, case-insensitive occurrence of token
 * in value, or NULL. */
static const char *
find_word(const char *value, const char *token)
{
    size_t n = strlen(token);
    const char *p;

    if (n == 0)
        return NULL;
    for (p = value; *p != '\0'; p++) {
        if (strncasecmp(p, token, n) != 0)
            continue;
        if (p > value && word_char((unsigned char)p[-1]) &&
            word_char((unsigned char)token[0]))
            continue;
        if (word_char((unsigned char)p[n]) &&
            word_char((unsigned char)token[n - 1]))
            continue;
        return p;
    }
    return NULL;
}

int
sl_dd_contains_word(const char *value, const char *token)
{
    return find_word(value, token) != NULL;
}

size_t
sl_dd_scrub(const char *value, const struct sl_strv *tokens, struct sl_buf *out)
{
    char *work = sl_strdup(value);
    size_t hits = 0, i;

    /* Longest tokens first would be ideal; tokens are few and a shorter
     * one inside a longer one is a name component, scrubbed either way. */
    for (i = 0; i < tokens->n; i++) {
        const char *t = tokens->v[i];
        char *p;
        /* A token of X's would be found again in its own replacement. */
        if (strspn(t, "Xx") == strlen(t))
            continue;
        while ((p = (char *)find_word(work, tokens->v[i])) != NULL) {
            memset(p, 'X', strlen(tokens->v[i]));
            hits++;
        }
    }
    sl_buf_reset(out);
    sl_buf_adds(out, work);
    sl_freezero(work, strlen(work));
    return hits;
}

size_t
sl_dd_scrub_text(const char *value, const struct sl_strv *tokens,
                 int modified_dates, int days, struct sl_buf *out)
{
    struct sl_text_spans sp = { 0 };
    struct sl_buf res, d;
    size_t hits = sl_dd_scrub(value, tokens, out), at = 0, k;
    const char *v = out->data ? out->data : "";

    if (sl_text_detect(v, strlen(v), &sp) == 0)
        return hits;
    sl_buf_init(&res);
    sl_buf_init(&d);
    for (k = 0; k < sp.n; k++) {
        const struct sl_text_span *p = &sp.v[k];
        size_t n = p->end - p->start;
        sl_buf_add(&res, v + at, p->start - at);
        sl_buf_reset(&d);
        if (p->kind == SL_TEXT_DATE) {
            /* text VRs have length limits: a moved date that would be
             * longer than the original ("May 4" to "September 30")
             * becomes its year */
            if (!modified_dates || !sl_text_date_write(p, days, 0, &d) ||
                d.len > n) {
                sl_buf_reset(&d);
                sl_text_date_write(p, 0, 1, &d);
            }
        }
        if (d.len > 0)
            sl_buf_add(&res, d.data, d.len);
        else
            while (n--)
                sl_buf_addc(&res, 'X');
        at = p->end;
    }
    sl_buf_adds(&res, v + at);
    hits += sp.n;
    sl_buf_reset(out);
    sl_buf_add(out, res.data, res.len);
    if (res.data)
        sl_freezero(res.data, res.cap);
    if (d.data)
        sl_freezero(d.data, d.cap);
    sl_text_spans_free(&sp);
    return hits;
}

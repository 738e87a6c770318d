/* text_detect_int.h - what the files of the free-text detectors share
 * (text_detect.c: the scan, numbers, addresses, URLs; text_date.c: dates;
 * text_names.c: names). Not a public header: text_detect.h is. */
#ifndef SL_DEID_TEXT_DETECT_INT_H
#define SL_DEID_TEXT_DETECT_INT_H

#include <stddef.h>
#include <string.h>

#include "deid/text_detect.h"

static inline int
is_digit(unsigned char c)
{
    return (unsigned)(c - '0') < 10u;
}

static inline int
is_upper(unsigned char c)
{
    return (unsigned)(c - 'A') < 26u;
}

static inline int
is_lower(unsigned char c)
{
    return (unsigned)(c - 'a') < 26u;
}

static inline int
is_alpha(unsigned char c)
{
    return is_upper(c) || is_lower(c);
}

static inline int
is_alnum(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c >= 0x80;
}

static inline unsigned char
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

static inline unsigned char
at(const struct scan *s, size_t i)
{
    return i < s->len ? s->t[i] : 0;
}

static inline size_t
ndigits(const struct scan *s, size_t i)
{
    size_t j = i;

    while (j < s->len && is_digit(s->t[j]))
        j++;
    return j - i;
}

static inline int
num(const struct scan *s, size_t i, size_t n)
{
    int v = 0;

    /* a run of digits longer than any date part or age ("21.3444...",
     * found by fuzz_text_detect) saturates rather than overflow an int:
     * 999999999 is no valid day, month, year or age */
    while (n--) {
        int d = s->t[i++] - '0';
        v = v > 99999999 ? 999999999 : v * 10 + d;
    }
    return v;
}

/* 1 when the word at [a, b) is w (lowercase ASCII), ignoring case */
static inline int
word_is(const struct scan *s, size_t a, size_t b, const char *w)
{
    size_t n = b - a, i;

    /* most words differ at the first letter: no strlen first */
    for (i = 0; i < n; i++)
        if (w[i] == '\0' || lower(s->t[a + i]) != (unsigned char)w[i])
            return 0;
    return w[n] == '\0';
}

static inline int
word_in(const struct scan *s, size_t a, size_t b, const char *const *list)
{
    for (; *list; list++)
        if (word_is(s, a, b, *list))
            return 1;
    return 0;
}

/* the end of the word (letters and digits) that starts at i */
static inline size_t
word_end(const struct scan *s, size_t i)
{
    while (i < s->len && is_alnum(s->t[i]))
        i++;
    return i;
}

/* A new span [a, b) of kind appended to the scan's output (its date
 * fields zero). */
struct sl_text_span *sl_text_add(struct scan *s, size_t a, size_t b, int kind);

/* text_date.c. The month (1-12) whose name or abbreviation is the
 * capitalised word [a, b), or 0; *named: 1 abbreviated, 2 full. */
int sl_text_month(const struct scan *s, size_t a, size_t b,
                  unsigned char *named);
/* Dates at i, each returning the end of the date found, or 0:
 * "2021-03-04", "03/04/1950", "04.03.1950" (i: a digit at a word start) */
size_t sl_text_date_numeric(struct scan *s, size_t i);
/* "4 March 1950", "4th of Mar, 1950" (i: a digit at a word start) */
size_t sl_text_date_dmy(struct scan *s, size_t i);
/* "March 4, 1950", "March 1950" (i: a capitalised word ending at we) */
size_t sl_text_date_named(struct scan *s, size_t i, size_t we);

/* text_names.c: the names at i, a capitalised word (after_title: a
 * title or a kin word stands before it); the end of what was read, or
 * 0. */
size_t sl_text_names_at(struct scan *s, size_t i, int after_title);

#endif

/* fhir_digits.c - identifiers kept as numbers, or as digits in a string
 * with separators, caught during the walk (see fhir_int.h). The writer's
 * leak scan (fhir_write.c) reads strings at word boundaries and integers
 * of six digits or more against every value learned from the input; what
 * it cannot see is checked here, on each value the profile keeps or
 * scrubs:
 *
 * - the patient's own MRN (the identifier its date shift derives from),
 *   from DIGITS_MRN_MIN digits: as a number (valueInteger 4471,
 *   valueDecimal 12345678.0), or as digits in a string however they are
 *   split or run into letters ("12-345-678", "1234 5678", "MRN12345678").
 *   Only the resource's own patient is looked for: short numbers of
 *   other patients would match counts and measurements of everyone.
 * - a decimal without a fraction (12345678.0) of six digits or more
 *   against every learned value, as the writer does for integers.
 *
 * A hit quarantines the resource with the element's path, never the
 * value. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "deid/fhir_int.h"

/* The patient's MRN is looked for in numbers and digit groups from this
 * many digits: a three-digit one would match a blood pressure. */
#define DIGITS_MRN_MIN 4
/* As fhir_write.c's LEAK_INT_DIGITS: integral decimals against every
 * learned value from this many digits. */
#define DIGITS_ALL_MIN 6
#define DIGITS_MAX     40
/* Between two digits, one of these continues a group of digits. */
#define DIGIT_SEPS " -./"

static int
is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* The digits of s, in order, into out (cap bytes, NUL-terminated);
 * their number, or 0 when there are none or too many. */
static size_t
only_digits(const char *s, char *out, size_t cap)
{
    size_t n = 0;

    for (; *s; s++) {
        if (!is_digit(*s))
            continue;
        if (n + 1 >= cap)
            return 0;
        out[n++] = *s;
    }
    out[n] = '\0';
    return n;
}

/* The digits of a JSON number as a reader of the output sees them: an
 * integer, or a real without a fraction (its sign dropped); 0 for any
 * other value. */
static size_t
number_digits(const json_t *v, char *out, size_t cap)
{
    char tmp[64];

    if (json_is_integer(v)) {
        /* by hand: most kept values are integers, and printf is slow */
        json_int_t x = json_integer_value(v);
        unsigned long long u =
            x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
        char *p = tmp + sizeof(tmp) - 1;
        size_t n;
        *p = '\0';
        do {
            *--p = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        n = (size_t)(tmp + sizeof(tmp) - 1 - p);
        if (n + 1 > cap)
            return 0;
        memcpy(out, p, n + 1);
        return n;
    } else if (json_is_real(v)) {
        double x = fabs(json_real_value(v));
        if (!(x < 1e15) || x != floor(x))
            return 0;
        snprintf(tmp, sizeof(tmp), "%.0f", x);
    } else
        return 0;
    return only_digits(tmp, out, cap);
}

/* 1 when s (n bytes) holds want (wn digits) as a run of consecutive digit
 * chunks: a chunk is a run of digits, and chunks are joined by one
 * character of DIGIT_SEPS ("12-345-678 12" is the chunks 12, 345, 678 and
 * 12: 12345678 is found, as 34567 is not). Letters and other characters
 * join nothing. */
static int
has_digit_group(const char *s, size_t n, const char *want, size_t wn)
{
    size_t i, j, g;

    for (i = 0; i < n; i++) {
        if (!is_digit(s[i]) || (i > 0 && is_digit(s[i - 1])))
            continue; /* not the start of a chunk */
        for (j = i, g = 0; g < wn && j < n;) {
            if (is_digit(s[j])) {
                if (s[j] != want[g])
                    break;
                g++;
                j++;
            } else if (j > i && s[j] != '\0' && strchr(DIGIT_SEPS, s[j]) &&
                       j + 1 < n && is_digit(s[j + 1]))
                j++;
            else
                break;
        }
        if (g == wn && (j >= n || !is_digit(s[j])))
            return 1;
    }
    return 0;
}

int
fhir_digits_leak(struct call *c, struct res *r, const struct el *e,
                 const json_t *v)
{
    char num[DIGITS_MAX];
    const char *mrn = "";
    size_t mn = 0, nn;

    if (r && r->pat && r->pat->mrn) {
        if (!r->have_mrn_digits) {
            r->mrn_ndigits =
                only_digits(r->pat->mrn, r->mrn_digits, sizeof(r->mrn_digits));
            r->have_mrn_digits = 1;
        }
        mn = r->mrn_ndigits;
        mrn = r->mrn_digits;
    }
    if (mn < DIGITS_MRN_MIN)
        mn = 0;
    if (mn == 0 && !json_is_real(v))
        return 0;
    if (json_is_number(v)) {
        nn = number_digits(v, num, sizeof(num));
        if (nn == 0)
            return 0;
        if (mn && nn == mn && memcmp(num, mrn, mn) == 0)
            goto patient;
        if (json_is_real(v) && nn >= DIGITS_ALL_MIN) {
            size_t a, b;
            if (sl_fhir_vset_find(&c->d->values, num, nn, 0, &a, &b)) {
                fhir_call_fail(c, SL_EQUARANTINE,
                               "leak scan: a value learned from the input (a "
                               "name, identifier, contact or address) "
                               "remains at %s",
                               c->path);
                return 1;
            }
        }
        return 0;
    }
    /* strings: not a narrative or attachment content (read by the
     * writer's scan), nor a code or an id (tokens of code systems and of
     * the resource, whose digits are not the patient's) */
    if (mn == 0 || !json_is_string(v))
        return 0;
    /* most strings have none of the MRN's first digit: nothing to walk
     * (asked first: cheaper than the four comparisons of the type) */
    if (memchr(json_string_value(v), mrn[0], json_string_length(v)) == NULL)
        return 0;
    if (strcmp(e->type, "xhtml") == 0 || strcmp(e->type, "base64Binary") == 0 ||
        strcmp(e->type, "code") == 0 || strcmp(e->type, "id") == 0)
        return 0;
    if (!has_digit_group(json_string_value(v), json_string_length(v), mrn, mn))
        return 0;
patient:
    fhir_call_fail(c, SL_EQUARANTINE,
                   "leak scan: the patient's identifier remains at %s, "
                   "as digits (a number, or digits in a string)",
                   c->path);
    return 1;
}

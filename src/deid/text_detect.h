/* text_detect.h - identifiers found in free text without learning them:
 * dates in their common written forms, phone and fax numbers, e-mail
 * addresses, URLs, IP addresses, SSNs and other national-id shapes,
 * MRN-like and account-like tokens, ZIP codes and postcodes, street
 * addresses, ages over 89, and personal names from the name dictionary
 * (profiles/names/) where they stand as names. Used by the FHIR scrubber
 * (fhir_scrub.c); see docs/deid.md, "Free text". Not a public header. */
#ifndef SL_DEID_TEXT_DETECT_H
#define SL_DEID_TEXT_DETECT_H

#include <stddef.h>

#include "common/common.h"

enum sl_text_kind {
    SL_TEXT_NAME,
    SL_TEXT_DATE,
    SL_TEXT_PHONE,
    SL_TEXT_EMAIL,
    SL_TEXT_URL,
    SL_TEXT_IP,
    SL_TEXT_NATID, /* SSN, passport, licence, NHS number */
    SL_TEXT_ID,    /* MRN, account and other record numbers */
    SL_TEXT_ZIP,
    SL_TEXT_AGE,     /* an age over 89 (the number only) */
    SL_TEXT_ADDRESS, /* a street address: "12 Elm Street" */
    SL_TEXT_NKINDS
};

/* "name", "date", ... (the categories of docs/deid.md and of the
 * measurement tool) */
extern const char *const sl_text_kind_names[SL_TEXT_NKINDS];

/* How a date was written, so that it can be written again shifted. */
enum { SL_TD_YMD, SL_TD_MDY, SL_TD_DMY, SL_TD_MY };

struct sl_text_span {
    size_t start, end; /* byte offsets in the text, end exclusive */
    int kind;
    /* SL_TEXT_DATE: what was read. y: 0 when no year was written, or a
     * two-digit year (not reliable enough to keep or shift); d: 0 when
     * no day was written */
    int y, m, d;
    unsigned char order;  /* SL_TD_* */
    char sep;             /* '-', '/', '.' for numeric dates; 0: month name */
    unsigned char named;  /* month name: 1 abbreviated, 2 in full */
    unsigned char pad;    /* numeric: day and month written with two digits */
    unsigned char ordsuf; /* "4th March": an ordinal suffix */
};

struct sl_text_spans {
    struct sl_text_span *v;
    size_t n, cap;
};

/* Appends the spans found in text (len bytes of UTF-8; need not be
 * NUL-terminated) to out, in text order, not overlapping. Returns the
 * number appended. A linear scan: text without a digit, '@', '/', or an
 * upper-case letter returns at once. */
size_t sl_text_detect(const char *text, size_t len, struct sl_text_spans *out);

/* Frees out's array (NULL-safe) and leaves it empty. */
void sl_text_spans_free(struct sl_text_spans *s);

/* A date span written again into out: with year_only, its year
 * ("1950"); otherwise moved by days and written in the form it was
 * written in (a month and year is moved as its 15th, as FHIR's
 * date-shift does). Returns 0, writing nothing, when the date has no
 * reliable year: the caller redacts it. */
int sl_text_date_write(const struct sl_text_span *sp, int days, int year_only,
                       struct sl_buf *out);

#endif

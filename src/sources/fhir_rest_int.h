/* fhir_rest_int.h - what the fhir-rest source's files share: the reader
 * of one searchset Bundle page (fhir_rest_page.c, fuzzed by
 * tests/fuzz/fuzz_rest_page.c) and FHIR instants as milliseconds. */
#ifndef SL_SOURCES_FHIR_REST_INT_H
#define SL_SOURCES_FHIR_REST_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* One page of a search: a Bundle of type searchset (or collection, as
 * some servers answer $everything). */
struct sl_rest_page {
    json_t *doc;     /* the Bundle (owned) */
    json_t *entries; /* its entry array (borrowed from doc), or NULL */
    char *next;      /* the URL of link[relation=next], or NULL */
};

/* Reads the page in buf[0..len). On success (0) *out holds it (free with
 * sl_rest_page_clear). On failure (-1) why says what is wrong without
 * quoting the data: "malformed JSON at line 3 column 7", "not a Bundle
 * (OperationOutcome)", "a link has no url". */
int sl_rest_page_parse(const char *buf, size_t len, struct sl_rest_page *out,
                       char *why, size_t whylen);
void sl_rest_page_clear(struct sl_rest_page *p); /* NULL-safe, reusable */

/* What one entry of a page holds. Returns 0 with *res the resource
 * (borrowed) and *mode 'm' (a match), 'i' (an _include or _revinclude)
 * or 'o' (an OperationOutcome the server adds: not data), or -1 with why
 * set ("no resource", "no resourceType"). */
int sl_rest_page_entry(const json_t *entry, json_t **res, char *mode,
                       char *why, size_t whylen);

/* A FHIR instant ("2026-12-07T14:03:00.123Z", "+01:00" offsets, seconds
 * fractions of any length) as milliseconds since 1970 UTC: 0, or -1 when
 * s is not one. */
int sl_rest_instant_ms(const char *s, int64_t *out);
/* ms as "YYYY-MM-DDThh:mm:ss.fffZ" (out: at least 32 bytes). */
void sl_rest_instant_format(int64_t ms, char *out, size_t len);

#endif

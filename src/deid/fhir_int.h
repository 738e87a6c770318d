/* fhir_int.h - internals of the FHIR de-identification engine shared by
 * its files. Not a public header: the API is fhir.h. The FHIR knowledge
 * it uses (type table, dates, the JSON tape) is src/fhir/. */
#ifndef SL_DEID_FHIR_INT_H
#define SL_DEID_FHIR_INT_H

#include <stddef.h>
#include <stdint.h>

#include "fhir/fhir.h"

/* ---- small transforms ---------------------------------------------------- */
/* ZIP code to its first 3 digits, "000" for the prefixes of areas of
 * 20,000 people or fewer (Safe Harbor (B), 2000 census list). out: at
 * least 4 bytes. Returns 0 when zip does not start with 3 digits. */
int sl_fhir_zip3(const char *zip, char *out);
/* A UUID (8-4-4-4-12, version 4 bits set) from a base32 pseudonym.
 * out: at least 37 bytes. */
void sl_fhir_uuid_from_pseudonym(const char *ps, char *out);

/* ---- learned values: a set of normalised strings ------------------------
 * Values are trimmed of leading and trailing characters that are not
 * letters or digits and lowercased (ASCII); matches in text start and end
 * at word boundaries, so "Ann" is found in "Ann Lee" but not in "Annual". */
struct sl_fhir_vset {
    uint64_t *slot; /* hashes of the values (see fhir_util.c), 0: empty */
    size_t cap, n;
    size_t maxlen;
    unsigned char *first; /* bitmap of the first two bytes of values */
    unsigned char *words; /* bitmap of the hashes of their first words */
};
/* minlen: at least 2 (the look-up filters on the first two bytes). */
void sl_fhir_vset_add(struct sl_fhir_vset *s, const char *v, size_t minlen);
void sl_fhir_vset_free(struct sl_fhir_vset *s);
/* Finds the first match in text at or after from: returns 1 and sets
 * *start, *end (byte offsets) or returns 0. */
int sl_fhir_vset_find(const struct sl_fhir_vset *s, const char *text,
                      size_t len, size_t from, size_t *start, size_t *end);
/* text with every match replaced by repl; caller frees. NULL when there
 * was no match. */
char *sl_fhir_vset_scrub(const struct sl_fhir_vset *s, const char *text,
                         const char *repl);
/* The same for XHTML (Narrative.div): only the text between tags is
 * looked at, so markup stays well-formed and its names never match. */
int sl_fhir_vset_find_markup(const struct sl_fhir_vset *s, const char *text);
char *sl_fhir_vset_scrub_markup(const struct sl_fhir_vset *s, const char *text,
                                const char *repl);

#endif

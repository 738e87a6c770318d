/* fhir_int.h - internals of the FHIR de-identification engine shared by
 * fhir.c, fhir_util.c and the generated type table fhir_types.c. Not a
 * public header: the API is fhir.h. */
#ifndef SL_DEID_FHIR_INT_H
#define SL_DEID_FHIR_INT_H

#include <stddef.h>
#include <stdint.h>

/* ---- the R4 type table (fhir_types.c, generated) ------------------------
 * path: "Observation.value[x]", "HumanName.family", or a bare type or
 * resource name. types: type codes joined by '|'; "@Path" for a
 * contentReference (the element has the children of Path); for bare names
 * "=resource", "=complex" or "=primitive". Sorted by strcmp(path). */
struct sl_fhir_type_row {
    const char *path;
    const char *types;
};
extern const struct sl_fhir_type_row sl_fhir_type_rows[];
extern const size_t sl_fhir_type_nrows;

/* The types of path, or NULL. The returned string is static. */
const char *sl_fhir_type_lookup(const char *path);
/* 1 if name is a resource type (Patient, Bundle...). */
int sl_fhir_type_is_resource(const char *name);
/* 1 if name is a complex data type (HumanName, Quantity...). */
int sl_fhir_type_is_complex(const char *name);

/* Resolves JSON key under the table path base ("Observation",
 * "Observation.component", "HumanName"). On success fills canon (the
 * table path of the element, "Observation.value[x]"), type (the one type
 * code that applies: for a choice, the one the key names) and returns 1;
 * returns 0 for a key FHIR R4 does not define there. */
int sl_fhir_elem_resolve(const char *base, const char *key, char *canon,
                         size_t canon_len, char *type, size_t type_len);

/* ---- dates (fhir_util.c) ------------------------------------------------ */
enum sl_fhir_date_prec {
    SL_FD_BAD = 0,
    SL_FD_YEAR,
    SL_FD_MONTH,
    SL_FD_DAY,
    SL_FD_TIME /* date and time of day, with or without a zone */
};
struct sl_fhir_date {
    int prec;
    int y, m, d;
    const char *rest; /* "T..." of the original, when prec is SL_FD_TIME */
};
/* Parses a FHIR date, dateTime or instant. Returns prec (SL_FD_BAD when
 * it is not one). rest points into s. */
int sl_fhir_date_parse(const char *s, struct sl_fhir_date *out);
/* Writes date at its own precision (rest appended for SL_FD_TIME). */
void sl_fhir_date_format(const struct sl_fhir_date *dt, char *out, size_t len);
/* Shifts by days, keeping the precision: a year is shifted as its 2 July,
 * a month as its 15th; times of day and zones are kept. */
void sl_fhir_date_shift(struct sl_fhir_date *dt, int days);
/* Completed years from birth (b) to date (t), month and day taken as 1
 * where missing. */
int sl_fhir_age_at(const struct sl_fhir_date *b, const struct sl_fhir_date *t);

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

/* fhir.h - what sluice knows of FHIR R4 itself, for every stage that
 * reads or writes FHIR (de-identification now; terminology and validation
 * later): the R4 type table, element resolution and FHIR dates. The JSON
 * reader the stages share is jtape.h. */
#ifndef SL_FHIR_FHIR_H
#define SL_FHIR_FHIR_H

#include <stddef.h>

/* ---- the R4 type table (fhir_type_rows.c, generated) --------------------
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

/* The types of path, or NULL. The returned string is static. Safe from
 * several threads (the index is built once). */
const char *sl_fhir_type_lookup(const char *path);
/* 1 if name is a resource type (Patient, Bundle...). */
int sl_fhir_type_is_resource(const char *name);
/* 1 if name is a complex data type (HumanName, Quantity...). */
int sl_fhir_type_is_complex(const char *name);

/* ---- the Patient compartment (fhir_compartment.c, generated) ----------
 * From FHIR R4's CompartmentDefinition/patient: per resource type of the
 * compartment, the elements (paths below the resource, "subject",
 * "participant.actor") whose references link it to its patient, in the
 * order they are tried: first those that can only name a Patient
 * (SL_FL_PATIENT), then the definition's others, which may also name a
 * Group, a Practitioner... (SL_FL_MEMBER); then the Reference elements
 * that can only name an Encounter or an EpisodeOfCare (SL_FL_CONTEXT),
 * through which a resource reaches the patient of its encounter. Types
 * without rows (Practitioner, Organization, Medication...) are outside
 * the compartment. Rows are sorted by type (strcmp). */
enum sl_fhir_link_kind { SL_FL_PATIENT, SL_FL_MEMBER, SL_FL_CONTEXT };
struct sl_fhir_link {
    const char *type;
    const char *path;
    int kind;
};
extern const struct sl_fhir_link sl_fhir_compartment_links[];
extern const size_t sl_fhir_compartment_nlinks;
/* The types SL_FL_CONTEXT elements name, NULL-terminated. */
extern const char *const sl_fhir_context_types[];

/* The n rows of type, or NULL (n = 0) when type is outside the Patient
 * compartment. */
const struct sl_fhir_link *sl_fhir_compartment_links_of(const char *type,
                                                        size_t *n);
/* 1 if an SL_FL_CONTEXT element may name a resource of this type. */
int sl_fhir_is_context_type(const char *type);

/* ---- elements (fhir_elem.c) ---------------------------------------------
 * Resolves JSON key under the table path base ("Observation",
 * "Observation.component", "HumanName"). On success fills canon (the
 * table path of the element, "Observation.value[x]"), type (the one type
 * code that applies: for a choice, the one the key names) and returns 1;
 * returns 0 for a key FHIR R4 does not define there. */
int sl_fhir_elem_resolve(const char *base, const char *key, char *canon,
                         size_t canon_len, char *type, size_t type_len);

/* ---- dates (fhir_date.c) ------------------------------------------------ */
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
 * it is not one). rest points into s: s must outlive *out. */
int sl_fhir_date_parse(const char *s, struct sl_fhir_date *out);
/* Writes date at its own precision (rest appended for SL_FD_TIME). */
void sl_fhir_date_format(const struct sl_fhir_date *dt, char *out, size_t len);
/* Shifts by days, keeping the precision: a year is shifted as its 2 July,
 * a month as its 15th; times of day and zones are kept. */
void sl_fhir_date_shift(struct sl_fhir_date *dt, int days);
/* Completed years from birth (b) to date (t), month and day taken as 1
 * where missing. */
int sl_fhir_date_age_at(const struct sl_fhir_date *b,
                        const struct sl_fhir_date *t);

#endif

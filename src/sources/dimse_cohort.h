/* dimse_cohort.h - a cohort's studies named by FHIR ImagingStudy
 * resources (dimse_cohort.c), for the dimse source's `studies`. */
#ifndef SL_SOURCES_DIMSE_COHORT_H
#define SL_SOURCES_DIMSE_COHORT_H

#include <stddef.h>

#include <jansson.h>

#include "common/common.h"
#include "config/config.h"
#include "item/item.h"

struct dimse_cohort {
    /* one per usable ImagingStudy, in file order: "U" + its Study
     * Instance UID, or "A" + its accession number (patient data: wiped
     * by dimse_cohort_free, never printed) */
    struct sl_strv keys;
    /* what could not be used, by line number, no values */
    struct sl_strv problems;
    size_t other; /* resources of other types, skipped */
    /* set by the caller: patients instead of studies (patient-ids=
     * "source:ID"): each Patient gives "P" + its identifier of system
     * patient_system, or without one set, of type v2-0203 MR */
    int patients;
    const char *patient_system;
};

/* Reads the NDJSON file at path (plain or gzip) into c (zeroed first by
 * the caller). SL_ECONFIG when it cannot be opened or read to its end;
 * bad lines are not errors: they are in c->problems. */
int dimse_cohort_read(const char *path, struct dimse_cohort *c,
                      struct sl_err *err);
/* One line (len bytes, no NUL needed) of such a file: 1 when it gave a
 * key, else 0 (blank, another type, or a problem recorded). */
int dimse_cohort_line(struct dimse_cohort *c, const char *text, size_t len,
                      size_t lineno);
/* One resource r (borrowed): 1 when it gave a key, else 0 (another
 * type, or a problem recorded, named by where: "studies file line 3",
 * "cohort source ehr item bundle 2 entry 4"; no value of the data). */
int dimse_cohort_resource(struct dimse_cohort *c, json_t *r,
                          const char *where);
/* Wipes and frees what c holds. NULL-safe. */
void dimse_cohort_free(struct dimse_cohort *c);

/* The values of a patient-ids or accession-numbers list file, text[0,
 * len): one a line (LF or CRLF), blank lines skipped, spaces and tabs
 * around a value dropped, each pushed to ids. A value a C-FIND cannot
 * carry as it is (a NUL or another control character, a backslash, which
 * DICOM reads as a second value, more than 64 characters for a PatientID
 * or 16 for an AccessionNumber (accession set), bytes that are not UTF-8)
 * makes the whole file refused: SL_ECONFIG, ids emptied (wiped), and why
 * (whylen bytes) names the line, never the value. */
int dimse_list_parse(const char *text, size_t len, int accession,
                     struct sl_strv *ids, char *why, size_t whylen);

/* ---- a cohort from another source of the job ----------------------------
 * studies="source:ID" (the ImagingStudy resources that source yields) or
 * patient-ids="source:ID" (its Patient resources' identifiers, of system
 * patient-id-system, else of type MR): the run reads source ID from its
 * start and gives its items to pacs_cohort_add before the PACS source's
 * first next (sl_source_ops.cohort_from). Used by the dimse and dicomweb
 * sources. The values are patient data: never printed, wiped. */
struct pacs_cohort {
    const char *from; /* the source's id (owned by the config), or NULL */
    int fed;          /* that source was read to its end */
    struct dimse_cohort co;
};

/* Reads the PACS source's studies and patient-ids attributes. */
void pacs_cohort_init(struct pacs_cohort *pc, const struct sl_conf_node *node);
/* One item of source pc->from (FHIR, borrowed; a Bundle's entries too). */
int pacs_cohort_add(struct pacs_cohort *pc, const struct sl_item *it,
                    struct sl_err *err);
/* Moves the cohort to *keys (as dimse_cohort's keys, but patient ids
 * without their "P") and its problems to *problems, both the caller's;
 * SL_ECONFIG when the run did not read source pc->from (id: the PACS
 * source's id, for the message). */
int pacs_cohort_take(struct pacs_cohort *pc, const char *id,
                     struct sl_strv *keys, struct sl_strv *problems,
                     struct sl_err *err);
/* Wipes what pc holds. NULL-safe. */
void pacs_cohort_free(struct pacs_cohort *pc);

#endif

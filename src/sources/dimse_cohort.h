/* dimse_cohort.h - a cohort's studies named by FHIR ImagingStudy
 * resources (dimse_cohort.c), for the dimse source's `studies`. */
#ifndef SL_SOURCES_DIMSE_COHORT_H
#define SL_SOURCES_DIMSE_COHORT_H

#include <stddef.h>

#include "common/common.h"

struct dimse_cohort {
    /* one per usable ImagingStudy, in file order: "U" + its Study
     * Instance UID, or "A" + its accession number (patient data: wiped
     * by dimse_cohort_free, never printed) */
    struct sl_strv keys;
    /* what could not be used, by line number, no values */
    struct sl_strv problems;
    size_t other; /* resources of other types, skipped */
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
/* Wipes and frees what c holds. NULL-safe. */
void dimse_cohort_free(struct dimse_cohort *c);

#endif

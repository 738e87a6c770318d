/* timeline.h - what the two files of `sluice timeline` share
 * (cmd_timeline.c: events, sorting, output; timeline_read.c: reading
 * FHIR and DICOM inputs into events). */
#ifndef SL_CLI_TIMELINE_H
#define SL_CLI_TIMELINE_H

#include <stdint.h>

#include "common/common.h"
#include "terminology/terminology.h"

struct tl_series;

struct tl {
    const char *patient; /* --patient, or NULL */
    char *want_id;       /* the Patient id --patient is an identifier of */
    int csv;
    char *tmpdir;        /* run files and the output before its rename */
    struct sl_strv lines; /* events not yet in a run file */
    size_t bytes, nruns;
    size_t run_bytes;     /* a run's size in memory before it is written */
    uint64_t written, skipped;
    /* FHIR Patient identifiers (MRN pseudonyms) -> Patient id, as
     * "IDENTIFIER\tID" lines, sorted once the FHIR inputs are read */
    struct sl_strv ids;
    /* DICOM series seen: one event each, made at the end */
    struct tl_series *series;
    size_t nseries, capseries;
};

/* Adds one event (strings may be NULL but patient and time). */
int tl_event(struct tl *t, const char *patient, const char *time,
             const char *source, const char *type, const char *system,
             const char *code, const char *display, const char *value,
             const char *unit);
/* Reads the inputs: FHIR files first (their Patients' identifiers), then
 * DICOM. A file that cannot be read is named by number on stderr and
 * counted in t->skipped. */
int tl_read_inputs(struct tl *t, const char *const *inputs, int n,
                   struct sl_err *err);
/* The events of the DICOM series read. */
int tl_dicom_flush(struct tl *t);
/* Whether the event's patient (n bytes) is --patient's. */
int tl_patient_wanted(const struct tl *t, const char *p, size_t n);
void tl_free(struct tl *t);

#endif

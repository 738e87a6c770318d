/* synth_int.h - what the generator's files share: the random streams,
 * dates, and the one patient that FHIR and DICOM must agree on. Private to
 * src/synth/. */
#ifndef SL_SYNTH_INT_H
#define SL_SYNTH_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "synth/synth.h"

/* ---- random numbers: xoshiro256** seeded through splitmix64 ----------- */

struct synth_rng {
    uint64_t s[4];
};

/* One independent stream per (seed, patient). */
void synth_rng_seed(struct synth_rng *r, uint64_t seed, uint64_t stream);
/* Uniform in [0, n) without modulo bias. */
uint64_t synth_rng_below(struct synth_rng *r, uint64_t n);
/* Uniform in [lo, hi]. */
long synth_rng_range(struct synth_rng *r, long lo, long hi);
/* Uniform in [0, 1). */
double synth_rng_unit(struct synth_rng *r);

#define PICK(r, arr) \
    (&(arr)[synth_rng_below((r), sizeof(arr) / sizeof((arr)[0]))])

/* A version 4 UUID (lower case), used as resource id. */
void synth_uuid_make(struct synth_rng *r, char *buf, size_t len);

/* ---- dates ------------------------------------------------------------- */

struct synth_date {
    int y, m, d;
};

/* Days since 1970-01-01 to a civil date, and back. */
struct synth_date synth_date_from_days(long z);
long synth_days_from_date(int y, int m, int d);

/* ---- one patient --------------------------------------------------------- */

struct synth_city {
    const char *city, *state, *zip, *district;
};
struct synth_procedure {
    const char *modality, *loinc, *display, *body_part, *sop_class;
    const char *series_desc[3];
};

#define SYNTH_ID_LEN  40
#define SYNTH_UID_LEN 65

struct synth_instance {
    char uid[SYNTH_UID_LEN];
};
struct synth_series {
    char uid[SYNTH_UID_LEN];
    const char *desc;
    int ninst;
    struct synth_instance *inst;
};

/* Everything about one patient that FHIR and DICOM must agree on. */
struct synth_patient {
    long index; /* 1-based */
    char patient_id[SYNTH_ID_LEN], encounter_id[SYNTH_ID_LEN];
    char condition_id[SYNTH_ID_LEN], medreq_id[SYNTH_ID_LEN];
    char report_id[SYNTH_ID_LEN], imaging_id[SYNTH_ID_LEN];
    char bundle_id[SYNTH_ID_LEN];
    const char *given, *middle, *family;
    const char *gender; /* FHIR: male, female, other */
    char sex[2];        /* DICOM: M, F, O */
    struct synth_date birth;
    int age_at_study;
    int over_89;
    char mrn[16], ssn[16], phone[24], email[96];
    char street[64];
    const struct synth_city *city;
    const char *institution;
    const char *ref_given, *ref_family; /* the referring physician */
    /* the encounter and the study, same day */
    struct synth_date visit;
    int hh, mm, ss;
    char accession[16];
    const struct synth_procedure *proc;
    char study_uid[SYNTH_UID_LEN], frame_uid[SYNTH_UID_LEN];
    int nseries;
    struct synth_series *series;
    uint64_t pixel_seed;
    int local_conditions; /* opts->local_conditions */
};

/* synth_fhir.c: the bundle of one patient; *nres gets the number of
 * resources. The caller owns the bundle (json_decref). */
json_t *synth_fhir_bundle(const struct synth_patient *p, struct synth_rng *r,
                          uint64_t *nres);

/* synth_dicom.c: the study of patient p under dicom_dir/NNNNNN/. */
int synth_dicom_study_write(const char *dicom_dir,
                            const struct synth_patient *p, struct sl_err *err);

/* synth_shape.c: the patient's bundle rewritten in place into shape
 * (nothing to do for the default and bulk shapes). */
void synth_shape_bundle(json_t *bundle, enum sl_synth_shape shape);

/* The bulk shape's open files: one per resource type, under dir. */
#define SYNTH_BULK_MAX 32
struct synth_bulk {
    const char *dir; /* borrowed */
    size_t n;
    char *names[SYNTH_BULK_MAX];
    FILE *files[SYNTH_BULK_MAX];
};
void synth_bulk_init(struct synth_bulk *b, const char *fhir_dir);
/* Appends each resource of bundle to its type's file. */
int synth_bulk_add(struct synth_bulk *b, const json_t *bundle,
                   struct sl_err *err);
/* Closes every file; err may be NULL (after another failure). */
int synth_bulk_close(struct synth_bulk *b, struct sl_err *err);

#endif

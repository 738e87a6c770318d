/* synth.h - synthetic FHIR and DICOM data with fake but identifier-shaped
 * PHI, to try and test sluice without real patients.
 *
 * The output is a function of the options only (no clock, no rand()):
 * the same seed gives byte-identical files on every machine. Patient i's
 * data comes from its own random stream derived from (seed, i), so
 * generating 10 or 10,000 patients gives the same first 10. */
#ifndef SL_SYNTH_H
#define SL_SYNTH_H

#include <stdint.h>

#include "common/common.h"

#define SL_SYNTH_MAX_PATIENTS 1000000L

/* Data about the patients is dated relative to this day: ages, encounter
 * and study dates (2019-2024) never depend on the current date. */
#define SL_SYNTH_REF_DATE "2025-01-01"

/* The FHIR identifier systems the generated data uses. */
#define SL_SYNTH_MRN_SYSTEM      "urn:oid:1.2.36.146.595.217.0.1"
#define SL_SYNTH_SSN_SYSTEM      "http://hl7.org/fhir/sid/us-ssn"
#define SL_SYNTH_LAB_SYSTEM      "http://hospital.example.org/lab-codes"
#define SL_SYNTH_PRIVATE_CREATOR "SLUICE SYNTH"

/* How the FHIR side is written (issue 10: the shapes real exports have).
 * The patients, their values and their DICOM studies are the same in
 * every shape; only the form of the FHIR documents and references
 * changes. */
enum sl_synth_shape {
    SL_SYNTH_SHAPE_DEFAULT,     /* collection Bundles, fullUrls on
                                   https://ehr.example.org/fhir, references
                                   Type/id (the output of old versions) */
    SL_SYNTH_SHAPE_TRANSACTION, /* transaction Bundles, urn:uuid: fullUrls,
                                   resources without ids, references by
                                   urn:uuid: (as Synthea writes) */
    SL_SYNTH_SHAPE_COLLECTION,  /* collection Bundles, absolute fullUrls on
                                   SL_SYNTH_HOSPITAL_BASE, references
                                   absolute and relative in turn */
    SL_SYNTH_SHAPE_BULK,        /* NDJSON, one file per resource type */
    SL_SYNTH_SHAPE_ENCOUNTER,   /* Observation and DiagnosticReport reach
                                   their patient only through Encounter */
};

/* The hospital FHIR server of the collection shape: its host name must
 * not survive de-identification. */
#define SL_SYNTH_HOSPITAL_BASE "https://ehr.example-hospital.org/fhir"

/* The shape called name ("default", "transaction", "collection", "bulk",
 * "encounter-only"): SL_OK, or SL_EUSAGE for another name. */
int sl_synth_shape_parse(const char *name, enum sl_synth_shape *out);

struct sl_synth_opts {
    enum sl_synth_shape shape;
    uint64_t seed;
    long patients;   /* 1..SL_SYNTH_MAX_PATIENTS */
    int series;      /* series per study, 1..16 (default 2) */
    int instances;   /* instances per series, 1..64; 0: 2 or 3 at random */
    int write_dicom; /* 0: FHIR bundles only (ImagingStudy still written) */
    int quiet;       /* no progress lines */
    int local_conditions; /* Conditions coded in the hospital's own list
                             (http://hospital.example.org/condition-codes)
                             instead of SNOMED CT; nothing else changes */
};

/* What was written: counts only, never values. */
struct sl_synth_stats {
    uint64_t patients;
    uint64_t resources; /* FHIR resources in all bundles */
    uint64_t studies, series, instances;
    uint64_t over_89; /* patients older than 89 on SL_SYNTH_REF_DATE */
};

/* Defaults: seed 1, 1 patient, 2 series, 2-3 instances, DICOM on. */
void sl_synth_opts_init(struct sl_synth_opts *opts);

/* Writes opts->patients patients under dir (created if needed):
 *   dir/fhir/bundle-NNNNNN.json   one FHIR R4 Bundle each (collection or,
 *                                 in the transaction shape, transaction)
 *   dir/fhir/TYPE.ndjson          instead, in the bulk shape: every
 *                                 patient's resources of TYPE
 *   dir/dicom/NNNNNN/S/I.dcm      study of patient N, series S, instance I
 * File names are numbers, never derived from the fake PHI. One patient is
 * in memory at a time. Fills *stats (may be NULL). */
int sl_synth_run(const char *dir, const struct sl_synth_opts *opts,
                 struct sl_synth_stats *stats, struct sl_err *err);

#endif

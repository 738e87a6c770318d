/* dicom_deid.h - DICOM de-identification engine (issue: DICOM
 * de-identification by the PS3.15 profile and its options). Rules come
 * from the <dicom> sections of a profile chain (profile.h); pseudonyms,
 * UIDs and date shifts from keys.h, so they agree with the FHIR engine.
 * DCMTK is used only through src/dicom/dicom.h. */
#ifndef SL_DEID_DICOM_H
#define SL_DEID_DICOM_H

#include <stdio.h>

#include "common/common.h"
#include "deid/profile.h"
#include "keys/keys.h"

struct sl_dicom_deid;

/* What a de-identified instance is, for naming output files and folders
 * (values are pseudonyms and new UIDs, never originals). */
struct sl_dicom_deid_info {
    char *patient;    /* new PatientID */
    char *study_uid;  /* new StudyInstanceUID */
    char *series_uid; /* new SeriesInstanceUID */
    char *sop_uid;    /* new SOPInstanceUID */
    char *modality;
    /* For the re-identification map: set want_originals before the call
     * and, on SL_OK, the orig_* fields hold the input's values (NULL when
     * absent) and accession the new AccessionNumber. They are PHI: never
     * logged or printed; owned by info and wiped by
     * sl_dicom_deid_info_clear. Each call fills its own info, so threads
     * share nothing. */
    int want_originals;
    char *orig_patient, *orig_study_uid, *orig_series_uid, *orig_sop_uid;
    char *orig_accession, *accession;
    /* Set want_written before the call: on SL_OK, written is the summary
     * of the file written (sl_dicom_file_summary, so nobody reads it
     * again) or, when a reader would refuse it, NULL and written_why the
     * reason (tags, never values). Owned by info. */
    int want_written;
    struct sl_dicom_summary *written;
    char *written_why;
};
void sl_dicom_deid_info_clear(struct sl_dicom_deid_info *info);

/* Compiles the chain's <dicom> rules and options. keys is borrowed. */
int sl_dicom_deid_new(const struct sl_profile_chain *chain,
                      const struct sl_keys *keys, struct sl_dicom_deid **out,
                      struct sl_err *err);
void sl_dicom_deid_free(struct sl_dicom_deid *d);

/* De-identifies the Part-10 file in_path into a new file out_path (pixel
 * data copied byte-exact; mode 0640 under the umask). SL_OK and *info filled; or SL_EQUARANTINE with
 * a reason naming tags, never values (burned-in text, SR without Clean
 * Structured Content, a leak found by the scan, a broken file); other
 * codes are failures. Safe from several threads. */
int sl_dicom_deid_file(struct sl_dicom_deid *d, const char *in_path,
                       const char *out_path, struct sl_dicom_deid_info *info,
                       struct sl_err *err);
/* The same, reading in_fd (in_path open for reading, as a source's probe
 * left it: sl_dicom_file_probe_fd()), which it takes over and closes
 * whatever happens; -1 opens in_path. */
int sl_dicom_deid_file_fd(struct sl_dicom_deid *d, int in_fd,
                          const char *in_path, const char *out_path,
                          struct sl_dicom_deid_info *info,
                          struct sl_err *err);

/* --explain: options, then per rule the tags touched and counts. */
void sl_dicom_deid_explain(const struct sl_dicom_deid *d, FILE *f);
/* For the run's report: each rule that acted, as its tag, attribute
 * name and action ("(0010,0010) PatientName Z"), and how many times. */
void sl_dicom_deid_rule_counts(const struct sl_dicom_deid *d,
                               void (*fn)(void *arg, const char *rule,
                                          uint64_t n),
                               void *arg);

/* ---- burned-in text (issue 11: dicom_deid_ocr.c) ------------------------
 * One word OCR found in the pixels of an instance. attr names the
 * identifying attribute of the same instance the word matches
 * ("PatientName", "PatientID", "AccessionNumber", "PatientBirthDate",
 * "StudyDate", "InstitutionName", …) or is NULL. text is patient data:
 * never printed unless a user asks for it; wiped by
 * sl_pixel_text_free. */
struct sl_ocr_pool;
struct sl_dicom_file;
struct sl_pixel_text {
    unsigned long frame; /* from 0 */
    unsigned x, y, w, h; /* the word's box in the image */
    float conf;
    const char *attr;
    char *text;
};
/* The words of every frame of f (rendered as a viewer shows them) with a
 * confidence of at least min_conf, and those below it that match an
 * identifying attribute of f. *frames (may be NULL) gets the number of
 * frames. SL_ENOTFOUND when f has no pixel data; SL_EDICOM when its
 * pixels cannot be decoded (the message says why). *out is the
 * caller's. */
int sl_pixel_text_find(struct sl_ocr_pool *pool, struct sl_dicom_file *f,
                       float min_conf, struct sl_pixel_text **out, size_t *n,
                       unsigned long *frames, struct sl_err *err);
void sl_pixel_text_free(struct sl_pixel_text *t, size_t n); /* NULL-safe */

#endif

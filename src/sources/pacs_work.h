/* pacs_work.h - what a source that retrieves studies from a PACS into
 * the work folder needs, whatever the protocol (the dicomweb and dimse
 * sources): the run's folder, the study list in order, the instances of a study in order, the
 * checkpoint "HASH:J" (FNV-1a of the Study Instance UID, instances given
 * out) and the items. */
#ifndef SL_SOURCES_PACS_WORK_H
#define SL_SOURCES_PACS_WORK_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "config/config.h"
#include "dicom/dicom.h"
#include "item/item.h"

/* Makes "PREFIX-PID-XXXXXX" in the work folder beside the state store
 * (*dir, caller frees), after removing the folders of that prefix that a
 * process no longer running left there. */
int sl_pacs_work_new(const struct sl_config *cfg, const char *prefix,
                     char **dir, struct sl_err *err);
/* Removes folder dir and what it holds; with files 0, only the folders
 * that are empty (items in flight own their files). */
void sl_pacs_work_rm(const char *dir, int files);

/* The values of list file (ids: patient data, wiped by the caller)
 * appended to out, read by dimse_list_parse (a line a C-FIND cannot
 * carry refuses the file, naming the line); what: the attribute
 * ("patient-ids", "accession-numbers"), for messages. Never prints a
 * value. */
int sl_pacs_read_list(const char *file, const char *what, struct sl_strv *out,
                      struct sl_err *err);

/* Sorts studies by StudyDate, StudyTime, UID, and keeps one of each
 * UID; *n is updated. */
void sl_pacs_studies_sort(struct sl_dicom_study *studies, size_t *n);

/* Where checkpoint says to resume: *next the study, *skip its instances
 * already given out. A checkpoint whose study is not found any more
 * starts from the first (logged, by source id only). */
void sl_pacs_resume_at(const char *id, const struct sl_dicom_study *studies,
                       size_t n, const char *checkpoint, size_t *next,
                       size_t *skip);

/* The Part-10 files of dir (files[i] has SOP Instance UID uids[i]);
 * those that cannot be read in bad. */
int sl_pacs_list_study(const char *dir, struct sl_strv *files,
                       struct sl_strv *uids, struct sl_strv *bad,
                       struct sl_err *err);
/* How many of want are not in have. */
size_t sl_pacs_count_missing(const struct sl_strv *want,
                             const struct sl_strv *have);
/* files appended to out in the order of their uids. */
void sl_pacs_order(const struct sl_strv *files, const struct sl_strv *uids,
                   struct sl_strv *out);

/* The next item of the study being given out: files->v[*fi] as a DICOM
 * item ("study N instance J"), or, when they are all out, *missing as a
 * quarantined item (then *missing is freed and NULL). tail is appended
 * to the checkpoint ("" for none; the dimse source's watermark). */
struct sl_item *sl_pacs_item(const char *id, size_t cur, uint64_t hash,
                             const char *tail, const struct sl_strv *files,
                             size_t *fi, char **missing);

/* The next of the cohort's problems (an ImagingStudy or Patient that names
 * nothing: problems->v[*pi], a reason with no value of the data) as a
 * quarantined item with checkpoint "problems:N"; *pi moves on. from: the
 * cohort's source id, or NULL for a studies file. */
struct sl_item *sl_pacs_problem_item(const char *id, const char *from,
                                     int patients,
                                     const struct sl_strv *problems,
                                     size_t *pi);

#endif

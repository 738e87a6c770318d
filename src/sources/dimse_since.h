/* dimse_since.h - incremental pulls of the dimse source (dimse_since.c):
 * a StudyDate/StudyTime watermark carried from one finished run to the
 * next in the source's checkpoint, with an overlap of whole days, and the
 * studies already taken within the overlap, so that they are not taken
 * again. */
#ifndef SL_SOURCES_DIMSE_SINCE_H
#define SL_SOURCES_DIMSE_SINCE_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "dicom/dicom.h"

struct dimse_since {
    char wm[15];          /* "YYYYMMDDHHMMSS" of the newest study taken by
                             the last finished run, "" when none */
    struct sl_strv taken; /* "YYYYMMDD.HASH" (16 hex digits) of the studies
                             taken whose date lies within the overlap */
    long overlap_days;
};

/* Reads the watermark part of checkpoint ck ("...|W=...|T=...") into s
 * (which keeps overlap_days). 1 when there was one, else 0 (s unchanged).
 * A part that is not well formed is ignored. */
int dimse_since_parse(const char *ck, struct dimse_since *s);
/* The StudyDate range to query: user (a DICOM date or range, or NULL)
 * narrowed to start overlap_days before the watermark's date. NULL when
 * there is no watermark (query as configured: the caller keeps user).
 * The caller frees. */
char *dimse_since_range(const struct dimse_since *s, const char *user);
/* Whether the study with this date and UID hash was taken already. */
int dimse_since_taken(const struct dimse_since *s, const char *date,
                      uint64_t hash);
/* The part of a checkpoint that carries the watermark on, for the last
 * study of a run: the newer of s's and of the n studies (sorted by date
 * and time), and the studies (s's and these) within the overlap of it.
 * A study with incomplete[i] set (instances missing after max-attempts;
 * incomplete may be NULL) is not taken: it is left out of the list, and
 * the watermark is held at its date and time, so that the next run asks
 * for it again. The caller frees. "" when no study has a date. */
char *dimse_since_suffix(const struct dimse_since *s,
                         const struct sl_dicom_study *st, size_t n,
                         const unsigned char *incomplete,
                         uint64_t (*hash)(const char *uid));
void dimse_since_free(struct dimse_since *s); /* NULL-safe */

#endif

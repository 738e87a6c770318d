/* dicom_json.h - what sluice reads of DICOMweb answers (the DICOM JSON
 * model, PS3.18 F.2): QIDO-RS search results (the dicomweb source, the
 * stow-rs target's look-up of what a node holds) and the STOW-RS store
 * answer (its Failed SOP Sequence). Tried without a server by the fuzz
 * target tests/fuzz/fuzz_dicom_json.c. */
#ifndef SL_HTTP_DICOM_JSON_H
#define SL_HTTP_DICOM_JSON_H

#include <stddef.h>

#include "common/common.h"

/* The values of some tags in each result of a QIDO-RS answer: v[i *
 * ntags + k] is the first value of tags[k] in result i, or NULL when the
 * result has none. Owned: free with sl_qido_rows_free(). */
struct sl_qido_rows {
    size_t n;
    size_t ntags;
    char **v;
};

/* Tags as 8 upper-case hex digits ("0020000D"). A value of VR UI must be
 * a UID (digits and dots, at most 64), of DA a date (8 digits), of TM a
 * time (digits, '.', ':'): sluice puts UIDs in URLs and never trusts the
 * server's to be safe there. An answer of 0 bytes (HTTP 204) is no
 * result. On failure (SL_EPARSE) err names the result (from 1) and the
 * tag, or the JSON line and column; never a value. *out is written only
 * on success. */
int sl_qido_parse(const char *json, size_t len, const char *const *tags,
                  size_t ntags, struct sl_qido_rows *out, struct sl_err *err);
void sl_qido_rows_free(struct sl_qido_rows *r); /* NULL-safe, clears r */

/* Whether s is a UID of at most 64 digits and dots. */
int sl_qido_is_uid(const char *s);

/* err's message with every copy of uid replaced by "{study}": src/http
 * names a request's path, and a DICOMweb path holds a Study Instance UID,
 * which must not be printed. */
void sl_dicomweb_scrub(struct sl_err *err, const char *uid);

/* One instance a STOW-RS answer lists in its Failed SOP Sequence
 * (0008,1198): its Referenced SOP Instance UID (0008,1155) and Failure
 * Reason (0008,1197). */
struct sl_stow_failed {
    char *sop;
    unsigned reason;
};
/* Reads a STOW-RS answer (a JSON object, or an array holding one; 0
 * bytes: nothing listed). *out (caller frees with sl_stow_failed_free)
 * and *n are written only on success; stored, when not NULL, gets the
 * Referenced SOP Instance UIDs of the Referenced SOP Sequence (0008,1199):
 * what the node says it stored. SL_EPARSE names the item and tag. */
int sl_stow_failed_parse(const char *json, size_t len,
                         struct sl_stow_failed **out, size_t *n,
                         struct sl_strv *stored, struct sl_err *err);
void sl_stow_failed_free(struct sl_stow_failed *f, size_t n); /* NULL-safe */
/* What a Failure Reason means (PS3.4 B.2.3, PS3.18 10.5.3). Static. */
const char *sl_stow_reason_text(unsigned reason);

#endif

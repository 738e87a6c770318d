/* dicom.h - C API of the DCMTK shim (the only C++ in sluice).
 *
 * Every function returns an SL_* status from common/common.h and, on
 * failure, fills err (may be NULL) with a message that names tags and
 * problems but never attribute values (patient data) nor the input path:
 * callers prefix their own position ("file 12"). Nothing thrown inside
 * DCMTK unwinds into C. */
#ifndef SL_DICOM_H
#define SL_DICOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "common/common.h"

/* Loads DCMTK's data dictionary; 0 when loaded, -1 (with a message in
 * msg) when it is missing. Also silences DCMTK's own logger, whose
 * messages may quote values. */
int sl_dicom_init(char *msg, unsigned long msglen);

/* Sets *is_dicom to 1 when path is a DICOM Part-10 file ("DICM" at offset
 * 128), 0 otherwise, reading only those 132 bytes. SL_EIO when the file
 * cannot be opened. */
int sl_dicom_file_probe(const char *path, int *is_dicom, struct sl_err *err);

/* What the pipeline needs to know about one instance. Strings are owned by
 * the summary (NULL when the attribute is absent or empty, except the
 * three UIDs, which are always set on success). */
struct sl_dicom_summary {
    char *patient_id;    /* (0010,0020) */
    char *study_uid;     /* (0020,000D) */
    char *series_uid;    /* (0020,000E) */
    char *sop_uid;       /* (0008,0018) */
    char *sop_class_uid; /* (0008,0016) */
    char *modality;      /* (0008,0060) */
    char *study_date;    /* (0008,0020) */
    char *transfer_syntax; /* (0002,0010) from the meta header */
};

/* Reads the summary of a Part-10 file without loading large values (pixel
 * data stays on disk). Fails with SL_EDICOM and a message naming the tag
 * when the file cannot be parsed completely, when a value is shorter than
 * its declared length (a truncated file, e.g. "(7FE0,0010) Pixel Data:
 * truncated") or when a required UID is missing. SL_EIO when the file
 * cannot be opened. On success *out is owned by the caller; free it with
 * sl_dicom_summary_free(). */
int sl_dicom_summary_read(const char *path, struct sl_dicom_summary **out,
                          struct sl_err *err);
void sl_dicom_summary_free(struct sl_dicom_summary *s); /* NULL-safe */

/* ---- building synthetic instances -------------------------------------- */
struct sl_dicom_builder;

/* A new, empty dataset. Never NULL (allocation failure aborts). */
struct sl_dicom_builder *sl_dicom_builder_new(void);
void sl_dicom_builder_free(struct sl_dicom_builder *b); /* NULL-safe */

/* Sets a standard attribute from its string form; the VR comes from the
 * data dictionary (for US, "512"; multiple values separated by '\'). */
int sl_dicom_builder_set_string(struct sl_dicom_builder *b, uint16_t group,
                                uint16_t elem, const char *value,
                                struct sl_err *err);
int sl_dicom_builder_set_u16(struct sl_dicom_builder *b, uint16_t group,
                             uint16_t elem, uint16_t value,
                             struct sl_err *err);
/* Sets (7FE0,0010) Pixel Data as OW from n 16-bit words (copied). The
 * caller sets Rows, Columns, BitsAllocated and the rest. */
int sl_dicom_builder_set_pixels16(struct sl_dicom_builder *b,
                                  const uint16_t *words, size_t n,
                                  struct sl_err *err);
/* Sets a private attribute: reserves a block of odd group `group` for
 * `creator` (reusing the block when the creator is already there) and
 * puts `value` at element offset `offset` (0x00-0xFF) of that block with
 * the given two-letter VR (string VRs such as "LO", "SH", "UT", "DS"). */
int sl_dicom_builder_set_private(struct sl_dicom_builder *b, uint16_t group,
                                 const char *creator, uint8_t offset,
                                 const char *vr, const char *value,
                                 struct sl_err *err);
/* Appends an item with one string attribute (g,e)=value to the sequence
 * (sg,se), creating the sequence when absent. Adding more attributes to
 * the last item: sl_dicom_builder_seq_set_string(). */
int sl_dicom_builder_seq_add_item(struct sl_dicom_builder *b, uint16_t sg,
                                  uint16_t se, struct sl_err *err);
int sl_dicom_builder_seq_set_string(struct sl_dicom_builder *b, uint16_t sg,
                                    uint16_t se, uint16_t group,
                                    uint16_t elem, const char *value,
                                    struct sl_err *err);
/* Writes the dataset as a Part-10 file in Explicit VR Little Endian with
 * a fresh meta header (SOP Class and Instance UIDs taken from the
 * dataset). The output is a function of the dataset only, so equal
 * datasets give byte-identical files. */
int sl_dicom_builder_save(struct sl_dicom_builder *b, const char *path,
                          struct sl_err *err);

#ifdef __cplusplus
}
#endif

#endif

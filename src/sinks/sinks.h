/* sinks.h - the built-in sinks (see pipeline.h for the interface). */
#ifndef SL_SINKS_H
#define SL_SINKS_H

#include "item/item.h"

extern const struct sl_sink_ops sl_sink_fhir_files;
extern const struct sl_sink_ops sl_sink_dicom_folder;
/* a FHIR server, through src/http (docs/connectors.md) */
extern const struct sl_sink_ops sl_sink_fhir_store;
/* a DICOM node, by C-STORE (docs/connectors.md) */
extern const struct sl_sink_ops sl_sink_dicom_store;
/* a DICOMweb node, by STOW-RS (docs/pacs.md) */
extern const struct sl_sink_ops sl_sink_stow_rs;
/* one output per FHIR input, of its kind (sluice deid) */
extern const struct sl_sink_ops sl_sink_fhir_mirror;

struct sl_dicom_summary;
/* The dicom-folder sink's put() for a caller that has just written the
 * item's file and knows its summary (sl_dicom_file_summary): the file is
 * not read again, and it is moved into place (renamed; gone on SL_OK)
 * rather than copied. sum NULL: a reader would refuse the file for the
 * reason why (tags, never values): quarantined as put() would. Same
 * locking as put(). */
int sl_sink_dicom_folder_place(void *ctx, struct sl_item *it,
                               const struct sl_dicom_summary *sum,
                               const char *why, int *taken,
                               struct sl_err *err);

/* The reason of an instance whose SOP Instance UID is already in the
 * target with other bytes (put() and place() quarantine it with it). */
#define SL_SINK_DUPLICATE                                                      \
    "duplicate SOP Instance UID (0008,0018) with different content"

/* Takes back what place() put for the instance of sum (folder layouts):
 * 0 when its file was removed, -1 otherwise. Same locking as put(). */
int sl_sink_dicom_folder_unplace(void *ctx, const struct sl_dicom_summary *sum);

#endif

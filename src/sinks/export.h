/* export.h - de-identified DICOM laid out for delivery: the names of the
 * folders and dicomdir layouts, the manifests (JSON and CSV), the zip and
 * the DICOMDIR. Shared by `sluice export-dicom` and the dicom-folder sink
 * (layouts folders, dicomdir and zip), so both deliver the same thing.
 *
 * Only de-identified instances (Patient Identity Removed (0012,0062) =
 * YES) enter an export: every name and every manifest value comes from
 * them, never from an original value or an input file name. */
#ifndef SL_SINKS_EXPORT_H
#define SL_SINKS_EXPORT_H

#include <stddef.h>

#include "common/common.h"

enum sl_export_layout {
    SL_EXPORT_FOLDERS,  /* PATIENT/study-UID/MOD-SERIESUID/SOPUID.dcm */
    SL_EXPORT_DICOMDIR, /* P0000001/S0000001/R0000001/I0000001 + DICOMDIR */
    SL_EXPORT_ZIP,      /* the folders layout and the manifests in a zip */
};

/* One exported instance: de-identified values only. All strings owned. */
struct sl_export_inst {
    char *patient, *study, *series, *sop, *modality, *method;
    char *rel; /* path relative to the export root, '/'-separated */
    char *run; /* the sink's run that delivered it; NULL in export-dicom */
    char sha256[65];
    size_t patient_no, study_no, series_no; /* set by sl_export_add() */
    /* sluice's own de-identification wrote it ((0012,0063) names sluice):
     * only then do its values name folders and the manifest's patients;
     * another tool's output gets numbered names */
    int ours;
};

/* Distinct strings in first-seen order, with a hash index. */
/* Why an instance that says sluice de-identified it is refused: its
 * Patient ID or Name is not a pseudonym sluice would have written. */
extern const char sl_export_not_pseudonym[];

struct sl_export_keys {
    struct sl_strv sv;
    size_t *slot; /* open addressing: index + 1, 0 = empty */
    size_t nslot;
};

/* A set of instances, at most one per SOP Instance UID. */
struct sl_export {
    enum sl_export_layout layout;
    struct sl_export_inst *v;
    size_t n, cap;
    struct sl_export_keys patients, studies, series, sops;
};

void sl_export_init(struct sl_export *e, enum sl_export_layout layout);
void sl_export_free(struct sl_export *e); /* NULL-safe */
const char *sl_export_layout_name(enum sl_export_layout l);
void sl_export_inst_clear(struct sl_export_inst *x);

/* Why sl_export_inst_read() refuses a file: not de-identified, or a UID
 * missing. Compare pointers. */
extern const char sl_export_not_deid[];
extern const char sl_export_no_uid[];

/* Reads the values a manifest lists from the DICOM file at path. On
 * SL_OK with *refused NULL, x is filled (the caller owns it); with
 * *refused set (sl_export_not_deid or sl_export_no_uid), the file is no
 * de-identified instance with the UIDs an export needs, and x is left
 * empty. */
int sl_export_inst_read(const char *path, struct sl_export_inst *x,
                        const char **refused, struct sl_err *err);

/* Index in e of the instance with this SOP Instance UID, or -1. */
long sl_export_find(const struct sl_export *e, const char *sop);
/* Adds x to e, numbering its patient, study and series in first-seen
 * order: x's strings move into e (x is cleared). Returns 0, or -1 when an
 * instance with the same SOP Instance UID is there already (x is left as
 * it was). */
int sl_export_add(struct sl_export *e, struct sl_export_inst *x);

/* The relative path of x, the ino-th instance (from 1), in e's layout
 * (zip: the folders names). Built from de-identified values only, in
 * [A-Za-z0-9._/-]. Caller frees. */
char *sl_export_rel_make(const struct sl_export *e,
                         const struct sl_export_inst *x, size_t ino);

/* A file or folder name: prefix and v ("unknown" when empty) with
 * anything but [A-Za-z0-9._-] made '_', and a leading '.' too (never
 * ".", ".." or hidden), at most 128 characters. Caller frees. */
char *sl_export_name_safe(const char *prefix, const char *v);

/* SHA-256 of a file, as 64 lowercase hex digits. */
int sl_export_sha256_file(const char *path, char out[65], struct sl_err *err);

/* The manifests of e: *json (caller frees) and csv (appended to; an
 * initialised buffer). run, when not NULL, is recorded as "run". */
int sl_export_manifests(const struct sl_export *e, const char *run, char **json,
                        struct sl_buf *csv, struct sl_err *err);

/* Writes root/DICOMDIR (General Purpose profile) listing e's instances,
 * whose rel paths are under root. */
int sl_export_dicomdir(const char *root, const struct sl_export *e,
                       struct sl_err *err);

/* ---- zip ----------------------------------------------------------------- */
struct sl_export_zip;

/* Starts the zip at path. excl: fail if path exists; otherwise an existing
 * zip is replaced whole when the new one is closed. Nothing appears at
 * path before sl_export_zip_close(): libzip writes a temporary file beside
 * it and renames it. */
int sl_export_zip_open(const char *path, int excl, struct sl_export_zip **out,
                       struct sl_err *err);
/* Adds the file at path as member name. The file is read at close time,
 * in blocks, and must still have the given SHA-256 then, or the zip is
 * not written. Strings are copied. */
int sl_export_zip_add_file(struct sl_export_zip *z, const char *name,
                           const char *path, const char *sha256,
                           struct sl_err *err);
/* Adds len bytes of data (copied) as member name. */
int sl_export_zip_add_data(struct sl_export_zip *z, const char *name,
                           const char *data, size_t len, struct sl_err *err);
/* Writes the archive and frees z (also on failure, when nothing is left
 * at the path). */
int sl_export_zip_close(struct sl_export_zip *z, struct sl_err *err);
/* Frees z without writing anything. NULL-safe. */
void sl_export_zip_discard(struct sl_export_zip *z);

#endif

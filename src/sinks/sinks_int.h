/* sinks_int.h - what the files of src/sinks/ share among themselves. */
#ifndef SL_SINKS_INT_H
#define SL_SINKS_INT_H

#include <stdio.h>

#include "pipeline/pipeline.h"
#include "sinks/export.h"

/* ---- sink_files.c: file helpers, below every sink ---------------------- */
/* Creates dir (under root) and its parents; with sync_each, fsyncs each
 * new level's parent up to root, so the new entries are durable. */
int sinks_mkdir_durable(const char *root, const char *dir, int sync_each,
                        struct sl_err *err);
/* syncfs() of the file system that holds dir: 0 or -1 (errno). */
int sinks_syncfs(const char *dir);
/* Makes the file at path and its name durable: 0, or -1 (errno). */
int sinks_fsync_path(const char *path);
/* Flushes the stream f and fsyncs its file: 0, or -1 (errno). */
int sinks_stream_sync(FILE *f);
/* 1 when the file name base is a temporary file of ours that a crash may
 * have left: sl_file_copy's hidden .NAME.tmp.PID or sl_file_write_atomic's
 * NAME.tmp.PID (a manifest cut short). */
int sinks_is_copy_tmp(const char *base);
/* Removes dir and everything under it, as far as it can. */
void sinks_rm_tree(const char *dir);
/* 1 when t can be a FHIR resource type name (letters only, 1 to 64), so
 * safe in a file name or a URL path. */
int sinks_type_ok(const char *t);

/* ---- dicom_media.c: layouts of the dicom-folder sink -------------------- */
/* The dicom-folder sink with layout folders, dicomdir or zip: the layouts
 * and manifests of `sluice export-dicom`, kept exactly-once across
 * crashes by a journal. Called by dicom_folder.c only, never the reverse.
 * The same contract as struct sl_sink_ops. */
struct dicom_media;
int dicom_media_open(const struct sl_config *cfg,
                     const struct sl_conf_node *node, enum sl_export_layout l,
                     const char *root, int sync_each, const char *run_id,
                     const char *state, struct dicom_media **out,
                     struct sl_err *err);
/* Delivers the DICOM item it, whose file is src. */
int dicom_media_put(struct dicom_media *m, struct sl_item *it, const char *src,
                    struct sl_err *err);
int dicom_media_checkpoint(struct dicom_media *m, char **state,
                           struct sl_err *err);
int dicom_media_finish(struct dicom_media *m, struct sl_err *err);
void dicom_media_close(struct dicom_media *m); /* NULL-safe */

/* Parses one journal line (without its newline) into x (the caller owns
 * it; cleared on failure). 0, or -1 when the line is malformed. Exposed
 * for the fuzz target. */
int dicom_media_journal_parse(const char *line, struct sl_export_inst *x);

#endif

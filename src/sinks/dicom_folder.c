/* dicom_folder.c - the dicom-folder sink: DICOM instances copied byte for
 * byte into a folder, one file per SOP Instance UID.
 *
 * Configuration: path (the folder, required); layout "patient/study/series"
 * (default: PATH/<PatientID>/<StudyUID>/<SeriesUID>/<SOPUID>.dcm) or
 * "flat" (PATH/<SOPUID>.dcm), here. Folder and file names keep only
 * [A-Za-z0-9._-]; anything else becomes '_', an empty name "unknown".
 * Layouts "folders", "dicomdir" and "zip" (those of `sluice export-dicom`,
 * with manifests, de-identified instances only) are in dicom_media.c,
 * which this file drives; file helpers are in sink_files.c.
 *
 * Each file is written to a hidden temporary file in its folder, fsynced
 * and renamed, so a file is either whole or absent. That makes put()
 * idempotent: after a crash the pipeline puts again everything after the
 * last checkpoint, and an instance that is already there with the same
 * bytes is left alone. One that is there with other bytes is a different
 * instance claiming the same SOP Instance UID: it is quarantined, never
 * overwritten. */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "dicom/dicom.h"
#include "sinks/sinks.h"
#include "sinks/sinks_int.h"

#define NAME_MAX_KEEP 128
#define COPY_CHUNK    65536

struct dicom_folder_sink {
    const char *id; /* target id, owned by the config */
    char *root;
    int flat;
    /* layout folders, dicomdir or zip: all is done there (dicom_media.c) */
    struct dicom_media *media;
    uint64_t written;   /* new files */
    uint64_t unchanged; /* already there with the same bytes */
    /* 1: fsync every file and folder as it is written (jobs: a resume
     * after a power loss must find whole files). 0: one syncfs() at each
     * checkpoint and at finish; `sluice deid`, a one-shot command whose
     * crash means running it again, asks for this with the node attribute
     * sync="end" (not a configuration option). */
    int sync_each;
    mode_t mode;    /* of a file copied in (0640 under the umask) */
    char *last_dir; /* made by the last move: the next is often there */
};

static void
sink_close(void *vctx)
{
    struct dicom_folder_sink *k = vctx;

    if (k == NULL)
        return;
    dicom_media_close(k->media);
    free(k->root);
    free(k->last_dir);
    free(k);
}

/* Parses "written=N unchanged=M" as returned by sink_checkpoint(). */
static void
state_parse(struct dicom_folder_sink *k, const char *state)
{
    unsigned long long w = 0, u = 0;

    if (state != NULL &&
        sscanf(state, "written=%llu unchanged=%llu", &w, &u) == 2) {
        k->written = w;
        k->unchanged = u;
    }
}

/* Removes the hidden temporary files (".NAME.tmp.PID") that a crash left
 * in the folder, so that only whole instances are delivered. */
static int
remove_stale_tmp(const char *path, const struct stat *sb, int flag,
                 struct FTW *ftw)
{
    const char *base = path + ftw->base;

    (void)sb;
    if (flag == FTW_F && sinks_is_copy_tmp(base))
        unlink(path);
    return 0;
}

static int
sink_open(const struct sl_config *cfg, const struct sl_conf_node *node,
          const char *run_id, const char *state, void **ctx, struct sl_err *err)
{
    struct dicom_folder_sink *k = NULL;
    const char *id = node && node->id ? node->id : "dicom-folder";
    const char *layout = sl_conf_get(node, "layout");
    int line = node ? node->line : 0;
    enum sl_export_layout ml = SL_EXPORT_FOLDERS;
    char msg[256];
    int rc, media = 0;

    k = sl_calloc(1, sizeof(*k));
    k->id = id;
    k->root = sl_conf_get_path(cfg, node, "path");
    if (k->root == NULL) {
        rc = SL_ERR(err, SL_ECONFIG,
                    "line %d: target '%s' "
                    "(dicom-folder) needs a path attribute",
                    line, id);
        goto out;
    }
    {
        const char *sync = sl_conf_get(node, "sync");
        k->sync_each = !(sync && strcmp(sync, "end") == 0);
    }
    if (layout == NULL || strcmp(layout, "patient/study/series") == 0) {
        k->flat = 0;
    } else if (strcmp(layout, "flat") == 0) {
        k->flat = 1;
    } else if (strcmp(layout, "folders") == 0 ||
               strcmp(layout, "dicomdir") == 0 || strcmp(layout, "zip") == 0) {
        ml = layout[0] == 'f'   ? SL_EXPORT_FOLDERS
             : layout[0] == 'd' ? SL_EXPORT_DICOMDIR
                                : SL_EXPORT_ZIP;
        media = 1;
    } else {
        rc = SL_ERR(err, SL_ECONFIG,
                    "line %d: target '%s': layout is "
                    "\"patient/study/series\", \"flat\", \"folders\", "
                    "\"dicomdir\" or \"zip\"",
                    line, id);
        goto out;
    }
    if (sl_dicom_init(msg, sizeof(msg)) != 0) {
        rc = SL_ERR(err, SL_EDICOM, "target '%s': %s", id, msg);
        goto out;
    }
    if (media) {
        rc = dicom_media_open(cfg, node, ml, k->root, k->sync_each, run_id,
                              state, &k->media, err);
        if (rc != SL_OK)
            goto out;
        *ctx = k;
        k = NULL; /* the caller owns it now */
        goto out;
    }
    if ((rc = sl_mkdir_p(k->root, err)) != SL_OK)
        goto out;
    /* Nothing to roll back: files after the checkpoint are put again and
     * land on themselves. Only the counters resume, and what a crash left
     * half-written goes. */
    if (state != NULL)
        nftw(k->root, remove_stale_tmp, 16, FTW_PHYS);
    state_parse(k, state);
    {
        /* What sl_file_copy's 0640 gives, for a file moved in instead. */
        mode_t um = umask(0);
        umask(um);
        k->mode = 0640 & ~um;
    }
    *ctx = k;
    k = NULL; /* the caller owns it now */
    rc = SL_OK;
out:
    sink_close(k);
    return rc;
}

/* A file or folder name from an attribute value: [A-Za-z0-9._-] only, no
 * leading dot (hidden, or "." and ".."), "unknown" when empty. */
static char *
name_clean(const char *v, const char *suffix)
{
    struct sl_buf b;
    size_t i;

    sl_buf_init(&b);
    for (i = 0; v != NULL && v[i] != '\0' && i < NAME_MAX_KEEP; i++) {
        char c = v[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok || (i == 0 && c == '.'))
            c = '_';
        sl_buf_addc(&b, c);
    }
    if (b.len == 0)
        sl_buf_adds(&b, "unknown");
    sl_buf_adds(&b, suffix);
    return sl_buf_steal(&b);
}

/* 1 when the two files have the same bytes, 0 when not, -1 on error. */
static int
same_content(const char *a, const char *b)
{
    /* on the heap: the writer thread's stack may be small */
    char *ba = sl_malloc(2 * COPY_CHUNK), *bb = ba + COPY_CHUNK;
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = -1;

    if (fa == NULL || fb == NULL)
        goto out;
    for (;;) {
        size_t na = fread(ba, 1, COPY_CHUNK, fa);
        size_t nb = fread(bb, 1, COPY_CHUNK, fb);
        if (ferror(fa) || ferror(fb))
            goto out;
        if (na != nb || memcmp(ba, bb, na) != 0) {
            same = 0;
            goto out;
        }
        if (na == 0) {
            same = 1;
            goto out;
        }
    }
out:
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    free(ba);
    return same;
}

/* Where the instance summed up by sum goes (folder layouts). */
static void
dest_of(const struct dicom_folder_sink *k, const struct sl_dicom_summary *sum,
        char **dir, char **dst)
{
    char *file = name_clean(sum->sop_uid, ".dcm");

    if (k->flat) {
        *dir = sl_strdup(k->root);
    } else {
        char *pid = name_clean(sum->patient_id, "");
        char *study = name_clean(sum->study_uid, "");
        char *series = name_clean(sum->series_uid, "");
        char *a = sl_path_join(k->root, pid), *b = sl_path_join(a, study);
        *dir = sl_path_join(b, series);
        free(a);
        free(b);
        free(pid);
        free(study);
        free(series);
    }
    *dst = sl_path_join(*dir, file);
    free(file);
}

int
sl_sink_dicom_folder_unplace(void *vctx, const struct sl_dicom_summary *sum)
{
    struct dicom_folder_sink *k = vctx;
    char *dir = NULL, *dst = NULL;
    int rc = -1;

    if (k->media != NULL)
        return -1;
    dest_of(k, sum, &dir, &dst);
    if (unlink(dst) == 0) {
        k->written--;
        rc = 0;
    }
    free(dir);
    free(dst);
    return rc;
}

/* Puts src, whose summary is sum, in its place; move: by renaming it
 * (src is gone on SL_OK) rather than copying it. */
static int
place(struct dicom_folder_sink *k, struct sl_item *it, const char *src,
      const struct sl_dicom_summary *sum, int move, struct sl_err *err)
{
    char *dir = NULL, *dst = NULL;
    int rc, same;

    dest_of(k, sum, &dir, &dst);
    /* A move needs no copy of the pixel data; under sync_each the copy
     * is what fsyncs the file before it appears. The rename does not
     * replace: a file already there is compared below. */
    if (move && !k->sync_each) {
        if (k->last_dir == NULL || strcmp(k->last_dir, dir) != 0) {
            if ((rc = sinks_mkdir_durable(k->root, dir, 0, err)) != SL_OK)
                goto fail;
            free(k->last_dir);
            k->last_dir = sl_strdup(dir);
        }
        /* A file the deid stage wrote was created with 0640 under this
         * umask (sl_dicom_deid_file()), which is k->mode: no chmod. */
        if ((it->summary_set || chmod(src, k->mode) == 0) &&
            renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) == 0) {
            k->written++;
            if (src == it->tmp_path) {
                /* gone: nothing for sl_item_free() to unlink */
                free(it->tmp_path);
                it->tmp_path = NULL;
            }
            rc = SL_OK;
            goto out;
        }
    }
    if ((rc = sinks_mkdir_durable(k->root, dir, k->sync_each, err)) != SL_OK)
        goto fail;
    if (sl_path_exists(dst)) {
        same = same_content(src, dst);
        if (same < 0) {
            rc = SL_ERR(err, SL_EIO,
                        "cannot compare with the file "
                        "already in the target: %s",
                        strerror(errno));
            goto fail;
        }
        if (same) {
            k->unchanged++;
            rc = SL_OK;
            goto out;
        }
        rc = sl_item_quarantine(it, "sink", "%s", SL_SINK_DUPLICATE);
        goto out;
    }
    if ((rc = sl_file_copy(src, dst, k->sync_each, err)) != SL_OK)
        goto fail;
    k->written++;
    goto out;
fail:
    sl_err_prefix(err, "target '%s' item %s: ", k->id, it->pos ? it->pos : "?");
out:
    free(dir);
    free(dst);
    return rc;
}

/* The item's file: a stage's rewritten copy if there is one (that is
 * what leaves), else the item's own. */
static const char *
item_file(const struct dicom_folder_sink *k, const struct sl_item *it,
          struct sl_err *err)
{
    const char *src = it->tmp_path ? it->tmp_path : it->path;

    if (src == NULL)
        SL_ERR(err, SL_EINTERNAL, "target '%s': item %s has no file", k->id,
               it->pos ? it->pos : "?");
    return src;
}

static int
sink_put(void *vctx, struct sl_item *it, int *taken, struct sl_err *err)
{
    struct dicom_folder_sink *k = vctx;
    struct sl_dicom_summary *sum = NULL;
    struct sl_err rerr = { 0 };
    const char *src;
    int rc;

    *taken = 0;
    if (it->kind != SL_ITEM_DICOM)
        return SL_OK;
    *taken = 1;
    /* the stage that wrote the file knows its summary: no second read,
     * and as the last target given the item, a rename instead of a copy */
    if (it->summary_set && it->tmp_path && it->may_move)
        return sl_sink_dicom_folder_place(vctx, it, it->summary,
                                          it->summary_why, taken, err);
    if ((src = item_file(k, it, err)) == NULL)
        return SL_EINTERNAL;
    if (k->media != NULL)
        return dicom_media_put(k->media, it, src, err);
    rc = sl_dicom_summary_read(src, &sum, &rerr);
    if (rc == SL_ENOMEM)
        return SL_ERR(err, rc, "%s", rerr.msg);
    if (rc != SL_OK)
        return sl_item_quarantine(it, "sink", "%s", rerr.msg);
    rc = place(k, it, src, sum, 0, err);
    sl_dicom_summary_free(sum);
    return rc;
}

int
sl_sink_dicom_folder_place(void *vctx, struct sl_item *it,
                           const struct sl_dicom_summary *sum,
                           const char *why, int *taken, struct sl_err *err)
{
    struct dicom_folder_sink *k = vctx;
    const char *src;

    *taken = 1;
    if ((src = item_file(k, it, err)) == NULL)
        return SL_EINTERNAL;
    if (sum == NULL)
        return sl_item_quarantine(it, "sink", "%s", why ? why : "");
    if (k->media != NULL)
        return dicom_media_put(k->media, it, src, err);
    return place(k, it, src, sum, 1, err);
}

static int
sink_checkpoint(void *vctx, char **state, struct sl_err *err)
{
    struct dicom_folder_sink *k = vctx;

    if (k->media != NULL)
        return dicom_media_checkpoint(k->media, state, err);
    /* With sync_each every put() already fsynced its file and folder. */
    if (!k->sync_each && sinks_syncfs(k->root) != 0)
        return SL_ERR(err, SL_EIO, "target '%s': cannot sync the folder: %s",
                      k->id, strerror(errno));
    *state = sl_asprintf("written=%" PRIu64 " unchanged=%" PRIu64, k->written,
                         k->unchanged);
    return SL_OK;
}

static int
sink_finish(void *vctx, struct sl_err *err)
{
    struct dicom_folder_sink *k = vctx;
    char *path, *json;
    int rc;

    if (k->media != NULL)
        return dicom_media_finish(k->media, err);
    /* Counts only: the manifest is delivered with the data. */
    json = sl_asprintf("{\"layout\": \"%s\", \"written\": %" PRIu64
                       ", \"unchanged\": %" PRIu64 "}\n",
                       k->flat ? "flat" : "patient/study/series", k->written,
                       k->unchanged);
    path = sl_path_join(k->root, "manifest.json");
    rc = sl_file_write_atomic(path, json, strlen(json), err);
    if (rc != SL_OK)
        rc = SL_ERR(err, rc, "target '%s': cannot write manifest.json", k->id);
    free(path);
    free(json);
    if (rc == SL_OK && !k->sync_each && sinks_syncfs(k->root) != 0)
        rc = SL_ERR(err, SL_EIO, "target '%s': cannot sync the folder: %s",
                    k->id, strerror(errno));
    return rc;
}

const struct sl_sink_ops sl_sink_dicom_folder = {
    .type = "dicom-folder",
    .open = sink_open,
    .put = sink_put,
    .checkpoint = sink_checkpoint,
    .finish = sink_finish,
    .close = sink_close,
};

/* cmd_export_dicom.c - sluice export-dicom: lays de-identified DICOM
 * instances out for delivery, as readable folders or as a DICOMDIR media
 * set, or as a zip of the folder layout, with a manifest (JSON and CSV)
 * of studies, series, instance counts, UIDs, the de-identification
 * method and each file's SHA-256.
 *
 *   sluice export-dicom -o OUTDIR [--layout folders|dicomdir] INPUT...
 *   sluice export-dicom --layout zip -o OUT.zip|OUTDIR INPUT...
 *
 * Only de-identified instances are exported (Patient Identity Removed
 * (0012,0062) = YES): everything named or listed comes from them, so no
 * original value can reach the output. Files are copied byte for byte;
 * output names never come from input names. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dicom/dicom.h"
#include "sinks/export.h"

struct export
{
    struct sl_export set;
    const char *outdir;        /* folders, dicomdir: the export folder */
    char *zippath;             /* zip: the archive (owned) */
    struct sl_export_zip *zip; /* zip: open until it is written */
    unsigned long skipped, refused, duplicates;
};

/* Reads one input; adds it to e when it is a de-identified instance.
 * pos names the input in messages (never its path). */
static int
add_input(struct export *e, const char *path, size_t pos, struct sl_err *err)
{
    struct sl_export_inst x;
    const char *refused = NULL;
    int is_dicom = 0, rc;

    if (sl_dicom_file_probe(path, &is_dicom, NULL) != SL_OK || !is_dicom) {
        e->skipped++;
        return SL_OK;
    }
    if ((rc = sl_export_inst_read(path, &x, &refused, err)) != SL_OK) {
        sl_err_prefix(err, "input %zu", pos);
        return rc;
    }
    if (refused != NULL) {
        sl_log(SL_LOG_ERROR, "input %zu: %s%s", pos, refused,
               refused == sl_export_not_deid ? ": run sluice deid first" : "");
        e->refused++;
        return SL_OK;
    }
    if (sl_export_add(&e->set, &x) != 0) {
        /* De-identification is deterministic: the same SOP Instance UID
         * is the same instance, exported once. */
        sl_log(SL_LOG_WARN,
               "input %zu: the same instance as an earlier input (SOP "
               "Instance UID): exported once",
               pos);
        e->duplicates++;
        sl_export_inst_clear(&x);
    }
    return SL_OK;
}

/* Writes one manifest: into the export folder or into the zip. */
static int
emit(struct export *e, const char *name, const char *data, size_t len,
     struct sl_err *err)
{
    char *path;
    int rc;

    if (e->zip != NULL)
        return sl_export_zip_add_data(e->zip, name, data, len, err);
    path = sl_path_join(e->outdir, name);
    rc = sl_file_write_atomic(path, data, len, err);
    free(path);
    return rc;
}

/* The output path of each instance, then the copy and its hash. */
static int
place(struct export *e, struct sl_strv *inputs, struct sl_err *err)
{
    size_t i;
    int rc;

    for (i = 0; i < e->set.n; i++) {
        struct sl_export_inst *x = &e->set.v[i];
        char *dst, *dir;
        x->rel = sl_export_rel_make(&e->set, x, i + 1);
        if (e->zip != NULL) {
            /* Files are copied byte for byte: the input's hash is the
             * hash of the zip member. */
            if ((rc = sl_export_sha256_file(inputs->v[i], x->sha256, err)) !=
                    SL_OK ||
                (rc = sl_export_zip_add_file(e->zip, x->rel, inputs->v[i],
                                             x->sha256, err)) != SL_OK)
                return rc;
            continue;
        }
        dst = sl_path_join(e->outdir, x->rel);
        dir = sl_path_dir(dst);
        rc = sl_mkdir_p(dir, err);
        if (rc == SL_OK && sl_path_exists(dst))
            rc = SL_ERR(err, SL_EDICOM,
                        "exported file %zu: two inputs are the same "
                        "instance (SOP Instance UID)",
                        i + 1);
        if (rc == SL_OK)
            rc = sl_file_copy(inputs->v[i], dst, 1, err);
        if (rc == SL_OK)
            rc = sl_export_sha256_file(dst, x->sha256, err);
        free(dir);
        free(dst);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

static int
write_manifests(struct export *e, struct sl_err *err)
{
    struct sl_buf csv;
    char *text = NULL;
    int rc;

    sl_buf_init(&csv);
    rc = sl_export_manifests(&e->set, NULL, &text, &csv, err);
    if (rc == SL_OK)
        rc = emit(e, "manifest.json", text, strlen(text), err);
    if (rc == SL_OK)
        rc = emit(e, "manifest.csv", csv.data, csv.len, err);
    free(text);
    sl_buf_free(&csv);
    return rc;
}

static int
exec_export_dicom(const struct cli_cmd *self, struct cli_global *g, int argc,
                  char **argv)
{
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "layout", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct export e;
    enum sl_export_layout layout = SL_EXPORT_FOLDERS;
    struct sl_strv inputs = { 0 }, kept = { 0 };
    struct sl_err err = { 0 };
    char msg[256];
    int c, rc = SL_OK, status;
    size_t i;

    (void)g;
    memset(&e, 0, sizeof(e));
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:l:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            e.outdir = optarg;
            break;
        case 'l':
            if (strcmp(optarg, "folders") == 0)
                layout = SL_EXPORT_FOLDERS;
            else if (strcmp(optarg, "dicomdir") == 0)
                layout = SL_EXPORT_DICOMDIR;
            else if (strcmp(optarg, "zip") == 0)
                layout = SL_EXPORT_ZIP;
            else
                return cli_usage_error(self,
                                       "--layout: folders, dicomdir or zip");
            break;
        case 'h':
            cli_print_help(self);
            return SL_EXIT_OK;
        default:
            return cli_usage_error(self, "unknown option");
        }
    }
    if (e.outdir == NULL)
        return cli_usage_error(self, "-o OUTDIR is required");
    if (optind >= argc)
        return cli_usage_error(self, "no input");
    sl_export_init(&e.set, layout);
    if (layout == SL_EXPORT_ZIP) {
        size_t ol = strlen(e.outdir);
        if (ol > 4 && strcmp(e.outdir + ol - 4, ".zip") == 0) {
            e.zippath = sl_strdup(e.outdir);
            e.outdir = NULL;
        } else {
            e.zippath = sl_path_join(e.outdir, "export.zip");
        }
        if (sl_path_exists(e.zippath)) {
            free(e.zippath);
            return cli_usage_error(self, "-o: the zip must not exist yet");
        }
    }
    if (e.outdir != NULL && sl_path_exists(e.outdir)) {
        struct sl_strv there = { 0 };
        if (!sl_path_is_dir(e.outdir) ||
            sl_dir_walk(e.outdir, &there, &err) != SL_OK || there.n > 0) {
            sl_strv_free(&there);
            return cli_usage_error(self, "-o: the output folder must be new "
                                         "or empty");
        }
        sl_strv_free(&there);
    }
    if (sl_dicom_init(msg, sizeof(msg)) != 0) {
        fprintf(stderr, "sluice export-dicom: %s\n", msg);
        return SL_EXIT_RUNTIME;
    }
    for (c = optind; c < argc && rc == SL_OK; c++) {
        if (sl_path_is_dir(argv[c])) {
            struct sl_strv files = { 0 };
            if ((rc = sl_dir_walk(argv[c], &files, &err)) == SL_OK)
                for (i = 0; i < files.n; i++)
                    sl_strv_push_owned(&inputs,
                                       sl_path_join(argv[c], files.v[i]));
            sl_strv_free(&files);
        } else {
            sl_strv_push(&inputs, argv[c]);
        }
    }
    for (i = 0; i < inputs.n && rc == SL_OK; i++) {
        size_t before = e.set.n;
        rc = add_input(&e, inputs.v[i], i + 1, &err);
        if (rc == SL_OK && e.set.n > before)
            sl_strv_push(&kept, inputs.v[i]);
    }
    if (rc == SL_OK && e.set.n == 0)
        rc = SL_ERR(&err, SL_ENOTFOUND,
                    "no de-identified DICOM instance in "
                    "the inputs");
    if (rc == SL_OK && e.outdir != NULL)
        rc = sl_mkdir_p(e.outdir, &err);
    /* ZIP_EXCL: never overwrite an existing zip. */
    if (rc == SL_OK && layout == SL_EXPORT_ZIP)
        rc = sl_export_zip_open(e.zippath, 1, &e.zip, &err);
    if (rc == SL_OK)
        rc = place(&e, &kept, &err);
    if (rc == SL_OK && layout == SL_EXPORT_DICOMDIR)
        rc = sl_export_dicomdir(e.outdir, &e.set, &err);
    if (rc == SL_OK)
        rc = write_manifests(&e, &err);
    if (e.zip != NULL) {
        if (rc == SL_OK)
            rc = sl_export_zip_close(e.zip, &err);
        else
            sl_export_zip_discard(e.zip); /* no partial archive */
        e.zip = NULL;
    }
    if (rc != SL_OK) {
        status = cli_fail(&err);
    } else {
        printf("exported %zu instances (%zu patients, %zu studies, %zu "
               "series); %lu not DICOM, %lu duplicates, %lu refused\n",
               e.set.n, e.set.patients.sv.n, e.set.studies.sv.n,
               e.set.series.sv.n, e.skipped, e.duplicates, e.refused);
        status = e.refused > 0 ? SL_EXIT_RUNTIME : SL_EXIT_OK;
    }
    sl_export_free(&e.set);
    sl_strv_free(&inputs);
    sl_strv_free(&kept);
    free(e.zippath);
    return status;
}

const struct cli_cmd cli_cmd_export_dicom = {
    "export-dicom",
    "-o OUTDIR|OUT.zip [--layout folders|dicomdir|zip] INPUT...",
    "lay de-identified DICOM out for delivery, with a manifest",
    "Copies de-identified DICOM instances (files or folders of them, such\n"
    "as the output of sluice deid) byte for byte into OUTDIR, which must be\n"
    "new or empty, and writes OUTDIR/manifest.json and manifest.csv:\n"
    "studies, series, instance counts, UIDs, the de-identification method\n"
    "and each file's SHA-256.\n"
    "\n"
    "  -o, --output OUTDIR   the export folder\n"
    "  --layout folders      PATIENT/study-UID/MODALITY-SERIESUID/SOPUID.dcm,\n"
    "                        named by pseudonyms and new UIDs (default)\n"
    "  --layout dicomdir     a DICOMDIR media set (General Purpose profile,\n"
    "                        ISO 9660 names P0000001/S0000001/R0000001/I...)\n"
    "  --layout zip          a zip of the folders layout and the manifests:\n"
    "                        -o OUT.zip, or -o OUTDIR for OUTDIR/export.zip;\n"
    "                        the zip must not exist. Members are streamed\n"
    "                        from the files, never held in memory whole\n"
    "\n"
    "With --layout zip the manifests are inside the zip, next to the\n"
    "patient folders, and their SHA-256 are those of the zip members.\n"
    "\n"
    "Only instances with Patient Identity Removed (0012,0062) = YES are\n"
    "exported; others are refused by position (never by path) and the exit\n"
    "status is 2. Names and the manifest come only from values sluice's\n"
    "own de-identification wrote ((0012,0063) names sluice; its Patient ID\n"
    "and Name must then be pseudonyms, or the instance is refused);\n"
    "another tool's output gets numbered names. Never from input file\n"
    "names.\n",
    exec_export_dicom,
};

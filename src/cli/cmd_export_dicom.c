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

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <zip.h>
#include <openssl/evp.h>

#include "cli/cli.h"
#include "dicom/dicom.h"

enum layout { LAYOUT_FOLDERS, LAYOUT_DICOMDIR, LAYOUT_ZIP };

/* One exported instance. Values are de-identified ones. */
struct inst {
    char *patient, *study, *series, *sop, *modality, *method;
    char *rel; /* OUTDIR-relative path */
    char sha256[65];
    size_t patient_no, study_no, series_no;
};

struct export
{
    enum layout layout;
    const char *outdir; /* folders, dicomdir: the export folder */
    char *zippath;      /* zip: the archive (owned) */
    zip_t *zip;         /* zip: open until zip_close() writes it */
    struct inst *v;
    size_t n, cap;
    struct sl_strv patients, studies, series; /* distinct keys, in order */
    struct sl_strv sops;
    unsigned long skipped, refused, duplicates;
};

/* Index of key in sv, appended when new. */
static size_t
key_index(struct sl_strv *sv, const char *key)
{
    size_t i;

    for (i = sv->n; i > 0; i--)
        if (strcmp(sv->v[i - 1], key) == 0)
            return i - 1;
    sl_strv_push(sv, key);
    return sv->n - 1;
}

/* A file or folder name from a de-identified value: [A-Za-z0-9._-] only. */
static char *
safe_name(const char *prefix, const char *v)
{
    char *s = sl_asprintf("%s%s", prefix, v != NULL && *v ? v : "unknown");
    char *p;

    for (p = s; *p != '\0'; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
            *p = '_';
    if (strlen(s) > 128)
        s[128] = '\0';
    return s;
}

static int
sha256_file(const char *path, char out[65], struct sl_err *err)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0, i;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    FILE *f = fopen(path, "rb");
    int rc = SL_OK;
    size_t r;

    if (ctx == NULL || f == NULL ||
        EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        rc = SL_ERR(err, SL_EIO, "cannot hash an exported file");
        goto out;
    }
    while ((r = fread(buf, 1, sizeof(buf), f)) > 0)
        EVP_DigestUpdate(ctx, buf, r);
    if (ferror(f) || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1) {
        rc = SL_ERR(err, SL_EIO, "cannot hash an exported file");
        goto out;
    }
    for (i = 0; i < mdlen && i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
out:
    if (f != NULL)
        fclose(f);
    EVP_MD_CTX_free(ctx);
    return rc;
}

static void
inst_free(struct inst *x)
{
    free(x->patient);
    free(x->study);
    free(x->series);
    free(x->sop);
    free(x->modality);
    free(x->method);
    free(x->rel);
}

/* Reads one input; adds it to e when it is a de-identified instance.
 * pos names the input in messages (never its path). */
static int
add_input(struct export *e, const char *path, size_t pos, struct sl_err *err)
{
    struct sl_dicom_file *f = NULL;
    struct inst x;
    char *removed = NULL;
    int is_dicom = 0, rc;

    memset(&x, 0, sizeof(x));
    if (sl_dicom_file_probe(path, &is_dicom, NULL) != SL_OK || !is_dicom) {
        e->skipped++;
        return SL_OK;
    }
    if ((rc = sl_dicom_file_open(path, &f, NULL, err)) != SL_OK) {
        sl_err_prefix(err, "input %zu", pos);
        return rc;
    }
    sl_dicom_file_get(f, 0x0012, 0x0062, &removed);
    if (removed == NULL || strcmp(removed, "YES") != 0) {
        sl_log(SL_LOG_ERROR,
               "input %zu: not de-identified ((0012,0062) Patient Identity "
               "Removed is not YES): run sluice deid first",
               pos);
        e->refused++;
        goto out;
    }
    sl_dicom_file_get(f, 0x0010, 0x0020, &x.patient);
    sl_dicom_file_get(f, 0x0020, 0x000D, &x.study);
    sl_dicom_file_get(f, 0x0020, 0x000E, &x.series);
    sl_dicom_file_get(f, 0x0008, 0x0018, &x.sop);
    sl_dicom_file_get(f, 0x0008, 0x0060, &x.modality);
    sl_dicom_file_get(f, 0x0012, 0x0063, &x.method);
    if (x.study == NULL || x.series == NULL || x.sop == NULL) {
        sl_log(SL_LOG_ERROR,
               "input %zu: a Study, Series or SOP Instance UID "
               "is missing",
               pos);
        e->refused++;
        inst_free(&x);
        goto out;
    }
    size_t nsops = e->sops.n;
    if (key_index(&e->sops, x.sop) != nsops) {
        /* De-identification is deterministic: the same SOP Instance UID
         * is the same instance, exported once. */
        sl_log(SL_LOG_WARN,
               "input %zu: the same instance as an earlier input (SOP "
               "Instance UID): exported once",
               pos);
        e->duplicates++;
        inst_free(&x);
        goto out;
    }
    x.patient_no = key_index(&e->patients, x.patient ? x.patient : "");
    x.study_no = key_index(&e->studies, x.study);
    x.series_no = key_index(&e->series, x.series);
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 256;
        e->v = sl_realloc(e->v, e->cap * sizeof(*e->v));
    }
    e->v[e->n++] = x;
out:
    free(removed);
    sl_dicom_file_free(f);
    return SL_OK;
}

static const char *
layout_name(enum layout l)
{
    return l == LAYOUT_DICOMDIR ? "dicomdir"
           : l == LAYOUT_ZIP    ? "zip"
                                : "folders";
}

/* A zip member read from a file when zip_close() writes the archive, in
 * blocks (nothing held whole), hashed as it is read: if the file is not
 * the one hashed for the manifest any more, the archive is not written. */
struct zsrc {
    const char *path;   /* borrowed: lives until zip_close() */
    const char *sha256; /* borrowed: the manifest's hash */
    struct stat st;
    FILE *f;
    EVP_MD_CTX *md;
    zip_uint64_t done;
    zip_error_t error;
};

static zip_int64_t
zsrc_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
    static const char hex[] = "0123456789abcdef";
    struct zsrc *z = ud;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0, i;
    char got[65];
    size_t r;

    switch (cmd) {
    case ZIP_SOURCE_OPEN:
        if ((z->f = fopen(z->path, "rb")) == NULL) {
            zip_error_set(&z->error, ZIP_ER_OPEN, errno);
            return -1;
        }
        if (z->md == NULL)
            z->md = EVP_MD_CTX_new();
        if (z->md == NULL ||
            EVP_DigestInit_ex(z->md, EVP_sha256(), NULL) != 1) {
            zip_error_set(&z->error, ZIP_ER_MEMORY, 0);
            return -1;
        }
        z->done = 0;
        return 0;
    case ZIP_SOURCE_READ:
        r = fread(data, 1, len, z->f);
        if (ferror(z->f)) {
            zip_error_set(&z->error, ZIP_ER_READ, errno);
            return -1;
        }
        EVP_DigestUpdate(z->md, data, r);
        z->done += r;
        if (r == 0) {
            /* End of the file: it must be what the manifest says. */
            if (EVP_DigestFinal_ex(z->md, md, &mdlen) != 1 || mdlen != 32) {
                zip_error_set(&z->error, ZIP_ER_INTERNAL, 0);
                return -1;
            }
            for (i = 0; i < 32; i++) {
                got[2 * i] = hex[md[i] >> 4];
                got[2 * i + 1] = hex[md[i] & 15];
            }
            got[64] = '\0';
            if (z->done != (zip_uint64_t)z->st.st_size ||
                strcmp(got, z->sha256) != 0) {
                zip_error_set(&z->error, ZIP_ER_CHANGED, 0);
                return -1;
            }
        }
        return (zip_int64_t)r;
    case ZIP_SOURCE_CLOSE:
        if (z->f != NULL)
            fclose(z->f);
        z->f = NULL;
        return 0;
    case ZIP_SOURCE_STAT: {
        zip_stat_t *zs = ZIP_SOURCE_GET_ARGS(zip_stat_t, data, len, &z->error);
        if (zs == NULL)
            return -1;
        zip_stat_init(zs);
        zs->size = (zip_uint64_t)z->st.st_size;
        zs->mtime = z->st.st_mtime;
        zs->valid |= ZIP_STAT_SIZE | ZIP_STAT_MTIME;
        return 0;
    }
    case ZIP_SOURCE_ERROR:
        return zip_error_to_data(&z->error, data, len);
    case ZIP_SOURCE_FREE:
        if (z->f != NULL)
            fclose(z->f);
        EVP_MD_CTX_free(z->md);
        zip_error_fini(&z->error);
        free(z);
        return 0;
    case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(
            ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT,
            ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
    default:
        zip_error_set(&z->error, ZIP_ER_OPNOTSUPP, 0);
        return -1;
    }
}

/* Adds the file at path to the zip as name; sha256 is its hash in the
 * manifest (borrowed, like path, until zip_close()). */
static int
zip_add_file(struct export *e, const char *name, const char *path,
             const char *sha256, struct sl_err *err)
{
    struct zsrc *z = sl_calloc(1, sizeof(*z));
    zip_source_t *src;

    z->path = path;
    z->sha256 = sha256;
    zip_error_init(&z->error);
    if (stat(path, &z->st) != 0) {
        free(z);
        return SL_ERR(err, SL_EIO, "%s: cannot read the instance", name);
    }
    /* From here the source owns z (ZIP_SOURCE_FREE). */
    if ((src = zip_source_function(e->zip, zsrc_cb, z)) == NULL) {
        free(z);
        return SL_ERR(err, SL_EIO, "%s: cannot add to the zip: %s", name,
                      zip_strerror(e->zip));
    }
    if (zip_file_add(e->zip, name, src, ZIP_FL_ENC_UTF_8) < 0) {
        zip_source_free(src);
        return SL_ERR(err, SL_EDICOM,
                      "%s: cannot add to the zip (two inputs the same "
                      "instance?): %s",
                      name, zip_strerror(e->zip));
    }
    return SL_OK;
}

/* Adds len bytes of data to the zip as name (a copy: the caller keeps
 * data). Used for the manifests, which are small. */
static int
zip_add_data(struct export *e, const char *name, const char *data, size_t len,
             struct sl_err *err)
{
    void *copy = sl_malloc(len > 0 ? len : 1);
    zip_source_t *src;

    memcpy(copy, data, len);
    /* freep = 1: libzip frees the copy with free(). */
    src = zip_source_buffer(e->zip, copy, len, 1);
    if (src == NULL) {
        free(copy);
        return SL_ERR(err, SL_EIO, "%s: cannot add to the zip: %s", name,
                      zip_strerror(e->zip));
    }
    if (zip_file_add(e->zip, name, src, ZIP_FL_ENC_UTF_8) < 0) {
        zip_source_free(src);
        return SL_ERR(err, SL_EIO, "%s: cannot add to the zip: %s", name,
                      zip_strerror(e->zip));
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

    if (e->layout == LAYOUT_ZIP)
        return zip_add_data(e, name, data, len, err);
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

    for (i = 0; i < e->n; i++) {
        struct inst *x = &e->v[i];
        char *dst, *dir;
        if (e->layout == LAYOUT_DICOMDIR) {
            /* ISO 9660 names: 8 characters per component. */
            x->rel =
                sl_asprintf("P%07zu/S%07zu/R%07zu/I%07zu", x->patient_no + 1,
                            x->study_no + 1, x->series_no + 1, i + 1);
        } else {
            char *p = safe_name("", x->patient);
            char *s = safe_name("study-", x->study);
            char *m = safe_name("", x->modality);
            char *r = safe_name("", x->series);
            char *o = safe_name("", x->sop);
            x->rel = sl_asprintf("%s/%s/%s-%s/%s.dcm", p, s, m, r, o);
            free(p);
            free(s);
            free(m);
            free(r);
            free(o);
        }
        if (e->layout == LAYOUT_ZIP) {
            /* Files are copied byte for byte: the input's hash is the
             * hash of the zip member. */
            if ((rc = sha256_file(inputs->v[i], x->sha256, err)) != SL_OK ||
                (rc = zip_add_file(e, x->rel, inputs->v[i], x->sha256, err)) !=
                    SL_OK)
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
            rc = sha256_file(dst, x->sha256, err);
        free(dir);
        free(dst);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

static const char *
nz(const char *s)
{
    return s != NULL ? s : "";
}

static int
write_manifests(struct export *e, struct sl_err *err)
{
    json_t *root = json_object(), *studies = json_array(),
           *files = json_array(), *methods = json_array();
    struct sl_buf csv;
    char now[32], *text = NULL;
    size_t i, j;
    int rc;

    sl_time_iso(now, sizeof(now));
    json_object_set_new(root, "generator",
                        json_string("sluice " PACKAGE_VERSION));
    json_object_set_new(root, "created", json_string(now));
    json_object_set_new(root, "layout", json_string(layout_name(e->layout)));
    json_object_set_new(root, "patients",
                        json_integer((json_int_t)e->patients.n));
    json_object_set_new(root, "instances", json_integer((json_int_t)e->n));
    /* Studies, their series and instance counts. */
    for (i = 0; i < e->studies.n; i++) {
        json_t *st = json_object(), *series = json_array();
        const struct inst *first = NULL;
        size_t count = 0;
        for (j = 0; j < e->n; j++)
            if (e->v[j].study_no == i) {
                if (first == NULL)
                    first = &e->v[j];
                count++;
            }
        json_object_set_new(st, "study_uid", json_string(e->studies.v[i]));
        json_object_set_new(st, "patient",
                            json_string(first ? nz(first->patient) : ""));
        json_object_set_new(st, "instances", json_integer((json_int_t)count));
        for (j = 0; j < e->series.n; j++) {
            size_t k, c = 0;
            const struct inst *sfirst = NULL;
            for (k = 0; k < e->n; k++)
                if (e->v[k].series_no == j && e->v[k].study_no == i) {
                    if (sfirst == NULL)
                        sfirst = &e->v[k];
                    c++;
                }
            if (c == 0)
                continue;
            json_t *se = json_object();
            json_object_set_new(se, "series_uid", json_string(e->series.v[j]));
            json_object_set_new(se, "modality",
                                json_string(nz(sfirst->modality)));
            json_object_set_new(se, "instances", json_integer((json_int_t)c));
            json_array_append_new(series, se);
        }
        json_object_set_new(st, "series", series); /* steals */
        json_array_append_new(studies, st);
    }
    sl_buf_init(&csv);
    sl_buf_adds(&csv, "path,patient,study_uid,series_uid,sop_uid,modality,"
                      "deidentification_method,sha256\n");
    for (i = 0; i < e->n; i++) {
        const struct inst *x = &e->v[i];
        json_t *fo = json_object();
        int known = 0;
        json_object_set_new(fo, "path", json_string(x->rel));
        json_object_set_new(fo, "patient", json_string(nz(x->patient)));
        json_object_set_new(fo, "study_uid", json_string(x->study));
        json_object_set_new(fo, "series_uid", json_string(x->series));
        json_object_set_new(fo, "sop_uid", json_string(x->sop));
        json_object_set_new(fo, "modality", json_string(nz(x->modality)));
        json_object_set_new(fo, "sha256", json_string(x->sha256));
        json_array_append_new(files, fo);
        for (j = 0; j < json_array_size(methods); j++)
            if (strcmp(json_string_value(json_array_get(methods, j)),
                       nz(x->method)) == 0)
                known = 1;
        if (!known)
            json_array_append_new(methods, json_string(nz(x->method)));
        /* De-identified values hold no comma or quote: UIDs, pseudonyms,
         * CS codes; the method is quoted. */
        sl_buf_addf(&csv, "%s,%s,%s,%s,%s,%s,\"%s\",%s\n", x->rel,
                    nz(x->patient), x->study, x->series, x->sop,
                    nz(x->modality), nz(x->method), x->sha256);
    }
    json_object_set_new(root, "deidentification_methods", methods);
    json_object_set_new(root, "studies", studies);
    json_object_set_new(root, "files", files);
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    rc = text != NULL ? emit(e, "manifest.json", text, strlen(text), err)
                      : SL_ERR(err, SL_ENOMEM, "manifest: out of memory");
    if (rc == SL_OK)
        rc = emit(e, "manifest.csv", csv.data, csv.len, err);
    free(text);
    sl_buf_free(&csv);
    json_decref(root);
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
                e.layout = LAYOUT_FOLDERS;
            else if (strcmp(optarg, "dicomdir") == 0)
                e.layout = LAYOUT_DICOMDIR;
            else if (strcmp(optarg, "zip") == 0)
                e.layout = LAYOUT_ZIP;
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
    if (e.layout == LAYOUT_ZIP) {
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
        size_t before = e.n;
        rc = add_input(&e, inputs.v[i], i + 1, &err);
        if (rc == SL_OK && e.n > before)
            sl_strv_push(&kept, inputs.v[i]);
    }
    if (rc == SL_OK && e.n == 0)
        rc = SL_ERR(&err, SL_ENOTFOUND,
                    "no de-identified DICOM instance in "
                    "the inputs");
    if (rc == SL_OK && e.outdir != NULL)
        rc = sl_mkdir_p(e.outdir, &err);
    if (rc == SL_OK && e.layout == LAYOUT_ZIP) {
        int zerr = 0;
        /* ZIP_EXCL: never overwrite; libzip writes a temporary file and
         * renames it over the name at zip_close(). */
        e.zip = zip_open(e.zippath, ZIP_CREATE | ZIP_EXCL, &zerr);
        if (e.zip == NULL) {
            zip_error_t ze;
            zip_error_init_with_code(&ze, zerr);
            rc = SL_ERR(&err, SL_EIO, "%s: cannot create the zip: %s",
                        e.zippath, zip_error_strerror(&ze));
            zip_error_fini(&ze);
        }
    }
    if (rc == SL_OK)
        rc = place(&e, &kept, &err);
    if (rc == SL_OK && e.layout == LAYOUT_DICOMDIR) {
        const char **rel = sl_calloc(e.n + 1, sizeof(*rel));
        for (i = 0; i < e.n; i++)
            rel[i] = e.v[i].rel;
        rc = sl_dicom_dicomdir_write(e.outdir, rel, e.n, &err);
        free(rel);
    }
    if (rc == SL_OK)
        rc = write_manifests(&e, &err);
    if (e.zip != NULL) {
        /* Here libzip streams every member from its file into the
         * archive. */
        if (rc == SL_OK && zip_close(e.zip) == 0)
            e.zip = NULL; /* written and freed */
        else if (rc == SL_OK)
            rc = SL_ERR(&err, SL_EIO, "%s: cannot write the zip: %s", e.zippath,
                        zip_strerror(e.zip));
        if (e.zip != NULL)
            zip_discard(e.zip); /* on failure: no partial archive */
        e.zip = NULL;
    }
    if (rc != SL_OK) {
        status = cli_fail(&err);
    } else {
        printf("exported %zu instances (%zu patients, %zu studies, %zu "
               "series); %lu not DICOM, %lu duplicates, %lu refused\n",
               e.n, e.patients.n, e.studies.n, e.series.n, e.skipped,
               e.duplicates, e.refused);
        status = e.refused > 0 ? SL_EXIT_RUNTIME : SL_EXIT_OK;
    }
    for (i = 0; i < e.n; i++)
        inst_free(&e.v[i]);
    free(e.v);
    sl_strv_free(&e.patients);
    sl_strv_free(&e.studies);
    sl_strv_free(&e.series);
    sl_strv_free(&e.sops);
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
    "status is 2. Names and the manifest come only from the de-identified\n"
    "values, never from input file names.\n",
    exec_export_dicom,
};

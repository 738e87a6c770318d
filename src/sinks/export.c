/* export.c - de-identified DICOM laid out for delivery (see export.h):
 * names, manifests, the zip and the DICOMDIR, for `sluice export-dicom`
 * and the dicom-folder sink. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <zip.h>

#include "common/hash.h"
#include "dicom/dicom.h"
#include "sinks/export.h"

/* ---- keys: distinct strings with a hash index ---------------------------- */
/* FNV-1a from the short seed this index was written with (hash.h); the
 * low bits of the 64-bit hash are what a size_t hash gave, on any size_t. */
static size_t
str_hash(const char *s)
{
    return (size_t)sl_fnv1a64_cont(SL_FNV1A64_OFFSET_SHORT, s);
}

static void
keys_free(struct sl_export_keys *k)
{
    sl_strv_free(&k->sv);
    free(k->slot);
    memset(k, 0, sizeof(*k));
}

/* Index of key in k, or -1. */
static long
keys_find(const struct sl_export_keys *k, const char *key)
{
    size_t i;

    if (k->nslot == 0)
        return -1;
    for (i = str_hash(key) & (k->nslot - 1); k->slot[i] != 0;
         i = (i + 1) & (k->nslot - 1))
        if (strcmp(k->sv.v[k->slot[i] - 1], key) == 0)
            return (long)(k->slot[i] - 1);
    return -1;
}

static void
keys_slot_set(struct sl_export_keys *k, size_t idx)
{
    size_t i;

    for (i = str_hash(k->sv.v[idx]) & (k->nslot - 1); k->slot[i] != 0;
         i = (i + 1) & (k->nslot - 1))
        ;
    k->slot[i] = idx + 1;
}

/* Index of key in k, appended when new. */
static size_t
keys_index(struct sl_export_keys *k, const char *key)
{
    long at = keys_find(k, key);
    size_t i;

    if (at >= 0)
        return (size_t)at;
    sl_strv_push(&k->sv, key);
    if (2 * k->sv.n > k->nslot) { /* at most half full */
        free(k->slot);
        k->nslot = k->nslot ? 2 * k->nslot : 64;
        k->slot = sl_calloc(k->nslot, sizeof(*k->slot));
        for (i = 0; i < k->sv.n; i++)
            keys_slot_set(k, i);
    } else {
        keys_slot_set(k, k->sv.n - 1);
    }
    return k->sv.n - 1;
}

/* ---- the set ------------------------------------------------------------- */
void
sl_export_init(struct sl_export *e, enum sl_export_layout layout)
{
    memset(e, 0, sizeof(*e));
    e->layout = layout;
}

void
sl_export_inst_clear(struct sl_export_inst *x)
{
    free(x->patient);
    free(x->study);
    free(x->series);
    free(x->sop);
    free(x->modality);
    free(x->method);
    free(x->rel);
    free(x->run);
    memset(x, 0, sizeof(*x));
}

void
sl_export_free(struct sl_export *e)
{
    size_t i;

    if (e == NULL)
        return;
    for (i = 0; i < e->n; i++)
        sl_export_inst_clear(&e->v[i]);
    free(e->v);
    keys_free(&e->patients);
    keys_free(&e->studies);
    keys_free(&e->series);
    keys_free(&e->sops);
    e->v = NULL;
    e->n = e->cap = 0;
}

const char *
sl_export_layout_name(enum sl_export_layout l)
{
    return l == SL_EXPORT_DICOMDIR ? "dicomdir"
           : l == SL_EXPORT_ZIP    ? "zip"
                                   : "folders";
}

const char sl_export_not_deid[] =
    "not de-identified ((0012,0062) Patient Identity Removed is not YES)";
const char sl_export_no_uid[] =
    "a Study, Series or SOP Instance UID is missing";
const char sl_export_not_pseudonym[] =
    "(0010,0020) Patient ID or (0010,0010) Patient Name is not a pseudonym, "
    "although (0012,0063) says sluice de-identified the instance";

/* Empty, or 26 characters of base32 as sluice's pseudonyms are. */
static int
pseudonym_shaped(const char *v)
{
    size_t i;

    if (v == NULL || *v == '\0')
        return 1;
    for (i = 0; v[i]; i++)
        if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '2' && v[i] <= '7')))
            return 0;
    return i == 26;
}

int
sl_export_inst_read(const char *path, struct sl_export_inst *x,
                    const char **refused, struct sl_err *err)
{
    struct sl_dicom_file *f = NULL;
    char *removed = NULL;
    int rc;

    memset(x, 0, sizeof(*x));
    *refused = NULL;
    if ((rc = sl_dicom_file_open(path, &f, NULL, err)) != SL_OK)
        return rc;
    sl_dicom_file_get(f, 0x0012, 0x0062, &removed);
    if (removed == NULL || strcmp(removed, "YES") != 0) {
        *refused = sl_export_not_deid;
        goto out;
    }
    sl_dicom_file_get(f, 0x0010, 0x0020, &x->patient);
    sl_dicom_file_get(f, 0x0020, 0x000D, &x->study);
    sl_dicom_file_get(f, 0x0020, 0x000E, &x->series);
    sl_dicom_file_get(f, 0x0008, 0x0018, &x->sop);
    sl_dicom_file_get(f, 0x0008, 0x0060, &x->modality);
    sl_dicom_file_get(f, 0x0012, 0x0063, &x->method);
    x->ours = x->method != NULL && strstr(x->method, "; sluice") != NULL;
    if (x->study == NULL || x->series == NULL || x->sop == NULL) {
        *refused = sl_export_no_uid;
        sl_export_inst_clear(x);
    } else if (x->ours) {
        /* (0012,0062) YES alone is trusted by nobody: a value that is
         * not what sluice writes may be the patient's own */
        char *name = NULL;
        sl_dicom_file_get(f, 0x0010, 0x0010, &name);
        if (!pseudonym_shaped(x->patient) || !pseudonym_shaped(name)) {
            *refused = sl_export_not_pseudonym;
            sl_export_inst_clear(x);
        }
        free(name);
    }
out:
    free(removed);
    sl_dicom_file_free(f);
    return SL_OK;
}

long
sl_export_find(const struct sl_export *e, const char *sop)
{
    return keys_find(&e->sops, sop);
}

int
sl_export_add(struct sl_export *e, struct sl_export_inst *x)
{
    if (keys_find(&e->sops, x->sop) >= 0)
        return -1;
    keys_index(&e->sops, x->sop);
    x->patient_no = keys_index(&e->patients, x->patient ? x->patient : "");
    x->study_no = keys_index(&e->studies, x->study);
    x->series_no = keys_index(&e->series, x->series);
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 256;
        e->v = sl_realloc(e->v, e->cap * sizeof(*e->v));
    }
    e->v[e->n++] = *x;
    memset(x, 0, sizeof(*x)); /* moved into e */
    return 0;
}

char *
sl_export_name_safe(const char *prefix, const char *v)
{
    char *s = sl_asprintf("%s%s", prefix, v != NULL && *v ? v : "unknown");
    char *p;

    for (p = s; *p != '\0'; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
            *p = '_';
    /* Never ".", ".." or a hidden name: a value kept by a site profile
     * could be either. */
    if (s[0] == '.')
        s[0] = '_';
    if (strlen(s) > 128)
        s[128] = '\0';
    return s;
}

char *
sl_export_rel_make(const struct sl_export *e, const struct sl_export_inst *x,
                   size_t ino)
{
    char *p, *s, *m, *r, *o, *rel;

    if (e->layout == SL_EXPORT_DICOMDIR)
        /* ISO 9660 names: 8 characters per component. */
        return sl_asprintf("P%07zu/S%07zu/R%07zu/I%07zu", x->patient_no + 1,
                           x->study_no + 1, x->series_no + 1, ino);
    if (!x->ours) {
        /* another tool's output: its values may be anything, so the
         * names are numbers, in the order instances were first seen
         * (the numbers sl_export_add gives, or will give) */
        long pi = keys_find(&e->patients, x->patient ? x->patient : "");
        long si = keys_find(&e->studies, x->study);
        long ri = keys_find(&e->series, x->series);
        long oi = keys_find(&e->sops, x->sop);
        return sl_asprintf(
            "patient-%04zu/study-%04zu/series-%04zu/%06zu.dcm",
            (pi >= 0 ? (size_t)pi : e->patients.sv.n) + 1,
            (si >= 0 ? (size_t)si : e->studies.sv.n) + 1,
            (ri >= 0 ? (size_t)ri : e->series.sv.n) + 1,
            (oi >= 0 ? (size_t)oi : e->sops.sv.n) + 1);
    }
    p = sl_export_name_safe("", x->patient);
    s = sl_export_name_safe("study-", x->study);
    m = sl_export_name_safe("", x->modality);
    r = sl_export_name_safe("", x->series);
    o = sl_export_name_safe("", x->sop);
    rel = sl_asprintf("%s/%s/%s-%s/%s.dcm", p, s, m, r, o);
    free(p);
    free(s);
    free(m);
    free(r);
    free(o);
    return rel;
}

/* How the manifest names an instance's patient: sluice's pseudonym, or
 * a number for another tool's output. A new reference. */
static json_t *
patient_name(const struct sl_export_inst *x)
{
    if (x->ours)
        return json_string(x->patient ? x->patient : "");
    return json_sprintf("patient-%04zu", x->patient_no + 1);
}

static void
hex32(const unsigned char *md, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned int i;

    for (i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

int
sl_export_sha256_file(const char *path, char out[65], struct sl_err *err)
{
    unsigned char *buf = sl_malloc(65536), md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    FILE *f = fopen(path, "rb");
    int rc = SL_OK;
    size_t r;

    if (ctx == NULL || f == NULL ||
        EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        rc = SL_ERR(err, SL_EIO, "cannot hash an exported file");
        goto out;
    }
    while ((r = fread(buf, 1, 65536, f)) > 0)
        EVP_DigestUpdate(ctx, buf, r);
    if (ferror(f) || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < 32) {
        rc = SL_ERR(err, SL_EIO, "cannot hash an exported file");
        goto out;
    }
    hex32(md, out);
out:
    if (f != NULL)
        fclose(f);
    EVP_MD_CTX_free(ctx);
    free(buf);
    return rc;
}

/* ---- manifests ----------------------------------------------------------- */
static const char *
nz(const char *s)
{
    return s != NULL ? s : "";
}

/* One CSV field (RFC 4180) and its separator: quoted when asked or when
 * it holds a comma, a quote or a line break; quotes doubled. */
static void
csv_field(struct sl_buf *b, const char *v, int quote, char sep)
{
    const char *p;

    if (!quote && strpbrk(v, ",\"\r\n") == NULL) {
        sl_buf_adds(b, v);
    } else {
        sl_buf_addc(b, '"');
        for (p = v; *p != '\0'; p++) {
            if (*p == '"')
                sl_buf_addc(b, '"');
            sl_buf_addc(b, *p);
        }
        sl_buf_addc(b, '"');
    }
    sl_buf_addc(b, sep);
}

int
sl_export_manifests(const struct sl_export *e, const char *run, char **json,
                    struct sl_buf *csv, struct sl_err *err)
{
    json_t *root = json_object(), *studies = json_array(),
           *files = json_array(), *methods = json_array();
    struct sl_export_keys seen = { 0 };
    size_t *count = sl_calloc(e->studies.sv.n + 1, sizeof(*count));
    size_t *scount = sl_calloc(e->series.sv.n + 1, sizeof(*scount));
    size_t *sfirst = sl_calloc(e->series.sv.n + 1, sizeof(*sfirst));
    size_t *pfirst = sl_calloc(e->studies.sv.n + 1, sizeof(*pfirst));
    char now[32];
    size_t i, j;
    int rc = SL_OK;

    /* Instances per study and per series, and the first instance of each
     * (the one that names its patient and modality). A series belongs to
     * one study. */
    for (i = 0; i < e->n; i++) {
        const struct sl_export_inst *x = &e->v[i];
        if (count[x->study_no]++ == 0)
            pfirst[x->study_no] = i;
        if (scount[x->series_no]++ == 0)
            sfirst[x->series_no] = i;
    }
    sl_time_iso(now, sizeof(now));
    json_object_set_new(root, "generator",
                        json_string("sluice " PACKAGE_VERSION));
    json_object_set_new(root, "created", json_string(now));
    json_object_set_new(root, "layout",
                        json_string(sl_export_layout_name(e->layout)));
    if (run != NULL)
        json_object_set_new(root, "run", json_string(run));
    json_object_set_new(root, "patients",
                        json_integer((json_int_t)e->patients.sv.n));
    json_object_set_new(root, "instances", json_integer((json_int_t)e->n));
    /* Studies, their series and instance counts. */
    for (i = 0; i < e->studies.sv.n; i++) {
        json_t *st = json_object(), *series = json_array();
        const struct sl_export_inst *first =
            count[i] > 0 ? &e->v[pfirst[i]] : NULL;
        json_object_set_new(st, "study_uid", json_string(e->studies.sv.v[i]));
        json_object_set_new(st, "patient",
                            first ? patient_name(first) : json_string(""));
        json_object_set_new(st, "instances",
                            json_integer((json_int_t)count[i]));
        for (j = 0; j < e->series.sv.n; j++) {
            const struct sl_export_inst *sf = &e->v[sfirst[j]];
            json_t *se;
            if (scount[j] == 0 || sf->study_no != i)
                continue;
            se = json_object();
            json_object_set_new(se, "series_uid",
                                json_string(e->series.sv.v[j]));
            json_object_set_new(se, "modality", json_string(nz(sf->modality)));
            json_object_set_new(se, "instances",
                                json_integer((json_int_t)scount[j]));
            json_array_append_new(series, se);
        }
        json_object_set_new(st, "series", series); /* steals */
        json_array_append_new(studies, st);
    }
    sl_buf_adds(csv, "path,patient,study_uid,series_uid,sop_uid,modality,"
                     "deidentification_method,sha256\n");
    for (i = 0; i < e->n; i++) {
        const struct sl_export_inst *x = &e->v[i];
        json_t *fo = json_object();
        size_t before = seen.sv.n;
        json_object_set_new(fo, "path", json_string(x->rel));
        json_object_set_new(fo, "patient", patient_name(x));
        json_object_set_new(fo, "study_uid", json_string(x->study));
        json_object_set_new(fo, "series_uid", json_string(x->series));
        json_object_set_new(fo, "sop_uid", json_string(x->sop));
        json_object_set_new(fo, "modality", json_string(nz(x->modality)));
        json_object_set_new(fo, "sha256", json_string(x->sha256));
        json_array_append_new(files, fo);
        if (keys_index(&seen, nz(x->method)) == before)
            json_array_append_new(methods, json_string(nz(x->method)));
        /* The method is always quoted; other values (UIDs, pseudonyms,
         * CS codes) only when a site profile kept one with a comma. */
        csv_field(csv, x->rel, 0, ',');
        {
            json_t *pn = patient_name(x);
            csv_field(csv, json_string_value(pn), 0, ',');
            json_decref(pn);
        }
        csv_field(csv, x->study, 0, ',');
        csv_field(csv, x->series, 0, ',');
        csv_field(csv, x->sop, 0, ',');
        csv_field(csv, nz(x->modality), 0, ',');
        csv_field(csv, nz(x->method), 1, ',');
        csv_field(csv, x->sha256, 0, '\n');
    }
    json_object_set_new(root, "deidentification_methods", methods);
    json_object_set_new(root, "studies", studies);
    json_object_set_new(root, "files", files);
    *json = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (*json == NULL)
        rc = SL_ERR(err, SL_ENOMEM, "manifest: out of memory");
    keys_free(&seen);
    free(count);
    free(scount);
    free(sfirst);
    free(pfirst);
    json_decref(root);
    return rc;
}

int
sl_export_dicomdir(const char *root, const struct sl_export *e,
                   struct sl_err *err)
{
    const char **rel = sl_calloc(e->n + 1, sizeof(*rel));
    size_t i;
    int rc;

    for (i = 0; i < e->n; i++)
        rel[i] = e->v[i].rel;
    rc = sl_dicom_dicomdir_write(root, rel, e->n, err);
    free(rel);
    return rc;
}

/* ---- zip ----------------------------------------------------------------- */
struct sl_export_zip {
    char *path;
    zip_t *zip; /* open until zip_close() writes it */
};

/* A zip member read from a file when zip_close() writes the archive, in
 * blocks (nothing held whole), hashed as it is read: if the file is not
 * the one hashed for the manifest any more, the archive is not written. */
struct zsrc {
    char *path;
    char sha256[65];
    struct stat st;
    FILE *f;
    EVP_MD_CTX *md;
    zip_uint64_t done;
    zip_error_t error;
};

static zip_int64_t
zsrc_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
    struct zsrc *z = ud;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
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
            hex32(md, got);
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
        free(z->path);
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

int
sl_export_zip_open(const char *path, int excl, struct sl_export_zip **out,
                   struct sl_err *err)
{
    struct sl_export_zip *z;
    zip_error_t ze;
    int zerr = 0;
    zip_t *zip;

    /* ZIP_EXCL: never overwrite; ZIP_TRUNCATE: replace whole. Either way
     * libzip writes a temporary file and renames it over the name at
     * zip_close(). */
    zip = zip_open(path, ZIP_CREATE | (excl ? ZIP_EXCL : ZIP_TRUNCATE), &zerr);
    if (zip == NULL) {
        zip_error_init_with_code(&ze, zerr);
        SL_ERR(err, SL_EIO, "%s: cannot create the zip: %s", path,
               zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return SL_EIO;
    }
    z = sl_calloc(1, sizeof(*z));
    z->path = sl_strdup(path);
    z->zip = zip;
    *out = z;
    return SL_OK;
}

int
sl_export_zip_add_file(struct sl_export_zip *z, const char *name,
                       const char *path, const char *sha256, struct sl_err *err)
{
    struct zsrc *s = sl_calloc(1, sizeof(*s));
    zip_source_t *src;

    zip_error_init(&s->error);
    snprintf(s->sha256, sizeof(s->sha256), "%s", sha256);
    if (stat(path, &s->st) != 0) {
        free(s);
        return SL_ERR(err, SL_EIO, "%s: cannot read the instance", name);
    }
    s->path = sl_strdup(path);
    /* From here the source owns s (ZIP_SOURCE_FREE). */
    if ((src = zip_source_function(z->zip, zsrc_cb, s)) == NULL) {
        free(s->path);
        free(s);
        return SL_ERR(err, SL_EIO, "%s: cannot add to the zip: %s", name,
                      zip_strerror(z->zip));
    }
    if (zip_file_add(z->zip, name, src, ZIP_FL_ENC_UTF_8) < 0) {
        zip_source_free(src);
        return SL_ERR(err, SL_EDICOM,
                      "%s: cannot add to the zip (two inputs the same "
                      "instance?): %s",
                      name, zip_strerror(z->zip));
    }
    return SL_OK;
}

int
sl_export_zip_add_data(struct sl_export_zip *z, const char *name,
                       const char *data, size_t len, struct sl_err *err)
{
    void *copy = sl_malloc(len > 0 ? len : 1);
    zip_source_t *src;

    memcpy(copy, data, len);
    /* freep = 1: libzip frees the copy with free(). */
    src = zip_source_buffer(z->zip, copy, len, 1);
    if (src == NULL) {
        free(copy);
        return SL_ERR(err, SL_EIO, "%s: cannot add to the zip: %s", name,
                      zip_strerror(z->zip));
    }
    if (zip_file_add(z->zip, name, src, ZIP_FL_ENC_UTF_8) < 0) {
        zip_source_free(src);
        return SL_ERR(err, SL_EIO, "%s: cannot add to the zip: %s", name,
                      zip_strerror(z->zip));
    }
    return SL_OK;
}

int
sl_export_zip_close(struct sl_export_zip *z, struct sl_err *err)
{
    int rc = SL_OK;

    /* Here libzip streams every member from its file into the archive. */
    if (zip_close(z->zip) == 0) {
        z->zip = NULL; /* written and freed */
    } else {
        rc = SL_ERR(err, SL_EIO, "%s: cannot write the zip: %s", z->path,
                    zip_strerror(z->zip));
    }
    sl_export_zip_discard(z);
    return rc;
}

void
sl_export_zip_discard(struct sl_export_zip *z)
{
    if (z == NULL)
        return;
    if (z->zip != NULL)
        zip_discard(z->zip); /* no partial archive */
    free(z->path);
    free(z);
}

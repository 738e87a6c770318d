/* files.c - the files source: the files and folders a command was given
 * (`sluice deid INPUT...`), each recognised by its name and content:
 * FHIR .json and .json.gz (one item: the resource or Bundle as a whole,
 * its output of the same kind), .ndjson and
 * .ndjson.gz (one item a line, read through the fhir-files source), DICOM
 * Part-10 files by content, files named as DICOM that are not (bad items:
 * the operator must see them), anything else (skipped).
 *
 * Node attributes: "input", once per argument, in order. Folders are
 * walked recursively in sorted order. Items carry their input's number
 * (rank, from 0, over all inputs; unit, from 1, over the FHIR inputs) and
 * kind, so that targets and quarantines can keep the inputs' layout. No
 * checkpoints: a command that reads files is run again, not resumed. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "config/config.h"
#include "dicom/dicom.h"
#include "sources/sources.h"
#include "fhir/fhir_json.h"

enum in_kind {
    IN_OTHER,
    IN_JSON,
    IN_JSON_GZ, /* as the fhir-files source reads it */
    IN_NDJSON,
    IN_NDJSON_GZ,
    IN_DICOM,
    IN_NOT_DICOM, /* named as DICOM, but not DICOM by its content */
    IN_LINK       /* a symbolic link in a folder, not followed */
};

struct files_src {
    const char *id;
    struct sl_strv paths; /* the inputs, folders expanded (never printed) */
    struct sl_strv given; /* "1" for an input named as an argument, "0"
                             for one found in a folder (parallel) */
    int follow;           /* follow-symlinks="yes" */
    unsigned want;        /* the kinds the reader takes (SL_TAKES_*) */
    size_t next;          /* the next input */
    long nfhir;           /* FHIR inputs numbered so far */
    void *lines;          /* an NDJSON input being read, or NULL */
    size_t cur;           /* its number */
    long cur_unit;
    const char *cur_ext;
};

/* What an input is by its name, IN_OTHER when only its content can say. */
static enum in_kind
kind_by_name(const char *path)
{
    if (sl_str_has_suffix(path, ".ndjson.gz"))
        return IN_NDJSON_GZ;
    if (sl_str_has_suffix(path, ".ndjson"))
        return IN_NDJSON;
    if (sl_str_has_suffix(path, ".json"))
        return IN_JSON;
    if (sl_str_has_suffix(path, ".json.gz"))
        return IN_JSON_GZ;
    return IN_OTHER;
}

/* What an input is, by its name and (for DICOM) its content; dicom 0:
 * the reader takes no DICOM, so a file not named as FHIR is not opened
 * (IN_OTHER). nofollow: a symbolic link is IN_LINK, found by the probe's
 * open (O_NOFOLLOW) rather than by an lstat() of every file. A DICOM
 * input's descriptor, left open by the probe, goes to *fd (else -1). */
static enum in_kind
kind_of(const char *path, int dicom, int nofollow, int *fd)
{
    enum in_kind k = kind_by_name(path);
    int is_dicom = 0, is_link = 0;

    *fd = -1;
    if (k != IN_OTHER || !dicom) {
        if (nofollow && sl_is_symlink(path))
            return IN_LINK;
        return k;
    }
    if (sl_dicom_file_probe_fd(path, nofollow ? SL_PROBE_NOFOLLOW : 0,
                               &is_dicom, &is_link, fd, NULL) == SL_OK) {
        if (is_link)
            return IN_LINK;
        if (is_dicom)
            return IN_DICOM;
    }
    if (sl_dicom_named_as_dicom(path))
        return IN_NOT_DICOM;
    return IN_OTHER;
}

static void
files_close(void *ctx)
{
    struct files_src *s = ctx;

    if (s == NULL)
        return;
    if (s->lines)
        sl_source_fhir_files.close(s->lines);
    sl_strv_free(&s->paths);
    sl_strv_free(&s->given);
    free(s);
}

static int
files_open(const struct sl_config *cfg, const struct sl_conf_node *node,
           const char *checkpoint, void **ctx, struct sl_err *err)
{
    struct files_src *s = sl_calloc(1, sizeof(*s));
    size_t a, n = 0;
    int rc = SL_OK;

    (void)cfg;
    (void)checkpoint; /* never resumed */
    s->id = node->id ? node->id : "input";
    s->want = ~0u;
    s->follow = sl_conf_get(node, "follow-symlinks") != NULL &&
                strcmp(sl_conf_get(node, "follow-symlinks"), "yes") == 0;
    for (a = 0; a < node->nattr && rc == SL_OK; a++) {
        const char *p = node->values[a];
        struct sl_strv files = {0};
        size_t j;

        if (strcmp(node->names[a], "input") != 0)
            continue;
        n++;
        if (!sl_path_exists(p)) {
            rc = SL_ERR(err, SL_EUSAGE, "input %zu does not exist", n);
        } else if (sl_path_is_dir(p)) {
            if ((rc = sl_dir_walk_links(p, s->follow, &files, err)) == SL_OK)
                for (j = 0; j < files.n; j++) {
                    sl_strv_push_owned(&s->paths,
                                       sl_path_join(p, files.v[j]));
                    sl_strv_push(&s->given, "0");
                }
            sl_strv_free(&files);
        } else {
            sl_strv_push(&s->paths, p);
            sl_strv_push(&s->given, "1");
        }
    }
    if (rc != SL_OK) {
        files_close(s);
        return rc;
    }
    *ctx = s;
    return SL_OK;
}

static struct sl_item *
item_at(struct files_src *s, size_t i, enum sl_item_kind kind)
{
    struct sl_item *it = sl_item_new(kind);

    it->source = s->id;
    it->rank = (long)i;
    it->pos = sl_asprintf("file %zu", i + 1);
    it->origin = sl_strdup(s->paths.v[i]);
    return it;
}

/* A .json input as one item: the resource or Bundle whole, its bytes kept
 * for the quarantine (which keeps what came in, not a half-done copy). */
/* The bytes of a gzip file, whole (a .json.gz is parsed whole anyway, as
 * a .json is). SL_OK or SL_EIO. */
static int
gz_read(const char *path, char **out, size_t *len)
{
    gzFile gz = gzopen(path, "rb");
    struct sl_buf b;
    char chunk[65536];
    int n;

    if (gz == NULL)
        return SL_EIO;
    sl_buf_init(&b);
    while ((n = gzread(gz, chunk, sizeof(chunk))) > 0)
        sl_buf_add(&b, chunk, (size_t)n);
    gzclose(gz);
    if (n < 0) {
        sl_buf_free(&b);
        return SL_EIO;
    }
    *len = b.len;
    *out = b.data ? sl_buf_steal(&b) : sl_strdup("");
    return SL_OK;
}

static struct sl_item *
json_item(struct files_src *s, size_t i, int gz)
{
    struct sl_item *it;
    char *raw = NULL;
    size_t len = 0;
    json_error_t je;
    json_t *doc;

    if ((gz ? gz_read(s->paths.v[i], &raw, &len)
            : sl_file_read(s->paths.v[i], &raw, &len, NULL)) != SL_OK) {
        it = item_at(s, i, SL_ITEM_BAD);
        it->rtype = sl_strdup("unreadable");
        it->quarantine_ext = ".reason-only";
        sl_item_quarantine(it, "read", "cannot read the file");
        return it;
    }
    doc = sl_fhir_json_loadb(raw, len, 0, &je);
    if (doc == NULL || !json_is_string(json_object_get(doc, "resourceType"))) {
        char why[160];
        const char *near = strstr(je.text, " near ");
        if (doc)
            snprintf(why, sizeof(why), "not a FHIR resource: no resourceType");
        else
            snprintf(why, sizeof(why),
                     "malformed JSON at line %d column %d: %.*s", je.line,
                     je.column,
                     (int)(near ? (size_t)(near - je.text) : strlen(je.text)),
                     je.text);
        json_decref(doc);
        it = item_at(s, i, SL_ITEM_BAD);
        it->rtype = sl_strdup("unreadable");
        it->quarantine_ext = ".json";
        sl_item_quarantine(it, "read", "%s", why);
        it->raw = raw;
        it->raw_len = len;
        return it;
    }
    it = item_at(s, i, SL_ITEM_FHIR);
    it->whole = 1;
    it->rtype = sl_strdup(json_string_value(json_object_get(doc, "resourceType")));
    it->resource = doc;
    it->quarantine_ext = ".json";
    it->raw = raw; /* what the quarantine keeps */
    it->raw_len = len;
    return it;
}

static int
open_lines(struct files_src *s, size_t i, struct sl_err *err)
{
    char number[32];
    char *names[] = {(char *)"path", (char *)"number", (char *)"resumable"};
    char *values[] = {s->paths.v[i], number, (char *)"no"};
    struct sl_conf_node node = {0};
    int rc;

    /* positions name the input's number: "file N line L" */
    snprintf(number, sizeof(number), "%zu", i + 1);
    node.id = (char *)s->id;
    node.nattr = 3;
    node.names = names;
    node.values = values;
    rc = sl_source_fhir_files.open(NULL, &node, NULL, &s->lines, err);
    return rc;
}

static int
files_next(void *ctx, struct sl_item **out, struct sl_err *err)
{
    struct files_src *s = ctx;
    int rc;

    *out = NULL;
    for (;;) {
        enum in_kind kind;
        size_t i;
        int fd;

        if (s->lines != NULL) {
            struct sl_item *it = NULL;
            if ((rc = sl_source_fhir_files.next(s->lines, &it, err)) != SL_OK)
                return rc;
            if (it != NULL) {
                it->source = s->id;
                it->rank = (long)s->cur;
                it->unit = s->cur_unit;
                it->unit_ext = s->cur_ext;
                it->quarantine_ext = ".ndjson";
                if (it->origin == NULL ||
                    strcmp(it->origin, s->paths.v[s->cur]) != 0) {
                    free(it->origin);
                    it->origin = sl_strdup(s->paths.v[s->cur]);
                }
                *out = it;
                return SL_OK;
            }
            sl_source_fhir_files.close(s->lines);
            s->lines = NULL;
        }
        if (s->next >= s->paths.n)
            return SL_OK;
        i = s->next++;
        kind = kind_of(s->paths.v[i], (s->want & SL_TAKES_DICOM) != 0,
                       !s->follow && s->given.v[i][0] == '0', &fd);
        switch (kind) {
        case IN_LINK:
            /* a link in a folder: reported by position; what it points
             * to is never read, nor copied into the quarantine */
            *out = item_at(s, i, SL_ITEM_BAD);
            (*out)->rtype = sl_strdup("link");
            (*out)->quarantine_ext = ".reason-only";
            sl_item_quarantine(*out, "read", "%s", SL_LINK_NOT_FOLLOWED);
            return SL_OK;
        case IN_JSON:
        case IN_JSON_GZ:
            *out = json_item(s, i, kind == IN_JSON_GZ);
            (*out)->unit = ++s->nfhir;
            (*out)->unit_ext = kind == IN_JSON_GZ ? ".json.gz" : ".json";
            return SL_OK;
        case IN_NDJSON:
        case IN_NDJSON_GZ:
            s->cur = i;
            s->cur_unit = ++s->nfhir;
            s->cur_ext = sl_str_has_suffix(s->paths.v[i], ".gz") ? ".ndjson.gz"
                                                                 : ".ndjson";
            if ((rc = open_lines(s, i, err)) != SL_OK)
                return rc;
            continue;
        case IN_DICOM:
            *out = item_at(s, i, SL_ITEM_DICOM);
            (*out)->path = sl_strdup(s->paths.v[i]);
            (*out)->fd = fd; /* the probe's: the file is opened once */
            (*out)->rtype = sl_strdup("DICOM");
            (*out)->unit_ext = (*out)->quarantine_ext = ".dcm";
            return SL_OK;
        case IN_NOT_DICOM:
            /* meant as DICOM, so not skipped: the operator must see it */
            *out = item_at(s, i, SL_ITEM_BAD);
            (*out)->rtype = sl_strdup("DICOM");
            (*out)->unit_ext = (*out)->quarantine_ext = ".dcm";
            sl_item_quarantine(*out, "read", "%s", SL_DICOM_NOT_DICOM);
            return SL_OK;
        case IN_OTHER:
            *out = item_at(s, i, SL_ITEM_SKIP);
            return SL_OK;
        }
    }
}

static void
files_progress(void *ctx, uint64_t *done, uint64_t *total)
{
    struct files_src *s = ctx;

    *done = s->lines ? s->next - 1 : s->next;
    *total = s->paths.n;
}

static void
files_want(void *ctx, unsigned kinds)
{
    struct files_src *s = ctx;

    s->want = kinds;
}

const struct sl_source_ops sl_source_files = {
    .type = "files",
    .open = files_open,
    .next = files_next,
    .close = files_close,
    .local = 1,
    .progress = files_progress,
    .want = files_want,
};

/* fhir_files.c - the fhir-files sink: FHIR resources written under
 * PATH/RUN-ID/, as one NDJSON file per resource type (format="ndjson") or
 * as transaction Bundles of bundle-size entries (format="bundle").
 *
 * Exactly-once: checkpoint() fsyncs and returns the size of every file;
 * open() with that state truncates each file back to its size and removes
 * files made after it, so whatever was written after the last committed
 * checkpoint is written again exactly once. In bundle mode entries wait in
 * pending.ndjson (part of the state) until a Bundle is full.
 *
 * Provenance (items that carry a provenance maker, <deid provenance>):
 * each Bundle gets one more entry, the Provenance of its resources; in
 * NDJSON mode, Provenance.ndjson gets the Provenance of the resources
 * written since the last checkpoint at each checkpoint and at the end, so
 * that memory stays bounded and a resume writes each exactly once. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "sinks/sinks.h"
#include "sinks/sinks_int.h"
#include "fhir/fhir_json.h"

/* Entries of Bundle number N wait in pending-N.ndjson until it is full.
 * A pending file is removed only once a committed checkpoint counts its
 * Bundle (see fk_committed), so a resume can always roll back to it. */
#define PENDING_FMT "pending-%06ld.ndjson"

#define OUT_BUF (1 << 16)
struct out_file {
    char *name; /* "Patient.ndjson" */
    FILE *f;
    char *buf; /* its stdio buffer, OUT_BUF bytes */
};

struct fhir_sink {
    const char *id;
    char *dir;
    int bundle_mode;
    long bundle_size;
    size_t nfiles;
    struct out_file *files;
    /* bundle mode */
    long nbundles;
    long npending;
    long ck_bundles; /* nbundles at the last checkpoint() */
    /* Provenance */
    const struct sl_provenance_maker *prov;
    json_t *refs; /* NDJSON mode: references since the last checkpoint */
};

/* "Type/id" of a resource, for a Provenance's targets (NULL: no id). */
static json_t *
ref_of(const json_t *res)
{
    char *r = sl_resource_ref(res);
    json_t *j = r ? json_string(r) : NULL;

    free(r);
    return j;
}

static char *
pending_name(long bundle_no)
{
    return sl_asprintf(PENDING_FMT, bundle_no);
}

/* Closes the stream of file name, if open, and forgets it. */
static void
file_forget(struct fhir_sink *k, const char *name)
{
    size_t i;

    for (i = 0; i < k->nfiles; i++)
        if (strcmp(k->files[i].name, name) == 0) {
            fclose(k->files[i].f);
            free(k->files[i].name);
            sl_freezero(k->files[i].buf, OUT_BUF);
            k->files[i] = k->files[--k->nfiles];
            return;
        }
}

static int
sink_fail(struct sl_err *err, const char *id, const char *what,
          const char *name)
{
    return SL_ERR(err, SL_EIO, "target %s: %s %s: %s", id, what, name,
                  strerror(errno));
}

static FILE *
file_for(struct fhir_sink *k, const char *name, struct sl_err *err)
{
    size_t i;
    char *full;
    char *buf = NULL;
    FILE *f;

    for (i = 0; i < k->nfiles; i++)
        if (strcmp(k->files[i].name, name) == 0)
            return k->files[i].f;
    full = sl_path_join(k->dir, name);
    {
        /* appended to across resumes; never through a link at the name */
        int fd = open(full, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW |
                                O_CLOEXEC,
                      0640);
        f = fd >= 0 ? fdopen(fd, "ab") : NULL;
        if (fd >= 0 && f == NULL)
            close(fd);
        /* 64 KiB a write, not stdio's 4 KiB: the bench's 9 MB took 2,200
         * write calls; what is buffered goes out at each checkpoint
         * (sinks_stream_sync). glibc ignores the size without a buffer. */
        if (f != NULL) {
            buf = sl_malloc(OUT_BUF);
            setvbuf(f, buf, _IOFBF, OUT_BUF);
        }
    }
    free(full);
    if (f == NULL) {
        sink_fail(err, k->id, "cannot open", name);
        return NULL;
    }
    k->files = sl_realloc(k->files, (k->nfiles + 1) * sizeof(*k->files));
    k->files[k->nfiles].name = sl_strdup(name);
    k->files[k->nfiles].f = f;
    k->files[k->nfiles].buf = buf;
    k->nfiles++;
    return f;
}

static int
write_bundle(struct fhir_sink *k, struct sl_err *err)
{
    char *pname = pending_name(k->nbundles + 1);
    char *pend = sl_path_join(k->dir, pname), *name = NULL, *full = NULL;
    char *text = NULL;
    json_t *b = NULL, *entries;
    FILE *pf = NULL;
    struct sl_buf line;
    char chunk[65536];
    size_t i;
    int rc = SL_OK;

    sl_buf_init(&line);
    /* flush the pending file's stream first */
    for (i = 0; i < k->nfiles; i++)
        if (strcmp(k->files[i].name, pname) == 0)
            fflush(k->files[i].f);
    if ((pf = fopen(pend, "rb")) == NULL) {
        rc = sink_fail(err, k->id, "cannot read", pname);
        goto out;
    }
    b = json_object();
    json_object_set_new(b, "resourceType", json_string("Bundle"));
    json_object_set_new(b, "type", json_string("transaction"));
    entries = json_array();
    json_object_set_new(b, "entry", entries); /* b owns entries */
    while (fgets(chunk, sizeof(chunk), pf)) {
        size_t n = strlen(chunk);
        sl_buf_add(&line, chunk, n);
        if (n > 0 && chunk[n - 1] != '\n' && !feof(pf))
            continue;
        if (line.len > 1) {
            json_error_t je;
            json_t *res = json_loadb(line.data, line.len, 0, &je), *e, *req;
            const char *rt, *id;
            if (res == NULL) {
                rc = SL_ERR(err, SL_EINTERNAL, "target %s: pending entry "
                            "unreadable", k->id);
                goto out;
            }
            rt = json_string_value(json_object_get(res, "resourceType"));
            id = json_string_value(json_object_get(res, "id"));
            e = json_object();
            req = json_object();
            if (id) {
                json_object_set_new(e, "fullUrl", json_sprintf("%s/%s", rt, id));
                json_object_set_new(req, "method", json_string("PUT"));
                json_object_set_new(req, "url", json_sprintf("%s/%s", rt, id));
            } else {
                json_object_set_new(req, "method", json_string("POST"));
                json_object_set_new(req, "url", json_string(rt));
            }
            json_object_set_new(e, "resource", res);
            json_object_set_new(e, "request", req);
            json_array_append_new(entries, e);
        }
        sl_buf_reset(&line);
    }
    if (json_array_size(entries) == 0)
        goto out;
    if (k->prov != NULL) {
        json_t *targets = json_array(), *p, *e;
        size_t x;
        for (x = 0; x < json_array_size(entries); x++) {
            json_t *ref = ref_of(json_object_get(json_array_get(entries, x),
                                                 "resource"));
            if (ref)
                json_array_append_new(targets, ref);
        }
        p = k->prov->make(k->prov->ctx, targets);
        json_decref(targets);
        if (p != NULL) {
            e = json_pack("{s:o, s:{s:s, s:s}}", "resource", p, "request",
                          "method", "POST", "url", "Provenance");
            json_array_append_new(entries, e); /* steals e; e stole p */
        }
    }
    name = sl_asprintf("bundle-%06ld.json", k->nbundles + 1);
    full = sl_path_join(k->dir, name);
    text = sl_fhir_json_dumps(b, JSON_COMPACT);
    if ((rc = sl_file_write_atomic(full, text, strlen(text), err)) != SL_OK)
        goto out;
    k->nbundles++;
    /* The entries are in the Bundle now; the pending file stays until a
     * committed checkpoint counts the Bundle. */
    file_forget(k, pname);
    k->npending = 0;
out:
    if (pf)
        fclose(pf);
    sl_buf_free(&line);
    json_decref(b);
    free(text);
    free(name);
    free(full);
    free(pend);
    free(pname);
    return rc;
}

/* A resource the source found deleted (item.h: deleted): recorded as a
 * line {"request":{"method":"DELETE","url":"Type/id"}} of deleted.ndjson
 * (not a resource type's name), whatever the format, never as data. */
static int
put_deleted(struct fhir_sink *k, struct sl_item *it, struct sl_err *err)
{
    json_t *res = it->resource ? json_incref(it->resource)
                  : it->out_json
                      ? sl_fhir_json_loadb(it->out_json, it->out_json_len, 0,
                                           NULL)
                      : NULL;
    char *ref = res ? sl_resource_ref(res) : NULL, *line;
    FILE *f;
    int rc = SL_OK;

    json_decref(res);
    if (ref == NULL)
        return sl_item_quarantine(it, "sink", "a deletion without a type "
                                              "and id");
    res = json_pack("{s:{s:s, s:s}}", "request", "method", "DELETE", "url",
                    ref);
    line = sl_fhir_json_dumps(res, JSON_COMPACT);
    json_decref(res);
    free(ref);
    if ((f = file_for(k, "deleted.ndjson", err)) == NULL)
        rc = SL_EIO;
    else if (line == NULL || fputs(line, f) == EOF || fputc('\n', f) == EOF)
        rc = sink_fail(err, k->id, "cannot write", "deleted.ndjson");
    free(line);
    return rc;
}

static int
fk_put(void *ctx, struct sl_item *it, int *taken, struct sl_err *err)
{
    struct fhir_sink *k = ctx;
    char *owned = NULL, *text, nbuf[80];
    const char *name;
    FILE *f;
    int rc = SL_OK;

    *taken = 0;
    if (it->kind != SL_ITEM_FHIR)
        return SL_OK;
    *taken = 1;
    if (it->deleted)
        return put_deleted(k, it, err);
    if (!k->bundle_mode && !sinks_type_ok(it->rtype))
        return sl_item_quarantine(it, "sink", "resourceType is not a FHIR "
                                              "type name");
    if (k->bundle_mode) {
        name = owned = pending_name(k->nbundles + 1);
    } else { /* TYPE.ndjson; sinks_type_ok: at most 64 letters */
        size_t n = strlen(it->rtype);
        memcpy(nbuf, it->rtype, n);
        memcpy(nbuf + n, ".ndjson", sizeof(".ndjson"));
        name = nbuf;
    }
    if ((f = file_for(k, name, err)) == NULL) {
        rc = SL_EIO;
        goto out;
    }
    /* the writer's thread alone writes to a target: stdio's lock, taken
     * twice a line, is not needed */
    if (it->out_json != NULL) { /* serialised by a worker */
        if (fwrite_unlocked(it->out_json, 1, it->out_json_len, f) !=
                it->out_json_len ||
            fputc_unlocked('\n', f) == EOF)
            rc = sink_fail(err, k->id, "cannot write", name);
        goto written;
    }
    text = sl_fhir_json_dumps(it->resource, JSON_COMPACT);
    if (text == NULL) {
        rc = SL_ERR(err, SL_EINTERNAL, "target %s: cannot serialise %s", k->id,
                    it->pos);
        goto out;
    }
    if (fputs(text, f) == EOF || fputc('\n', f) == EOF)
        rc = sink_fail(err, k->id, "cannot write", name);
    sl_freezero(text, strlen(text));
written:
    if (rc == SL_OK && it->provenance != NULL) {
        k->prov = it->provenance;
        if (!k->bundle_mode) {
            json_t *ref = it->resource ? ref_of(it->resource)
                          : it->ref    ? json_string(it->ref)
                                       : NULL;
            if (k->refs == NULL)
                k->refs = json_array();
            if (ref)
                json_array_append_new(k->refs, ref);
        }
    }
    if (rc == SL_OK && k->bundle_mode && ++k->npending >= k->bundle_size)
        rc = write_bundle(k, err);
out:
    free(owned);
    return rc;
}

/* NDJSON mode: the Provenance of what was written since the last
 * checkpoint, as one line of Provenance.ndjson. */
static int
flush_provenance(struct fhir_sink *k, struct sl_err *err)
{
    json_t *p;
    char *text;
    FILE *f;
    int rc = SL_OK;

    if (k->prov == NULL || json_array_size(k->refs) == 0)
        return SL_OK;
    p = k->prov->make(k->prov->ctx, k->refs);
    json_array_clear(k->refs);
    if (p == NULL)
        return SL_OK;
    text = sl_fhir_json_dumps(p, JSON_COMPACT);
    json_decref(p);
    if ((f = file_for(k, "Provenance.ndjson", err)) == NULL)
        rc = SL_EIO;
    else if (fputs(text, f) == EOF || fputc('\n', f) == EOF)
        rc = sink_fail(err, k->id, "cannot write", "Provenance.ndjson");
    free(text);
    return rc;
}

static int
fk_checkpoint(void *ctx, char **state, struct sl_err *err)
{
    struct fhir_sink *k = ctx;
    json_t *st, *files;
    size_t i;
    int rc;

    if ((rc = flush_provenance(k, err)) != SL_OK)
        return rc;
    st = json_object();
    files = json_object();
    json_object_set_new(st, "files", files);
    for (i = 0; i < k->nfiles; i++) {
        FILE *f = k->files[i].f;
        long off;
        if (sinks_stream_sync(f) != 0) {
            json_decref(st);
            return sink_fail(err, k->id, "cannot sync", k->files[i].name);
        }
        if (fseek(f, 0, SEEK_END) != 0 || (off = ftell(f)) < 0) {
            json_decref(st);
            return sink_fail(err, k->id, "cannot seek", k->files[i].name);
        }
        json_object_set_new(files, k->files[i].name, json_integer(off));
    }
    json_object_set_new(st, "bundles", json_integer(k->nbundles));
    json_object_set_new(st, "pending", json_integer(k->npending));
    k->ck_bundles = k->nbundles;
    *state = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(st);
    return SL_OK;
}

/* Rolls the folder back to a checkpoint's state. */
static int
roll_back(struct fhir_sink *k, const char *state, struct sl_err *err)
{
    json_t *st = NULL, *files;
    struct sl_strv names = {0};
    size_t i;
    int rc = SL_OK;

    if (state && *state) {
        st = json_loads(state, 0, NULL);
        if (st == NULL)
            return SL_ERR(err, SL_ESTATE, "target %s: unreadable checkpoint",
                          k->id);
        k->nbundles = (long)json_integer_value(json_object_get(st, "bundles"));
        k->npending = (long)json_integer_value(json_object_get(st, "pending"));
        k->ck_bundles = k->nbundles;
    }
    files = json_object_get(st, "files");
    if ((rc = sl_dir_walk(k->dir, &names, err)) != SL_OK)
        goto out;
    for (i = 0; i < names.n; i++) {
        char *full = sl_path_join(k->dir, names.v[i]);
        json_t *size = json_object_get(files, names.v[i]);
        long bundle_no = 0;

        if (sscanf(names.v[i], "pending-%ld.ndjson", &bundle_no) == 1 &&
            strstr(names.v[i], ".tmp.") == NULL) {
            if (bundle_no == k->nbundles + 1 && size != NULL) {
                if (truncate(full, (off_t)json_integer_value(size)) != 0)
                    rc = sink_fail(err, k->id, "cannot truncate", names.v[i]);
                else if (file_for(k, names.v[i], err) == NULL)
                    rc = SL_EIO;
            } else if (unlink(full) != 0) {
                /* in a Bundle already, or made after the checkpoint */
                rc = sink_fail(err, k->id, "cannot remove", names.v[i]);
            }
        } else if (strstr(names.v[i], ".tmp.") != NULL) {
            /* a write cut short by a crash */
            if (unlink(full) != 0)
                rc = sink_fail(err, k->id, "cannot remove", names.v[i]);
        } else if (sscanf(names.v[i], "bundle-%ld.json", &bundle_no) == 1) {
            if (bundle_no > k->nbundles && unlink(full) != 0)
                rc = sink_fail(err, k->id, "cannot remove", names.v[i]);
        } else if (size != NULL) {
            /* Kept, and opened now so that the next checkpoint records
             * it even when this attempt writes nothing to it. */
            if (truncate(full, (off_t)json_integer_value(size)) != 0)
                rc = sink_fail(err, k->id, "cannot truncate", names.v[i]);
            else if (file_for(k, names.v[i], err) == NULL)
                rc = SL_EIO;
        } else if (sl_str_has_suffix(names.v[i], ".ndjson")) {
            /* made after the checkpoint */
            if (unlink(full) != 0)
                rc = sink_fail(err, k->id, "cannot remove", names.v[i]);
        }
        free(full);
        if (rc != SL_OK)
            break;
    }
out:
    sl_strv_free(&names);
    json_decref(st);
    return rc;
}

static void
fk_close(void *ctx)
{
    struct fhir_sink *k = ctx;
    size_t i;

    if (k == NULL)
        return;
    for (i = 0; i < k->nfiles; i++) {
        fclose(k->files[i].f);
        free(k->files[i].name);
        sl_freezero(k->files[i].buf, OUT_BUF); /* what was written */
    }
    free(k->files);
    free(k->dir);
    json_decref(k->refs);
    free(k);
}

static int
fk_open(const struct sl_config *cfg, const struct sl_conf_node *node,
        const char *run_id, const char *state, void **ctx, struct sl_err *err)
{
    struct fhir_sink *k = sl_calloc(1, sizeof(*k));
    const char *fmt = sl_conf_get(node, "format");
    char *base = sl_conf_get_path(cfg, node, "path");
    int rc;

    k->id = node->id;
    k->bundle_mode = fmt && strcmp(fmt, "bundle") == 0;
    k->bundle_size = sl_conf_get_long(node, "bundle-size", 200);
    if (k->bundle_size < 1)
        k->bundle_size = 200;
    if (base == NULL) {
        rc = SL_ERR(err, SL_ECONFIG, "target %s: no path", node->id);
        goto out;
    }
    k->dir = sl_path_join(base, run_id);
    if ((rc = sl_mkdir_p(k->dir, err)) != SL_OK)
        goto out;
    if ((rc = roll_back(k, state, err)) != SL_OK)
        goto out;
    *ctx = k;
    k = NULL;
out:
    free(base);
    fk_close(k);
    return rc;
}

static int
fk_finish(void *ctx, struct sl_err *err)
{
    struct fhir_sink *k = ctx;

    if (k->bundle_mode && k->npending > 0)
        return write_bundle(k, err);
    return flush_provenance(k, err);
}

/* The last checkpoint is committed: the pending files of the Bundles it
 * counts are no longer needed by any resume. */
static void
fk_committed(void *ctx)
{
    struct fhir_sink *k = ctx;
    long j;

    if (!k->bundle_mode)
        return;
    for (j = k->ck_bundles; j >= 1; j--) {
        char *name = pending_name(j), *full = sl_path_join(k->dir, name);
        int gone = unlink(full) != 0;
        free(name);
        free(full);
        if (gone)
            break; /* older ones went at an earlier commit */
    }
}

const struct sl_sink_ops sl_sink_fhir_files = {
    .type = "fhir-files",
    .open = fk_open,
    .put = fk_put,
    .checkpoint = fk_checkpoint,
    .finish = fk_finish,
    .close = fk_close,
    .committed = fk_committed,
};

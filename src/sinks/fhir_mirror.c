/* fhir_mirror.c - the fhir-mirror target of `sluice deid`: one output per
 * FHIR input, of the same kind, numbered in input order:
 * DIR/NNNNNN.json or .json.gz (the resource or Bundle whole, indented as
 * before),
 * DIR/NNNNNN.ndjson or .ndjson.gz (the input's lines that were delivered,
 * in order). Names never come from input names. An NDJSON output is
 * written as NAME.part and renamed when its input ends; one that would be
 * empty is not left behind. Items come in order (the pipeline's writer),
 * so one output is open at a time.
 *
 * With a provenance maker on the items (<deid provenance="yes">), each
 * NDJSON output ends with a Provenance of the resources it holds; the
 * stage itself adds one to a .json output (a Bundle entry, or the
 * companion document NNNNNN.provenance.json beside a lone resource).
 *
 * Not resumable: a command that writes it is run again, into a new or
 * empty folder. Node attributes: "path". */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "config/config.h"
#include "sinks/sinks.h"
#include "fhir/fhir_json.h"

#define MIRROR_BUF (64 * 1024)

struct fhir_mirror {
    char *dir;
    /* the NDJSON output being written */
    long unit; /* 0: none */
    char *out, *tmp;
    FILE *f;
    char *fbuf; /* f's buffer: glibc ignores a size without one */
    gzFile zf;
    unsigned long written;
    json_t *targets; /* references written, for the Provenance */
    const struct sl_provenance_maker *prov;
};

static int
mirror_open(const struct sl_config *cfg, const struct sl_conf_node *node,
            const char *run_id, const char *state, void **ctx,
            struct sl_err *err)
{
    struct fhir_mirror *m;

    (void)run_id;
    (void)state;
    if (sl_conf_get(node, "path") == NULL)
        return SL_ERR(err, SL_ECONFIG, "fhir-mirror target needs a path");
    m = sl_calloc(1, sizeof(*m));
    m->dir = sl_conf_get_path(cfg, node, "path");
    *ctx = m;
    return SL_OK;
}

/* Appends the reference of a delivered resource as the output names it
 * ("Type/id"), when it has an id. */
static void
add_target(json_t *targets, const json_t *res)
{
    char *ref = sl_resource_ref(res);

    if (ref)
        json_array_append_new(targets, json_string(ref));
    free(ref);
}

/* A line and its newline (no printf: a line is often kilobytes). */
static int
put_line(struct fhir_mirror *m, const char *text, size_t n)
{
    if (m->f)
        return fwrite(text, 1, n, m->f) == n && putc('\n', m->f) != EOF
                   ? SL_OK
                   : SL_EIO;
    return (n == 0 || gzwrite(m->zf, text, (unsigned)n) == (int)n) &&
                   gzputc(m->zf, '\n') != -1
               ? SL_OK
               : SL_EIO;
}

/* Ends the NDJSON output being written: its Provenance, then the rename;
 * an output with no line is removed. ok 0: the run failed, remove it. */
static int
close_unit(struct fhir_mirror *m, int ok, struct sl_err *err)
{
    int rc = SL_OK;

    if (m->unit == 0)
        return SL_OK;
    if (ok && m->prov && json_array_size(m->targets) > 0) {
        json_t *p = m->prov->make(m->prov->ctx, m->targets);
        if (p) {
            char *text = sl_fhir_json_dumps(p, JSON_COMPACT);
            if (put_line(m, text, strlen(text)) != SL_OK)
                rc = SL_ERR(err, SL_EIO, "%s: write error", m->tmp);
            free(text);
            json_decref(p);
        }
    }
    if (m->zf && gzclose(m->zf) != Z_OK && rc == SL_OK)
        rc = SL_ERR(err, SL_EIO, "%s: write error", m->tmp);
    if (m->f && fclose(m->f) != 0 && rc == SL_OK)
        rc = SL_ERR(err, SL_EIO, "%s: write error", m->tmp);
    m->zf = NULL;
    m->f = NULL;
    free(m->fbuf); /* after fclose: held resources, now written */
    m->fbuf = NULL;
    if (ok && rc == SL_OK && m->written > 0 && rename(m->tmp, m->out) != 0)
        rc = SL_ERR(err, SL_EIO, "%s: cannot rename: %s", m->out,
                    strerror(errno));
    if (!ok || rc != SL_OK || m->written == 0)
        unlink(m->tmp);
    free(m->out);
    free(m->tmp);
    m->out = m->tmp = NULL;
    json_decref(m->targets);
    m->targets = NULL;
    m->unit = 0;
    m->written = 0;
    return rc;
}

static int
open_unit(struct fhir_mirror *m, const struct sl_item *it, struct sl_err *err)
{
    int gz = it->unit_ext && strcmp(it->unit_ext, ".ndjson.gz") == 0;
    char *name;
    int rc;

    if ((rc = sl_mkdir_p(m->dir, err)) != SL_OK)
        return rc;
    name = sl_asprintf("%06ld.ndjson%s", it->unit, gz ? ".gz" : "");
    m->out = sl_path_join(m->dir, name);
    free(name);
    m->tmp = sl_asprintf("%s.part", m->out);
    {
        int fd = sl_open_new(m->tmp, 0640);
        if (fd >= 0 && gz && (m->zf = gzdopen(fd, "wb")) == NULL)
            close(fd);
        else if (fd >= 0 && !gz && (m->f = fdopen(fd, "wb")) == NULL)
            close(fd);
        /* one write a few hundred resources, not one a few */
        if (m->f != NULL) {
            m->fbuf = sl_malloc(MIRROR_BUF);
            setvbuf(m->f, m->fbuf, _IOFBF, MIRROR_BUF);
        }
    }
    m->unit = it->unit;
    m->targets = json_array();
    if (m->zf == NULL && m->f == NULL)
        return SL_ERR(err, SL_EIO, "%s: cannot create: %s", m->tmp,
                      strerror(errno));
    return SL_OK;
}

/* Writes text gzip'd to path, whole or not at all (NAME.part, renamed). */
static int
write_gz(const char *path, const char *text, size_t n, struct sl_err *err)
{
    char *tmp = sl_asprintf("%s.part", path);
    int fd = sl_open_new(tmp, 0640), rc = SL_OK;
    gzFile zf = fd >= 0 ? gzdopen(fd, "wb") : NULL;

    if (fd >= 0 && zf == NULL)
        close(fd);
    if (zf == NULL) {
        rc = SL_ERR(err, SL_EIO, "%s: cannot create: %s", tmp, strerror(errno));
        goto out;
    }
    /* "|", not "||": the stream is closed whatever gzwrite said */
    if ((n > 0 && gzwrite(zf, text, (unsigned)n) != (int)n) |
        (gzclose(zf) != Z_OK))
        rc = SL_ERR(err, SL_EIO, "%s: write error", tmp);
    else if (rename(tmp, path) != 0)
        rc = SL_ERR(err, SL_EIO, "%s: cannot rename: %s", path,
                    strerror(errno));
    if (rc != SL_OK)
        unlink(tmp);
out:
    free(tmp);
    return rc;
}

/* A .json or .json.gz input's output (and a companion beside it). */
static int
put_whole(struct fhir_mirror *m, const struct sl_item *it, struct sl_err *err)
{
    char *name = NULL, *out = NULL, *text = NULL;
    int rc, gz;

    if ((rc = sl_mkdir_p(m->dir, err)) != SL_OK)
        return rc;
    if (it->companion) {
        char *pname = sl_asprintf("%06ld.provenance.json", it->unit);
        char *pout = sl_path_join(m->dir, pname);
        char *ptext =
            sl_fhir_json_dumps(it->companion,
                               JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        rc = sl_file_write_atomic(pout, ptext, strlen(ptext), err);
        free(ptext);
        free(pout);
        free(pname);
        if (rc != SL_OK)
            return rc;
    }
    gz = it->unit_ext && strcmp(it->unit_ext, ".json.gz") == 0;
    name = sl_asprintf("%06ld.json%s", it->unit, gz ? ".gz" : "");
    out = sl_path_join(m->dir, name);
    text = sl_fhir_json_dumps(it->resource,
                              JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    if (gz)
        rc = write_gz(out, text, strlen(text), err);
    else
        rc = sl_file_write_atomic(out, text, strlen(text), err);
    sl_freezero(text, strlen(text));
    free(name);
    free(out);
    return rc;
}

static int
mirror_put(void *ctx, struct sl_item *it, int *taken, struct sl_err *err)
{
    struct fhir_mirror *m = ctx;
    int rc;

    *taken = 0;
    if (it->kind != SL_ITEM_FHIR)
        return SL_OK;
    *taken = 1;
    if (it->whole)
        return put_whole(m, it, err);
    if (m->unit != it->unit) {
        if ((rc = close_unit(m, 1, err)) != SL_OK ||
            (rc = open_unit(m, it, err)) != SL_OK)
            return rc;
    }
    m->prov = it->provenance;
    if (it->out_json != NULL) {
        rc = put_line(m, it->out_json, it->out_json_len);
    } else {
        char *text = sl_fhir_json_dumps(it->resource, JSON_COMPACT);
        rc = put_line(m, text, strlen(text));
        sl_freezero(text, strlen(text));
    }
    if (rc != SL_OK)
        return SL_ERR(err, rc, "%s: write error", m->tmp);
    m->written++;
    if (m->prov && it->resource)
        add_target(m->targets, it->resource);
    else if (m->prov && it->ref)
        json_array_append_new(m->targets, json_string(it->ref));
    return SL_OK;
}

static int
mirror_checkpoint(void *ctx, char **state, struct sl_err *err)
{
    (void)ctx;
    (void)err;
    *state = NULL; /* nothing to roll back to: not resumable */
    return SL_OK;
}

static int
mirror_finish(void *ctx, struct sl_err *err)
{
    return close_unit(ctx, 1, err);
}

static void
mirror_close(void *ctx)
{
    struct fhir_mirror *m = ctx;

    if (m == NULL)
        return;
    close_unit(m, 0, NULL); /* after a failure: nothing half-written */
    free(m->dir);
    free(m);
}

const struct sl_sink_ops sl_sink_fhir_mirror = {
    .type = "fhir-mirror",
    .open = mirror_open,
    .put = mirror_put,
    .checkpoint = mirror_checkpoint,
    .finish = mirror_finish,
    .close = mirror_close,
};

/* quarantine_folder.c - a quarantine that is a folder (`sluice deid`):
 * each item as QDIR/ID.EXT (what came in, or what the stage made of it)
 * and QDIR/ID.reason.txt (why, where from). ID names the input and the
 * line or entry ("in000002-line000017"); the reason file alone keeps the
 * input's path, for the operator (`sluice quarantine --dir QDIR show`).
 * With a quarantine key (`sluice deid --quarantine-key`) what may hold
 * patient data is sealed at rest as the state store seals it (seal.h):
 * the item file whole (the same name; its first bytes tell it apart) and
 * the input path, as "sealed:" text. Nothing logged comes from the
 * data. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/seal.h"
#include "pipeline/pipeline.h"
#include "fhir/fhir_json.h"

struct quarantine_folder {
    struct sl_quarantine_sink sink;
    char *qdir;
    unsigned char *key; /* the quarantine key, or NULL: in the clear */
    size_t keylen;
};

/* "in%06zu" of the input, with "-line%06lu" or "-entry%06lu" from pos. */
static char *
item_id(const struct sl_item *it)
{
    const char *pos = it->pos ? it->pos : "";
    const char *l = strstr(pos, "line "), *e = strstr(pos, "entry ");
    unsigned long line = l ? strtoul(l + 5, NULL, 10) : 0;
    unsigned long entry = e ? strtoul(e + 6, NULL, 10) : 0;
    size_t input = (size_t)it->rank + 1;

    if (line)
        return sl_asprintf("in%06zu-line%06lu", input, line);
    if (entry)
        return sl_asprintf("in%06zu-entry%06lu", input, entry);
    return sl_asprintf("in%06zu", input);
}

static int
folder_put(void *ctx, struct sl_item *it, struct sl_err *err)
{
    struct quarantine_folder *q = ctx;
    char *id = item_id(it), *name = NULL, *p = NULL, *rname = NULL,
         *rp = NULL, *text = NULL, *dump = NULL;
    const char *ext = it->quarantine_ext, *copy_from = NULL, *data = "";
    unsigned char *sealed = NULL;
    char *origin = NULL;
    size_t len = 0, slen = 0;
    int rc;

    if (ext == NULL)
        ext = it->kind == SL_ITEM_DICOM ? ".dcm"
              : it->whole               ? ".json"
                                        : ".ndjson";
    if (strcmp(ext, ".dcm") == 0) {
        copy_from = it->path ? it->path : it->origin; /* the input */
    } else if (it->kind == SL_ITEM_FHIR && !it->whole && it->resource) {
        dump = sl_fhir_json_dumps(it->resource, JSON_COMPACT);
        data = dump ? dump : "";
        len = strlen(data);
    } else if (it->kind == SL_ITEM_FHIR && !it->whole && it->out_json) {
        data = it->out_json; /* a target refused it */
        len = it->out_json_len;
    } else if (it->raw != NULL) {
        data = it->raw;
        len = it->raw_len;
    }
    if (q->key != NULL && it->origin != NULL &&
        (rc = sl_seal_text(q->key, q->keylen, SL_SEAL_CTX_QORIGIN, it->origin,
                           &origin, err)) != SL_OK)
        goto out;
    name = sl_asprintf("%s%s", id, ext);
    p = sl_path_join(q->qdir, name);
    rname = sl_asprintf("%s.reason.txt", id);
    rp = sl_path_join(q->qdir, rname);
    text = sl_asprintf("item: %s\nposition: %s\nstage: %s\nreason: %s\n"
                       "input: %s\n",
                       id, it->pos ? it->pos : "?",
                       it->stage ? it->stage : "read",
                       it->reason ? it->reason : "unknown",
                       origin ? origin : it->origin ? it->origin : "?");
    if ((rc = sl_mkdir_private(q->qdir, "quarantine", err)) != SL_OK)
        goto out;
    if (copy_from && q->key)
        rc = sl_seal_file(q->key, q->keylen, SL_SEAL_CTX_QDICOM, copy_from, p,
                          err);
    else if (copy_from)
        rc = sl_file_copy(copy_from, p, 1, err);
    else if (q->key &&
             (rc = sl_seal(q->key, q->keylen, SL_SEAL_CTX_QDATA, data, len,
                           &sealed, &slen, err)) == SL_OK)
        rc = sl_file_write_atomic(p, sealed, slen, err);
    else if (q->key == NULL)
        rc = sl_file_write_atomic(p, data, len, err);
    if (rc == SL_OK)
        rc = sl_file_write_atomic(rp, text, strlen(text), err);
    if (rc == SL_OK)
        sl_log(SL_LOG_WARN, "quarantined %s (%s): %s", id,
               it->pos ? it->pos : "?", it->reason ? it->reason : "unknown");
    else
        sl_err_prefix(err, "quarantine of %s", id);
out:
    if (dump)
        sl_freezero(dump, strlen(dump));
    if (text)
        sl_freezero(text, strlen(text));
    free(origin);
    free(sealed);
    free(id);
    free(name);
    free(p);
    free(rname);
    free(rp);
    return rc;
}

struct sl_quarantine_sink *
sl_quarantine_folder_new(const char *qdir, const void *key, size_t keylen)
{
    struct quarantine_folder *q = sl_calloc(1, sizeof(*q));

    q->qdir = sl_strdup(qdir);
    if (key != NULL) {
        q->key = sl_malloc(keylen);
        memcpy(q->key, key, keylen);
        q->keylen = keylen;
    }
    q->sink.ctx = q;
    q->sink.put = folder_put;
    return &q->sink;
}

void
sl_quarantine_folder_free(struct sl_quarantine_sink *sink)
{
    struct quarantine_folder *q;

    if (sink == NULL)
        return;
    q = sink->ctx;
    if (q->key)
        sl_freezero(q->key, q->keylen);
    free(q->qdir);
    free(q);
}

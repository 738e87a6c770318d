/* stage_deid.c - the <deid> stage of a job: FHIR resources and DICOM
 * instances de-identified by the job's profile with the configured key,
 * the same engines as `sluice deid`. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "deid/dicom_deid.h"
#include "deid/fhir.h"
#include "deid/fhir_scan.h"
#include "deid/profile.h"
#include "dicom/dicom.h"
#include "keys/keys.h"
#include "pipeline/stage_deid.h"

struct sl_stage_deid {
    const struct sl_keys *keys; /* the run's */
    struct sl_profile_chain *chain;
    struct sl_fhir_deid *fhir;
    struct sl_dicom_deid *dicom;
    char *workdir; /* de-identified DICOM copies wait here for the sink */
    char *describe;
    char fingerprint[16];
};

static void
deid_free(void *ctx)
{
    struct sl_stage_deid *s = ctx;

    if (s == NULL)
        return;
    sl_fhir_deid_free(s->fhir);
    sl_dicom_deid_free(s->dicom);
    sl_profile_chain_free(s->chain);
    free(s->workdir);
    free(s->describe);
    free(s);
}

static char *
deid_describe(void *ctx)
{
    struct sl_stage_deid *s = ctx;
    /* which profile and key de-identified this run: for the privacy
     * officer (never the key itself, only its fingerprint) */
    json_t *d = json_pack("{ss ss}", "profile", s->describe, "key",
                          s->fingerprint);
    char *dj = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);

    json_decref(d);
    return dj;
}

/* The learning pass: every patient of the job's FHIR items, so that each
 * resource finds its patient (and free text can be scrubbed) whatever
 * the order. An NDJSON line still raw is read by the fast scanner. */
static int
deid_learn(void *ctx, struct sl_item *it, struct sl_err *err)
{
    struct sl_stage_deid *s = ctx;
    struct sl_jtape t = {0};
    int rc = SL_OK;

    if (it->kind != SL_ITEM_FHIR)
        return SL_OK;
    if (it->resource == NULL && it->text != NULL) {
        /* the scanner decodes strings in place: it reads a copy, and the
         * text stays whole for jansson when the scanner is unsure */
        char *copy = sl_strndup(it->text, it->text_len);
        if (sl_jtape_parse(&t, copy, it->text_len))
            rc = sl_fhir_deid_learn_tape(s->fhir, &t, it->rank, err);
        else
            sl_item_parse(it); /* a bad line teaches nothing */
        sl_jtape_free(&t);
        sl_freezero(copy, it->text_len);
        if (rc != SL_OK || it->resource == NULL)
            return rc;
    }
    if (it->resource != NULL)
        rc = sl_fhir_deid_learn_at(s->fhir, it->resource, it->rank, err);
    return rc;
}

/* Removes what a killed run left in the work folder: copies named after a
 * process that no longer exists (another job may share the folder). */
static void
clean_workdir(const char *workdir)
{
    struct sl_strv names = {0};
    size_t i;

    if (sl_dir_walk(workdir, &names, NULL) != SL_OK)
        return;
    for (i = 0; i < names.n; i++) {
        long pid = 0;
        if (sscanf(names.v[i], "deid-%ld-", &pid) == 1 && pid > 0 &&
            kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            char *p = sl_path_join(workdir, names.v[i]);
            unlink(p);
            free(p);
        }
    }
    sl_strv_free(&names);
}

static int
deid_create(const struct sl_stage_args *a, void **out, struct sl_err *err)
{
    struct sl_stage_deid *s = sl_calloc(1, sizeof(*s));
    char msg[256];
    int rc;

    if (a->keys == NULL) {
        rc = SL_ERR(err, SL_ECONFIG, "%s:%d: job %s de-identifies, so the "
                    "configuration needs <keys pseudonym=\"file:...\"/>",
                    a->cfg->path, a->node->line, a->job->id);
        goto out;
    }
    s->keys = a->keys;
    sl_keys_fingerprint(s->keys, s->fingerprint, sizeof(s->fingerprint));
    if ((rc = sl_profile_chain_load(a->job->deid_profile, &s->chain, err)) !=
        SL_OK)
        goto out;
    s->describe = sl_profile_chain_describe(s->chain);
    if ((rc = sl_fhir_deid_new(s->chain, s->keys, &s->fhir, err)) != SL_OK)
        goto out;
    /* a job has no --explain (yet): rule counts would only slow it */
    sl_fhir_deid_set_explain(s->fhir, 0);
    if (sl_dicom_init(msg, sizeof(msg)) != 0) {
        rc = SL_ERR(err, SL_EDICOM, "%s", msg);
        goto out;
    }
    if ((rc = sl_dicom_deid_new(s->chain, s->keys, &s->dicom, err)) != SL_OK)
        goto out;
    s->workdir = sl_strdup(a->workdir);
    clean_workdir(s->workdir);
    *out = s;
    s = NULL;
out:
    deid_free(s);
    return rc;
}

static int
deid_process(void *ctx, struct sl_item *it, struct sl_err *err)
{
    struct sl_stage_deid *s = ctx;
    struct sl_err e2 = {0};
    int rc = SL_OK;

    if (it->kind == SL_ITEM_FHIR) {
        struct sl_buf b;
        /* de-identified and serialised in one walk, the leak scan done
         * while writing: the targets write these bytes as they are */
        sl_buf_init(&b);
        rc = sl_fhir_deid_resource_json(s->fhir, it->resource, &b, &e2);
        sl_freezero(it->out_json, it->out_json_len);
        it->out_json = NULL;
        it->out_json_len = 0;
        if (rc == SL_OK) {
            it->out_json_len = b.len;
            it->out_json = sl_buf_steal(&b);
        } else {
            sl_freezero(b.data, b.cap);
        }
    } else if (it->kind == SL_ITEM_DICOM) {
        struct sl_dicom_deid_info info = {0};
        char *name = sl_asprintf("deid-%ld-%llu.dcm", (long)getpid(),
                                 (unsigned long long)it->seq);
        char *tmp = sl_path_join(s->workdir, name);
        free(name);
        rc = sl_dicom_deid_file(s->dicom, it->path, tmp, &info, &e2);
        sl_dicom_deid_info_clear(&info);
        if (rc == SL_OK) {
            free(it->tmp_path);
            it->tmp_path = tmp; /* removed when the item is freed */
        } else {
            unlink(tmp);
            free(tmp);
        }
    }
    if (rc == SL_EQUARANTINE)
        return sl_item_quarantine(it, "deid", "%s", e2.msg);
    if (rc != SL_OK)
        *err = e2;
    return rc;
}

const struct sl_stage_ops sl_stage_deid = {
    .name = "deid",
    .learns = SL_TAKES_FHIR,
    .create = deid_create,
    .learn = deid_learn,
    .process = deid_process,
    .describe = deid_describe,
    .free = deid_free,
};

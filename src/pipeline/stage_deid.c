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
#include "deid/profile.h"
#include "dicom/dicom.h"
#include "keys/keys.h"
#include "pipeline/stage_deid.h"
#include "sources/sources.h"

struct sl_stage_deid {
    struct sl_keys *keys;
    struct sl_profile_chain *chain;
    struct sl_fhir_deid *fhir;
    struct sl_dicom_deid *dicom;
    char *workdir; /* de-identified DICOM copies wait here for the sink */
    char *describe;
    char fingerprint[16];
};

void
sl_stage_deid_free(struct sl_stage_deid *s)
{
    if (s == NULL)
        return;
    sl_fhir_deid_free(s->fhir);
    sl_dicom_deid_free(s->dicom);
    sl_profile_chain_free(s->chain);
    sl_keys_free(s->keys);
    free(s->workdir);
    free(s->describe);
    free(s);
}

const char *
sl_stage_deid_describe(const struct sl_stage_deid *s)
{
    return s->describe;
}

const char *
sl_stage_deid_key_id(const struct sl_stage_deid *s)
{
    return s->fingerprint;
}

/* Pass 1: every patient of the job's FHIR sources, so that each resource
 * finds its patient (and free text can be scrubbed) whatever the order. */
static int
learn_sources(struct sl_stage_deid *s, const struct sl_config *cfg,
              const struct sl_job *job, struct sl_err *err)
{
    size_t i;
    int rc = SL_OK;

    for (i = 0; i < job->from.n && rc == SL_OK; i++) {
        const struct sl_conf_node *n = sl_config_source(cfg, job->from.v[i]);
        void *ctx = NULL;

        if (n == NULL || strcmp(n->type, "fhir-files") != 0)
            continue;
        if ((rc = sl_source_fhir_files.open(cfg, n, NULL, &ctx, err)) != SL_OK)
            break;
        for (;;) {
            struct sl_item *it = NULL;
            if ((rc = sl_source_fhir_files.next(ctx, &it, err)) != SL_OK || !it)
                break;
            if (it->kind == SL_ITEM_FHIR)
                rc = sl_fhir_deid_learn(s->fhir, it->resource, err);
            sl_item_free(it);
            if (rc != SL_OK)
                break;
        }
        sl_source_fhir_files.close(ctx);
    }
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

int
sl_stage_deid_new(const struct sl_config *cfg, const struct sl_job *job,
                  const char *workdir, struct sl_stage_deid **out,
                  struct sl_err *err)
{
    struct sl_stage_deid *s = sl_calloc(1, sizeof(*s));
    char *key = NULL, msg[256];
    size_t keylen = 0;
    int rc;

    if (cfg->pseudonym_key == NULL) {
        rc = SL_ERR(err, SL_ECONFIG, "%s:%d: job %s de-identifies, so the "
                    "configuration needs <keys pseudonym=\"file:...\"/>",
                    cfg->path, job->node.line, job->id);
        goto out;
    }
    if ((rc = sl_secret_read(cfg->pseudonym_key, cfg->base_dir, &key, &keylen,
                             err)) != SL_OK)
        goto out;
    if ((rc = sl_keys_from_bytes(key, keylen, &s->keys, err)) != SL_OK)
        goto out;
    sl_keys_fingerprint(s->keys, s->fingerprint, sizeof(s->fingerprint));
    if ((rc = sl_profile_chain_load(job->deid_profile, &s->chain, err)) != SL_OK)
        goto out;
    s->describe = sl_profile_chain_describe(s->chain);
    if ((rc = sl_fhir_deid_new(s->chain, s->keys, &s->fhir, err)) != SL_OK)
        goto out;
    if (sl_dicom_init(msg, sizeof(msg)) != 0) {
        rc = SL_ERR(err, SL_EDICOM, "%s", msg);
        goto out;
    }
    if ((rc = sl_dicom_deid_new(s->chain, s->keys, &s->dicom, err)) != SL_OK)
        goto out;
    s->workdir = sl_strdup(workdir);
    if ((rc = sl_mkdir_p(workdir, err)) != SL_OK)
        goto out;
    clean_workdir(workdir);
    if ((rc = learn_sources(s, cfg, job, err)) != SL_OK)
        goto out;
    *out = s;
    s = NULL;
out:
    sl_freezero(key, keylen);
    sl_stage_deid_free(s);
    return rc;
}

int
sl_stage_deid_fn(struct sl_item *it, const struct sl_stage_ctx *ctx,
                 struct sl_err *err)
{
    struct sl_stage_deid *s = ctx->data;
    struct sl_err e2 = {0};
    int rc = SL_OK;

    if (it->kind == SL_ITEM_FHIR) {
        rc = sl_fhir_deid_resource(s->fhir, it->resource, &e2);
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

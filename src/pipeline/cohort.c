/* cohort.c - cohorts from another source of the job (sl_source_ops.
 * cohort_from): a PACS source's studies="source:ehr" or
 * patient-ids="source:ehr" (docs/pacs.md).
 *
 * A source whose cohort comes from another source of the job is opened
 * here, before the main pass, and given every FHIR item of that source
 * read from its start (with the same since() as the main pass), as read:
 * before de-identification, so that the PACS is asked for the real UIDs
 * and ids. The main pass then takes it open (preset). Read from the start
 * rather than from the checkpoint, the cohort of a resumed run is the
 * cohort of the run it resumes, wherever that stopped; nothing of it is
 * stored. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pipeline/pipeline_int.h"

/* The checkpoint source node gave the last item of the job's newest
 * finished run that read from it (as load_last), or NULL. For a source
 * that takes it at begin() only on a new run (fhir-bulk's _since): its
 * cohort read on a resume must start where the resumed run's did. */
static char *
last_finished(struct run *r, const struct sl_conf_node *node)
{
    const struct sl_job *job;
    struct sl_run_rec *recs = NULL;
    struct sl_err e = {0};
    char *out = NULL;
    size_t n = 0, i;

    if (r->st == NULL || r->spec->cfg == NULL ||
        (job = sl_config_job(r->spec->cfg, r->spec->id)) == NULL ||
        (job->since && strcmp(job->since, "all") == 0) ||
        sl_state_runs_list(r->st, r->spec->id, 0, &recs, &n, &e) != SL_OK)
        return NULL;
    for (i = 0; i < n && out == NULL; i++) {
        struct sl_checkpoint ck = {0};
        json_t *o;

        if (strcmp(recs[i].status, "finished") != 0 ||
            strcmp(recs[i].id, r->sum->run_id) == 0 ||
            sl_state_checkpoint_get(r->st, recs[i].id, &ck, &e) != SL_OK)
            continue;
        o = ck.sources ? json_loads(ck.sources, 0, NULL) : NULL;
        if (json_string_value(json_object_get(o, node->id)) != NULL)
            out = sl_strdup(json_string_value(json_object_get(o, node->id)));
        json_decref(o);
        sl_checkpoint_clear(&ck);
    }
    sl_run_recs_free(recs, n);
    return out;
}

static int
feed_cohort(struct run *r, struct src_slot *dst, void *dctx, const char *from,
            struct sl_err *err)
{
    const struct sl_job_source *t = NULL;
    const char *last = NULL;
    char *own = NULL;
    void *ctx = NULL;
    size_t k;
    int rc = SL_OK;

    for (k = 0; k < r->spec->nsources; k++)
        if (r->spec->sources[k].node->id != NULL &&
            strcmp(r->spec->sources[k].node->id, from) == 0)
            t = &r->spec->sources[k];
    if (t == NULL || t->preset != NULL || !(t->yields & SL_TAKES_FHIR))
        return SL_ERR(err, SL_ECONFIG,
                      "source '%s': its cohort source '%s' is not a FHIR "
                      "source this job pulls from (<pull from=\"%s %s\">)",
                      dst->node->id, from, from, dst->node->id);
    for (k = 0; k < r->nsrc; k++)
        if (r->src[k].node == t->node)
            last = r->src[k].last;
    if (last == NULL && t->ops->begin != NULL && t->ops->since == NULL &&
        r->sum->resumed)
        last = own = last_finished(r, t->node);
    if ((rc = t->ops->open(r->spec->cfg, t->node, NULL, &ctx, err)) != SL_OK) {
        free(own);
        return rc;
    }
    if (t->ops->since && last && (rc = t->ops->since(ctx, last, err)) != SL_OK)
        goto out;
    if (t->ops->want)
        t->ops->want(ctx, SL_TAKES_FHIR);
    if (t->ops->begin)
        t->ops->begin(ctx, r->opts->stop, last);
    for (;;) {
        struct sl_item *it = NULL;

        if ((rc = t->ops->next(ctx, &it, err)) != SL_OK || it == NULL)
            break;
        if (it->kind == SL_ITEM_FHIR)
            rc = dst->ops->cohort_item(dctx, it, err);
        sl_item_free(it);
        if (rc != SL_OK)
            break;
        if (run_stop_asked(r)) /* the main pass does not start */
            goto out;
    }
    if (rc == SL_OK && dst->ops->cohort_done)
        dst->ops->cohort_done(dctx);
out:
    t->ops->close(ctx);
    free(own);
    if (rc != SL_OK)
        sl_err_prefix(err, "cohort of source '%s' from source '%s'",
                      dst->node->id, from);
    return rc;
}

int
run_cohorts(struct run *r, struct sl_err *err)
{
    size_t k;
    int rc = SL_OK;

    for (k = 0; k < r->nsrc && rc == SL_OK; k++) {
        struct src_slot *s = &r->src[k];
        const char *from;
        void *ctx = NULL;

        if (s->preset != NULL || s->ops->cohort_from == NULL)
            continue;
        if ((rc = s->ops->open(r->spec->cfg, s->node, s->checkpoint, &ctx,
                               err)) != SL_OK)
            break;
        if (s->ops->since && s->last &&
            (rc = s->ops->since(ctx, s->last, err)) != SL_OK) {
            s->ops->close(ctx);
            break;
        }
        from = s->ops->cohort_from(ctx);
        if (from != NULL && (rc = feed_cohort(r, s, ctx, from, err)) != SL_OK) {
            s->ops->close(ctx);
            break;
        }
        /* the main pass takes it open (since() was called) */
        s->preset = ctx;
        s->preset_ours = 1;
    }
    return rc;
}


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

/* The job's source with id from, if it can give a cohort (a FHIR source
 * of the job, not the replay's), else NULL. */
static const struct sl_job_source *
provider(const struct run *r, const char *from)
{
    size_t k;

    for (k = 0; k < r->spec->nsources; k++) {
        const struct sl_job_source *t = &r->spec->sources[k];
        if (t->node->id != NULL && strcmp(t->node->id, from) == 0)
            return t->preset == NULL && (t->yields & SL_TAKES_FHIR) ? t
                                                                     : NULL;
    }
    return NULL;
}

/* The main pass's since() argument of the source configured by node. */
static const char *
main_last(const struct run *r, const struct sl_conf_node *node)
{
    size_t k;

    for (k = 0; k < r->nsrc; k++)
        if (r->src[k].node == node)
            return r->src[k].last;
    return NULL;
}

/* Whether the cohort read of t needs a start the learning pass does not
 * give: a source that takes the last run's checkpoint at begin() only on
 * a new run (fhir-bulk's _since), on a resume. */
static int
needs_own_read(const struct run *r, const struct sl_job_source *t)
{
    return main_last(r, t->node) == NULL && t->ops->begin != NULL &&
           t->ops->since == NULL && r->sum->resumed;
}

/* Reads source t from its start into the cohort of dst (open: dctx). */
static int
feed_cohort(struct run *r, struct src_slot *dst, void *dctx,
            const struct sl_job_source *t, struct sl_err *err)
{
    const char *last = main_last(r, t->node), *from = dst->cohort_from;
    char *own = NULL;
    void *ctx = NULL;
    int rc = SL_OK;

    if (needs_own_read(r, t))
        last = own = last_finished(r, t->node);
    if ((rc = t->ops->open(r->spec->cfg, t->node, NULL, &ctx, err)) != SL_OK) {
        free(own);
        goto out0;
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
    if (rc == SL_OK) {
        if (dst->ops->cohort_done)
            dst->ops->cohort_done(dctx);
        dst->cohort_fed = 1;
    }
out:
    t->ops->close(ctx);
    free(own);
out0:
    if (rc != SL_OK)
        sl_err_prefix(err, "cohort of source '%s' from source '%s'",
                      dst->node->id, from);
    return rc;
}

int
run_cohorts_open(struct run *r, struct sl_err *err)
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
        /* the main pass takes it open (since() was called) */
        s->preset = ctx;
        s->preset_ours = 1;
        if ((from = s->ops->cohort_from(ctx)) == NULL)
            continue;
        if (provider(r, from) == NULL)
            rc = SL_ERR(err, SL_ECONFIG,
                        "source '%s': its cohort source '%s' is not a FHIR "
                        "source this job pulls from (<pull from=\"%s %s\">)",
                        s->node->id, from, from, s->node->id);
        s->cohort_from = from;
    }
    return rc;
}

int
run_cohorts_feeds(const struct run *r, const struct sl_conf_node *node)
{
    size_t k;

    for (k = 0; k < r->nsrc; k++) {
        const struct src_slot *s = &r->src[k];
        const struct sl_job_source *t;
        if (s->cohort_from == NULL || s->cohort_fed || node->id == NULL ||
            strcmp(s->cohort_from, node->id) != 0)
            continue;
        t = provider(r, s->cohort_from);
        if (t != NULL && !needs_own_read(r, t))
            return 1;
    }
    return 0;
}

int
run_cohorts_item(struct run *r, const struct sl_conf_node *node,
                 const struct sl_item *it, struct sl_err *err)
{
    size_t k;
    int rc = SL_OK;

    for (k = 0; k < r->nsrc && rc == SL_OK; k++) {
        struct src_slot *s = &r->src[k];
        if (s->cohort_from != NULL && !s->cohort_fed &&
            strcmp(s->cohort_from, node->id) == 0 &&
            (rc = s->ops->cohort_item(s->preset, it, err)) != SL_OK)
            sl_err_prefix(err, "cohort of source '%s' from source '%s'",
                          s->node->id, s->cohort_from);
    }
    return rc;
}

void
run_cohorts_done(struct run *r, const struct sl_conf_node *node)
{
    size_t k;

    for (k = 0; k < r->nsrc; k++) {
        struct src_slot *s = &r->src[k];
        if (s->cohort_from != NULL && !s->cohort_fed &&
            strcmp(s->cohort_from, node->id) == 0) {
            if (s->ops->cohort_done)
                s->ops->cohort_done(s->preset);
            s->cohort_fed = 1;
        }
    }
}

int
run_cohorts_feed(struct run *r, struct sl_err *err)
{
    size_t k;
    int rc = SL_OK;

    for (k = 0; k < r->nsrc && rc == SL_OK && !run_stop_asked(r); k++) {
        struct src_slot *s = &r->src[k];
        if (s->cohort_from != NULL && !s->cohort_fed && s->preset != NULL)
            rc = feed_cohort(r, s, s->preset, provider(r, s->cohort_from),
                             err);
    }
    return rc;
}

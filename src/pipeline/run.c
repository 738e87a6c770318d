/* run.c - runs a job: compiles it (types from the registry, the key read,
 * stages created, targets opened), starts or resumes its run in the state
 * store, runs the learning and main passes (queue.c) and ends the run. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "keys/keys.h"
#include "pipeline/pipeline_int.h"

/* ---- set-up ------------------------------------------------------------------ */
static int
config_sha256(const char *path, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0, i;
    char *text = NULL;
    size_t len = 0;

    out[0] = '\0';
    if (sl_file_read(path, &text, &len, NULL) != SL_OK)
        return -1;
    EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL);
    free(text);
    for (i = 0; i < mdlen && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static int
setup_sources(struct run *r, struct sl_err *err)
{
    size_t k;

    r->nsrc = r->job->from.n;
    r->src = sl_calloc(r->nsrc + 1, sizeof(*r->src));
    for (k = 0; k < r->nsrc; k++) {
        const struct sl_source_type *t;
        r->src[k].node = sl_config_source(r->cfg, r->job->from.v[k]);
        if (r->src[k].node == NULL)
            return SL_ERR(err, SL_ECONFIG, "%s: job %s: unknown source %s",
                          r->cfg->path, r->job->id, r->job->from.v[k]);
        t = sl_source_type_find(r->src[k].node->type);
        if (t == NULL || t->ops == NULL)
            return SL_ERR(err, SL_ECONFIG, "%s:%d: source %s: type %s is not "
                          "supported by this build", r->cfg->path,
                          r->src[k].node->line, r->src[k].node->id,
                          r->src[k].node->type);
        r->src[k].ops = t->ops;
        r->src[k].yields = t->yields;
    }
    return SL_OK;
}

/* The stages, created before the run starts, so that a bad profile or
 * key fails the command rather than the run. A stage this build does not
 * have is refused, never skipped: skipping de-identification would
 * deliver patient data. */
static int
setup_stages(struct run *r, struct sl_err *err)
{
    struct sl_stage_args a;
    size_t k;
    int rc;

    memset(&a, 0, sizeof(a));
    r->stages = sl_calloc(r->job->nstages + 1, sizeof(*r->stages));
    for (k = 0; k < r->job->nstages; k++) {
        const struct sl_conf_node *n = &r->job->stages[k];
        if ((r->stages[k].ops = sl_stage_find(n->element)) == NULL)
            return SL_ERR(err, SL_ECONFIG, "%s:%d: job %s: <%s> is not "
                          "supported by this build yet", r->cfg->path,
                          n->line, r->job->id, n->element);
    }
    if (r->job->nstages > 0 && r->cfg->pseudonym_key != NULL) {
        char *key = NULL;
        size_t keylen = 0;
        rc = sl_secret_read(r->cfg->pseudonym_key, r->cfg->base_dir, &key,
                            &keylen, err);
        if (rc == SL_OK)
            rc = sl_keys_from_bytes(key, keylen, &r->keys, err);
        sl_freezero(key, keylen);
        if (rc != SL_OK)
            return rc;
    }
    if (r->job->nstages > 0) {
        char *sp = sl_path_resolve(r->cfg->base_dir,
                                   r->cfg->state_path ? r->cfg->state_path
                                                      : "sluice-state.db");
        char *sd = sl_path_dir(sp);
        r->workdir = sl_path_join(sd, "work");
        free(sp);
        free(sd);
        if ((rc = sl_mkdir_p(r->workdir, err)) != SL_OK)
            return rc;
    }
    a.cfg = r->cfg;
    a.job = r->job;
    a.keys = r->keys;
    a.workdir = r->workdir;
    for (k = 0; k < r->job->nstages; k++) {
        a.node = &r->job->stages[k];
        r->stages[k].node = a.node;
        if ((rc = r->stages[k].ops->create(&a, &r->stages[k].ctx, err)) !=
            SL_OK)
            return rc;
        r->nstages = k + 1;
    }
    return SL_OK;
}

/* The targets, each opened with its state at the checkpoint (ckj: the
 * checkpoint's target states by id, or NULL). */
static int
setup_targets(struct run *r, json_t *ckj, struct sl_err *err)
{
    size_t k;
    int rc;

    r->tgt = sl_calloc(r->job->push.n + 1, sizeof(*r->tgt));
    for (k = 0; k < r->job->push.n; k++) {
        const char *id = r->job->push.v[k];
        struct target_slot *t = &r->tgt[k];
        const struct sl_target_type *tt;

        t->node = sl_config_target(r->cfg, id);
        if (t->node == NULL)
            return SL_ERR(err, SL_ECONFIG, "%s: job %s: unknown target %s",
                          r->cfg->path, r->job->id, id);
        tt = sl_target_type_find(t->node->type);
        if (tt == NULL || tt->ops == NULL || tt->ops->open == NULL)
            return SL_ERR(err, SL_ECONFIG, "%s:%d: target %s: type %s is not "
                          "supported by this build", r->cfg->path,
                          t->node->line, id, t->node->type);
        t->ops = tt->ops;
        t->takes = tt->takes;
        r->ntargets = k + 1;
        if (r->opts->dry_run)
            continue;
        rc = t->ops->open(r->cfg, t->node, r->sum->run_id,
                          json_string_value(json_object_get(ckj, id)),
                          &t->ctx, err);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

/* Starts the run, or resumes the unfinished one of the job (*ck: its last
 * checkpoint, cleared when there is none). */
static int
start_run(struct run *r, int replay, struct sl_checkpoint *ck,
          struct sl_err *err)
{
    struct sl_run_rec rec;
    char sha[65];
    int rc;

    if (r->opts->dry_run) {
        snprintf(r->sum->run_id, sizeof(r->sum->run_id), "dry-run");
        return SL_OK;
    }
    if (replay) {
        char *name = sl_asprintf("%s:replay", r->job->id);
        config_sha256(r->cfg->path, sha);
        rc = sl_state_run_start(r->st, name, r->cfg->path, sha,
                                r->sum->run_id, err);
        free(name);
        return rc;
    }
    rc = sl_state_run_unfinished(r->st, r->job->id, &rec, err);
    if (rc == SL_ENOTFOUND) {
        config_sha256(r->cfg->path, sha);
        return sl_state_run_start(r->st, r->job->id, r->cfg->path, sha,
                                  r->sum->run_id, err);
    }
    if (rc != SL_OK)
        return rc;
    memcpy(r->sum->run_id, rec.id, sizeof(r->sum->run_id));
    r->sum->resumed = 1;
    if ((rc = sl_state_run_resume(r->st, rec.id, err)) != SL_OK)
        return rc;
    rc = sl_state_checkpoint_get(r->st, rec.id, ck, err);
    if (rc == SL_ENOTFOUND) {
        /* Stopped before its first checkpoint: nothing of it is
         * committed, so it starts from the beginning (targets get no
         * state and roll everything back). */
        memset(ck, 0, sizeof(*ck));
        return SL_OK;
    }
    if (rc == SL_OK)
        summary_load(r->sum, ck->counts);
    return rc;
}

/* What each stage applies, in the audit trail: for the privacy officer. */
static int
audit_stages(struct run *r, struct sl_err *err)
{
    size_t k;
    int rc = SL_OK;

    for (k = 0; k < r->nstages && rc == SL_OK && !r->opts->dry_run; k++) {
        char *d;
        if (r->stages[k].ops->describe == NULL)
            continue;
        d = r->stages[k].ops->describe(r->stages[k].ctx);
        rc = sl_state_audit(r->st, r->stages[k].ops->name, r->job->id,
                            r->sum->run_id, d ? d : "{}", err);
        free(d);
    }
    return rc;
}

/* Ends the run in the state store as status. */
static void
end_run(struct run *r, const char *status, int do_commit)
{
    struct sl_err e2 = {0};
    char *cj;

    if (do_commit)
        run_commit(r, &e2);
    cj = summary_json(r->sum);
    sl_state_run_end(r->st, r->sum->run_id, status, r->sum->in, r->sum->out,
                     r->sum->quarantined, cj, &e2);
    free(cj);
}

static int
finish_run(struct run *r, uint64_t first_seq, struct sl_err *err)
{
    size_t k;
    int rc = SL_OK;

    if (r->opts->dry_run) {
        if (r->failed) {
            *err = r->ferr;
            return r->ferr.code ? r->ferr.code : SL_EINTERNAL;
        }
        return SL_OK;
    }
    if (r->failed) {
        /* Keep what was delivered: a consistent checkpoint to resume
         * from (the failure may have been in the middle of an item, which
         * comes again on resume). */
        end_run(r, "failed", r->write_seq > first_seq || r->npending);
        *err = r->ferr;
        return r->ferr.code ? r->ferr.code : SL_EINTERNAL;
    }
    if (run_stop_asked(r)) {
        end_run(r, "interrupted", 1);
        return SL_ERR(err, SL_EINTR, "run %s interrupted by signal %d; run "
                      "the job again to resume it", r->sum->run_id,
                      (int)*r->opts->stop);
    }
    for (k = 0; k < r->nstages; k++)
        if (r->stages[k].ops->finish &&
            (rc = r->stages[k].ops->finish(r->stages[k].ctx, err)) != SL_OK)
            return rc;
    for (k = 0; k < r->ntargets; k++)
        if (r->tgt[k].ctx && r->tgt[k].ops->finish &&
            (rc = r->tgt[k].ops->finish(r->tgt[k].ctx, err)) != SL_OK)
            return rc;
    if ((rc = run_commit(r, err)) != SL_OK)
        return rc;
    {
        char *cj = summary_json(r->sum);
        rc = sl_state_run_end(r->st, r->sum->run_id, "finished", r->sum->in,
                              r->sum->out, r->sum->quarantined, cj, err);
        free(cj);
    }
    return rc;
}

static void
run_free(struct run *r)
{
    size_t k;

    for (k = 0; k < r->npending; k++)
        sl_qitem_clear(&r->pending[k]);
    free(r->pending);
    for (k = 0; k < r->ntargets; k++)
        if (r->tgt[k].ctx)
            r->tgt[k].ops->close(r->tgt[k].ctx);
    free(r->tgt);
    for (k = 0; k < r->nsrc; k++)
        free(r->src[k].checkpoint);
    free(r->src);
    for (k = 0; k < r->nstages; k++)
        r->stages[k].ops->free(r->stages[k].ctx);
    free(r->stages);
    sl_keys_free(r->keys);
    free(r->wq);
    free(r->done);
    free(r->qdir);
    free(r->workdir);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv_work);
    pthread_cond_destroy(&r->cv_space);
    pthread_cond_destroy(&r->cv_done);
}

static int
pipeline_run(const struct sl_config *cfg, struct sl_state *st,
             const char *job_id, const struct sl_run_opts *opts,
             const struct sl_source_ops *replay_ops, void *replay,
             struct sl_run_summary *sum, struct sl_err *err)
{
    struct run r;
    struct sl_checkpoint ck = {0};
    json_t *ckj = NULL;
    size_t k;
    int rc = SL_OK;

    memset(&r, 0, sizeof(r));
    memset(sum, 0, sizeof(*sum));
    r.cfg = cfg;
    r.st = st;
    r.opts = opts;
    r.sum = sum;
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv_work, NULL);
    pthread_cond_init(&r.cv_space, NULL);
    pthread_cond_init(&r.cv_done, NULL);
    r.job = sl_config_job(cfg, job_id);
    if (r.job == NULL) {
        rc = SL_ERR(err, SL_EUSAGE, "%s: no job named %s (see 'sluice "
                    "jobs')", cfg->path, job_id);
        goto out;
    }
    if (replay) {
        static const struct sl_conf_node qnode = {
            .element = (char *)"quarantine", .id = (char *)"quarantine"};
        r.nsrc = 1;
        r.src = sl_calloc(1, sizeof(*r.src));
        r.src[0].node = &qnode;
        r.src[0].ops = replay_ops;
        r.src[0].preset = replay;
    } else if ((rc = setup_sources(&r, err)) != SL_OK) {
        goto out;
    }
    if ((rc = setup_stages(&r, err)) != SL_OK)
        goto out;
    if ((rc = start_run(&r, replay != NULL, &ck, err)) != SL_OK)
        goto out;
    if ((rc = audit_stages(&r, err)) != SL_OK)
        goto out;
    r.in_at_start = sum->in;
    if (ck.sources && (ckj = json_loads(ck.sources, 0, NULL)) != NULL)
        for (k = 0; k < r.nsrc; k++) {
            const char *c =
                json_string_value(json_object_get(ckj, r.src[k].node->id));
            r.src[k].checkpoint = c ? sl_strdup(c) : NULL;
        }
    json_decref(ckj);
    ckj = ck.sinks ? json_loads(ck.sinks, 0, NULL) : NULL;
    if ((rc = setup_targets(&r, ckj, err)) != SL_OK)
        goto out;
    {
        char *qbase = sl_path_resolve(cfg->base_dir, cfg->quarantine_dir
                                                         ? cfg->quarantine_dir
                                                         : "quarantine");
        r.qdir = sl_path_join(qbase, sum->run_id);
        free(qbase);
    }
    for (k = 0; k < opts->nobservers; k++)
        if (opts->observers[k]->start)
            opts->observers[k]->start(opts->observers[k]->arg, sum);

    if ((rc = run_learn(&r, err)) != SL_OK) {
        if (!opts->dry_run)
            end_run(&r, run_stop_asked(&r) ? "interrupted" : "failed", 0);
        goto out;
    }
    r.cap = (size_t)(opts->workers > 0 ? opts->workers : 1) * 16 + 16;
    r.wq = sl_calloc(r.cap, sizeof(*r.wq));
    r.done = sl_calloc(r.cap, sizeof(*r.done));
    r.next_seq = r.write_seq = ck.seq + 1;
    if (!run_stop_asked(&r) && (rc = run_main(&r, err)) != SL_OK)
        goto out;
    sum->elapsed = sl_now() - r.started;
    rc = finish_run(&r, ck.seq + 1, err);
out:
    for (k = 0; k < opts->nobservers; k++)
        if (opts->observers[k]->end)
            opts->observers[k]->end(opts->observers[k]->arg, sum, rc);
    json_decref(ckj);
    run_free(&r);
    sl_checkpoint_clear(&ck);
    return rc;
}

int
sl_pipeline_run(const struct sl_config *cfg, struct sl_state *st,
                const char *job_id, const struct sl_run_opts *opts,
                struct sl_run_summary *sum, struct sl_err *err)
{
    return pipeline_run(cfg, st, job_id, opts, NULL, NULL, sum, err);
}

/* ---- replay: quarantined items as a source ------------------------------ */
struct replay_src {
    struct sl_qitem *q;
    size_t n, i;
};

static int
replay_next(void *ctx, struct sl_item **out, struct sl_err *err)
{
    struct replay_src *rs = ctx;
    struct sl_qitem *q;
    struct sl_item *it;

    (void)err;
    *out = NULL;
    if (rs->i >= rs->n)
        return SL_OK;
    q = &rs->q[rs->i++];
    if (strcmp(q->kind, "dicom") == 0) {
        it = sl_item_new(SL_ITEM_DICOM);
        it->path = sl_strdup(q->path);
        it->rtype = sl_strdup("DICOM");
    } else {
        json_error_t je;
        json_t *res = q->data ? json_loadb(q->data, q->data_len, 0, &je) : NULL;
        json_t *rt = json_object_get(res, "resourceType");
        if (json_is_object(res) && json_is_string(rt)) {
            it = sl_item_new(SL_ITEM_FHIR);
            it->rtype = sl_strdup(json_string_value(rt));
            it->resource = res;
        } else {
            json_decref(res);
            it = sl_item_new(SL_ITEM_BAD);
            it->rtype = sl_strdup("unreadable");
            sl_item_quarantine(it, "read", "%s: still not a FHIR resource "
                               "(replay of quarantine item %lld)", q->pos,
                               (long long)q->id);
            if (q->data) {
                it->raw = sl_strndup(q->data, q->data_len);
                it->raw_len = q->data_len;
            }
        }
    }
    it->source = q->source;
    it->rank = (long)rs->i;
    it->pos = sl_strdup(q->pos);
    it->origin = sl_strdup(q->origin);
    it->checkpoint = sl_asprintf("%zu", rs->i);
    *out = it;
    return SL_OK;
}

static void
replay_close(void *ctx)
{
    (void)ctx; /* owned by sl_pipeline_replay */
}

static const struct sl_source_ops replay_ops = {
    "quarantine", NULL, replay_next, replay_close, NULL,
};

int
sl_pipeline_replay(const struct sl_config *cfg, struct sl_state *st,
                   const int64_t *ids, size_t n, const struct sl_run_opts *opts,
                   struct sl_run_summary *sum, struct sl_err *err)
{
    struct replay_src rs = {0};
    const char *job = NULL;
    size_t i;
    int rc = SL_OK;

    memset(sum, 0, sizeof(*sum));
    rs.q = sl_calloc(n ? n : 1, sizeof(*rs.q));
    for (i = 0; i < n; i++) {
        if ((rc = sl_state_quarantine_get(st, ids[i], &rs.q[i], err)) != SL_OK)
            goto out;
        rs.n = i + 1;
        if (strcmp(rs.q[i].status, "open") != 0) {
            rc = SL_ERR(err, SL_EUSAGE, "quarantine item %lld is %s, not open",
                        (long long)ids[i], rs.q[i].status);
            goto out;
        }
        if (job == NULL)
            job = rs.q[i].job;
        else if (strcmp(job, rs.q[i].job) != 0) {
            rc = SL_ERR(err, SL_EUSAGE, "items %lld and %lld belong to "
                        "different jobs: replay one job at a time",
                        (long long)ids[0], (long long)ids[i]);
            goto out;
        }
    }
    if (job == NULL) {
        rc = SL_ERR(err, SL_EUSAGE, "nothing to replay");
        goto out;
    }
    if ((rc = pipeline_run(cfg, st, job, opts, &replay_ops, &rs, sum, err)) !=
        SL_OK)
        goto out;
    /* Done with the old entries: delivered now, or quarantined again as
     * new entries with today's reason. */
    for (i = 0; i < rs.n && !opts->dry_run; i++)
        if ((rc = sl_state_quarantine_set_status(st, ids[i], "replayed",
                                                 err)) != SL_OK)
            goto out;
out:
    for (i = 0; i < rs.n; i++)
        sl_qitem_clear(&rs.q[i]);
    free(rs.q);
    return rc;
}

/* run.c - runs a job: compiles it (types from the registry, the key read,
 * stages created, targets opened), starts or resumes its run in the state
 * store, runs the learning and main passes (queue.c) and ends the run. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fhir/jtape.h"
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

/* The main pass's sources: all but those only for learning. */
static void
setup_sources(struct run *r)
{
    size_t k;

    r->src = sl_calloc(r->spec->nsources + 1, sizeof(*r->src));
    for (k = 0; k < r->spec->nsources; k++) {
        const struct sl_job_source *js = &r->spec->sources[k];
        if (js->learn_only)
            continue;
        r->src[r->nsrc].node = js->node;
        r->src[r->nsrc].ops = js->ops;
        r->src[r->nsrc].preset = js->preset;
        r->nsrc++;
    }
}

/* For the sources that read incrementally, in a job with <pull
 * since="checkpoint">: the checkpoint each gave the last item of the
 * job's newest finished run that read from it. ops->since gets it on a
 * resume too (fhir-rest searches from the same watermark); ops->begin only
 * on a new run (a resumed fhir-bulk goes on from its own checkpoint). */
static int
wants_last(const struct run *r, size_t k)
{
    return r->src[k].ops->since != NULL ||
           (r->src[k].ops->begin != NULL && !r->sum->resumed);
}

static int
load_last(struct run *r, int replay, struct sl_err *err)
{
    const struct sl_job *job;
    struct sl_run_rec *recs = NULL;
    size_t n = 0, i, k, want = 0;
    int rc;

    if (replay || r->st == NULL || r->spec->cfg == NULL ||
        (job = sl_config_job(r->spec->cfg, r->spec->id)) == NULL ||
        (job->since && strcmp(job->since, "all") == 0))
        return SL_OK;
    for (k = 0; k < r->nsrc; k++)
        want += wants_last(r, k);
    if (want == 0)
        return SL_OK;
    if ((rc = sl_state_runs_list(r->st, r->spec->id, 0, &recs, &n, err)) !=
        SL_OK)
        return rc;
    for (i = 0; i < n && want > 0; i++) {
        struct sl_checkpoint ck = {0};
        json_t *o;

        if (strcmp(recs[i].status, "finished") != 0 ||
            strcmp(recs[i].id, r->sum->run_id) == 0)
            continue;
        rc = sl_state_checkpoint_get(r->st, recs[i].id, &ck, err);
        if (rc == SL_ENOTFOUND)
            continue;
        if (rc != SL_OK)
            break;
        o = ck.sources ? json_loads(ck.sources, 0, NULL) : NULL;
        for (k = 0; k < r->nsrc; k++) {
            const char *c =
                json_string_value(json_object_get(o, r->src[k].node->id));
            if (wants_last(r, k) && r->src[k].last == NULL && c) {
                r->src[k].last = sl_strdup(c);
                want--;
            }
        }
        json_decref(o);
        sl_checkpoint_clear(&ck);
    }
    sl_run_recs_free(recs, n);
    return rc == SL_ENOTFOUND ? SL_OK : rc;
}

/* The stages, created before the run starts, so that a bad profile fails
 * the command rather than the run. */
static int
setup_stages(struct run *r, struct sl_err *err)
{
    struct sl_stage_args a;
    size_t k;
    int rc;

    memset(&a, 0, sizeof(a));
    r->stages = sl_calloc(r->spec->nstages + 1, sizeof(*r->stages));
    a.job_id = r->spec->id;
    a.config_path = r->spec->config_path;
    a.keys = r->spec->keys;
    a.reid_key = r->spec->reid_key;
    a.workdir = r->spec->workdir;
    for (k = 0; k < r->spec->nstages; k++) {
        a.node = &r->spec->stages[k].node;
        r->stages[k].ops = r->spec->stages[k].ops;
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

    r->tgt = sl_calloc(r->spec->ntargets + 1, sizeof(*r->tgt));
    for (k = 0; k < r->spec->ntargets; k++) {
        const struct sl_job_target *jt = &r->spec->targets[k];
        struct target_slot *t = &r->tgt[k];

        t->node = jt->node;
        t->ops = jt->ops;
        t->takes = jt->takes;
        r->ntargets = k + 1;
        if (r->opts->dry_run)
            continue;
        rc = t->ops->open(r->spec->cfg, t->node, r->sum->run_id,
                          json_string_value(json_object_get(ckj, t->node->id)),
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

    if (r->opts->dry_run || r->st == NULL) {
        snprintf(r->sum->run_id, sizeof(r->sum->run_id), "%s",
                 r->opts->dry_run ? "dry-run"
                 : r->opts->run_id ? r->opts->run_id
                                   : "run");
        return SL_OK;
    }
    if (replay) {
        char *name = sl_asprintf("%s:replay", r->spec->id);
        config_sha256(r->spec->config_path, sha);
        rc = sl_state_run_start(r->st, name, r->spec->config_path, sha,
                                r->sum->run_id, err);
        free(name);
        return rc;
    }
    rc = sl_state_run_unfinished(r->st, r->spec->id, &rec, err);
    if (rc == SL_ENOTFOUND) {
        config_sha256(r->spec->config_path, sha);
        return sl_state_run_start(r->st, r->spec->id, r->spec->config_path,
                                  sha, r->sum->run_id, err);
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

/* One run of a job at a time, across processes: the lease is taken before
 * the run starts or resumes, renewed at checkpoints and given back at the
 * end. A process that dies keeps it only until it is seen to be gone (on
 * this host) or the lease expires (another host sharing the store). */
#define LEASE_TTL 600
#define LEASE_RENEW_EVERY 60.0

static int
lease_take(struct run *r, int replay, struct sl_err *err)
{
    struct sl_lease who;
    char desc[512];
    int rc;

    if (r->opts->dry_run || r->st == NULL)
        return SL_OK;
    r->lease = replay ? sl_asprintf("%s:replay", r->spec->id)
                      : sl_strdup(r->spec->id);
    rc = sl_state_lease_take(r->st, r->lease, LEASE_TTL, &who, err);
    if (rc == SL_EBUSY) {
        sl_lease_describe(&who, desc, sizeof(desc));
        SL_ERR(err, SL_EBUSY,
               "job %s is already running (%s); one run of a job at a time: "
               "wait for it to end, or stop it",
               r->lease, desc);
    }
    if (rc != SL_OK) {
        free(r->lease);
        r->lease = NULL;
        return rc;
    }
    r->lease_renewed = sl_now();
    return SL_OK;
}

void
run_lease_renew(struct run *r)
{
    struct sl_err e = {0};

    if (r->lease == NULL || sl_now() - r->lease_renewed < LEASE_RENEW_EVERY)
        return;
    if (sl_state_lease_take(r->st, r->lease, LEASE_TTL, NULL, &e) != SL_OK)
        sl_log(SL_LOG_WARN, "job %s: lease not renewed: %s", r->lease, e.msg);
    r->lease_renewed = sl_now();
}

static void
lease_release(struct run *r)
{
    struct sl_err e = {0};

    if (r->lease == NULL)
        return;
    if (sl_state_lease_release(r->st, r->lease, &e) != SL_OK)
        sl_log(SL_LOG_WARN, "job %s: lease not released: %s", r->lease,
               e.msg);
    free(r->lease);
    r->lease = NULL;
}

/* What each stage applies, in the audit trail: for the privacy officer. */
static int
audit_stages(struct run *r, struct sl_err *err)
{
    size_t k;
    int rc = SL_OK;

    for (k = 0; k < r->nstages && rc == SL_OK && !r->opts->dry_run && r->st;
         k++) {
        char *d;
        if (r->stages[k].ops->describe == NULL)
            continue;
        d = r->stages[k].ops->describe(r->stages[k].ctx);
        rc = sl_state_audit(r->st, r->stages[k].ops->name, r->spec->id,
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

    if (r->st == NULL)
        return;
    summary_fold_rules(r);
    summary_fold_times(r);
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

    summary_fold_times(r);
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
    summary_fold_rules(r);
    if ((rc = run_commit(r, err)) != SL_OK || r->st == NULL)
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
    for (k = 0; k < r->nsrc; k++) {
        if (r->src[k].preset != NULL && r->src[k].preset_ours)
            r->src[k].ops->close(r->src[k].preset);
        free(r->src[k].checkpoint);
        free(r->src[k].last);
    }
    free(r->src);
    for (k = 0; k < r->nstages; k++)
        r->stages[k].ops->free(r->stages[k].ctx);
    free(r->stages);
    free(r->wq);
    free(r->done);
    free(r->qdir);
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->progress_mu);
    pthread_cond_destroy(&r->cv_work);
    pthread_cond_destroy(&r->cv_space);
    pthread_cond_destroy(&r->cv_done);
}

int
sl_pipeline_run_spec(struct sl_job_spec *spec, struct sl_state *st,
                     const struct sl_run_opts *opts,
                     struct sl_run_summary *sum, struct sl_err *err)
{
    struct run r;
    struct sl_checkpoint ck = {0};
    json_t *ckj = NULL;
    size_t k;
    int rc = SL_OK, replay = 0;

    /* a worker's jansson documents reuse the blocks of its last ones */
    sl_jtape_alloc_install();
    memset(&r, 0, sizeof(r));
    memset(sum, 0, sizeof(*sum));
    r.spec = spec;
    r.st = st;
    r.opts = opts;
    r.sum = sum;
    pthread_mutex_init(&r.mu, NULL);
    pthread_mutex_init(&r.progress_mu, NULL);
    pthread_cond_init(&r.cv_work, NULL);
    pthread_cond_init(&r.cv_space, NULL);
    pthread_cond_init(&r.cv_done, NULL);
    for (k = 0; k < spec->nsources; k++)
        replay |= spec->sources[k].learn_only;
    setup_sources(&r);
    if ((rc = setup_stages(&r, err)) != SL_OK)
        goto out;
    if ((rc = lease_take(&r, replay, err)) != SL_OK)
        goto out;
    if ((rc = start_run(&r, replay, &ck, err)) != SL_OK)
        goto out;
    if ((rc = audit_stages(&r, err)) != SL_OK)
        goto out;
    r.in_at_start = sum->in;
    summary_sample(sum); /* where this attempt starts, for the throughput */
    if (ck.sources && (ckj = json_loads(ck.sources, 0, NULL)) != NULL)
        for (k = 0; k < r.nsrc; k++) {
            const char *c =
                json_string_value(json_object_get(ckj, r.src[k].node->id));
            r.src[k].checkpoint = c ? sl_strdup(c) : NULL;
        }
    json_decref(ckj);
    if ((rc = load_last(&r, replay, err)) != SL_OK)
        goto out;
    ckj = ck.sinks ? json_loads(ck.sinks, 0, NULL) : NULL;
    if ((rc = setup_targets(&r, ckj, err)) != SL_OK)
        goto out;
    if (spec->qdir)
        r.qdir = sl_path_join(spec->qdir, sum->run_id);
    for (k = 0; k < opts->nobservers; k++)
        if (opts->observers[k]->start)
            opts->observers[k]->start(opts->observers[k]->arg, sum);

    if ((rc = run_cohorts_open(&r, err)) != SL_OK ||
        (rc = run_learn(&r, err)) != SL_OK) {
        if (!opts->dry_run)
            end_run(&r, run_stop_asked(&r) ? "interrupted" : "failed", 0);
        goto out;
    }
    if ((rc = run_cohorts_feed(&r, err)) != SL_OK) {
        if (!opts->dry_run)
            end_run(&r, run_stop_asked(&r) ? "interrupted" : "failed", 0);
        goto out;
    }
    /* chunks in flight: one a worker, one being read, one being written
     * and one a worker to spare (at most CHUNK_ITEMS items each) */
    r.cap = (size_t)(opts->workers > 0 ? opts->workers : 1) * 2 + 2;
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
    lease_release(&r);
    run_free(&r);
    sl_checkpoint_clear(&ck);
    return rc;
}

int
sl_pipeline_run(const struct sl_config *cfg, struct sl_state *st,
                const char *job_id, const struct sl_run_opts *opts,
                struct sl_run_summary *sum, struct sl_err *err)
{
    struct sl_job_spec *spec = NULL;
    int rc;

    memset(sum, 0, sizeof(*sum));
    if ((rc = sl_job_compile(cfg, job_id, &spec, err)) != SL_OK)
        return rc;
    rc = sl_pipeline_run_spec(spec, st, opts, sum, err);
    sl_job_spec_free(spec);
    return rc;
}

/* ---- replay: quarantined items as a source ------------------------------ */
struct replay_src {
    struct sl_state *st;
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
        char *plain = NULL;
        int rc;

        /* a sealed copy is opened into a file of its own, removed with
         * the item */
        if ((rc = sl_state_quarantine_open_file(rs->st, q->path, &plain,
                                                err)) != SL_OK)
            return rc;
        it = sl_item_new(SL_ITEM_DICOM);
        it->path = sl_strdup(plain ? plain : q->path);
        it->tmp_path = plain;
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
    .type = "quarantine",
    .next = replay_next,
    .close = replay_close,
    .local = 1,
};

int
sl_pipeline_replay(const struct sl_config *cfg, struct sl_state *st,
                   const int64_t *ids, size_t n, const struct sl_run_opts *opts,
                   struct sl_run_summary *sum, struct sl_err *err)
{
    static const struct sl_conf_node qnode = {
        .element = (char *)"quarantine", .id = (char *)"quarantine"};
    struct replay_src rs = {0};
    struct sl_job_spec *spec = NULL;
    const char *job = NULL;
    size_t i;
    int rc = SL_OK;

    memset(sum, 0, sizeof(*sum));
    rs.st = st;
    rs.q = sl_calloc(n ? n : 1, sizeof(*rs.q));
    for (i = 0; i < n; i++) {
        if ((rc = sl_state_quarantine_get(st, ids[i], &rs.q[i], err)) != SL_OK)
            goto out;
        rs.n = i + 1;
        if (rs.q[i].sealed == 1) {
            rc = SL_ERR(err, SL_EKEY,
                        "quarantine item %lld is encrypted and the "
                        "configuration's <quarantine key> does not open it",
                        (long long)ids[i]);
            goto out;
        }
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
    if ((rc = sl_job_compile(cfg, job, &spec, err)) != SL_OK)
        goto out;
    /* the job's own sources teach the stages; the quarantine is what is
     * run through them */
    for (i = 0; i < spec->nsources; i++)
        spec->sources[i].learn_only = 1;
    spec->sources = sl_realloc(spec->sources, (spec->nsources + 1) *
                                                  sizeof(*spec->sources));
    memset(&spec->sources[spec->nsources], 0, sizeof(*spec->sources));
    spec->sources[spec->nsources].node = &qnode;
    spec->sources[spec->nsources].ops = &replay_ops;
    spec->sources[spec->nsources].preset = &rs;
    spec->nsources++;
    if ((rc = sl_pipeline_run_spec(spec, st, opts, sum, err)) != SL_OK)
        goto out;
    /* Done with the old entries: delivered now, or quarantined again as
     * new entries with today's reason. */
    for (i = 0; i < rs.n && !opts->dry_run; i++)
        if ((rc = sl_state_quarantine_set_status(st, ids[i], "replayed",
                                                 err)) != SL_OK)
            goto out;
out:
    sl_job_spec_free(spec);
    for (i = 0; i < rs.n; i++)
        sl_qitem_clear(&rs.q[i]);
    free(rs.q);
    return rc;
}

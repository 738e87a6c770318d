/* run.c - runs a job: sources -> stages -> sinks with a bounded queue, a
 * worker pool and checkpoints (see pipeline.h for the design). */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "config/config.h"
#include "pipeline/pipeline.h"
#include "pipeline/stage_deid.h"
#include "state/state.h"

/* Seconds between checkpoints when items are slow to come. */
#define COMMIT_SECONDS 2.0
#define PROGRESS_TTY_SECONDS 0.25
#define PROGRESS_LOG_SECONDS 10.0

static volatile sig_atomic_t run_stop_signal;

static void
on_signal(int sig)
{
    run_stop_signal = sig;
}

struct src_slot {
    const struct sl_conf_node *node;
    const struct sl_source_ops *ops;
    void *preset; /* an already open source (replay), or NULL */
    char *checkpoint; /* of the last item written (owned) */
};

struct sink_slot {
    const struct sl_conf_node *node;
    const struct sl_sink_ops *ops;
    void *ctx;
};

struct run {
    const struct sl_config *cfg;
    struct sl_state *st;
    const struct sl_job *job;
    const struct sl_run_opts *opts;
    struct sl_run_summary *sum;
    char *qdir; /* quarantine folder of this run */

    size_t nsrc;
    struct src_slot *src;
    struct sink_slot fhir, dicom;
    size_t nstages;
    struct sl_stage *stages;
    struct sl_stage_deid *deid;

    /* the queue: items seq in [write_seq, next_seq) are in flight */
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_space, cv_done;
    size_t cap;
    struct sl_item **wq; /* FIFO of items for the workers */
    size_t wq_head, wq_len;
    struct sl_item **done; /* slot seq % cap: processed, waiting to write */
    uint64_t next_seq, write_seq;
    int reader_done, stop, failed;
    struct sl_err ferr;
    /* progress, in source units (files) */
    uint64_t units_done, units_total;

    /* writer's own */
    struct sl_qitem *pending;
    size_t npending;
    uint64_t since_commit;
    double last_commit, last_progress, started;
    uint64_t in_at_start;
    int drew_bar;
};

/* ---- counts ------------------------------------------------------------- */
static struct sl_type_count *
type_count(struct sl_run_summary *sum, const char *type)
{
    size_t i;

    if (type == NULL)
        type = "unknown";
    for (i = 0; i < sum->ntypes; i++)
        if (strcmp(sum->types[i].type, type) == 0)
            return &sum->types[i];
    sum->types = sl_realloc(sum->types, (sum->ntypes + 1) * sizeof(*sum->types));
    memset(&sum->types[sum->ntypes], 0, sizeof(*sum->types));
    sum->types[sum->ntypes].type = sl_strdup(type);
    return &sum->types[sum->ntypes++];
}

static char *
counts_json(const struct sl_run_summary *sum)
{
    json_t *o = json_object(), *types = json_object();
    char *s;
    size_t i;

    json_object_set_new(o, "in", json_integer((json_int_t)sum->in));
    json_object_set_new(o, "out", json_integer((json_int_t)sum->out));
    json_object_set_new(o, "quarantined",
                        json_integer((json_int_t)sum->quarantined));
    json_object_set_new(o, "skipped", json_integer((json_int_t)sum->skipped));
    for (i = 0; i < sum->ntypes; i++)
        json_object_set_new(types, sum->types[i].type,
                            json_pack("[III]", (json_int_t)sum->types[i].in,
                                      (json_int_t)sum->types[i].out,
                                      (json_int_t)sum->types[i].quarantined));
    json_object_set_new(o, "types", types);
    s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

static void
counts_load(struct sl_run_summary *sum, const char *text)
{
    json_t *o = text ? json_loads(text, 0, NULL) : NULL, *v;
    const char *k;

    if (o == NULL)
        return;
    sum->in = (uint64_t)json_integer_value(json_object_get(o, "in"));
    sum->out = (uint64_t)json_integer_value(json_object_get(o, "out"));
    sum->quarantined =
        (uint64_t)json_integer_value(json_object_get(o, "quarantined"));
    sum->skipped = (uint64_t)json_integer_value(json_object_get(o, "skipped"));
    json_object_foreach(json_object_get(o, "types"), k, v)
    {
        struct sl_type_count *tc = type_count(sum, k);
        tc->in = (uint64_t)json_integer_value(json_array_get(v, 0));
        tc->out = (uint64_t)json_integer_value(json_array_get(v, 1));
        tc->quarantined = (uint64_t)json_integer_value(json_array_get(v, 2));
    }
    json_decref(o);
}

void
sl_run_summary_free(struct sl_run_summary *sum)
{
    size_t i;

    if (sum == NULL)
        return;
    for (i = 0; i < sum->ntypes; i++)
        free(sum->types[i].type);
    free(sum->types);
    sum->types = NULL;
    sum->ntypes = 0;
}

/* ---- failure and stop ------------------------------------------------------ */
static void
run_fail(struct run *r, const struct sl_err *err)
{
    pthread_mutex_lock(&r->mu);
    if (!r->failed) {
        r->failed = 1;
        r->ferr = *err;
    }
    r->stop = 1;
    pthread_cond_broadcast(&r->cv_work);
    pthread_cond_broadcast(&r->cv_space);
    pthread_cond_broadcast(&r->cv_done);
    pthread_mutex_unlock(&r->mu);
}

/* ---- the reader ------------------------------------------------------------- */
static void *
reader_main(void *arg)
{
    struct run *r = arg;
    struct sl_err err = {0};
    size_t i;

    for (i = 0; i < r->nsrc; i++) {
        struct src_slot *s = &r->src[i];
        void *ctx = NULL;
        uint64_t base_done = 0, base_total = 0, d = 0, t = 0;

        if (s->preset != NULL) {
            ctx = s->preset;
            s->preset = NULL;
        } else if (s->ops->open(r->cfg, s->node, s->checkpoint, &ctx, &err) !=
                   SL_OK) {
            run_fail(r, &err);
            break;
        }
        pthread_mutex_lock(&r->mu);
        base_done = r->units_done;
        base_total = r->units_total;
        pthread_mutex_unlock(&r->mu);
        for (;;) {
            struct sl_item *it = NULL;
            int stop;

            if (run_stop_signal) {
                pthread_mutex_lock(&r->mu);
                r->stop = 1;
                pthread_mutex_unlock(&r->mu);
            }
            pthread_mutex_lock(&r->mu);
            stop = r->stop;
            pthread_mutex_unlock(&r->mu);
            if (stop)
                break;
            if (s->ops->next(ctx, &it, &err) != SL_OK) {
                run_fail(r, &err);
                break;
            }
            if (it == NULL)
                break;
            if (s->ops->progress)
                s->ops->progress(ctx, &d, &t);
            pthread_mutex_lock(&r->mu);
            while (!r->stop && r->next_seq - r->write_seq >= r->cap)
                pthread_cond_wait(&r->cv_space, &r->mu);
            if (r->stop) {
                pthread_mutex_unlock(&r->mu);
                sl_item_free(it);
                break;
            }
            it->seq = r->next_seq++;
            r->wq[(r->wq_head + r->wq_len) % r->cap] = it;
            r->wq_len++;
            r->units_done = base_done + d;
            r->units_total = base_total + t;
            pthread_cond_signal(&r->cv_work);
            pthread_mutex_unlock(&r->mu);
        }
        if (s->ops->progress) {
            s->ops->progress(ctx, &d, &t);
            pthread_mutex_lock(&r->mu);
            r->units_done = base_done + t;
            r->units_total = base_total + t;
            pthread_mutex_unlock(&r->mu);
        }
        s->ops->close(ctx);
        pthread_mutex_lock(&r->mu);
        if (r->stop) {
            pthread_mutex_unlock(&r->mu);
            break;
        }
        pthread_mutex_unlock(&r->mu);
    }
    pthread_mutex_lock(&r->mu);
    r->reader_done = 1;
    pthread_cond_broadcast(&r->cv_work);
    pthread_cond_broadcast(&r->cv_done);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* ---- the workers ---------------------------------------------------------- */
static void *
worker_main(void *arg)
{
    struct run *r = arg;

    for (;;) {
        struct sl_item *it;
        struct sl_err err = {0};
        size_t i;

        pthread_mutex_lock(&r->mu);
        while (r->wq_len == 0 && !r->reader_done && !r->failed)
            pthread_cond_wait(&r->cv_work, &r->mu);
        if (r->wq_len == 0 || r->failed) {
            pthread_mutex_unlock(&r->mu);
            return NULL;
        }
        it = r->wq[r->wq_head];
        r->wq_head = (r->wq_head + 1) % r->cap;
        r->wq_len--;
        pthread_mutex_unlock(&r->mu);

        for (i = 0; i < r->nstages && it->reason == NULL; i++) {
            int rc = r->stages[i].fn(it, &r->stages[i].ctx, &err);
            if (rc == SL_EQUARANTINE)
                break;
            if (rc != SL_OK) {
                sl_err_prefix(&err, "stage %s, item %llu (%s)",
                              r->stages[i].name, (unsigned long long)it->seq,
                              it->pos ? it->pos : "?");
                sl_item_free(it);
                run_fail(r, &err);
                return NULL;
            }
        }
        pthread_mutex_lock(&r->mu);
        r->done[it->seq % r->cap] = it;
        pthread_cond_signal(&r->cv_done);
        pthread_mutex_unlock(&r->mu);
    }
}

/* ---- the writer ----------------------------------------------------------- */
static int
commit(struct run *r, struct sl_err *err)
{
    struct sl_checkpoint ck = {0};
    json_t *srcs = json_object(), *sinks = json_object();
    struct sink_slot *slots[2] = {&r->fhir, &r->dicom};
    size_t i;
    int rc = SL_OK;

    for (i = 0; i < r->nsrc; i++)
        if (r->src[i].checkpoint)
            json_object_set_new(srcs, r->src[i].node->id,
                                json_string(r->src[i].checkpoint));
    for (i = 0; i < 2; i++) {
        char *state = NULL;
        if (slots[i]->ctx == NULL)
            continue;
        if ((rc = slots[i]->ops->checkpoint(slots[i]->ctx, &state, err)) != SL_OK)
            goto out;
        json_object_set_new(sinks, slots[i]->node->id,
                            json_string(state ? state : ""));
        free(state);
    }
    ck.sources = json_dumps(srcs, JSON_COMPACT | JSON_SORT_KEYS);
    ck.sinks = json_dumps(sinks, JSON_COMPACT | JSON_SORT_KEYS);
    ck.counts = counts_json(r->sum);
    ck.seq = r->write_seq - 1;
    rc = sl_state_commit(r->st, r->sum->run_id, &ck, r->pending, r->npending,
                         err);
    if (rc == SL_OK) {
        for (i = 0; i < 2; i++)
            if (slots[i]->ctx && slots[i]->ops->committed)
                slots[i]->ops->committed(slots[i]->ctx);
        for (i = 0; i < r->npending; i++)
            sl_qitem_clear(&r->pending[i]);
        r->npending = 0;
        r->since_commit = 0;
        r->last_commit = sl_now();
    }
out:
    json_decref(srcs);
    json_decref(sinks);
    free(ck.sources);
    free(ck.sinks);
    free(ck.counts);
    return rc;
}

static int
quarantine_item(struct run *r, struct sl_item *it, struct sl_err *err)
{
    struct sl_qitem *q;
    int rc = SL_OK;

    r->pending = sl_realloc(r->pending, (r->npending + 1) * sizeof(*r->pending));
    q = &r->pending[r->npending];
    memset(q, 0, sizeof(*q));
    q->run_id = sl_strdup(r->sum->run_id);
    q->job = sl_strdup(r->job->id);
    q->source = sl_strdup(it->source ? it->source : "");
    q->pos = sl_strdup(it->pos ? it->pos : "");
    q->stage = sl_strdup(it->stage ? it->stage : "read");
    q->reason = sl_strdup(it->reason ? it->reason : "unknown");
    q->origin = sl_strdup(it->origin);
    if (it->kind == SL_ITEM_FHIR) {
        q->kind = sl_strdup("fhir");
        q->data = json_dumps(it->resource, JSON_COMPACT);
        q->data_len = q->data ? strlen(q->data) : 0;
    } else if (it->kind == SL_ITEM_DICOM) {
        char *name = sl_asprintf("%llu.dcm", (unsigned long long)it->seq);
        q->kind = sl_strdup("dicom");
        q->path = sl_path_join(r->qdir, name);
        free(name);
        if ((rc = sl_mkdir_p(r->qdir, err)) == SL_OK &&
            (rc = sl_file_copy(it->path, q->path, 1, err)) != SL_OK)
            sl_err_prefix(err, "quarantine of %s", it->pos ? it->pos : "?");
    } else {
        q->kind = sl_strdup("raw");
        if (it->raw) {
            q->data = sl_strndup(it->raw, it->raw_len);
            q->data_len = it->raw_len;
        }
    }
    r->npending++;
    return rc;
}

static void
draw_progress(struct run *r, int final)
{
    double now = sl_now(), el = now - r->started;
    uint64_t done, total, items = r->sum->in - r->in_at_start;
    double rate = el > 0 ? (double)items / el : 0;

    pthread_mutex_lock(&r->mu);
    done = r->units_done;
    total = r->units_total;
    pthread_mutex_unlock(&r->mu);
    if (r->opts->progress) {
        char bar[31];
        double frac = total ? (double)done / (double)total : 0;
        int i, fill = (int)(frac * 30);
        char eta[32] = "--:--";

        for (i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        if (done > 0 && total >= done && !final) {
            double left = el * (double)(total - done) / (double)done;
            snprintf(eta, sizeof(eta), "%d:%02d", (int)left / 60,
                     (int)left % 60);
        } else if (final) {
            snprintf(eta, sizeof(eta), "0:00");
        }
        fprintf(stderr, "\r[%s] %3d%% %llu items, %llu quarantined, %.0f/s, "
                        "ETA %s ",
                bar, (int)(frac * 100), (unsigned long long)r->sum->in,
                (unsigned long long)r->sum->quarantined, rate, eta);
        if (final)
            fputc('\n', stderr);
        fflush(stderr);
        r->drew_bar = 1;
    } else if (!r->opts->quiet) {
        char in[32], q[32], rt[32], fd[32], ft[32];
        snprintf(in, sizeof(in), "%llu", (unsigned long long)r->sum->in);
        snprintf(q, sizeof(q), "%llu", (unsigned long long)r->sum->quarantined);
        snprintf(rt, sizeof(rt), "%.0f", rate);
        snprintf(fd, sizeof(fd), "%llu", (unsigned long long)done);
        snprintf(ft, sizeof(ft), "%llu", (unsigned long long)total);
        sl_log_event(SL_LOG_INFO, "progress", "run", r->sum->run_id, "items",
                     in, "quarantined", q, "per_second", rt, "files_done",
                     fd, "files_total", ft, (char *)NULL);
    }
    r->last_progress = now;
}

/* Writes one processed item; an error stops the run. */
static int
write_item(struct run *r, struct sl_item *it, struct sl_err *err)
{
    struct sl_type_count *tc = type_count(r->sum, it->rtype);
    struct sink_slot *slot = NULL;
    size_t i;
    int rc = SL_OK, taken = 0;

    r->sum->in++;
    tc->in++;
    if (it->reason == NULL) {
        slot = it->kind == SL_ITEM_FHIR ? &r->fhir
               : it->kind == SL_ITEM_DICOM ? &r->dicom
                                           : NULL;
        if (slot && slot->ops && !r->opts->dry_run) {
            rc = slot->ops->put(slot->ctx, it, &taken, err);
            if (rc == SL_EQUARANTINE)
                rc = SL_OK; /* the sink set the reason */
            else if (rc != SL_OK)
                goto out;
        } else if (slot && slot->ops) {
            taken = 1; /* dry run: would be pushed */
        }
    }
    if (it->reason != NULL) {
        r->sum->quarantined++;
        tc->quarantined++;
        if (!r->opts->dry_run && (rc = quarantine_item(r, it, err)) != SL_OK)
            goto out;
        if (sl_log_enabled(SL_LOG_DEBUG) || r->opts->dry_run)
            sl_log(r->opts->dry_run ? SL_LOG_INFO : SL_LOG_DEBUG,
                   "%squarantined: source %s, %s (stage %s): %s",
                   r->opts->dry_run ? "would be " : "", it->source,
                   it->pos ? it->pos : "?", it->stage ? it->stage : "?",
                   it->reason);
    } else if (taken) {
        r->sum->out++;
        tc->out++;
    } else {
        r->sum->skipped++;
    }
    for (i = 0; i < r->nsrc; i++)
        if (it->source && strcmp(r->src[i].node->id, it->source) == 0) {
            free(r->src[i].checkpoint);
            r->src[i].checkpoint = it->checkpoint;
            it->checkpoint = NULL;
            break;
        }
out:
    return rc;
}

static int
writer_loop(struct run *r, struct sl_err *err)
{
    int rc = SL_OK;

    for (;;) {
        struct sl_item *it;
        double now;

        pthread_mutex_lock(&r->mu);
        while ((it = r->done[r->write_seq % r->cap]) == NULL) {
            if (r->failed || (r->reader_done && r->write_seq == r->next_seq))
                break;
            pthread_cond_wait(&r->cv_done, &r->mu);
        }
        if (it == NULL) {
            pthread_mutex_unlock(&r->mu);
            break;
        }
        r->done[r->write_seq % r->cap] = NULL;
        r->write_seq++;
        pthread_cond_signal(&r->cv_space);
        pthread_mutex_unlock(&r->mu);

        rc = write_item(r, it, err);
        sl_item_free(it);
        if (rc != SL_OK) {
            run_fail(r, err);
            break;
        }
        r->since_commit++;
        now = sl_now();
        if (!r->opts->dry_run &&
            (r->since_commit >= (uint64_t)r->opts->commit_every ||
             (r->since_commit > 0 && now - r->last_commit >= COMMIT_SECONDS))) {
            if ((rc = commit(r, err)) != SL_OK) {
                run_fail(r, err);
                break;
            }
        }
        if (now - r->last_progress >=
            (r->opts->progress ? PROGRESS_TTY_SECONDS : PROGRESS_LOG_SECONDS))
            draw_progress(r, 0);
    }
    return rc;
}

/* ---- replay: quarantined items as a source ------------------------------ */
struct replay_src {
    const char *id;
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
setup_sink(struct run *r, struct sink_slot *slot, const char *target_id,
           const char *state, struct sl_err *err)
{
    int rc;

    if (target_id == NULL)
        return SL_OK;
    slot->node = sl_config_target(r->cfg, target_id);
    if (slot->node == NULL)
        return SL_ERR(err, SL_ECONFIG, "%s: job %s: unknown target %s",
                      r->cfg->path, r->job->id, target_id);
    slot->ops = sl_sink_find(slot->node->type);
    if (slot->ops == NULL || slot->ops->open == NULL)
        return SL_ERR(err, SL_ECONFIG, "%s:%d: target %s: type %s is not "
                      "supported by this build", r->cfg->path,
                      slot->node->line, target_id, slot->node->type);
    if (r->opts->dry_run)
        return SL_OK;
    rc = slot->ops->open(r->cfg, slot->node, r->sum->run_id, state,
                         &slot->ctx, err);
    return rc;
}

static int
check_job_supported(const struct sl_config *cfg, const struct sl_job *job,
                    struct sl_err *err)
{
    /* Refuse, rather than skip, a stage this build cannot do: skipping
     * de-identification would deliver patient data. */
    if (job->translate.n)
        return SL_ERR(err, SL_ECONFIG, "%s:%d: job %s: <translate> is not "
                      "supported by this build yet", cfg->path,
                      job->node.line, job->id);
    if (job->validate.n)
        return SL_ERR(err, SL_ECONFIG, "%s:%d: job %s: <validate> is not "
                      "supported by this build yet", cfg->path,
                      job->node.line, job->id);
    return SL_OK;
}

static int
pipeline_run(const struct sl_config *cfg, struct sl_state *st,
             const char *job_id, const struct sl_run_opts *opts,
             struct replay_src *replay, struct sl_run_summary *sum,
             struct sl_err *err)
{
    struct run r;
    struct sl_checkpoint ck = {0};
    struct sl_run_rec rec;
    pthread_t reader, *workers = NULL;
    int rc = SL_OK, nworkers = opts->workers > 0 ? opts->workers : 1, i;
    int started_threads = 0;
    struct sigaction sa, old_int, old_term;
    json_t *ckj = NULL;
    size_t k;

    memset(&r, 0, sizeof(r));
    memset(sum, 0, sizeof(*sum));
    r.cfg = cfg;
    r.st = st;
    r.opts = opts;
    r.sum = sum;
    r.job = sl_config_job(cfg, job_id);
    if (r.job == NULL)
        return SL_ERR(err, SL_EUSAGE, "%s: no job named %s (see 'sluice "
                      "jobs')", cfg->path, job_id);
    if ((rc = check_job_supported(cfg, r.job, err)) != SL_OK)
        return rc;
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv_work, NULL);
    pthread_cond_init(&r.cv_space, NULL);
    pthread_cond_init(&r.cv_done, NULL);

    /* sources */
    r.nsrc = replay ? 0 : r.job->from.n;
    r.src = sl_calloc(r.nsrc + 1, sizeof(*r.src));
    if (replay) {
        static const struct sl_conf_node qnode = {.element = (char *)"quarantine",
                                                  .id = (char *)"quarantine"};
        r.nsrc = 1;
        r.src[0].node = &qnode;
        r.src[0].ops = &replay_ops;
        r.src[0].preset = replay;
    }
    for (k = 0; k < r.nsrc && !replay; k++) {
        r.src[k].node = sl_config_source(cfg, r.job->from.v[k]);
        if (r.src[k].node == NULL) {
            rc = SL_ERR(err, SL_ECONFIG, "%s: job %s: unknown source %s",
                        cfg->path, r.job->id, r.job->from.v[k]);
            goto out;
        }
        r.src[k].ops = sl_source_find(r.src[k].node->type);
        if (r.src[k].ops == NULL || r.src[k].ops->open == NULL) {
            rc = SL_ERR(err, SL_ECONFIG, "%s:%d: source %s: type %s is not "
                        "supported by this build", cfg->path,
                        r.src[k].node->line, r.src[k].node->id,
                        r.src[k].node->type);
            goto out;
        }
    }

    /* stages: prepared before the run starts, so that a bad profile or
     * key fails the command rather than the run */
    r.stages = sl_calloc(1, sizeof(*r.stages));
    if (r.job->deid_profile) {
        char *sp = sl_path_resolve(cfg->base_dir, cfg->state_path
                                                      ? cfg->state_path
                                                      : "sluice-state.db");
        char *sd = sl_path_dir(sp), *work = sl_path_join(sd, "work");
        rc = sl_stage_deid_new(cfg, r.job, work, &r.deid, err);
        free(sp);
        free(sd);
        free(work);
        if (rc != SL_OK)
            goto out;
        r.stages[0].name = "deid";
        r.stages[0].fn = sl_stage_deid_fn;
        r.stages[0].ctx.cfg = cfg;
        r.stages[0].ctx.job_id = r.job->id;
        r.stages[0].ctx.data = r.deid;
        r.nstages = 1;
    }

    /* the run: resume the unfinished one, or start */
    if (opts->dry_run) {
        snprintf(sum->run_id, sizeof(sum->run_id), "dry-run");
    } else if (replay) {
        char sha[65], *name = sl_asprintf("%s:replay", r.job->id);
        config_sha256(cfg->path, sha);
        rc = sl_state_run_start(st, name, cfg->path, sha, sum->run_id, err);
        free(name);
        if (rc != SL_OK)
            goto out;
    } else {
        rc = sl_state_run_unfinished(st, r.job->id, &rec, err);
        if (rc == SL_OK) {
            memcpy(sum->run_id, rec.id, sizeof(sum->run_id));
            sum->resumed = 1;
            if ((rc = sl_state_run_resume(st, rec.id, err)) != SL_OK)
                goto out;
            rc = sl_state_checkpoint_get(st, rec.id, &ck, err);
            if (rc == SL_ENOTFOUND) {
                /* Stopped before its first checkpoint: nothing of it is
                 * committed, so it starts from the beginning (sinks get
                 * no state and roll everything back). */
                memset(&ck, 0, sizeof(ck));
                rc = SL_OK;
            } else if (rc != SL_OK) {
                goto out;
            }
            counts_load(sum, ck.counts);
        } else if (rc == SL_ENOTFOUND) {
            char sha[65];
            config_sha256(cfg->path, sha);
            if ((rc = sl_state_run_start(st, r.job->id, cfg->path, sha,
                                         sum->run_id, err)) != SL_OK)
                goto out;
        } else {
            goto out;
        }
    }
    if (r.deid && !opts->dry_run) {
        /* which profile and key de-identified this run: for the privacy
         * officer (never the key itself, only its fingerprint) */
        json_t *d = json_pack("{ss ss}", "profile",
                              sl_stage_deid_describe(r.deid), "key",
                              sl_stage_deid_key_id(r.deid));
        char *dj = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
        rc = sl_state_audit(st, "deid", r.job->id, sum->run_id, dj, err);
        free(dj);
        json_decref(d);
        if (rc != SL_OK)
            goto out;
    }
    r.in_at_start = sum->in;
    if (ck.sources && (ckj = json_loads(ck.sources, 0, NULL)) != NULL)
        for (k = 0; k < r.nsrc; k++) {
            const char *c = json_string_value(json_object_get(ckj, r.src[k].node->id));
            r.src[k].checkpoint = c ? sl_strdup(c) : NULL;
        }
    json_decref(ckj);
    ckj = ck.sinks ? json_loads(ck.sinks, 0, NULL) : NULL;
    {
        const char *ids[2] = {r.job->push_fhir, r.job->push_dicom};
        struct sink_slot *slots[2] = {&r.fhir, &r.dicom};
        for (k = 0; k < 2; k++) {
            const char *state =
                ids[k] ? json_string_value(json_object_get(ckj, ids[k])) : NULL;
            if ((rc = setup_sink(&r, slots[k], ids[k], state, err)) != SL_OK)
                goto out;
        }
    }
    {
        char *qbase = sl_path_resolve(cfg->base_dir, cfg->quarantine_dir
                                                         ? cfg->quarantine_dir
                                                         : "quarantine");
        r.qdir = sl_path_join(qbase, sum->run_id);
        free(qbase);
    }

    /* threads */
    r.cap = (size_t)nworkers * 16 + 16;
    r.wq = sl_calloc(r.cap, sizeof(*r.wq));
    r.done = sl_calloc(r.cap, sizeof(*r.done));
    r.next_seq = r.write_seq = ck.seq + 1;
    r.started = r.last_commit = r.last_progress = sl_now();
    run_stop_signal = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    workers = sl_calloc((size_t)nworkers, sizeof(*workers));
    if (pthread_create(&reader, NULL, reader_main, &r) != 0) {
        rc = SL_ERR(err, SL_EINTERNAL, "cannot start the reader thread");
        goto restore;
    }
    for (i = 0; i < nworkers; i++)
        if (pthread_create(&workers[i], NULL, worker_main, &r) == 0)
            started_threads++;
    if (started_threads == 0) {
        struct sl_err e2;
        SL_ERR(&e2, SL_EINTERNAL, "cannot start worker threads");
        run_fail(&r, &e2);
    }
    writer_loop(&r, err);
    pthread_join(reader, NULL);
    for (i = 0; i < started_threads; i++)
        pthread_join(workers[i], NULL);
restore:
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    /* items left over after a failure */
    for (k = 0; k < r.cap && r.done; k++) {
        sl_item_free(r.done[k]);
        r.done[k] = NULL;
    }
    for (k = 0; r.wq && k < r.wq_len; k++)
        sl_item_free(r.wq[(r.wq_head + k) % r.cap]);
    r.wq_len = 0;
    if (r.drew_bar)
        draw_progress(&r, 1);
    sum->elapsed = sl_now() - r.started;

    if (opts->dry_run) {
        rc = r.failed ? r.ferr.code : SL_OK;
        if (r.failed)
            *err = r.ferr;
        goto out;
    }
    if (r.failed) {
        struct sl_err e2 = {0};
        char *cj;
        /* Keep what was delivered: a consistent checkpoint to resume
         * from (the failure may have been in the middle of an item, which
         * comes again on resume). */
        if (r.write_seq > ck.seq + 1 || r.npending)
            commit(&r, &e2);
        cj = counts_json(sum);
        sl_state_run_end(st, sum->run_id, "failed", sum->in, sum->out,
                         sum->quarantined, cj, &e2);
        free(cj);
        *err = r.ferr;
        rc = r.ferr.code ? r.ferr.code : SL_EINTERNAL;
        goto out;
    }
    if (run_stop_signal) {
        struct sl_err e2 = {0};
        char *cj;
        commit(&r, &e2);
        cj = counts_json(sum);
        sl_state_run_end(st, sum->run_id, "interrupted", sum->in, sum->out,
                         sum->quarantined, cj, &e2);
        free(cj);
        rc = SL_ERR(err, SL_EINTR, "run %s interrupted by signal %d; run "
                    "the job again to resume it", sum->run_id,
                    (int)run_stop_signal);
        goto out;
    }
    {
        struct sink_slot *slots[2] = {&r.fhir, &r.dicom};
        char *cj;
        for (k = 0; k < 2; k++)
            if (slots[k]->ctx && slots[k]->ops->finish &&
                (rc = slots[k]->ops->finish(slots[k]->ctx, err)) != SL_OK)
                goto out;
        if ((rc = commit(&r, err)) != SL_OK)
            goto out;
        cj = counts_json(sum);
        rc = sl_state_run_end(st, sum->run_id, "finished", sum->in, sum->out,
                              sum->quarantined, cj, err);
        free(cj);
    }
out:
    json_decref(ckj);
    for (k = 0; k < r.npending; k++)
        sl_qitem_clear(&r.pending[k]);
    free(r.pending);
    if (r.fhir.ctx)
        r.fhir.ops->close(r.fhir.ctx);
    if (r.dicom.ctx)
        r.dicom.ops->close(r.dicom.ctx);
    for (k = 0; k < r.nsrc; k++)
        free(r.src[k].checkpoint);
    free(r.src);
    free(r.wq);
    free(r.done);
    free(workers);
    free(r.qdir);
    free(r.stages);
    sl_stage_deid_free(r.deid);
    sl_checkpoint_clear(&ck);
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv_work);
    pthread_cond_destroy(&r.cv_space);
    pthread_cond_destroy(&r.cv_done);
    return rc;
}

int
sl_pipeline_run(const struct sl_config *cfg, struct sl_state *st,
                const char *job_id, const struct sl_run_opts *opts,
                struct sl_run_summary *sum, struct sl_err *err)
{
    return pipeline_run(cfg, st, job_id, opts, NULL, sum, err);
}

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
    if ((rc = pipeline_run(cfg, st, job, opts, &rs, sum, err)) != SL_OK)
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

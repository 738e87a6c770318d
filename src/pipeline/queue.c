/* queue.c - the threads of a run: the learning pass (reader + workers,
 * items of one rank on one worker), then the main pass (reader, workers,
 * and the writer on the calling thread, in item order). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fhir/jtape.h"
#include "pipeline/pipeline_int.h"

#define COMMIT_SECONDS 2.0
#define LEARN_QUEUE 64
/* Items handed over per wake-up: a thread woken for each item spends more
 * time switching than working on small resources. A source slower than
 * SLOW_NEXT seconds an item has each item handed over at once. */
#define BATCH 32
#define SLOW_NEXT 0.001

int
run_stop_asked(const struct run *r)
{
    return r->opts->stop != NULL && *r->opts->stop != 0;
}

void
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

static int
run_stopping(struct run *r)
{
    int stop;

    pthread_mutex_lock(&r->mu);
    if (run_stop_asked(r))
        r->stop = 1;
    stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    return stop;
}

void
notify_progress(struct run *r, const char *phase, uint64_t items,
                double since, int final)
{
    struct sl_run_progress p;
    size_t i;

    memset(&p, 0, sizeof(p));
    p.run_id = r->sum->run_id;
    p.phase = phase;
    p.items = items;
    p.quarantined = r->sum->quarantined;
    pthread_mutex_lock(&r->mu);
    p.units_done = r->units_done;
    p.units_total = r->units_total;
    pthread_mutex_unlock(&r->mu);
    p.elapsed = sl_now() - since;
    p.final = final;
    for (i = 0; i < r->opts->nobservers; i++)
        if (r->opts->observers[i]->progress)
            r->opts->observers[i]->progress(r->opts->observers[i]->arg, &p);
    r->last_progress = sl_now();
}

static double
progress_every(const struct run *r)
{
    return r->opts->progress_every > 0 ? r->opts->progress_every : 10.0;
}

/* ---- the learning pass -------------------------------------------------------
 * Every stage that learns sees every item of the kinds it asks for, read
 * from the start of the job's sources (not from a checkpoint: what is
 * learned must not depend on where a run resumed). */
struct learner {
    struct run *r;
    pthread_t th;
    struct sl_item *q[LEARN_QUEUE];
    size_t head, len;
    int closed;
    int idle, full; /* the learner waits for items; the reader for room */
    pthread_cond_t cv;
    struct sl_jtape tape; /* reused for every line */
    struct sl_buf copy;   /* the line, decoded in place by the reader */
};

static void *
learner_main(void *arg)
{
    struct learner *l = arg;
    struct run *r = l->r;

    for (;;) {
        struct sl_item *it;
        struct sl_err err = {0};
        size_t i;
        int rc = SL_OK;

        pthread_mutex_lock(&r->mu);
        while (l->len == 0 && !l->closed && !r->failed) {
            l->idle = 1;
            pthread_cond_wait(&l->cv, &r->mu);
            l->idle = 0;
        }
        if (l->len == 0 || r->failed) {
            pthread_mutex_unlock(&r->mu);
            return NULL;
        }
        it = l->q[l->head];
        l->head = (l->head + 1) % LEARN_QUEUE;
        l->len--;
        if (l->full && l->len <= LEARN_QUEUE / 2)
            pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&r->mu);
        /* a raw line is read once, by the tape reader, for every stage */
        if (it->resource == NULL && it->text != NULL) {
            sl_buf_reset(&l->copy);
            sl_buf_add(&l->copy, it->text, it->text_len);
            if (sl_jtape_parse(&l->tape, l->copy.data, it->text_len))
                it->tape = &l->tape;
        }
        for (i = 0; i < r->nstages && rc == SL_OK; i++) {
            const struct stage_slot *s = &r->stages[i];
            if (s->ops->learn && (s->ops->learns & (1u << it->kind)))
                rc = s->ops->learn(s->ctx, it, &err);
        }
        it->tape = NULL;
        if (rc != SL_OK) {
            sl_err_prefix(&err, "learning pass, source %s item %s",
                          it->source ? it->source : "?",
                          it->pos ? it->pos : "?");
            run_fail(r, &err);
        }
        sl_item_free(it);
    }
}

int
run_learn(struct run *r, struct sl_err *err)
{
    struct learner *ls = NULL;
    unsigned wants = 0;
    size_t i, k, n = (size_t)(r->opts->workers > 0 ? r->opts->workers : 1),
                 started = 0;
    uint64_t items = 0;
    double t0 = sl_now();
    int rc = SL_OK;

    for (i = 0; i < r->nstages; i++)
        if (r->stages[i].ops->learn)
            wants |= r->stages[i].ops->learns;
    if (wants == 0)
        return SL_OK;
    ls = sl_calloc(n, sizeof(*ls));
    for (k = 0; k < n; k++) {
        ls[k].r = r;
        pthread_cond_init(&ls[k].cv, NULL);
        if (pthread_create(&ls[k].th, NULL, learner_main, &ls[k]) != 0)
            break;
        started++;
    }
    if (started == 0) {
        rc = SL_ERR(err, SL_EINTERNAL, "cannot start worker threads");
        goto out;
    }
    r->units_done = r->units_total = 0;
    r->last_progress = t0;
    for (i = 0; i < r->spec->nsources && !run_stopping(r); i++) {
        const struct sl_job_source *t = &r->spec->sources[i];
        const struct sl_conf_node *node = t->node;
        uint64_t base_done = r->units_done, base_total = r->units_total, d, tt;
        void *ctx = NULL;
        struct sl_err e2 = {0};

        /* a preset source is read once, by the main pass */
        if (t->preset != NULL || (t->yields & wants) == 0)
            continue;
        if (t->ops->open(r->spec->cfg, node, NULL, &ctx, &e2) != SL_OK) {
            run_fail(r, &e2);
            break;
        }
        if (t->ops->want)
            t->ops->want(ctx, wants);
        while (!run_stopping(r)) {
            struct sl_item *it = NULL;
            struct learner *l;

            if (t->ops->next(ctx, &it, &e2) != SL_OK) {
                run_fail(r, &e2);
                break;
            }
            if (it == NULL)
                break;
            if (t->ops->progress) {
                t->ops->progress(ctx, &d, &tt);
                pthread_mutex_lock(&r->mu);
                r->units_done = base_done + d;
                r->units_total = base_total + tt;
                pthread_mutex_unlock(&r->mu);
            }
            items++;
            if (sl_now() - r->last_progress >= progress_every(r))
                notify_progress(r, "learn", items, t0, 0);
            if (it->kind == SL_ITEM_BAD || !(wants & (1u << it->kind))) {
                sl_item_free(it);
                continue;
            }
            /* ranks are per source: make them distinct across sources */
            it->rank += (long)i << 32;
            l = &ls[(size_t)it->rank % started];
            pthread_mutex_lock(&r->mu);
            while (l->len == LEARN_QUEUE && !r->failed) {
                l->full = 1;
                pthread_cond_broadcast(&l->cv);
                pthread_cond_wait(&l->cv, &r->mu);
                l->full = 0;
            }
            if (r->failed) {
                pthread_mutex_unlock(&r->mu);
                sl_item_free(it);
                break;
            }
            l->q[(l->head + l->len) % LEARN_QUEUE] = it;
            l->len++;
            if (l->idle && l->len >= BATCH)
                pthread_cond_broadcast(&l->cv);
            pthread_mutex_unlock(&r->mu);
        }
        t->ops->close(ctx);
        pthread_mutex_lock(&r->mu);
        for (k = 0; k < started; k++)
            if (ls[k].len > 0)
                pthread_cond_broadcast(&ls[k].cv);
        pthread_mutex_unlock(&r->mu);
    }
out:
    pthread_mutex_lock(&r->mu);
    for (k = 0; k < started; k++) {
        ls[k].closed = 1;
        pthread_cond_broadcast(&ls[k].cv);
    }
    pthread_mutex_unlock(&r->mu);
    for (k = 0; k < started; k++)
        pthread_join(ls[k].th, NULL);
    for (k = 0; k < n; k++) {
        while (ls[k].len > 0) { /* left after a failure */
            sl_item_free(ls[k].q[ls[k].head]);
            ls[k].head = (ls[k].head + 1) % LEARN_QUEUE;
            ls[k].len--;
        }
        pthread_cond_destroy(&ls[k].cv);
        sl_jtape_free(&ls[k].tape);
        if (ls[k].copy.data)
            sl_freezero(ls[k].copy.data, ls[k].copy.cap);
    }
    free(ls);
    if (rc == SL_OK && r->failed) {
        *err = r->ferr;
        rc = r->ferr.code ? r->ferr.code : SL_EINTERNAL;
    }
    if (rc == SL_OK && started > 0)
        notify_progress(r, "learn", items, t0, 1);
    r->units_done = r->units_total = 0;
    return rc;
}

/* ---- the main pass: reader ---------------------------------------------------- */
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
        } else if (s->ops->open(r->spec->cfg, s->node, s->checkpoint, &ctx,
                                &err) !=
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
            double t0 = sl_now();
            int slow;

            if (run_stopping(r))
                break;
            if (s->ops->next(ctx, &it, &err) != SL_OK) {
                run_fail(r, &err);
                break;
            }
            if (it == NULL)
                break;
            slow = sl_now() - t0 >= SLOW_NEXT;
            if (s->ops->progress)
                s->ops->progress(ctx, &d, &t);
            pthread_mutex_lock(&r->mu);
            while (!r->stop && r->next_seq - r->write_seq >= r->cap) {
                if (r->wq_len > 0 && r->work_waiters > 0)
                    pthread_cond_broadcast(&r->cv_work);
                r->space_waiter = 1;
                pthread_cond_wait(&r->cv_space, &r->mu);
                r->space_waiter = 0;
            }
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
            if (r->work_waiters > 0 &&
                (slow || r->wq_len >= BATCH ||
                 r->wq_len >= (size_t)r->work_waiters * BATCH / 2))
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
        if (run_stopping(r))
            break;
    }
    pthread_mutex_lock(&r->mu);
    r->reader_done = 1;
    pthread_cond_broadcast(&r->cv_work);
    pthread_cond_broadcast(&r->cv_done);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Once a stage serialised a FHIR resource (out_json) and nothing holds it
 * back, the document is freed here, on the thread that built it: freed by
 * the writer, its hundreds of small blocks would go back to another
 * thread's heap, which costs more than the work. Targets write out_json;
 * a Provenance names the resource by ref. */
static void
drop_document(struct sl_item *it)
{
    if (it->kind != SL_ITEM_FHIR || it->resource == NULL ||
        it->out_json == NULL || it->reason != NULL || it->whole)
        return;
    if (it->provenance)
        it->ref = sl_resource_ref(it->resource);
    json_decref(it->resource);
    it->resource = NULL;
}

/* ---- workers: parse, then the stages in the job's order ------------------------ */
/* Parses a raw FHIR item: the fast scanner builds the jansson document
 * (what json_loadb would build), jansson itself when the scanner is
 * unsure (and to word the error of a bad line). */
struct parse_scratch {
    struct sl_jtape tape; /* reused: no allocation per item */
    struct sl_buf copy;   /* the text, which the reader decodes in place */
};

static void
parse_item(struct sl_item *it, struct parse_scratch *ps)
{
    json_t *res = NULL, *rt;

    if (it->kind != SL_ITEM_FHIR || it->resource != NULL || it->text == NULL)
        return;
    sl_buf_reset(&ps->copy);
    sl_buf_add(&ps->copy, it->text, it->text_len);
    if (sl_jtape_parse(&ps->tape, ps->copy.data, it->text_len))
        res = sl_jtape_to_json(&ps->tape, SL_JT_ROOT);
    /* the copy holds patient data until the next item overwrites it; it
     * is wiped when the worker ends */
    rt = json_object_get(res, "resourceType");
    if (json_is_object(res) && json_is_string(rt) &&
        json_string_length(rt) > 0) {
        free(it->rtype);
        it->rtype = sl_strdup(json_string_value(rt));
        it->resource = res;
        sl_freezero(it->text, it->text_len);
        it->text = NULL;
        it->text_len = 0;
        return;
    }
    json_decref(res);
    sl_item_parse(it); /* says why, as the source would have */
}

static void *
worker_main(void *arg)
{
    struct run *r = arg;
    struct parse_scratch ps;

    memset(&ps, 0, sizeof(ps));
    sl_buf_init(&ps.copy);
    for (;;) {
        struct sl_item *it;
        struct sl_err err = {0};
        size_t i;

        pthread_mutex_lock(&r->mu);
        while (r->wq_len == 0 && !r->reader_done && !r->failed) {
            r->work_waiters++;
            pthread_cond_wait(&r->cv_work, &r->mu);
            r->work_waiters--;
        }
        if (r->wq_len == 0 || r->failed) {
            pthread_mutex_unlock(&r->mu);
            break;
        }
        it = r->wq[r->wq_head];
        r->wq_head = (r->wq_head + 1) % r->cap;
        r->wq_len--;
        /* more for a sleeping worker: wake one (the reader wakes in
         * batches; the workers pass the batch on) */
        if (r->wq_len > 0 && r->work_waiters > 0)
            pthread_cond_signal(&r->cv_work);
        pthread_mutex_unlock(&r->mu);

        parse_item(it, &ps);
        for (i = 0; i < r->nstages && it->reason == NULL &&
                    it->kind != SL_ITEM_SKIP;
             i++) {
            const struct stage_slot *s = &r->stages[i];
            int rc = s->ops->process(s->ctx, it, &err);
            if (rc == SL_EQUARANTINE)
                break;
            if (rc != SL_OK) {
                sl_err_prefix(&err, "stage %s, item %llu (%s)", s->ops->name,
                              (unsigned long long)it->seq,
                              it->pos ? it->pos : "?");
                sl_item_free(it);
                run_fail(r, &err);
                goto out;
            }
        }
        drop_document(it);
        pthread_mutex_lock(&r->mu);
        r->done[it->seq % r->cap] = it;
        /* The writer sleeps until the item it waits for is done; it is
         * woken when a run of BATCH items from there is ready, or when no
         * more work is queued (nothing would complete the run). */
        if (r->done_waiter && r->done[r->write_seq % r->cap] != NULL) {
            uint64_t k = r->write_seq;
            while (k < r->next_seq && k - r->write_seq < BATCH &&
                   r->done[k % r->cap] != NULL)
                k++;
            if (k - r->write_seq >= BATCH || k == r->next_seq ||
                r->wq_len == 0)
                pthread_cond_signal(&r->cv_done);
        }
        pthread_mutex_unlock(&r->mu);
    }
out:
    sl_jtape_free(&ps.tape);
    if (ps.copy.data)
        sl_freezero(ps.copy.data, ps.copy.cap);
    return NULL;
}

/* ---- the writer: every target that takes the item, in item order --------------- */
static int
write_item(struct run *r, struct sl_item *it, struct sl_err *err)
{
    struct sl_type_count *tc;
    size_t i, last = SIZE_MAX;
    int rc = SL_OK, taken = 0, delivered = 0;

    if (it->kind == SL_ITEM_SKIP) {
        r->sum->skipped++;
        sl_log(SL_LOG_INFO, "source %s, %s: neither FHIR nor DICOM: skipped",
               it->source ? it->source : "?", it->pos ? it->pos : "?");
        goto checkpoint;
    }
    tc = summary_type(r->sum, it->rtype);
    r->sum->in++;
    tc->in++;
    for (i = 0; i < r->ntargets; i++)
        if (r->tgt[i].takes & (1u << it->kind))
            last = i;
    for (i = 0; i < r->ntargets && it->reason == NULL; i++) {
        struct target_slot *t = &r->tgt[i];
        if (it->kind == SL_ITEM_BAD || !(t->takes & (1u << it->kind)))
            continue;
        if (r->opts->dry_run) {
            delivered = 1; /* would be pushed */
            continue;
        }
        taken = 0;
        it->may_move = i == last;
        rc = t->ops->put(t->ctx, it, &taken, err);
        if (rc == SL_EQUARANTINE)
            rc = SL_OK; /* the target set the reason */
        else if (rc != SL_OK)
            goto out;
        delivered |= taken;
    }
    summary_add_findings(r->sum, it);
    if (it->reason != NULL) {
        r->sum->quarantined++;
        tc->quarantined++;
        if (!r->opts->dry_run && (rc = quarantine_put(r, it, err)) != SL_OK)
            goto out;
        if (sl_log_enabled(SL_LOG_DEBUG) || r->opts->dry_run)
            sl_log(r->opts->dry_run ? SL_LOG_INFO : SL_LOG_DEBUG,
                   "%squarantined: source %s, %s (stage %s): %s",
                   r->opts->dry_run ? "would be " : "", it->source,
                   it->pos ? it->pos : "?", it->stage ? it->stage : "?",
                   it->reason);
    } else if (delivered) {
        r->sum->out++;
        tc->out++;
    } else {
        r->sum->skipped++;
    }
checkpoint:
    for (i = 0; i < r->nsrc; i++)
        if (it->source && strcmp(r->src[i].node->id, it->source) == 0) {
            free(r->src[i].checkpoint);
            r->src[i].checkpoint = it->checkpoint;
            it->checkpoint = NULL;
            break;
        }
    for (i = 0; i < r->opts->nobservers; i++)
        if (r->opts->observers[i]->item)
            r->opts->observers[i]->item(r->opts->observers[i]->arg, it,
                                        it->reason == NULL && delivered);
out:
    return rc;
}

static void
writer_loop(struct run *r)
{
    struct sl_err err = {0};

    for (;;) {
        struct sl_item *it;
        double now;
        int rc;

        pthread_mutex_lock(&r->mu);
        while ((it = r->done[r->write_seq % r->cap]) == NULL) {
            if (r->failed || (r->reader_done && r->write_seq == r->next_seq))
                break;
            r->done_waiter = 1;
            pthread_cond_wait(&r->cv_done, &r->mu);
            r->done_waiter = 0;
        }
        if (it == NULL) {
            pthread_mutex_unlock(&r->mu);
            break;
        }
        r->done[r->write_seq % r->cap] = NULL;
        r->write_seq++;
        /* the reader waits for room: let it fill half the queue at once */
        if (r->space_waiter && r->next_seq - r->write_seq <= r->cap / 2)
            pthread_cond_signal(&r->cv_space);
        pthread_mutex_unlock(&r->mu);

        rc = write_item(r, it, &err);
        sl_item_free(it);
        if (rc != SL_OK) {
            run_fail(r, &err);
            break;
        }
        r->since_commit++;
        now = sl_now();
        if (!r->opts->dry_run &&
            (r->since_commit >= (uint64_t)r->opts->commit_every ||
             (r->since_commit > 0 && now - r->last_commit >= COMMIT_SECONDS))) {
            if ((rc = run_commit(r, &err)) != SL_OK) {
                run_fail(r, &err);
                break;
            }
        }
        if (now - r->last_progress >= progress_every(r))
            notify_progress(r, "run", r->sum->in - r->in_at_start, r->started,
                            0);
    }
}

int
run_main(struct run *r, struct sl_err *err)
{
    pthread_t reader, *workers;
    int nworkers = r->opts->workers > 0 ? r->opts->workers : 1, i,
        started = 0;
    size_t k;

    workers = sl_calloc((size_t)nworkers, sizeof(*workers));
    r->started = r->last_commit = r->last_progress = sl_now();
    if (pthread_create(&reader, NULL, reader_main, r) != 0) {
        free(workers);
        return SL_ERR(err, SL_EINTERNAL, "cannot start the reader thread");
    }
    for (i = 0; i < nworkers; i++)
        if (pthread_create(&workers[i], NULL, worker_main, r) == 0)
            started++;
    if (started == 0) {
        struct sl_err e2;
        SL_ERR(&e2, SL_EINTERNAL, "cannot start worker threads");
        run_fail(r, &e2);
    }
    writer_loop(r);
    pthread_join(reader, NULL);
    for (i = 0; i < started; i++)
        pthread_join(workers[i], NULL);
    free(workers);
    /* items left over after a failure */
    for (k = 0; k < r->cap; k++) {
        sl_item_free(r->done[k]);
        r->done[k] = NULL;
    }
    for (k = 0; k < r->wq_len; k++)
        sl_item_free(r->wq[(r->wq_head + k) % r->cap]);
    r->wq_len = 0;
    notify_progress(r, "run", r->sum->in - r->in_at_start, r->started, 1);
    return SL_OK;
}

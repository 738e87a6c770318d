/* learn.c - the learning pass of a run: the reader on the calling thread,
 * the learners on --jobs threads taking chunks from one queue; when the
 * sources are local, the reader is one of the learners. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/jtape.h"
#include "pipeline/pipeline_int.h"

/* Chunks waiting for the learners. */
#define LEARN_QUEUE 8

/* The since() and begin() argument of the source configured by node
 * (load_last() in run.c). */
static const char *
src_last(const struct run *r, const struct sl_conf_node *node)
{
    size_t k;

    for (k = 0; k < r->nsrc; k++)
        if (r->src[k].node == node)
            return r->src[k].last;
    return NULL;
}

/* ---- the learning pass -------------------------------------------------------
 * Every stage that learns sees every item of the kinds it asks for, read
 * from the start of the job's sources (not from a checkpoint: what is
 * learned must not depend on where a run resumed). Items go to the
 * learners in chunks of consecutive items of one input, numbered in the
 * order they were read: that number is the rank the stages learn the
 * chunk's items with. What a stage learns depends only on the ranks, not
 * on which chunk is learned first (the deid stage: the first or the last
 * rank wins, items of one rank are learned in order by one thread), so
 * the chunks of one large input can be learned on every core at once and
 * the result is the one of learning everything in order, one item after
 * the other. The learners share one queue; when the sources are local
 * the reader learns a chunk itself whenever that queue is full. */

struct learner {
    struct run *r;
    pthread_t th;
    /* one for each item of a chunk, reused from chunk to chunk: a stage
     * may keep an item's tape until the chunk is learned (learn_flush) */
    struct sl_jtape tape[CHUNK_ITEMS];
    struct sl_buf copy[CHUNK_ITEMS]; /* the line, decoded in place */
    int alone; /* the only learner: each item flushed at once, on tape 0 */
};

/* A tape or copy that grew past this for one large line is freed after
 * its chunk, so that 64 of them do not keep the largest line's size. */
#define LEARN_KEEP_BYTES (256 * 1024)

/* The chunks waiting for a learner, under r->mu: learners wait on
 * r->cv_work, the reader on r->cv_space (run_fail wakes both). */
struct learn_queue {
    struct chunk *q[LEARN_QUEUE];
    size_t head, len;
    int closed;
    int idle; /* learners asleep, waiting for a chunk */
    int full; /* the reader waits for room */
    /* chunks the learner threads are through with: the reader, which
     * allocated their items, frees them (blocks go back to its own
     * caches and arena, not through another thread's arena lock) */
    struct chunk *spent;
};

static int
learn_item(struct learner *l, struct sl_item *it, size_t k)
{
    struct run *r = l->r;
    struct sl_err err = {0};
    size_t i;
    int rc = SL_OK;

    /* a raw line is read once, by the tape reader, for every stage */
    if (it->resource == NULL && it->text != NULL) {
        sl_buf_reset(&l->copy[k]);
        sl_buf_add(&l->copy[k], it->text, it->text_len);
        if (sl_jtape_parse(&l->tape[k], l->copy[k].data, it->text_len))
            it->tape = &l->tape[k];
    }
    for (i = 0; i < r->nstages && rc == SL_OK; i++) {
        const struct stage_slot *s = &r->stages[i];
        if (s->ops->learn && (s->ops->learns & (1u << it->kind)))
            rc = s->ops->learn(s->ctx, it, &err);
    }
    it->tape = NULL;
    if (rc != SL_OK) {
        sl_err_prefix(&err, "learning pass, source %s item %s",
                      it->source ? it->source : "?", it->pos ? it->pos : "?");
        run_fail(r, &err);
    }
    return rc;
}

/* What the stages kept back of the chunk just learned on this thread
 * (learn_flush), then the tapes and copies a large line left large. */
static void
learn_flush(struct learner *l, size_t n)
{
    struct run *r = l->r;
    size_t i;

    for (i = 0; i < r->nstages; i++)
        if (r->stages[i].ops->learn_flush)
            r->stages[i].ops->learn_flush(r->stages[i].ctx);
    for (i = 0; i < n; i++) {
        if (l->tape[i].cap * sizeof(*l->tape[i].n) > LEARN_KEEP_BYTES)
            sl_jtape_free(&l->tape[i]);
        if (l->copy[i].cap > LEARN_KEEP_BYTES) {
            sl_freezero(l->copy[i].data, l->copy[i].cap);
            sl_buf_init(&l->copy[i]);
        }
    }
}

/* Learns a chunk's items in order; then frees it (q NULL: on the reader's
 * thread) or hands it back to the reader (q->spent). 0, or -1 when the
 * run failed. */
static int
learn_chunk(struct learner *l, struct chunk *c, struct learn_queue *q)
{
    size_t k;
    int rc = SL_OK;

    if (l->alone) { /* nobody to wait for the lock: one hot tape */
        for (k = 0; k < c->n && rc == SL_OK; k++) {
            rc = learn_item(l, c->it[k], 0);
            learn_flush(l, 1);
        }
    } else {
        for (k = 0; k < c->n && rc == SL_OK; k++)
            rc = learn_item(l, c->it[k], k);
        learn_flush(l, c->n);
    }
    if (q == NULL) {
        chunk_free(c, 0);
    } else {
        pthread_mutex_lock(&l->r->mu);
        c->next = q->spent;
        q->spent = c;
        pthread_mutex_unlock(&l->r->mu);
    }
    return rc == SL_OK ? 0 : -1;
}

struct learner_arg {
    struct learner *l;
    struct learn_queue *q;
};

static void *
learner_main(void *arg)
{
    struct learner *l = ((struct learner_arg *)arg)->l;
    struct learn_queue *q = ((struct learner_arg *)arg)->q;
    struct run *r = l->r;

    for (;;) {
        struct chunk *c;

        pthread_mutex_lock(&r->mu);
        while (q->len == 0 && !q->closed && !r->failed) {
            q->idle++;
            pthread_cond_wait(&r->cv_work, &r->mu);
            q->idle--;
        }
        if (q->len == 0 || r->failed) {
            pthread_mutex_unlock(&r->mu);
            return NULL;
        }
        c = q->q[q->head];
        q->head = (q->head + 1) % LEARN_QUEUE;
        q->len--;
        if (q->full)
            pthread_cond_signal(&r->cv_space);
        pthread_mutex_unlock(&r->mu);
        if (learn_chunk(l, c, q) != 0)
            return NULL;
    }
}

/* Hands a chunk to the learners. here: the reader is a learner too, and
 * learns the chunk itself (with l) rather than wait for room. 0, or -1
 * when the run failed (the chunk is freed). */
static int
learn_push(struct run *r, struct learn_queue *q, struct chunk *c, int here,
           struct learner *l)
{
    struct chunk *spent;

    pthread_mutex_lock(&r->mu);
    while (q->len == LEARN_QUEUE && !r->failed && !here) {
        q->full = 1;
        pthread_cond_wait(&r->cv_space, &r->mu);
        q->full = 0;
    }
    if (r->failed) {
        pthread_mutex_unlock(&r->mu);
        chunk_free(c, 0);
        return -1;
    }
    if (q->len == LEARN_QUEUE) { /* here, and no room */
        pthread_mutex_unlock(&r->mu);
        return learn_chunk(l, c, NULL);
    }
    q->q[(q->head + q->len) % LEARN_QUEUE] = c;
    q->len++;
    if (q->idle)
        pthread_cond_signal(&r->cv_work);
    spent = q->spent; /* the learners' learned chunks, freed here */
    q->spent = NULL;
    pthread_mutex_unlock(&r->mu);
    chunk_list_free(spent);
    return 0;
}

/* At the end of the sources, the reader that is a learner too learns
 * what is still queued beside the learner threads, rather than wait for
 * them to get through it alone. 0, or -1 when the run failed. */
static int
learn_rest(struct run *r, struct learn_queue *q, struct learner *l)
{
    for (;;) {
        struct chunk *c;

        pthread_mutex_lock(&r->mu);
        if (q->len == 0 || r->failed) {
            pthread_mutex_unlock(&r->mu);
            return r->failed ? -1 : 0;
        }
        c = q->q[q->head];
        q->head = (q->head + 1) % LEARN_QUEUE;
        q->len--;
        pthread_mutex_unlock(&r->mu);
        if (learn_chunk(l, c, NULL) != 0)
            return -1;
    }
}

int
run_learn(struct run *r, struct sl_err *err)
{
    struct learner *ls = NULL;
    struct learner_arg *args = NULL;
    struct learn_queue q = {0};
    unsigned wants = 0;
    size_t i, k, n = (size_t)(r->opts->workers > 0 ? r->opts->workers : 1),
                 started = 0;
    uint64_t items = 0;
    long chunks = 0; /* the rank of the next chunk */
    double t0 = sl_now();
    /* with local sources the calling thread, which reads, is learner 0 */
    int rc = SL_OK, here = run_sources_local(r);

    for (i = 0; i < r->nstages; i++)
        if (r->stages[i].ops->learn)
            wants |= r->stages[i].ops->learns;
    if (wants == 0)
        return SL_OK;
    run_progress_phase(r, "learn", t0);
    ls = sl_calloc(n, sizeof(*ls));
    args = sl_calloc(n, sizeof(*args));
    for (k = 0; k < n; k++) {
        ls[k].r = r;
        args[k].l = &ls[k];
        args[k].q = &q;
        if (!(here && k == 0) &&
            pthread_create(&ls[k].th, NULL, learner_main, &args[k]) != 0)
            break;
        started++;
    }
    if (started == 0) {
        rc = SL_ERR(err, SL_EINTERNAL, "cannot start worker threads");
        goto out;
    }
    ls[0].alone = started == 1 && here;
    r->units_done = r->units_total = 0;
    r->last_progress = t0;
    for (i = 0; i < r->spec->nsources && !run_stopping(r); i++) {
        const struct sl_job_source *t = &r->spec->sources[i];
        const struct sl_conf_node *node = t->node;
        uint64_t base_done = r->units_done, base_total = r->units_total, d, tt;
        struct chunk *c = NULL;
        size_t bytes = 0;
        void *ctx = NULL;
        struct sl_err e2 = {0};
        int stopped = 0, feeds;

        /* a preset source is read once, by the main pass */
        if (t->preset != NULL || (t->yields & wants) == 0)
            continue;
        if (t->ops->open(r->spec->cfg, node, NULL, &ctx, &e2) != SL_OK) {
            run_fail(r, &e2);
            break;
        }
        /* learn from what the main pass reads: only what is new */
        if (t->ops->since && src_last(r, node) &&
            t->ops->since(ctx, src_last(r, node), &e2) != SL_OK) {
            t->ops->close(ctx);
            run_fail(r, &e2);
            break;
        }
        if (t->ops->want)
            t->ops->want(ctx, wants);
        if (t->ops->begin)
            t->ops->begin(ctx, r->opts->stop, src_last(r, node));
        if (t->ops->watch)
            t->ops->watch(ctx, run_source_status, r);
        /* a PACS source's cohort from this one, as it is read (cohort.c) */
        feeds = run_cohorts_feeds(r, node);
        while (!stopped) {
            struct sl_item *it = NULL;

            if (t->ops->next(ctx, &it, &e2) != SL_OK) {
                run_fail(r, &e2);
                break;
            }
            if (feeds && it != NULL && it->kind == SL_ITEM_FHIR &&
                run_cohorts_item(r, node, it, &e2) != SL_OK) {
                run_fail(r, &e2);
                sl_item_free(it);
                break;
            }
            if (it != NULL &&
                (it->kind == SL_ITEM_BAD || !(wants & (1u << it->kind)))) {
                sl_item_free(it);
                it = NULL;
                if (!(items++ & 1023) && run_stop_asked(r))
                    break;
                continue;
            }
            if (it != NULL)
                items++;
            /* a chunk holds consecutive items of one input; it goes when
             * full, when the next item is of another input, and at the
             * end */
            if (c != NULL &&
                (it == NULL || it->rank != c->it[0]->rank ||
                 c->n == CHUNK_ITEMS || bytes >= CHUNK_BYTES)) {
                /* its rank: its number in the order read (the stages
                 * keep ranks in 32 bits; past that, ties are learned in
                 * the order they come) */
                for (k = 0; k < c->n; k++)
                    c->it[k]->rank = chunks;
                if (chunks < INT32_MAX)
                    chunks++;
                if (started == 1 && here)
                    stopped = learn_chunk(&ls[0], c, NULL) != 0;
                else
                    stopped = learn_push(r, &q, c, here, &ls[0]) != 0;
                c = NULL;
                if (t->ops->progress) {
                    t->ops->progress(ctx, &d, &tt);
                    pthread_mutex_lock(&r->mu);
                    r->units_done = base_done + d;
                    r->units_total = base_total + tt;
                    pthread_mutex_unlock(&r->mu);
                }
                if (sl_now() - r->last_progress >= run_progress_every(r))
                    notify_progress(r, "learn", items, t0, 0);
                if (run_stop_asked(r))
                    stopped = 1;
            }
            if (it == NULL) {
                if (feeds && !stopped)
                    run_cohorts_done(r, node);
                break;
            }
            if (stopped) {
                sl_item_free(it);
                break;
            }
            if (c == NULL) {
                c = sl_malloc(sizeof(*c));
                c->n = 0;
                bytes = 0;
            }
            c->it[c->n++] = it;
            bytes += it->text_len;
        }
        chunk_free(c, 0);
        t->ops->close(ctx);
        run_source_status(r, NULL); /* what it said is over */
    }
    if (here && started > 1 && !run_stopping(r))
        learn_rest(r, &q, &ls[0]);
out:
    pthread_mutex_lock(&r->mu);
    q.closed = 1;
    pthread_cond_broadcast(&r->cv_work);
    pthread_mutex_unlock(&r->mu);
    for (k = here ? 1 : 0; k < started; k++)
        pthread_join(ls[k].th, NULL);
    chunk_list_free(q.spent); /* the learner threads are joined */
    q.spent = NULL;
    while (q.len > 0) { /* left after a failure */
        chunk_free(q.q[q.head], 0);
        q.head = (q.head + 1) % LEARN_QUEUE;
        q.len--;
    }
    for (k = 0; k < n; k++) {
        size_t j;
        for (j = 0; j < CHUNK_ITEMS; j++) {
            sl_jtape_free(&ls[k].tape[j]);
            if (ls[k].copy[j].data) /* it held patient data */
                sl_freezero(ls[k].copy[j].data, ls[k].copy[j].cap);
        }
    }
    free(args);
    free(ls);
    if (rc == SL_OK && r->failed) {
        *err = r->ferr;
        rc = r->ferr.code ? r->ferr.code : SL_EINTERNAL;
    }
    if (rc == SL_OK && started > 0) {
        notify_progress(r, "learn", items, t0, 1);
        sl_log(SL_LOG_DEBUG, "learning pass: %llu items in %.3f s",
               (unsigned long long)items, sl_now() - t0);
    }
    r->units_done = r->units_total = 0;
    return rc;
}

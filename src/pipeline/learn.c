/* learn.c - the learning pass of a run: the reader on the calling thread,
 * the learners on --jobs threads (items of one rank on one learner); when
 * the sources are local, the reader is one of the learners. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fhir/jtape.h"
#include "pipeline/pipeline_int.h"

/* Chunks waiting for each learner. */
#define LEARN_QUEUE 4

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
 * learners in chunks of one rank (one input): a rank is always learned by
 * the same learner, in order. */

struct learner {
    struct run *r;
    pthread_t th;
    struct chunk *q[LEARN_QUEUE];
    size_t head, len;
    int closed;
    int idle, full; /* the learner waits for items; the reader for room */
    pthread_cond_t cv;
    struct sl_jtape tape; /* reused for every line */
    struct sl_buf copy;   /* the line, decoded in place by the reader */
};

static int
learn_item(struct learner *l, struct sl_item *it)
{
    struct run *r = l->r;
    struct sl_err err = {0};
    size_t i;
    int rc = SL_OK;

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
                      it->source ? it->source : "?", it->pos ? it->pos : "?");
        run_fail(r, &err);
    }
    return rc;
}

static void *
learner_main(void *arg)
{
    struct learner *l = arg;
    struct run *r = l->r;

    for (;;) {
        struct chunk *c;
        size_t k;
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
        c = l->q[l->head];
        l->head = (l->head + 1) % LEARN_QUEUE;
        l->len--;
        if (l->full)
            pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&r->mu);
        for (k = 0; k < c->n && rc == SL_OK; k++)
            rc = learn_item(l, c->it[k]);
        chunk_free(c, 0);
    }
}

/* Learner 0 when the sources are local: the reader learns the chunks of
 * its ranks itself. 0, or -1 when the run failed. */
static int
learn_here(struct learner *l, struct chunk *c)
{
    size_t k;
    int rc = SL_OK;

    for (k = 0; k < c->n && rc == SL_OK; k++)
        rc = learn_item(l, c->it[k]);
    chunk_free(c, 0);
    return rc == SL_OK ? 0 : -1;
}

/* Hands a chunk to its learner once there is room. 0, or -1 when the run
 * failed (the chunk is freed). */
static int
learn_push(struct run *r, struct learner *l, struct chunk *c)
{
    pthread_mutex_lock(&r->mu);
    while (l->len == LEARN_QUEUE && !r->failed) {
        l->full = 1;
        pthread_cond_wait(&l->cv, &r->mu);
        l->full = 0;
    }
    if (r->failed) {
        pthread_mutex_unlock(&r->mu);
        chunk_free(c, 0);
        return -1;
    }
    l->q[(l->head + l->len) % LEARN_QUEUE] = c;
    l->len++;
    if (l->idle)
        pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&r->mu);
    return 0;
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
    /* with local sources the calling thread, which reads, is learner 0 */
    int rc = SL_OK, here = run_sources_local(r);

    for (i = 0; i < r->nstages; i++)
        if (r->stages[i].ops->learn)
            wants |= r->stages[i].ops->learns;
    if (wants == 0)
        return SL_OK;
    run_progress_phase(r, "learn", t0);
    ls = sl_calloc(n, sizeof(*ls));
    for (k = 0; k < n; k++) {
        ls[k].r = r;
        pthread_cond_init(&ls[k].cv, NULL);
        if (!(here && k == 0) &&
            pthread_create(&ls[k].th, NULL, learner_main, &ls[k]) != 0)
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
        struct chunk *c = NULL;
        size_t bytes = 0;
        void *ctx = NULL;
        struct sl_err e2 = {0};
        int stopped = 0;

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
        while (!stopped) {
            struct sl_item *it = NULL;

            if (t->ops->next(ctx, &it, &e2) != SL_OK) {
                run_fail(r, &e2);
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
            if (it != NULL) {
                items++;
                /* ranks are per source: make them distinct across
                 * sources */
                it->rank += (long)i << 32;
            }
            /* a chunk holds one rank; it goes when full, when the next
             * item is of another rank, and at the end */
            if (c != NULL &&
                (it == NULL || it->rank != c->it[0]->rank ||
                 c->n == CHUNK_ITEMS || bytes >= CHUNK_BYTES)) {
                struct learner *l = &ls[(size_t)c->it[0]->rank % started];
                stopped = (here && l == ls ? learn_here(l, c)
                                           : learn_push(r, l, c)) != 0;
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
            if (it == NULL)
                break;
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
out:
    pthread_mutex_lock(&r->mu);
    for (k = 0; k < started; k++) {
        ls[k].closed = 1;
        pthread_cond_broadcast(&ls[k].cv);
    }
    pthread_mutex_unlock(&r->mu);
    for (k = here ? 1 : 0; k < started; k++)
        pthread_join(ls[k].th, NULL);
    for (k = 0; k < n; k++) {
        while (ls[k].len > 0) { /* left after a failure */
            chunk_free(ls[k].q[ls[k].head], 0);
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

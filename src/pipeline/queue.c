/* queue.c - the threads of the main pass of a run: the reader, the
 * workers, and the calling thread, which writes in item order (writer.c)
 * and, when the sources are local, reads and works too (the lead). What
 * the passes share is in run_state.c, the learning pass in learn.c. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fhir/jtape.h"
#include "pipeline/pipeline_int.h"

/* A source slower than SLOW_NEXT seconds an item has each item handed
 * over at once (items otherwise travel in chunks: queue.c, struct chunk). */
#define SLOW_NEXT 0.001

/* ---- the main pass: reader ---------------------------------------------------- */
/* A chunk closes after CHUNK_ITEMS items, CHUNK_BYTES of raw text or
 * CHUNK_DICOM DICOM files (a few: small instances cost little more than
 * their hand-over, large ones are shared out nearly one by one); a whole
 * document travels alone. */
#define CHUNK_DICOM 4

/* Hands a chunk to the workers once there is room. 0, or -1 when the run
 * stops (the chunk's items are freed). */
static int
push_chunk(struct run *r, struct chunk *c, uint64_t done, uint64_t total)
{
    struct chunk *spent;
    size_t k;

    pthread_mutex_lock(&r->mu);
    if (run_stop_asked(r))
        r->stop = 1;
    while (!r->stop && r->next_cseq - r->write_cseq >= r->cap) {
        r->space_waiter = 1;
        pthread_cond_wait(&r->cv_space, &r->mu);
        r->space_waiter = 0;
    }
    if (r->stop) {
        pthread_mutex_unlock(&r->mu);
        for (k = 0; k < c->n; k++)
            sl_item_free(c->it[k]);
        free(c);
        return -1;
    }
    c->cseq = r->next_cseq++;
    r->wq[(r->wq_head + r->wq_len) % r->cap] = c;
    r->wq_len++;
    r->units_done = done;
    r->units_total = total;
    if (r->work_waiters > 0)
        pthread_cond_signal(&r->cv_work);
    spent = r->spent;
    r->spent = NULL;
    pthread_mutex_unlock(&r->mu);
    chunk_list_free(spent);
    return 0;
}

/* Where the reader of the main pass is: the source it reads, open, and
 * that source's progress on top of what the sources before it did. */
struct rd {
    size_t i;  /* in r->src */
    void *ctx; /* source i, open, or NULL */
    uint64_t base_done, base_total, d, t;
    int end; /* every source read, or the run stopped */
};

void
src_close(struct src_slot *s, void *ctx)
{
    if (s->ops->retries)
        atomic_fetch_add(&s->retries, s->ops->retries(ctx));
    s->ops->close(ctx);
}

static void
rd_close(struct run *r, struct rd *rd)
{
    if (rd->ctx != NULL) {
        src_close(&r->src[rd->i], rd->ctx);
        run_source_status(r, NULL);
    }
    rd->ctx = NULL;
}

/* Opens source s of the main pass (or takes it already open), from its
 * checkpoint; NULL when it failed (run_fail was called). */
static void *
src_start(struct run *r, struct src_slot *s)
{
    struct sl_err err = {0};
    void *ctx = NULL;

    if (s->preset != NULL) {
        ctx = s->preset;
        s->preset = NULL;
    } else if (s->ops->open(r->spec->cfg, s->node, s->checkpoint, &ctx, &err) !=
               SL_OK) {
        run_fail(r, &err);
        return NULL;
    } else if (s->ops->since && s->last &&
               s->ops->since(ctx, s->last, &err) != SL_OK) {
        s->ops->close(ctx);
        run_fail(r, &err);
        return NULL;
    }
    if (s->ops->begin)
        s->ops->begin(ctx, r->opts->stop, s->last);
    if (s->ops->watch)
        s->ops->watch(ctx, run_source_status, r);
    return ctx;
}

/* Reads the next chunk of the main pass: consecutive items of one source
 * (see CHUNK_DICOM above). NULL at the end of the last source or when the
 * run fails or stops between two sources (rd->end is then set). */
static struct chunk *
read_chunk(struct run *r, struct rd *rd)
{
    struct sl_err err = {0};
    struct chunk *c = NULL;
    size_t bytes = 0, ndicom = 0;

    while (!rd->end) {
        struct src_slot *s;
        struct sl_item *it = NULL;
        double t0;

        if (rd->ctx == NULL) {
            if (rd->i >= r->nsrc || (rd->i > 0 && run_stopping(r)) ||
                (rd->ctx = src_start(r, &r->src[rd->i])) == NULL) {
                rd->end = 1;
                break;
            }
            pthread_mutex_lock(&r->mu);
            rd->base_done = r->units_done;
            rd->base_total = r->units_total;
            pthread_mutex_unlock(&r->mu);
            rd->d = rd->t = 0;
        }
        s = &r->src[rd->i];
        t0 = sl_now();
        if (s->ops->next(rd->ctx, &it, &err) != SL_OK) {
            run_fail(r, &err);
            chunk_free(c, 0);
            rd_close(r, rd);
            rd->end = 1;
            return NULL;
        }
        if (it == NULL) { /* this source is read: its chunks end here */
            if (s->ops->progress)
                s->ops->progress(rd->ctx, &rd->d, &rd->t);
            rd->d = rd->t;
            pthread_mutex_lock(&r->mu);
            r->units_done = rd->base_done + rd->t;
            r->units_total = rd->base_total + rd->t;
            pthread_mutex_unlock(&r->mu);
            src_close(s, rd->ctx);
            run_source_status(r, NULL); /* what it said is over */
            rd->ctx = NULL;
            rd->i++;
            if (c != NULL)
                break;
            continue;
        }
        if (c == NULL) {
            c = sl_malloc(sizeof(*c));
            c->n = 0;
        }
        it->seq = r->next_seq++;
        c->it[c->n++] = it;
        bytes += it->text_len;
        if (it->kind == SL_ITEM_DICOM)
            ndicom++;
        /* a slow source (a network, say) hands each item on at once */
        if (sl_now() - t0 >= SLOW_NEXT || c->n == CHUNK_ITEMS ||
            bytes >= CHUNK_BYTES || ndicom >= CHUNK_DICOM || it->whole) {
            if (s->ops->progress)
                s->ops->progress(rd->ctx, &rd->d, &rd->t);
            break;
        }
    }
    return c;
}

static void *
reader_main(void *arg)
{
    struct run *r = arg;
    struct rd rd;
    struct chunk *c;

    memset(&rd, 0, sizeof(rd));
    while ((c = read_chunk(r, &rd)) != NULL)
        if (push_chunk(r, c, rd.base_done + rd.d, rd.base_total + rd.t) != 0)
            break;
    rd_close(r, &rd);
    pthread_mutex_lock(&r->mu);
    r->reader_done = 1;
    pthread_cond_broadcast(&r->cv_work);
    pthread_cond_broadcast(&r->cv_done);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Once a stage serialised a FHIR resource (out_json), or when no target
 * reads documents (run.docs_unread), and nothing holds it back, the
 * document is freed here, right after the stages, on the thread that
 * built it: the next item's parse takes its blocks again from this
 * thread's caches (jtape_alloc.c, glibc's tcache). Kept until its chunk
 * is written, a chunk's documents (thousands of small blocks) would
 * overflow those caches and go through malloc's slow paths both ways:
 * that, not which thread frees them, is what `-j 2` paid over `-j 1`
 * (docs/validation.md). Targets write out_json; a Provenance names the
 * resource by ref; a quarantined item keeps its document for the
 * quarantine. */
static void
drop_document(const struct run *r, struct sl_item *it)
{
    if (it->kind != SL_ITEM_FHIR || it->resource == NULL || it->reason != NULL)
        return;
    if (!r->docs_unread && (it->out_json == NULL || it->whole))
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
#define TIMED_STAGES 32 /* stages timed one by one (a job has a few) */
struct parse_scratch {
    struct sl_jtape tape; /* reused: no allocation per item */
    struct sl_buf copy;   /* the text, which the reader decodes in place */
    /* time (ns) and items of parsing ([0]) and of each stage ([k + 1])
     * since the last flush into the run's atomics */
    uint64_t ns[TIMED_STAGES + 1], n[TIMED_STAGES + 1];
};

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Adds a worker's times to the run's, once a chunk. */
static void
scratch_flush_times(struct run *r, struct parse_scratch *ps)
{
    size_t k;

    if (ps->n[0]) {
        atomic_fetch_add(&r->parse_ns, ps->ns[0]);
        atomic_fetch_add(&r->parse_items, ps->n[0]);
    }
    for (k = 0; k < r->nstages && k < TIMED_STAGES; k++)
        if (ps->n[k + 1]) {
            atomic_fetch_add(&r->stages[k].ns, ps->ns[k + 1]);
            atomic_fetch_add(&r->stages[k].items, ps->n[k + 1]);
        }
    memset(ps->ns, 0, sizeof(ps->ns));
    memset(ps->n, 0, sizeof(ps->n));
}

/* The size of a file, 0 when it cannot be told. */
static uint64_t
file_bytes(const char *path)
{
    struct stat st;

    return path && stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

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

/* The stages, in the job's order, on one item. SL_OK, or an error that
 * stops the run (the item is then freed and *itp set to NULL). */
static int
process_item(struct run *r, struct sl_item **itp, struct parse_scratch *ps)
{
    struct sl_item *it = *itp;
    struct sl_err err = {0};
    uint64_t t0, t1;
    size_t i;

    if (it->kind == SL_ITEM_DICOM)
        it->in_bytes = file_bytes(it->path);
    else if (it->text != NULL)
        it->in_bytes = it->text_len;
    else if (it->out_json != NULL) /* a server's text (fhir-rest, -bulk) */
        it->in_bytes = it->out_json_len + 1;
    if (r->nstages == 0 && it->kind == SL_ITEM_FHIR && it->text_checked &&
        it->text != NULL && it->out_json != NULL && it->resource == NULL &&
        it->provenance == NULL && !it->whole) {
        /* nothing reads the document: the targets write out_json, and
         * the source checked the text (item.h, text_checked) */
        sl_freezero(it->text, it->text_len);
        it->text = NULL;
        it->text_len = 0;
        return SL_OK;
    }
    t0 = now_ns();
    if (passes_raw(r, it, &ps->tape, &ps->copy)) { /* passes.c */
        /* every stage passes it as it came: checked, not parsed */
        ps->ns[0] += now_ns() - t0;
        ps->n[0]++;
        return SL_OK;
    }
    if (it->text != NULL) {
        parse_item(it, ps);
        t1 = now_ns();
        ps->ns[0] += t1 - t0;
        ps->n[0]++;
        t0 = t1;
    }
    for (i = 0; i < r->nstages && it->reason == NULL &&
                it->kind != SL_ITEM_SKIP;
         i++) {
        const struct stage_slot *s = &r->stages[i];
        int rc = s->ops->process(s->ctx, it, &err);
        if (i < TIMED_STAGES) {
            t1 = now_ns();
            ps->ns[i + 1] += t1 - t0;
            ps->n[i + 1]++;
            t0 = t1;
        }
        if (rc == SL_EQUARANTINE)
            break;
        if (rc != SL_OK) {
            sl_err_prefix(&err, "stage %s, item %llu (%s)", s->ops->name,
                          (unsigned long long)it->seq,
                          it->pos ? it->pos : "?");
            sl_item_free(it);
            *itp = NULL;
            run_fail(r, &err);
            return rc;
        }
    }
    /* what goes to the targets: the text a stage wrote, the file it
     * wrote, else what came in */
    if (it->kind == SL_ITEM_DICOM)
        it->out_bytes = it->tmp_path ? file_bytes(it->tmp_path) : it->in_bytes;
    else
        it->out_bytes = it->out_json ? it->out_json_len + 1 : it->in_bytes;
    drop_document(r, it);
    return SL_OK;
}

/* Takes the next chunk for a worker; NULL when there is none (wait set:
 * waits for one until the reader is done). Called with r->mu held. */
static struct chunk *
wq_take(struct run *r, int wait)
{
    struct chunk *c;

    while (wait && r->wq_len == 0 && !r->reader_done && !r->failed) {
        r->work_waiters++;
        pthread_cond_wait(&r->cv_work, &r->mu);
        r->work_waiters--;
    }
    if (r->wq_len == 0 || r->failed)
        return NULL;
    c = r->wq[r->wq_head];
    r->wq_head = (r->wq_head + 1) % r->cap;
    r->wq_len--;
    /* more for a sleeping worker: wake one */
    if (r->wq_len > 0 && r->work_waiters > 0)
        pthread_cond_signal(&r->cv_work);
    return c;
}

/* Processes chunk c (taken with r->mu held, which is released meanwhile)
 * and hands it to the writer's slot. 0, or -1 when the run failed. */
static int
work_chunk(struct run *r, struct chunk *c, struct parse_scratch *ps)
{
    size_t k;
    int failed = 0;

    pthread_mutex_unlock(&r->mu);
    for (k = 0; k < c->n && !failed; k++)
        failed = process_item(r, &c->it[k], ps) != SL_OK;
    scratch_flush_times(r, ps);
    /* after a failure the chunk still goes to the writer's slot, so
     * that its items are freed with the rest */
    pthread_mutex_lock(&r->mu);
    r->done[c->cseq % r->cap] = c;
    if (r->done_waiter && c->cseq == r->write_cseq)
        pthread_cond_signal(&r->cv_done);
    return failed ? -1 : 0;
}

static void
scratch_init(struct parse_scratch *ps)
{
    memset(ps, 0, sizeof(*ps));
    sl_buf_init(&ps->copy);
}

static void
scratch_free(struct parse_scratch *ps)
{
    sl_jtape_free(&ps->tape);
    if (ps->copy.data) /* it held patient data */
        sl_freezero(ps->copy.data, ps->copy.cap);
}

static void *
worker_main(void *arg)
{
    struct run *r = arg;
    struct parse_scratch ps;
    struct chunk *c;
    int failed = 0;

    scratch_init(&ps);
    pthread_mutex_lock(&r->mu);
    while (!failed && (c = wq_take(r, 1)) != NULL)
        failed = work_chunk(r, c, &ps) != 0;
    pthread_mutex_unlock(&r->mu);
    scratch_free(&ps);
    return NULL;
}

int
run_sources_local(const struct run *r)
{
    size_t k;

    for (k = 0; k < r->spec->nsources; k++)
        if (!r->spec->sources[k].ops->local)
            return 0;
    for (k = 0; k < r->nsrc; k++) /* a replay reads the state store */
        if (!r->src[k].ops->local)
            return 0;
    return 1;
}

int
run_one_thread(const struct run *r)
{
    return r->opts->workers <= 1 && run_sources_local(r);
}

/* The lead reads the next chunk for the workers' queue (r->mu held, and
 * released while it reads); at the end of the sources it says so. */
static void
lead_read(struct run *r, struct rd *rd)
{
    struct chunk *c;

    pthread_mutex_unlock(&r->mu);
    c = read_chunk(r, rd);
    pthread_mutex_lock(&r->mu);
    if (c == NULL) {
        r->reader_done = 1;
        pthread_cond_broadcast(&r->cv_work);
        return;
    }
    c->cseq = r->next_cseq++;
    r->wq[(r->wq_head + r->wq_len) % r->cap] = c;
    r->wq_len++;
    r->units_done = rd->base_done + rd->d;
    r->units_total = rd->base_total + rd->t;
    if (r->work_waiters > 0)
        pthread_cond_signal(&r->cv_work);
}

/* A worker waits for a chunk that only the lead can read. */
static int
lead_starving(const struct run *r)
{
    return r->work_waiters > 0 && r->wq_len == 0 && !r->reader_done &&
           !r->failed && r->next_cseq - r->write_cseq < r->cap;
}

/* The lead processes chunk c as a worker would (work_chunk), but item by
 * item: between two items it reads a chunk for a worker that waits for
 * one, which would otherwise sleep until the lead is through its whole
 * chunk (at --jobs 2 the one worker slept about a third of the run). Called
 * with r->mu held, which is released meanwhile. 0, or -1 when the run
 * failed. */
static int
lead_work(struct run *r, struct chunk *c, struct parse_scratch *ps,
          struct rd *rd)
{
    size_t k;
    int failed = 0;

    pthread_mutex_unlock(&r->mu);
    for (k = 0; k < c->n && !failed; k++) {
        failed = process_item(r, &c->it[k], ps) != SL_OK;
        if (!failed && k + 1 < c->n) {
            pthread_mutex_lock(&r->mu);
            if (lead_starving(r))
                lead_read(r, rd);
            pthread_mutex_unlock(&r->mu);
        }
    }
    scratch_flush_times(r, ps);
    pthread_mutex_lock(&r->mu);
    r->done[c->cseq % r->cap] = c;
    return failed ? -1 : 0;
}

/* The calling thread of a run whose sources are local, beside nworkers
 * worker threads: it writes the next chunk once it is ready, reads a
 * chunk when the workers' queue runs low, and otherwise processes one
 * itself, so that --jobs N is N threads, none of them waiting while
 * another works. Chunks are read and freed on this thread. */
static void
lead_loop(struct run *r, size_t nworkers)
{
    struct parse_scratch ps;
    struct rd rd;
    int failed = 0;

    scratch_init(&ps);
    memset(&rd, 0, sizeof(rd));
    pthread_mutex_lock(&r->mu);
    while (!failed && !r->failed) {
        struct chunk *c = r->done[r->write_cseq % r->cap];
        size_t k;

        if (c != NULL) { /* write */
            r->done[r->write_cseq % r->cap] = NULL;
            r->write_cseq++;
            pthread_mutex_unlock(&r->mu);
            for (k = 0; k < c->n && !failed; k++) {
                failed = run_write_one(r, c->it[k]) != 0;
                /* a worker waiting for a chunk gets one now, not after
                 * the whole chunk is written */
                if (!failed && k + 1 < c->n && (k & 7) == 7) {
                    pthread_mutex_lock(&r->mu);
                    if (lead_starving(r))
                        lead_read(r, &rd);
                    pthread_mutex_unlock(&r->mu);
                }
            }
            chunk_free(c, 0);
            pthread_mutex_lock(&r->mu);
            continue;
        }
        if (r->reader_done && r->write_cseq == r->next_cseq)
            break; /* all written */
        if (!r->reader_done && run_stop_asked(r))
            r->stop = 1;
        if (!r->reader_done && r->stop) {
            r->reader_done = 1;
            pthread_cond_broadcast(&r->cv_work);
            continue;
        }
        if (!r->reader_done && r->wq_len <= nworkers &&
            r->next_cseq - r->write_cseq < r->cap) { /* read */
            lead_read(r, &rd);
            continue;
        }
        if ((c = wq_take(r, 0)) != NULL) { /* work */
            failed = lead_work(r, c, &ps, &rd) != 0;
            continue;
        }
        /* the next chunk to write is a worker's, and there is no room to
         * read: wait for it */
        r->done_waiter = 1;
        pthread_cond_wait(&r->cv_done, &r->mu);
        r->done_waiter = 0;
    }
    r->reader_done = 1; /* after a failure: the workers end */
    pthread_cond_broadcast(&r->cv_work);
    pthread_mutex_unlock(&r->mu);
    rd_close(r, &rd);
    scratch_free(&ps);
}

/* The main pass on the calling thread (run_one_thread): each item read,
 * processed and written before the next is read, with no hand-over. */
static void
main_here(struct run *r)
{
    struct parse_scratch ps;
    size_t i;
    int stopped = 0;

    memset(&ps, 0, sizeof(ps));
    sl_buf_init(&ps.copy);
    for (i = 0; i < r->nsrc && !stopped; i++) {
        struct src_slot *s = &r->src[i];
        uint64_t base_done = r->units_done, base_total = r->units_total,
                 d = 0, t = 0, n = 0;
        struct sl_err err = {0};
        void *ctx;

        if ((ctx = src_start(r, s)) == NULL)
            break;
        while (!stopped) {
            struct sl_item *it = NULL;

            if (s->ops->next(ctx, &it, &err) != SL_OK) {
                run_fail(r, &err);
                stopped = 1;
                break;
            }
            if (it == NULL)
                break;
            it->seq = r->next_seq++;
            if (process_item(r, &it, &ps) != SL_OK) /* it freed */
                stopped = 1;
            else
                stopped = run_write_one(r, it) != 0;
            scratch_flush_times(r, &ps);
            sl_item_free(it);
            if (++n % CHUNK_ITEMS == 0 && s->ops->progress) {
                s->ops->progress(ctx, &d, &t);
                r->units_done = base_done + d;
                r->units_total = base_total + t;
            }
            if (!stopped && run_stop_asked(r))
                stopped = r->stop = 1;
        }
        if (s->ops->progress)
            s->ops->progress(ctx, &d, &t);
        r->units_done = base_done + t;
        r->units_total = base_total + t;
        src_close(s, ctx);
    }
    r->reader_done = 1;
    sl_jtape_free(&ps.tape);
    if (ps.copy.data)
        sl_freezero(ps.copy.data, ps.copy.cap);
}

int
run_main(struct run *r, struct sl_err *err)
{
    pthread_t reader, *workers;
    int nworkers = r->opts->workers > 0 ? r->opts->workers : 1, i, lead,
        started = 0;
    size_t k;

    r->started = r->last_commit = r->last_progress = sl_now();
    run_progress_phase(r, "run", r->started);
    r->docs_unread = r->ntargets > 0;
    for (k = 0; k < r->ntargets; k++)
        if ((r->tgt[k].takes & SL_TAKES_FHIR) && !r->tgt[k].ops->no_document)
            r->docs_unread = 0;
    if (run_one_thread(r)) {
        main_here(r);
        notify_progress(r, "run", r->sum->in - r->in_at_start, r->started, 1);
        return SL_OK;
    }
    lead = run_sources_local(r);
    nworkers -= lead; /* the calling thread is one of them */
    workers = sl_calloc((size_t)nworkers, sizeof(*workers));
    if (!lead && pthread_create(&reader, NULL, reader_main, r) != 0) {
        free(workers);
        return SL_ERR(err, SL_EINTERNAL, "cannot start the reader thread");
    }
    for (i = 0; i < nworkers; i++)
        if (pthread_create(&workers[i], NULL, worker_main, r) == 0)
            started++;
    if (started == 0 && !lead) {
        struct sl_err e2;
        SL_ERR(&e2, SL_EINTERNAL, "cannot start worker threads");
        run_fail(r, &e2);
    }
    if (lead)
        lead_loop(r, (size_t)started);
    else
        run_writer_loop(r);
    if (!lead)
        pthread_join(reader, NULL);
    for (i = 0; i < started; i++)
        pthread_join(workers[i], NULL);
    free(workers);
    chunk_list_free(r->spent);
    r->spent = NULL;
    /* chunks left over after a failure */
    for (k = 0; k < r->cap; k++) {
        chunk_free(r->done[k], 0);
        r->done[k] = NULL;
    }
    for (k = 0; k < r->wq_len; k++)
        chunk_free(r->wq[(r->wq_head + k) % r->cap], 0);
    r->wq_len = 0;
    notify_progress(r, "run", r->sum->in - r->in_at_start, r->started, 1);
    return SL_OK;
}

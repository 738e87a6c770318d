/* writer.c - the writer of the main pass: every target that takes an
 * item, in item order, then the run's counts, the quarantine, the
 * checkpoint and the commits (on the calling thread: queue.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pipeline/pipeline_int.h"

#define COMMIT_SECONDS 2.0

static int
write_item(struct run *r, struct sl_item *it, struct sl_err *err)
{
    struct sl_type_count *tc;
    size_t i, last = SIZE_MAX;
    int rc = SL_OK, taken = 0, delivered = 0;
    double t0;

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
        t0 = sl_now();
        rc = t->ops->put(t->ctx, it, &taken, err);
        t->put_seconds += sl_now() - t0;
        if (rc == SL_EQUARANTINE || rc == SL_OK) {
            struct sl_part_count *tp = summary_part(
                &r->sum->targets, &r->sum->ntargets, t->node->id);
            if (rc == SL_EQUARANTINE) {
                tp->errors++;
            } else if (taken) {
                tp->items++;
                tp->bytes += it->out_bytes;
            }
        }
        if (rc == SL_EQUARANTINE)
            rc = SL_OK; /* the target set the reason */
        else if (rc != SL_OK)
            goto out;
        /* earlier items this target refused when it sent them now */
        if ((rc = run_take_refused(r, t, err)) != SL_OK)
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
            struct sl_part_count *sp = summary_part(
                &r->sum->sources, &r->sum->nsources, it->source);
            sp->items++;
            sp->bytes += it->in_bytes;
            if (it->kind == SL_ITEM_BAD)
                sp->errors++;
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

/* Writes one item, then commits and reports progress when it is time.
 * 0, or -1 when the run failed (run_fail was called). */
int
run_write_one(struct run *r, struct sl_item *it)
{
    struct sl_err err = {0};
    double now;

    if (write_item(r, it, &err) != SL_OK) {
        r->write_seq = it->seq + 1;
        run_fail(r, &err);
        return -1;
    }
    r->write_seq = it->seq + 1;
    r->since_commit++;
    now = sl_now();
    if (!r->opts->dry_run &&
        (r->since_commit >= (uint64_t)r->opts->commit_every ||
         (r->since_commit > 0 && now - r->last_commit >= COMMIT_SECONDS)) &&
        run_commit(r, &err) != SL_OK) {
        run_fail(r, &err);
        return -1;
    }
    if (now - r->last_progress >= run_progress_every(r))
        notify_progress(r, "run", r->sum->in - r->in_at_start, r->started, 0);
    return 0;
}

/* The writer of a run with a reader thread, on the calling thread. */
void
run_writer_loop(struct run *r)
{
    int failed = 0;

    while (!failed) {
        struct chunk *c;
        size_t k;

        pthread_mutex_lock(&r->mu);
        while ((c = r->done[r->write_cseq % r->cap]) == NULL) {
            if (r->failed ||
                (r->reader_done && r->write_cseq == r->next_cseq))
                break;
            r->done_waiter = 1;
            pthread_cond_wait(&r->cv_done, &r->mu);
            r->done_waiter = 0;
        }
        if (c == NULL || r->failed) {
            pthread_mutex_unlock(&r->mu);
            break; /* a failed run's chunks are freed by run_main */
        }
        r->done[r->write_cseq % r->cap] = NULL;
        r->write_cseq++;
        if (r->space_waiter)
            pthread_cond_signal(&r->cv_space);
        pthread_mutex_unlock(&r->mu);

        for (k = 0; k < c->n && !failed; k++)
            failed = run_write_one(r, c->it[k]) != 0;
        if (failed) {
            chunk_free(c, 0);
        } else {
            /* the reader frees it (see run.spent) */
            pthread_mutex_lock(&r->mu);
            c->next = r->spent;
            r->spent = c;
            pthread_mutex_unlock(&r->mu);
        }
    }
}


/* run_state.c - what the passes of a run share: stopping and failing,
 * progress for the observers, the chunks items travel in. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pipeline/pipeline_int.h"

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


int
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
    pthread_mutex_lock(&r->progress_mu);
    r->progress_phase = phase;
    r->progress_items = items;
    r->progress_quarantined = p.quarantined;
    r->progress_since = since;
    p.status = r->status[0] && !final ? r->status : NULL;
    for (i = 0; i < r->opts->nobservers; i++)
        if (r->opts->observers[i]->progress)
            r->opts->observers[i]->progress(r->opts->observers[i]->arg, &p);
    pthread_mutex_unlock(&r->progress_mu);
    r->last_progress = sl_now();
}

/* The phase the next progress calls are about, from its start. */
void
run_progress_phase(struct run *r, const char *phase, double since)
{
    pthread_mutex_lock(&r->progress_mu);
    r->progress_phase = phase;
    r->progress_items = 0;
    r->progress_since = since;
    pthread_mutex_unlock(&r->progress_mu);
}

/* A source's words on where it is (item.h: watch), from the reader's
 * thread: kept for the next progress calls, and shown now when they
 * changed, with what the last call said. */
void
run_source_status(void *arg, const char *text)
{
    struct run *r = arg;
    struct sl_run_progress p;
    size_t i;

    pthread_mutex_lock(&r->progress_mu);
    if (strcmp(r->status, text ? text : "") == 0) {
        pthread_mutex_unlock(&r->progress_mu);
        return;
    }
    snprintf(r->status, sizeof(r->status), "%s", text ? text : "");
    if (r->progress_phase != NULL && r->status[0]) {
        memset(&p, 0, sizeof(p));
        p.run_id = r->sum->run_id;
        p.phase = r->progress_phase;
        p.items = r->progress_items;
        p.quarantined = r->progress_quarantined;
        pthread_mutex_lock(&r->mu);
        p.units_done = r->units_done;
        p.units_total = r->units_total;
        pthread_mutex_unlock(&r->mu);
        p.elapsed = sl_now() - r->progress_since;
        p.status = r->status;
        for (i = 0; i < r->opts->nobservers; i++)
            if (r->opts->observers[i]->progress)
                r->opts->observers[i]->progress(r->opts->observers[i]->arg,
                                                &p);
    }
    pthread_mutex_unlock(&r->progress_mu);
}

double
run_progress_every(const struct run *r)
{
    return r->opts->progress_every > 0 ? r->opts->progress_every : 10.0;
}

void
chunk_free(struct chunk *c, size_t from)
{
    size_t k;

    if (c == NULL)
        return;
    for (k = from; k < c->n; k++)
        sl_item_free(c->it[k]);
    free(c);
}

void
chunk_list_free(struct chunk *c)
{
    while (c != NULL) {
        struct chunk *next = c->next;
        chunk_free(c, 0);
        c = next;
    }
}

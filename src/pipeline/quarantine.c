/* quarantine.c - a job's quarantine in the state store, and the commit
 * that makes a checkpoint, the targets' states and the quarantined items
 * durable together. (`sluice deid` has its own, a folder.) */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pipeline/pipeline_int.h"

int
quarantine_put(struct run *r, struct sl_item *it, struct sl_err *err)
{
    struct sl_qitem *q;
    int rc = SL_OK;

    if (r->spec->quarantine != NULL)
        return r->spec->quarantine->put(r->spec->quarantine->ctx, it, err);
    r->pending = sl_realloc(r->pending, (r->npending + 1) * sizeof(*r->pending));
    q = &r->pending[r->npending];
    memset(q, 0, sizeof(*q));
    q->run_id = sl_strdup(r->sum->run_id);
    q->job = sl_strdup(r->spec->id);
    q->source = sl_strdup(it->source ? it->source : "");
    q->pos = sl_strdup(it->pos ? it->pos : "");
    q->stage = sl_strdup(it->stage ? it->stage : "read");
    q->reason = sl_strdup(it->reason ? it->reason : "unknown");
    q->origin = sl_strdup(it->origin);
    if (it->kind == SL_ITEM_FHIR) {
        q->kind = sl_strdup("fhir");
        if (it->resource != NULL) {
            q->data = json_dumps(it->resource, JSON_COMPACT);
            q->data_len = q->data ? strlen(q->data) : 0;
        } else if (it->out_json != NULL) { /* a target refused it */
            q->data = sl_strndup(it->out_json, it->out_json_len);
            q->data_len = it->out_json_len;
        }
    } else if (it->kind == SL_ITEM_DICOM) {
        char *name = sl_asprintf("%llu.dcm", (unsigned long long)it->seq);
        q->kind = sl_strdup("dicom");
        q->path = sl_path_join(r->qdir, name);
        free(name);
        if ((rc = sl_mkdir_private(r->qdir, "quarantine", err)) == SL_OK &&
            (rc = sl_state_quarantine_file(r->st, it->path, q->path, err)) !=
                SL_OK)
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

int
run_take_refused(struct run *r, struct target_slot *t, struct sl_err *err)
{
    struct sl_item **v = NULL;
    size_t n = 0, i;
    int rc;

    if (t->ctx == NULL || t->ops->refused == NULL)
        return SL_OK;
    if ((rc = t->ops->refused(t->ctx, &v, &n)) != SL_OK)
        return SL_ERR(err, rc, "target %s: refused items unreadable",
                      t->node->id);
    if (n > 0) {
        struct sl_part_count *tp =
            summary_part(&r->sum->targets, &r->sum->ntargets, t->node->id);
        tp->errors += n;
        tp->items -= tp->items >= n ? n : tp->items;
    }
    for (i = 0; i < n; i++) {
        struct sl_type_count *tc = summary_type(r->sum, v[i]->rtype);
        if (r->sum->out > 0)
            r->sum->out--;
        if (tc->out > 0)
            tc->out--;
        r->sum->quarantined++;
        tc->quarantined++;
        summary_add_findings(r->sum, v[i]);
        if (rc == SL_OK)
            rc = quarantine_put(r, v[i], err);
        sl_log(SL_LOG_DEBUG, "quarantined: source %s, %s (target %s): %s",
               v[i]->source ? v[i]->source : "?",
               v[i]->pos ? v[i]->pos : "?", t->node->id,
               v[i]->reason ? v[i]->reason : "?");
        sl_item_free(v[i]);
    }
    free(v);
    return rc;
}

int
run_commit(struct run *r, struct sl_err *err)
{
    struct sl_checkpoint ck = {0};
    json_t *srcs = json_object(), *sinks = json_object();
    size_t i;
    int rc = SL_OK;

    if (r->st == NULL) { /* nothing to resume from: nothing to record */
        /* but what a target refused at finish() is still quarantined */
        for (i = 0; i < r->ntargets && rc == SL_OK; i++)
            rc = run_take_refused(r, &r->tgt[i], err);
        r->since_commit = 0;
        r->last_commit = sl_now();
        goto out;
    }
    for (i = 0; i < r->nsrc; i++)
        if (r->src[i].checkpoint)
            json_object_set_new(srcs, r->src[i].node->id,
                                json_string(r->src[i].checkpoint));
    for (i = 0; i < r->ntargets; i++) {
        struct target_slot *t = &r->tgt[i];
        char *state = NULL;
        if (t->ctx == NULL)
            continue;
        if ((rc = t->ops->checkpoint(t->ctx, &state, err)) != SL_OK)
            goto out;
        if ((rc = run_take_refused(r, t, err)) != SL_OK) {
            free(state);
            goto out;
        }
        json_object_set_new(sinks, t->node->id,
                            json_string(state ? state : ""));
        free(state);
    }
    ck.sources = json_dumps(srcs, JSON_COMPACT | JSON_SORT_KEYS);
    ck.sinks = json_dumps(sinks, JSON_COMPACT | JSON_SORT_KEYS);
    summary_fold_times(r);
    summary_sample(r->sum);
    ck.counts = summary_json(r->sum);
    ck.seq = r->write_seq - 1;
    rc = sl_state_commit(r->st, r->sum->run_id, &ck, r->pending, r->npending,
                         err);
    if (rc == SL_OK) {
        for (i = 0; i < r->ntargets; i++)
            if (r->tgt[i].ctx && r->tgt[i].ops->committed)
                r->tgt[i].ops->committed(r->tgt[i].ctx);
        for (i = 0; i < r->npending; i++)
            sl_qitem_clear(&r->pending[i]);
        r->npending = 0;
        r->since_commit = 0;
        r->last_commit = sl_now();
        run_lease_renew(r);
    }
out:
    json_decref(srcs);
    json_decref(sinks);
    free(ck.sources);
    free(ck.sinks);
    free(ck.counts);
    return rc;
}

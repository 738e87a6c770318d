/* summary.c - what a run counts: items per type and findings per stage
 * and code. The counts travel in each checkpoint, so a resumed run goes
 * on counting where the killed one stopped. */
#include "config.h"

#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "pipeline/pipeline_int.h"

struct sl_type_count *
summary_type(struct sl_run_summary *sum, const char *type)
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

static struct sl_finding_count *
finding_count(struct sl_run_summary *sum, const char *stage, const char *code,
              enum sl_severity sev)
{
    struct sl_finding_count *f;
    size_t i;

    for (i = 0; i < sum->nfindings; i++) {
        f = &sum->findings[i];
        if (f->severity == sev && strcmp(f->stage, stage) == 0 &&
            strcmp(f->code, code) == 0)
            return f;
    }
    sum->findings = sl_realloc(sum->findings, (sum->nfindings + 1) *
                                                  sizeof(*sum->findings));
    f = &sum->findings[sum->nfindings++];
    f->stage = sl_strdup(stage);
    f->code = sl_strdup(code);
    f->severity = sev;
    f->n = 0;
    return f;
}

struct sl_part_count *
summary_part(struct sl_part_count **v, size_t *n, const char *name)
{
    size_t i;

    for (i = 0; i < *n; i++)
        if (strcmp((*v)[i].name, name) == 0)
            return &(*v)[i];
    *v = sl_realloc(*v, (*n + 1) * sizeof(**v));
    memset(&(*v)[*n], 0, sizeof(**v));
    (*v)[*n].name = sl_strdup(name);
    return &(*v)[(*n)++];
}

void
summary_fold_times(struct run *r)
{
    struct sl_run_summary *sum = r->sum;
    struct sl_part_count *p;
    uint64_t ns, n;
    size_t k;

    ns = atomic_exchange(&r->parse_ns, 0);
    n = atomic_exchange(&r->parse_items, 0);
    if (n > 0) {
        p = summary_part(&sum->stages, &sum->nstages, "parse");
        p->seconds += (double)ns / 1e9;
        p->items += n;
    }
    for (k = 0; k < r->nstages; k++) {
        ns = atomic_exchange(&r->stages[k].ns, 0);
        n = atomic_exchange(&r->stages[k].items, 0);
        p = summary_part(&sum->stages, &sum->nstages, r->stages[k].ops->name);
        p->seconds += (double)ns / 1e9;
        p->items += n;
    }
    for (k = 0; k < r->ntargets; k++) {
        char name[160];
        snprintf(name, sizeof(name), "write %s", r->tgt[k].node->id);
        p = summary_part(&sum->stages, &sum->nstages, name);
        p->seconds += r->tgt[k].put_seconds;
        r->tgt[k].put_seconds = 0;
    }
    /* requests retried by each source (when closed) and target */
    for (k = 0; k < r->nsrc; k++) {
        n = atomic_exchange(&r->src[k].retries, 0);
        if (n > 0)
            summary_part(&sum->sources, &sum->nsources, r->src[k].node->id)
                ->retries += n;
    }
    for (k = 0; k < r->ntargets; k++) {
        struct target_slot *t = &r->tgt[k];
        uint64_t now;

        if (t->ctx == NULL || t->ops->retries == NULL)
            continue;
        now = t->ops->retries(t->ctx);
        if (now > t->retries_seen)
            summary_part(&sum->targets, &sum->ntargets, t->node->id)
                ->retries += now - t->retries_seen;
        t->retries_seen = now;
    }
}

struct rule_fold {
    struct sl_run_summary *sum;
    const char *stage;
};

static void
rule_add(void *arg, const char *rule, uint64_t n)
{
    struct rule_fold *f = arg;
    char *name = sl_asprintf("%s: %s", f->stage, rule);

    summary_part(&f->sum->rules, &f->sum->nrules, name)->items += n;
    free(name);
}

void
summary_fold_rules(struct run *r)
{
    size_t k;

    for (k = 0; k < r->nstages; k++) {
        struct rule_fold f = { r->sum, r->stages[k].ops->name };
        if (r->stages[k].ops->rule_counts)
            r->stages[k].ops->rule_counts(r->stages[k].ctx, rule_add, &f);
    }
}

/* {name: [items, bytes, errors, seconds, retries]} (summaries written
 * before retries were counted have four) */
static json_t *
parts_json(const struct sl_part_count *v, size_t n)
{
    json_t *o = json_object();
    size_t i;

    for (i = 0; i < n; i++)
        json_object_set_new(o, v[i].name,
                            json_pack("[IIIfI]", (json_int_t)v[i].items,
                                      (json_int_t)v[i].bytes,
                                      (json_int_t)v[i].errors,
                                      v[i].seconds,
                                      (json_int_t)v[i].retries));
    return o;
}

static void
parts_load(struct sl_part_count **v, size_t *n, const json_t *o)
{
    const char *k;
    json_t *a;

    json_object_foreach((json_t *)o, k, a) {
        struct sl_part_count *p = summary_part(v, n, k);
        p->items = (uint64_t)json_integer_value(json_array_get(a, 0));
        p->bytes = (uint64_t)json_integer_value(json_array_get(a, 1));
        p->errors = (uint64_t)json_integer_value(json_array_get(a, 2));
        p->seconds = json_number_value(json_array_get(a, 3));
        p->retries = (uint64_t)json_integer_value(json_array_get(a, 4));
    }
}

static void
parts_free(struct sl_part_count **v, size_t *n)
{
    size_t i;

    for (i = 0; i < *n; i++)
        free((*v)[i].name);
    free(*v);
    *v = NULL;
    *n = 0;
}

void
summary_add_findings(struct sl_run_summary *sum, const struct sl_item *it)
{
    size_t i;

    for (i = 0; i < it->nfindings; i++)
        finding_count(sum, it->findings[i].stage, it->findings[i].code,
                      it->findings[i].severity)
            ->n++;
}

static enum sl_severity
severity_of(const char *name)
{
    if (name && strcmp(name, "error") == 0)
        return SL_SEV_ERROR;
    if (name && strcmp(name, "warning") == 0)
        return SL_SEV_WARNING;
    return SL_SEV_INFO;
}

char *
summary_json(const struct sl_run_summary *sum)
{
    json_t *o = json_object(), *types = json_object(), *fs = json_array();
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
    for (i = 0; i < sum->nfindings; i++)
        json_array_append_new(
            fs, json_pack("{ss ss ss sI}", "stage", sum->findings[i].stage,
                          "code", sum->findings[i].code, "severity",
                          sl_severity_name(sum->findings[i].severity), "n",
                          (json_int_t)sum->findings[i].n));
    json_object_set_new(o, "findings", fs);
    json_object_set_new(o, "stages", parts_json(sum->stages, sum->nstages));
    json_object_set_new(o, "sources", parts_json(sum->sources, sum->nsources));
    json_object_set_new(o, "targets", parts_json(sum->targets, sum->ntargets));
    json_object_set_new(o, "rules", parts_json(sum->rules, sum->nrules));
    {
        json_t *tl = json_array();
        for (i = 0; i < sum->ntimeline; i++)
            json_array_append_new(
                tl, json_pack("[fI]", round(sum->timeline[i].t * 1000) / 1000,
                              (json_int_t)sum->timeline[i].n));
        json_object_set_new(o, "timeline", tl);
    }
    s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

void
summary_load(struct sl_run_summary *sum, const char *text)
{
    json_t *o = text ? json_loads(text, 0, NULL) : NULL, *v;
    const char *k;
    size_t i;

    if (o == NULL)
        return;
    sum->in = (uint64_t)json_integer_value(json_object_get(o, "in"));
    sum->out = (uint64_t)json_integer_value(json_object_get(o, "out"));
    sum->quarantined =
        (uint64_t)json_integer_value(json_object_get(o, "quarantined"));
    sum->skipped = (uint64_t)json_integer_value(json_object_get(o, "skipped"));
    json_object_foreach(json_object_get(o, "types"), k, v)
    {
        struct sl_type_count *tc = summary_type(sum, k);
        tc->in = (uint64_t)json_integer_value(json_array_get(v, 0));
        tc->out = (uint64_t)json_integer_value(json_array_get(v, 1));
        tc->quarantined = (uint64_t)json_integer_value(json_array_get(v, 2));
    }
    json_array_foreach(json_object_get(o, "findings"), i, v)
    {
        const char *st = json_string_value(json_object_get(v, "stage"));
        const char *code = json_string_value(json_object_get(v, "code"));
        const char *sev = json_string_value(json_object_get(v, "severity"));
        if (st && code)
            finding_count(sum, st, code, severity_of(sev))->n =
                (uint64_t)json_integer_value(json_object_get(v, "n"));
    }
    parts_load(&sum->stages, &sum->nstages, json_object_get(o, "stages"));
    parts_load(&sum->sources, &sum->nsources, json_object_get(o, "sources"));
    parts_load(&sum->targets, &sum->ntargets, json_object_get(o, "targets"));
    parts_load(&sum->rules, &sum->nrules, json_object_get(o, "rules"));
    free(sum->timeline);
    sum->timeline = NULL;
    sum->ntimeline = 0;
    json_array_foreach(json_object_get(o, "timeline"), i, v)
    {
        sum->timeline = sl_realloc(sum->timeline,
                                   (sum->ntimeline + 1) *
                                       sizeof(*sum->timeline));
        sum->timeline[sum->ntimeline].t =
            json_number_value(json_array_get(v, 0));
        sum->timeline[sum->ntimeline].n =
            (uint64_t)json_integer_value(json_array_get(v, 1));
        sum->ntimeline++;
    }
    json_decref(o);
}

void
summary_sample(struct sl_run_summary *sum)
{
    struct timespec ts;
    size_t i, j;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (sum->ntimeline >= SL_TIMELINE_MAX) {
        /* every other point goes, the first and the last stay */
        for (i = 1, j = 1; i + 1 < sum->ntimeline; i += 2)
            sum->timeline[j++] = sum->timeline[i];
        sum->timeline[j++] = sum->timeline[sum->ntimeline - 1];
        sum->ntimeline = j;
    }
    sum->timeline = sl_realloc(sum->timeline, (sum->ntimeline + 1) *
                                                  sizeof(*sum->timeline));
    sum->timeline[sum->ntimeline].t =
        (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    sum->timeline[sum->ntimeline].n = sum->out + sum->quarantined;
    sum->ntimeline++;
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
    for (i = 0; i < sum->nfindings; i++) {
        free(sum->findings[i].stage);
        free(sum->findings[i].code);
    }
    free(sum->findings);
    sum->findings = NULL;
    sum->nfindings = 0;
    parts_free(&sum->stages, &sum->nstages);
    parts_free(&sum->sources, &sum->nsources);
    parts_free(&sum->targets, &sum->ntargets);
    free(sum->timeline);
    sum->timeline = NULL;
    sum->ntimeline = 0;
    parts_free(&sum->rules, &sum->nrules);
}

/* fhir.c - the FHIR R4 de-identification engine (see fhir.h): compiles the
 * <fhir> rules of a profile chain, learns patients in pass 1 and rewrites
 * resources in pass 2, guided by the R4 type table (src/fhir/fhir.h).
 *
 * How an element is judged. Every element of a resource has a canonical
 * path ("Observation.value[x].value"), a path inside its data type when it
 * is inside one ("Quantity.value") and a type ("decimal"). The rule that
 * applies is, from the most to the least specific: an extension rule whose
 * URL is the extension's; a path rule on the resource path; a path rule
 * on the data type path; a type rule. A rule with a condition (system,
 * type-code) that holds beats one without; between equals, the later one
 * (later document of the chain, later in the document) wins. With no rule,
 * the element inherits its parent's default: "keep" keeps what has no rule
 * below it, "descend" removes it. A resource starts as "descend". Elements
 * that FHIR R4 does not define are always removed (an allow-list). An
 * extension never inherits "keep" (only the parts of a complex extension
 * do), and a modifier extension that does not stay quarantines the
 * resource (fhir_walk.c).
 *
 * The engine is in several files, listed in fhir_int.h; this one holds
 * the Provenance and --explain. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deid/fhir_int.h"

/* ---- provenance ---- */

json_t *
sl_fhir_deid_provenance(const struct sl_fhir_deid *d, const json_t *target,
                        const char *recorded)
{
    json_t *prov, *targets = json_array(), *policy = json_array();
    size_t i;

    for (i = 0; i < json_array_size(target); i++) {
        const char *ref = json_string_value(json_array_get(target, i));
        if (ref)
            json_array_append_new(targets,
                                  json_pack("{s:s}", "reference", ref));
    }
    if (json_array_size(targets) == 0) {
        json_decref(targets);
        json_decref(policy);
        return NULL;
    }
    for (i = 0; i < d->doc_names.n; i++) {
        /* "basic 1" -> urn:sluice:deid:profile:basic:1 */
        char *u = sl_asprintf("urn:sluice:deid:profile:%s", d->doc_names.v[i]);
        char *sp = strchr(u + 24, ' ');
        if (sp)
            *sp = ':';
        json_array_append_new(policy, json_string(u));
        free(u);
    }
    /* json_pack "o" steals targets and policy */
    prov = json_pack(
        "{s:s, s:o, s:s, s:o, s:{s:s}, s:[{s:{s:[{s:s, s:s}]}, s:{s:s}}]}",
        "resourceType", "Provenance", "target", targets, "recorded", recorded,
        "policy", policy, "activity", "text",
        "de-identification (sluice profile chain)", "agent", "type", "coding",
        "system",
        "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
        "code", "assembler", "who", "display", "sluice " PACKAGE_VERSION);
    return prov;
}

/* ---- explain ---- */

void
sl_fhir_deid_set_explain(struct sl_fhir_deid *d, int on)
{
    d->no_counts = !on;
}

static int
count_cmp(const void *a, const void *b)
{
    return strcmp(((const struct fd_count *)a)->path,
                  ((const struct fd_count *)b)->path);
}

void
sl_fhir_deid_rule_counts(const struct sl_fhir_deid *d,
                         void (*fn)(void *arg, const char *rule, uint64_t n),
                         void *arg)
{
    struct sl_fhir_deid *m = (struct sl_fhir_deid *)d; /* for the lock */
    size_t i, j;

    pthread_mutex_lock(&m->lock);
    for (i = 0; i < d->nrules + 2; i++) {
        const struct fd_rule *r = &m->rules[i];
        uint64_t n = 0;
        char label[200];
        for (j = 0; j < FD_HIT_SHARDS; j++)
            n += atomic_load(&d->hits[j * d->hits_row + i]);
        for (j = 0; j < r->ncounts; j++)
            n += (uint64_t)r->counts[j].n;
        if (n == 0)
            continue;
        snprintf(label, sizeof(label), "%s (%s)", r->id,
                 fhir_method_names[r->method]);
        fn(arg, label, n);
    }
    pthread_mutex_unlock(&m->lock);
}

void
sl_fhir_deid_explain(const struct sl_fhir_deid *d, FILE *f)
{
    struct sl_fhir_deid *m = (struct sl_fhir_deid *)d; /* for the lock */
    size_t i, j;

    pthread_mutex_lock(&m->lock);
    fprintf(f, "FHIR profile chain: %s\n",
            d->chain_desc ? d->chain_desc : "(none)");
    fprintf(f, "security label: %s; date shift %d to %d days back\n",
            d->security_code, d->shift_min, d->shift_max);
    for (i = 0; i < d->nrules + 2; i++) {
        struct fd_rule *r = &m->rules[i];
        const char *from = r->doc >= 0 && (size_t)r->doc < d->doc_names.n
                               ? d->doc_names.v[r->doc]
                               : "built in";
        if (r->ncounts == 0)
            continue;
        qsort(r->counts, r->ncounts, sizeof(*r->counts), count_cmp);
        fprintf(f, "rule %s (%s, %s):\n", r->id, fhir_method_names[r->method],
                from);
        for (j = 0; j < r->ncounts; j++)
            fprintf(f, "  %s %ld\n", r->counts[j].path, r->counts[j].n);
    }
    pthread_mutex_unlock(&m->lock);
}

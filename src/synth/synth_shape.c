/* synth_shape.c - the shapes of real exports (issue 10): one patient's
 * Bundle, as synth_fhir.c builds it (Type/id references, fullUrls on
 * https://ehr.example.org/fhir), rewritten as a Synthea-like transaction,
 * as an EHR's collection with its own base and mixed reference forms, as
 * Bulk Data NDJSON, or with clinical resources that name their patient
 * only through the Encounter. The rewrite draws no random numbers, so
 * every shape has the same patients, values and DICOM studies. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "synth/synth_int.h"

static const struct {
    const char *name;
    enum sl_synth_shape shape;
} shapes[] = {
    { "default", SL_SYNTH_SHAPE_DEFAULT },
    { "transaction", SL_SYNTH_SHAPE_TRANSACTION },
    { "collection", SL_SYNTH_SHAPE_COLLECTION },
    { "bulk", SL_SYNTH_SHAPE_BULK },
    { "encounter-only", SL_SYNTH_SHAPE_ENCOUNTER },
};

int
sl_synth_shape_parse(const char *name, enum sl_synth_shape *out)
{
    size_t i;

    for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
        if (strcmp(name, shapes[i].name) == 0) {
            *out = shapes[i].shape;
            return SL_OK;
        }
    return SL_EUSAGE;
}

/* Every Reference.reference under v, in document order, handed to fn with
 * a counter of the references seen so far. */
static void
refs_each(json_t *v, void (*fn)(json_t *ref, long n, const void *ctx),
          const void *ctx, long *n)
{
    const char *k;
    json_t *x;
    size_t i;

    if (json_is_array(v)) {
        json_array_foreach(v, i, x)
        {
            refs_each(x, fn, ctx, n);
        }
        return;
    }
    if (!json_is_object(v))
        return;
    json_object_foreach(v, k, x)
    {
        if (strcmp(k, "reference") == 0 && json_is_string(x))
            fn(v, (*n)++, ctx);
        else
            refs_each(x, fn, ctx, n);
    }
}

/* "Type/id" -> "urn:uuid:id": the ids synth makes are UUIDs. */
static void
ref_to_urn(json_t *ref, long n, const void *ctx)
{
    const char *s = json_string_value(json_object_get(ref, "reference"));
    const char *slash = strchr(s, '/');

    (void)n;
    (void)ctx;
    if (slash != NULL)
        json_object_set_new(ref, "reference",
                            json_sprintf("urn:uuid:%s", slash + 1));
}

/* Every other reference absolute on the hospital's base: "Type/id" and
 * "https://ehr.example-hospital.org/fhir/Type/id" in turn, as EHR exports
 * mix them. */
static void
ref_mixed(json_t *ref, long n, const void *ctx)
{
    const char *s = json_string_value(json_object_get(ref, "reference"));

    (void)ctx;
    if (n % 2 == 0)
        json_object_set_new(ref, "reference",
                            json_sprintf("%s/%s", SL_SYNTH_HOSPITAL_BASE, s));
}

void
synth_shape_bundle(json_t *bundle, enum sl_synth_shape shape)
{
    json_t *entries = json_object_get(bundle, "entry"), *e;
    long n = 0;
    size_t i;

    switch (shape) {
    case SL_SYNTH_SHAPE_DEFAULT:
    case SL_SYNTH_SHAPE_BULK:
        return;
    case SL_SYNTH_SHAPE_TRANSACTION:
        json_object_set_new(bundle, "type", json_string("transaction"));
        json_array_foreach(entries, i, e)
        {
            json_t *res = json_object_get(e, "resource");
            const char *rt =
                json_string_value(json_object_get(res, "resourceType"));
            json_object_set_new(
                e, "fullUrl",
                json_sprintf("urn:uuid:%s",
                             json_string_value(json_object_get(res, "id"))));
            json_object_del(res, "id");
            /* json_pack steals nothing here: all strings */
            json_object_set_new(
                e, "request",
                json_pack("{s:s, s:s}", "method", "POST", "url", rt));
        }
        refs_each(entries, ref_to_urn, NULL, &n);
        return;
    case SL_SYNTH_SHAPE_COLLECTION:
        json_array_foreach(entries, i, e)
        {
            json_t *res = json_object_get(e, "resource");
            json_object_set_new(
                e, "fullUrl",
                json_sprintf(
                    "%s/%s/%s", SL_SYNTH_HOSPITAL_BASE,
                    json_string_value(json_object_get(res, "resourceType")),
                    json_string_value(json_object_get(res, "id"))));
        }
        refs_each(entries, ref_mixed, NULL, &n);
        return;
    case SL_SYNTH_SHAPE_ENCOUNTER:
        json_array_foreach(entries, i, e)
        {
            json_t *res = json_object_get(e, "resource");
            const char *rt =
                json_string_value(json_object_get(res, "resourceType"));
            /* subject is optional (0..1) in both: the Encounter is then
             * the only way to the patient */
            if (strcmp(rt, "Observation") == 0 ||
                strcmp(rt, "DiagnosticReport") == 0)
                json_object_del(res, "subject");
        }
        return;
    }
}

/* ---- the bulk shape: one NDJSON file per resource type ---------------- */

void
synth_bulk_init(struct synth_bulk *b, const char *fhir_dir)
{
    memset(b, 0, sizeof(*b));
    b->dir = fhir_dir;
}

int
synth_bulk_add(struct synth_bulk *b, const json_t *bundle, struct sl_err *err)
{
    const json_t *entries = json_object_get(bundle, "entry"), *e;
    size_t i, k;

    json_array_foreach(entries, i, e)
    {
        const json_t *res = json_object_get(e, "resource");
        const char *rt =
            json_string_value(json_object_get(res, "resourceType"));
        FILE *f = NULL;

        for (k = 0; k < b->n; k++)
            if (strcmp(b->names[k], rt) == 0)
                f = b->files[k];
        if (f == NULL) {
            char name[80];
            char *path;
            if (b->n == SYNTH_BULK_MAX)
                return SL_ERR(err, SL_EINTERNAL, "synth: too many types");
            snprintf(name, sizeof(name), "%s.ndjson", rt);
            path = sl_path_join(b->dir, name);
            f = fopen(path, "w");
            free(path);
            if (f == NULL)
                return SL_ERR(err, SL_EIO, "%s: cannot create: %s", name,
                              strerror(errno));
            b->names[b->n] = sl_strdup(rt);
            b->files[b->n++] = f;
        }
        if (json_dumpf(res, f, JSON_COMPACT | JSON_REAL_PRECISION(10)) != 0 ||
            fputc('\n', f) == EOF)
            return SL_ERR(err, SL_EIO, "%s.ndjson: write failed", rt);
    }
    return SL_OK;
}

int
synth_bulk_close(struct synth_bulk *b, struct sl_err *err)
{
    size_t k;
    int rc = SL_OK;

    for (k = 0; k < b->n; k++) {
        if (fclose(b->files[k]) != 0 && rc == SL_OK && err != NULL)
            rc = SL_ERR(err, SL_EIO, "%s.ndjson: write failed: %s", b->names[k],
                        strerror(errno));
        free(b->names[k]);
    }
    b->n = 0;
    return rc;
}

/* timeline_read.c - the inputs of `sluice timeline` read into events:
 * FHIR resources one event each, DICOM files gathered into one event per
 * series. Messages name inputs and files by number, never by path or
 * content. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include "cli/timeline.h"
#include "dicom/dicom.h"
#include "sources/gz_lines.h"

#define DCM "http://dicom.nema.org/resources/ontology/DCM"

struct tl_series {
    char *patient, *series, *modality, *time;
    unsigned long n;
};

static const char *
str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static const json_t *
coding0(const json_t *cc)
{
    return json_array_get(json_object_get(cc, "coding"), 0);
}

/* The Patient id a resource is about ("Patient/ID"), or NULL. */
static const char *
patient_of(const json_t *res)
{
    const char *ref = str(json_object_get(res, "subject"), "reference");

    if (ref == NULL)
        ref = str(json_object_get(res, "patient"), "reference");
    if (ref == NULL || strncmp(ref, "Patient/", 8) != 0 || ref[8] == '\0')
        return NULL;
    return ref + 8;
}

/* The first of the element paths ("a" or "a.b") that holds a string. */
static const char *
first_str(const json_t *res, const char *const *paths)
{
    for (; *paths; paths++) {
        const char *dot = strchr(*paths, '.');
        const char *v;
        if (dot) {
            char key[64];
            snprintf(key, sizeof(key), "%.*s", (int)(dot - *paths), *paths);
            v = str(json_object_get(res, key), dot + 1);
        } else {
            v = str(res, *paths);
        }
        if (v)
            return v;
    }
    return NULL;
}

struct kind {
    const char *type;
    const char *code; /* the CodeableConcept of the event */
    const char *time[5];
};

static const struct kind kinds[] = {
    {"Encounter", "type", {"period.start", NULL}},
    {"Observation", "code",
     {"effectiveDateTime", "effectivePeriod.start", "effectiveInstant",
      "issued", NULL}},
    {"Condition", "code",
     {"onsetDateTime", "onsetPeriod.start", "recordedDate", NULL}},
    {"Procedure", "code", {"performedDateTime", "performedPeriod.start", NULL}},
    {"MedicationRequest", "medicationCodeableConcept", {"authoredOn", NULL}},
    {"MedicationAdministration", "medicationCodeableConcept",
     {"effectiveDateTime", "effectivePeriod.start", NULL}},
    {"MedicationStatement", "medicationCodeableConcept",
     {"effectiveDateTime", "effectivePeriod.start", "dateAsserted", NULL}},
    {"DiagnosticReport", "code",
     {"effectiveDateTime", "effectivePeriod.start", "issued", NULL}},
    {"ImagingStudy", NULL, {"started", NULL}},
    {"Immunization", "vaccineCode", {"occurrenceDateTime", "recorded", NULL}},
    {"AllergyIntolerance", "code",
     {"onsetDateTime", "recordedDate", NULL}},
};

static int
id_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The Patient id whose identifier is v (ids sorted), or NULL. */
static const char *
id_of(const struct tl *t, const char *v)
{
    size_t lo = 0, hi = t->ids.n, n = strlen(v);

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *x = t->ids.v[mid];
        int c = strncmp(x, v, n);
        if (c == 0 && x[n] != '\t')
            c = x[n] < '\t' ? -1 : 1;
        if (c == 0)
            return x + n + 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int
resource(struct tl *t, const json_t *res)
{
    const char *rt = str(res, "resourceType"), *pid, *time;
    const json_t *c = NULL, *e, *v;
    char value[64] = "";
    const char *unit = NULL;
    const struct kind *k = NULL;
    size_t i;

    if (rt == NULL)
        return SL_OK;
    if (strcmp(rt, "Bundle") == 0) {
        json_array_foreach(json_object_get(res, "entry"), i, e)
        {
            int rc = resource(t, json_object_get(e, "resource"));
            if (rc != SL_OK)
                return rc;
        }
        return SL_OK;
    }
    if (strcmp(rt, "Patient") == 0) {
        const char *id = str(res, "id");
        json_array_foreach(json_object_get(res, "identifier"), i, e)
            if (id && str(e, "value") && !strchr(str(e, "value"), '\t'))
                sl_strv_push_owned(&t->ids, sl_asprintf("%s\t%s",
                                                        str(e, "value"), id));
        return SL_OK;
    }
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].type, rt) == 0)
            k = &kinds[i];
    if (k == NULL || (pid = patient_of(res)) == NULL ||
        (time = first_str(res, k->time)) == NULL)
        return SL_OK;
    if (k->code != NULL) {
        const json_t *cc = json_object_get(res, k->code);
        c = json_is_array(cc) ? coding0(json_array_get(cc, 0)) : coding0(cc);
    }
    if (c == NULL && strcmp(rt, "Encounter") == 0)
        c = json_object_get(res, "class"); /* a Coding */
    if (strcmp(rt, "ImagingStudy") == 0) {
        c = json_array_get(json_object_get(res, "modality"), 0);
        if (json_is_integer(json_object_get(res, "numberOfInstances"))) {
            snprintf(value, sizeof(value), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(
                         json_object_get(res, "numberOfInstances")));
            unit = "instances";
        }
    } else if ((v = json_object_get(res, "valueQuantity")) != NULL) {
        const json_t *x = json_object_get(v, "value");
        if (json_is_integer(x))
            snprintf(value, sizeof(value), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(x));
        else if (json_is_real(x))
            snprintf(value, sizeof(value), "%.15g", json_real_value(x));
        unit = str(v, "code") ? str(v, "code") : str(v, "unit");
    } else if ((v = json_object_get(res, "valueCodeableConcept")) != NULL) {
        if (str(coding0(v), "code"))
            snprintf(value, sizeof(value), "%s", str(coding0(v), "code"));
    } else if (json_is_boolean(json_object_get(res, "valueBoolean"))) {
        snprintf(value, sizeof(value), "%s",
                 json_is_true(json_object_get(res, "valueBoolean")) ? "true"
                                                                     : "false");
    } else if (json_is_integer(json_object_get(res, "valueInteger"))) {
        snprintf(value, sizeof(value), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(res, "valueInteger")));
    }
    return tl_event(t, pid, time, "fhir", rt, str(c, "system"),
                    str(c, "code"), str(c, "display"), value, unit);
}

static int
is_fhir_name(const char *p)
{
    return sl_str_has_suffix(p, ".json") || sl_str_has_suffix(p, ".json.gz") ||
           sl_str_has_suffix(p, ".ndjson") ||
           sl_str_has_suffix(p, ".ndjson.gz");
}

static void
skipped(struct tl *t, int input, size_t file, long line, const char *why)
{
    if (line > 0)
        fprintf(stderr, "sluice timeline: input %d, file %zu, line %ld: %s; "
                        "skipped\n", input, file, line, why);
    else
        fprintf(stderr, "sluice timeline: input %d, file %zu: %s; skipped\n",
                input, file, why);
    t->skipped++;
}

static int
fhir_file(struct tl *t, const char *path, int input, size_t file)
{
    gzFile gz = gzopen(path, "rb");
    struct sl_gz_lines *r;
    struct sl_buf line;
    int rc = SL_OK, got;
    long n = 0;

    if (gz == NULL) {
        skipped(t, input, file, 0, "cannot be opened");
        return SL_OK;
    }
    r = sl_malloc(sizeof(*r));
    sl_gz_lines_reset(r);
    sl_buf_init(&line);
    if (sl_str_has_suffix(path, ".ndjson") ||
        sl_str_has_suffix(path, ".ndjson.gz")) {
        while (rc == SL_OK && (got = sl_gz_lines_next(gz, r, &line)) == 1) {
            json_t *j;
            n++;
            if (strspn(line.data, " \t\r\n") == line.len)
                continue;
            if ((j = json_loadb(line.data, line.len, 0, NULL)) == NULL) {
                skipped(t, input, file, n, "not JSON");
                continue;
            }
            rc = resource(t, j);
            json_decref(j);
        }
        if (rc == SL_OK && got < 0)
            skipped(t, input, file, n + 1, "read error or truncated");
    } else {
        struct sl_buf all;
        json_t *j;
        sl_buf_init(&all);
        while ((got = sl_gz_lines_next(gz, r, &line)) == 1)
            sl_buf_add(&all, line.data, line.len);
        if (got < 0 ||
            (j = json_loadb(all.data ? all.data : "", all.len, 0, NULL)) ==
                NULL) {
            skipped(t, input, file, 0, "not JSON");
        } else {
            rc = resource(t, j);
            json_decref(j);
        }
        sl_buf_free(&all);
    }
    sl_buf_free(&line);
    free(r);
    gzclose(gz);
    return rc;
}

static char *
dget(struct sl_dicom_file *f, uint16_t g, uint16_t e)
{
    char *v = NULL;

    if (sl_dicom_file_get(f, g, e, &v) != SL_OK || (v && *v == '\0')) {
        free(v);
        return NULL;
    }
    return v;
}

/* DICOM DA + TM (+ offset "+HHMM") as an ISO dateTime, or NULL. */
static char *
dicom_time(const char *da, const char *tm, const char *tz)
{
    struct sl_buf b;
    size_t n;

    if (da == NULL || strlen(da) != 8)
        return NULL;
    sl_buf_init(&b);
    sl_buf_addf(&b, "%.4s-%.2s-%.2s", da, da + 4, da + 6);
    if (tm != NULL && (n = strcspn(tm, " ")) >= 2) {
        sl_buf_addf(&b, "T%.2s:%.2s", tm, n >= 4 ? tm + 2 : "00");
        if (n >= 6) {
            sl_buf_addf(&b, ":%.2s", tm + 4);
            if (n > 7 && tm[6] == '.')
                sl_buf_addf(&b, ".%.*s", (int)(n - 7), tm + 7);
        }
        if (tz != NULL && strlen(tz) == 5 && (tz[0] == '+' || tz[0] == '-')) {
            if (n < 6)
                sl_buf_adds(&b, ":00");
            sl_buf_addf(&b, "%c%.2s:%.2s", tz[0], tz + 1, tz + 3);
        }
    }
    return sl_buf_steal(&b);
}

static void
dicom_file(struct tl *t, const char *path, int input, size_t file)
{
    struct sl_dicom_file *f = NULL;
    struct sl_err err = {0};
    char *pid, *series, *mod, *da, *tm, *tz;
    size_t i;
    int is = 0;

    if (sl_dicom_file_probe(path, &is, &err) != SL_OK || !is) {
        skipped(t, input, file, 0, "neither FHIR (by its name) nor DICOM");
        return;
    }
    if (sl_dicom_file_open(path, &f, NULL, &err) != SL_OK) {
        skipped(t, input, file, 0, "not a readable DICOM file");
        return;
    }
    pid = dget(f, 0x0010, 0x0020);
    series = dget(f, 0x0020, 0x000E);
    mod = dget(f, 0x0008, 0x0060);
    da = dget(f, 0x0008, 0x0021);
    tm = da ? dget(f, 0x0008, 0x0031) : NULL;
    if (da == NULL) {
        da = dget(f, 0x0008, 0x0020);
        tm = dget(f, 0x0008, 0x0030);
    }
    tz = dget(f, 0x0008, 0x0201);
    sl_dicom_file_free(f);
    if (pid != NULL && series != NULL) {
        /* the last series first: the files of a series come together */
        for (i = t->nseries; i > 0; i--)
            if (strcmp(t->series[i - 1].series, series) == 0)
                break;
        if (i > 0) {
            t->series[i - 1].n++;
        } else {
            struct tl_series *s;
            if (t->nseries == t->capseries) {
                t->capseries = t->capseries ? 2 * t->capseries : 64;
                t->series = sl_realloc(t->series,
                                       t->capseries * sizeof(*t->series));
            }
            s = &t->series[t->nseries++];
            s->patient = pid;
            s->series = series;
            s->modality = mod;
            s->time = dicom_time(da, tm, tz);
            s->n = 1;
            pid = series = mod = NULL;
        }
    }
    free(pid);
    free(series);
    free(mod);
    free(da);
    free(tm);
    free(tz);
}

int
tl_read_inputs(struct tl *t, const char *const *inputs, int n,
               struct sl_err *err)
{
    int pass, i, rc = SL_OK;
    size_t k;

    for (pass = 0; pass < 2 && rc == SL_OK; pass++) {
        for (i = 0; i < n && rc == SL_OK; i++) {
            struct sl_strv files = {0};
            if (sl_path_is_dir(inputs[i])) {
                if ((rc = sl_dir_walk_links(inputs[i], 0, &files, err)) !=
                    SL_OK) {
                    sl_err_prefix(err, "input %d", i + 1);
                    break;
                }
                for (k = 0; k < files.n; k++) {
                    char *p = sl_path_join(inputs[i], files.v[k]);
                    free(files.v[k]);
                    files.v[k] = p;
                }
            } else {
                sl_strv_push(&files, inputs[i]);
            }
            for (k = 0; k < files.n && rc == SL_OK; k++) {
                const char *p = files.v[k];
                if (sl_is_symlink(p)) {
                    if (pass == 0)
                        skipped(t, i + 1, k + 1, 0, "a symbolic link, not "
                                "followed");
                    continue;
                }
                if (pass == 0 && is_fhir_name(p))
                    rc = fhir_file(t, p, i + 1, k + 1);
                else if (pass == 1 && !is_fhir_name(p))
                    dicom_file(t, p, i + 1, k + 1);
            }
            sl_strv_free(&files);
        }
        if (pass == 0 && t->ids.n > 1)
            qsort(t->ids.v, t->ids.n, sizeof(*t->ids.v), id_cmp);
    }
    return rc;
}

int
tl_dicom_flush(struct tl *t)
{
    char count[32];
    size_t i;
    int rc = SL_OK;

    for (i = 0; i < t->nseries && rc == SL_OK; i++) {
        const struct tl_series *s = &t->series[i];
        const char *id = id_of(t, s->patient);
        snprintf(count, sizeof(count), "%lu", s->n);
        rc = tl_event(t, id ? id : s->patient, s->time, "dicom",
                      s->modality ? s->modality : "", DCM, s->modality, NULL,
                      count, "instances");
    }
    if (t->patient != NULL && id_of(t, t->patient) != NULL)
        t->want_id = sl_strdup(id_of(t, t->patient));
    return rc;
}

int
tl_patient_wanted(const struct tl *t, const char *p, size_t n)
{
    return (strlen(t->patient) == n && memcmp(t->patient, p, n) == 0) ||
           (t->want_id && strlen(t->want_id) == n &&
            memcmp(t->want_id, p, n) == 0);
}

void
tl_free(struct tl *t)
{
    size_t i;

    for (i = 0; i < t->nseries; i++) {
        free(t->series[i].patient);
        free(t->series[i].series);
        free(t->series[i].modality);
        free(t->series[i].time);
    }
    free(t->series);
    sl_strv_free(&t->lines);
    sl_strv_free(&t->ids);
    free(t->want_id);
    free(t->tmpdir);
}

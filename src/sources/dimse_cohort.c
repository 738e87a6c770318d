/* dimse_cohort.c - a cohort's studies named by FHIR ImagingStudy
 * resources, for the dimse source's `studies` attribute: an NDJSON file
 * (plain or gzip), such as the ImagingStudy.ndjson a fhir-rest or
 * fhir-bulk pull of the same cohort wrote. Each ImagingStudy gives its
 * Study Instance UID (an identifier of system urn:dicom:uid, "urn:oid:"
 * stripped; or STU3's `uid`) or, without one, its accession number (an
 * identifier whose type is v2-0203 ACSN). Other resource types are
 * skipped. A line that is not JSON, or an ImagingStudy with neither, is
 * reported by its line number (never a value), for the quarantine.
 * Read line by line: the file is never held whole. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include "sources/dimse_cohort.h"
#include "sources/gz_lines.h"

void
dimse_cohort_free(struct dimse_cohort *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->keys.n; i++)
        explicit_bzero(c->keys.v[i], strlen(c->keys.v[i]));
    sl_strv_free(&c->keys);
    sl_strv_free(&c->problems);
    memset(c, 0, sizeof(*c));
}

/* The value of the first identifier of ImagingStudy r that fn accepts. */
static const char *
identifier(json_t *r, int (*fn)(json_t *id))
{
    json_t *ids = json_object_get(r, "identifier"), *id;
    size_t i;

    json_array_foreach(ids, i, id)
    {
        const char *v = json_string_value(json_object_get(id, "value"));
        if (v != NULL && *v != '\0' && fn(id))
            return v;
    }
    return NULL;
}

static int
is_uid(json_t *id)
{
    const char *s = json_string_value(json_object_get(id, "system"));

    return s != NULL && strcmp(s, "urn:dicom:uid") == 0;
}

static int
is_accession(json_t *id)
{
    json_t *codings = json_object_get(json_object_get(id, "type"), "coding");
    json_t *c;
    size_t i;

    json_array_foreach(codings, i, c)
    {
        const char *code = json_string_value(json_object_get(c, "code"));
        if (code != NULL && strcmp(code, "ACSN") == 0)
            return 1;
    }
    return 0;
}

/* A DICOM UID: digits and dots, 1 to 64 characters. */
static int
valid_uid(const char *u)
{
    size_t n = strlen(u);

    return n > 0 && n <= 64 && strspn(u, "0123456789.") == n;
}

/* The identifier of Patient r that names the patient on the PACS: the
 * one of system c->patient_system, or else of type v2-0203 MR. */
static const char *
patient_id(const struct dimse_cohort *c, json_t *r)
{
    json_t *ids = json_object_get(r, "identifier"), *id;
    size_t i;

    json_array_foreach(ids, i, id)
    {
        const char *v = json_string_value(json_object_get(id, "value"));
        const char *sys = json_string_value(json_object_get(id, "system"));
        json_t *codings, *cd;
        size_t j;

        if (v == NULL || *v == '\0')
            continue;
        if (c->patient_system != NULL) {
            if (sys != NULL && strcmp(sys, c->patient_system) == 0)
                return v;
            continue;
        }
        codings = json_object_get(json_object_get(id, "type"), "coding");
        json_array_foreach(codings, j, cd)
        {
            const char *code = json_string_value(json_object_get(cd, "code"));
            if (code != NULL && strcmp(code, "MR") == 0)
                return v;
        }
    }
    return NULL;
}

/* A DICOM LO value: at most 64 characters, no backslash or control
 * character. */
static int
valid_lo(const char *v)
{
    size_t n = strlen(v), i;

    if (n == 0 || n > 64)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == '\\')
            return 0;
    return 1;
}

static int
patient_resource(struct dimse_cohort *c, json_t *r, const char *where)
{
    const char *v = patient_id(c, r);

    if (v == NULL || !valid_lo(v)) {
        if (c->patient_system != NULL)
            sl_strv_push_owned(
                &c->problems,
                sl_asprintf("%s: Patient without an identifier of system "
                            "%s (patient-id-system) usable as a DICOM "
                            "PatientID", where, c->patient_system));
        else
            sl_strv_push_owned(
                &c->problems,
                sl_asprintf("%s: Patient without an identifier of type MR "
                            "(v2-0203) usable as a DICOM PatientID", where));
        return 0;
    }
    sl_strv_push_owned(&c->keys, sl_asprintf("P%s", v));
    return 1;
}

int
dimse_cohort_resource(struct dimse_cohort *c, json_t *r, const char *where)
{
    const char *type, *uid, *acc;
    char *key;

    type = json_string_value(json_object_get(r, "resourceType"));
    if (c->patients) {
        if (type != NULL && strcmp(type, "Patient") == 0)
            return patient_resource(c, r, where);
        c->other++;
        return 0;
    }
    if (type == NULL || strcmp(type, "ImagingStudy") != 0) {
        c->other++;
        return 0;
    }
    uid = identifier(r, is_uid);
    if (uid == NULL)
        uid = json_string_value(json_object_get(r, "uid")); /* STU3 */
    if (uid != NULL && strncmp(uid, "urn:oid:", 8) == 0)
        uid += 8;
    acc = identifier(r, is_accession);
    if (uid != NULL && valid_uid(uid)) {
        key = sl_asprintf("U%s", uid);
    } else if (acc != NULL && strlen(acc) <= 16) {
        key = sl_asprintf("A%s", acc);
    } else {
        sl_strv_push_owned(
            &c->problems,
            sl_asprintf("%s: ImagingStudy without a "
                        "Study Instance UID (identifier system "
                        "urn:dicom:uid) or an accession number (identifier "
                        "type ACSN, at most 16 characters)",
                        where));
        return 0;
    }
    sl_strv_push_owned(&c->keys, key);
    return 1;
}

int
dimse_cohort_line(struct dimse_cohort *c, const char *text, size_t len,
                  size_t lineno)
{
    json_error_t je;
    json_t *r;
    char where[64];
    int got;

    if (len == 0 || text[strspn(text, " \t\r\n")] == '\0' ||
        strspn(text, " \t\r\n") >= len)
        return 0;
    r = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (r == NULL || !json_is_object(r)) {
        sl_strv_push_owned(&c->problems,
                           sl_asprintf("studies file line %zu: not a JSON "
                                       "object (column %d)",
                                       lineno, r ? 1 : je.column));
        json_decref(r);
        return 0;
    }
    snprintf(where, sizeof(where), "studies file line %zu", lineno);
    got = dimse_cohort_resource(c, r, where);
    json_decref(r);
    return got;
}

int
dimse_cohort_read(const char *path, struct dimse_cohort *c, struct sl_err *err)
{
    struct sl_gz_lines *rd = sl_calloc(1, sizeof(*rd));
    struct sl_buf line = { 0 };
    gzFile gz = gzopen(path, "rb");
    size_t lineno = 0;
    int r, rc = SL_OK;

    if (gz == NULL) {
        free(rd);
        return SL_ERR(err, SL_ECONFIG, "cannot open its studies file");
    }
    sl_gz_lines_reset(rd);
    while ((r = sl_gz_lines_next(gz, rd, &line)) == 1) {
        lineno++;
        dimse_cohort_line(c, line.data, line.len, lineno);
    }
    if (r < 0)
        rc = SL_ERR(err, SL_ECONFIG,
                    "its studies file cannot be read after line %zu "
                    "(a gzip stream that ends early?)",
                    lineno);
    gzclose(gz);
    if (line.data != NULL)
        explicit_bzero(line.data, line.cap);
    sl_buf_free(&line);
    free(rd);
    return rc;
}

/* ---- a cohort from another source of the job ---------------------------- */
void
pacs_cohort_init(struct pacs_cohort *pc, const struct sl_conf_node *node)
{
    const char *v = sl_conf_get(node, "studies");

    memset(pc, 0, sizeof(*pc));
    if (v != NULL && strncmp(v, "source:", 7) == 0) {
        pc->from = v + 7;
        return;
    }
    v = sl_conf_get(node, "patient-ids");
    if (v != NULL && strncmp(v, "source:", 7) == 0) {
        pc->from = v + 7;
        pc->co.patients = 1;
        pc->co.patient_system = sl_conf_get(node, "patient-id-system");
    }
}

/* Whether the item's raw text may hold the resource type wanted: most
 * items of a FHIR source are of other types, and are not parsed here. */
static int
may_hold(const struct pacs_cohort *pc, const struct sl_item *it)
{
    const char *want = pc->co.patients ? "\"Patient\"" : "\"ImagingStudy\"";

    if (it->rtype != NULL)
        return strcmp(it->rtype, pc->co.patients ? "Patient"
                                                 : "ImagingStudy") == 0 ||
               strcmp(it->rtype, "Bundle") == 0;
    return memmem(it->text, it->text_len, want, strlen(want)) != NULL;
}

int
pacs_cohort_add(struct pacs_cohort *pc, const struct sl_item *it,
                struct sl_err *err)
{
    json_t *r = it->resource, *e;
    json_error_t je;
    char *where;
    size_t i;

    (void)err;
    if (r == NULL) {
        if (it->text == NULL || !may_hold(pc, it))
            return SL_OK;
        /* not JSON: the main pass quarantines it as an item of its own
         * source */
        if ((r = json_loadb(it->text, it->text_len, 0, &je)) == NULL)
            return SL_OK;
    } else {
        if (!may_hold(pc, it) && it->rtype != NULL)
            return SL_OK;
        json_incref(r);
    }
    where = sl_asprintf("cohort source %s item %s", pc->from,
                        it->pos ? it->pos : "?");
    if (json_is_object(r)) {
        const char *t = json_string_value(json_object_get(r, "resourceType"));
        if (t != NULL && strcmp(t, "Bundle") == 0)
            json_array_foreach(json_object_get(r, "entry"), i, e)
            {
                json_t *res = json_object_get(e, "resource");
                if (json_is_object(res))
                    dimse_cohort_resource(&pc->co, res, where);
            }
        else
            dimse_cohort_resource(&pc->co, r, where);
    }
    free(where);
    json_decref(r);
    return SL_OK;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
pacs_cohort_take(struct pacs_cohort *pc, const char *id, struct sl_strv *keys,
                 struct sl_strv *problems, struct sl_err *err)
{
    size_t i, k;

    if (!pc->fed)
        return SL_ERR(err, SL_ECONFIG,
                      "source '%s': its cohort comes from source '%s': run "
                      "it in a job that pulls from both",
                      id, pc->from);
    /* each key once (a study or a patient the source yields twice): the
     * C-FINDs' order does not matter, their studies are sorted after */
    if (pc->co.keys.n > 1)
        qsort(pc->co.keys.v, pc->co.keys.n, sizeof(*pc->co.keys.v), cmp_str);
    for (i = k = 0; i < pc->co.keys.n; i++) {
        char *v = pc->co.keys.v[i];
        if (k > 0 && strcmp(pc->co.keys.v[k - 1], v) == 0) {
            explicit_bzero(v, strlen(v));
            free(v);
            continue;
        }
        pc->co.keys.v[k++] = v;
    }
    pc->co.keys.n = k;
    sl_log(SL_LOG_INFO,
           "source '%s': cohort from source '%s': %zu %s, %zu unusable "
           "(quarantined)",
           id, pc->from, pc->co.keys.n,
           pc->co.patients ? "patients" : "studies", pc->co.problems.n);
    if (pc->co.patients)
        for (i = 0; i < pc->co.keys.n; i++) {
            char *v = pc->co.keys.v[i];
            memmove(v, v + 1, strlen(v)); /* "P" off, the NUL moved too */
        }
    *keys = pc->co.keys;
    memset(&pc->co.keys, 0, sizeof(pc->co.keys));
    *problems = pc->co.problems;
    memset(&pc->co.problems, 0, sizeof(pc->co.problems));
    return SL_OK;
}

void
pacs_cohort_free(struct pacs_cohort *pc)
{
    if (pc == NULL)
        return;
    dimse_cohort_free(&pc->co);
    pc->from = NULL;
    pc->fed = 0;
}

/* Characters (not bytes) of the UTF-8 text t[0, n), or -1 when it is not
 * UTF-8 (RFC 3629). */
static long
utf8_chars(const unsigned char *t, size_t n)
{
    size_t i = 0;
    long c = 0;

    while (i < n) {
        size_t k, j;
        unsigned char lo = 0x80, hi = 0xBF;
        if (t[i] < 0x80)
            k = 1;
        else if (t[i] >= 0xC2 && t[i] <= 0xDF)
            k = 2;
        else if (t[i] >= 0xE0 && t[i] <= 0xEF)
            k = 3;
        else if (t[i] >= 0xF0 && t[i] <= 0xF4)
            k = 4;
        else
            return -1;
        if (t[i] == 0xE0)
            lo = 0xA0;
        else if (t[i] == 0xED)
            hi = 0x9F;
        else if (t[i] == 0xF0)
            lo = 0x90;
        else if (t[i] == 0xF4)
            hi = 0x8F;
        if (k > 1 && (n - i < k || t[i + 1] < lo || t[i + 1] > hi))
            return -1;
        for (j = 2; j < k; j++)
            if (t[i + j] < 0x80 || t[i + j] > 0xBF)
                return -1;
        i += k;
        c++;
    }
    return c;
}

int
dimse_list_parse(const char *text, size_t len, int accession,
                 struct sl_strv *ids, char *why, size_t whylen)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t i = 0, lineno = 0, max = accession ? 16 : 64;

    while (i < len) {
        size_t a = i, b, e, k;
        const char *bad = NULL;
        long nc;

        while (i < len && t[i] != '\n')
            i++;
        e = i; /* the line is t[a, e) */
        i += i < len;
        lineno++;
        if (e > a && t[e - 1] == '\r')
            e--;
        while (a < e && (t[a] == ' ' || t[a] == '\t'))
            a++;
        b = e;
        while (b > a && (t[b - 1] == ' ' || t[b - 1] == '\t'))
            b--;
        if (a == b)
            continue; /* blank */
        for (k = a; k < b && bad == NULL; k++)
            if (t[k] < 0x20 || t[k] == 0x7F)
                bad = "a control character (or a NUL: a UTF-16 file?)";
            else if (t[k] == '\\')
                bad = "a backslash, which DICOM reads as a second value";
        if (bad == NULL && (nc = utf8_chars(t + a, b - a)) < 0)
            bad = "bytes that are not UTF-8";
        else if (bad == NULL && (size_t)nc > max)
            bad = accession ? "more than 16 characters (an AccessionNumber)"
                            : "more than 64 characters (a PatientID)";
        if (bad != NULL) {
            size_t j;
            snprintf(why, whylen, "line %zu: %s", lineno, bad);
            for (j = 0; j < ids->n; j++)
                explicit_bzero(ids->v[j], strlen(ids->v[j]));
            sl_strv_free(ids);
            return SL_ECONFIG;
        }
        {
            char *v = sl_malloc(b - a + 1);
            memcpy(v, t + a, b - a);
            v[b - a] = '\0';
            sl_strv_push_owned(ids, v);
        }
    }
    return SL_OK;
}

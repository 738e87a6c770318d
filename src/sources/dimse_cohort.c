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

int
dimse_cohort_line(struct dimse_cohort *c, const char *text, size_t len,
                  size_t lineno)
{
    json_error_t je;
    json_t *r;
    const char *type, *uid, *acc;
    char *key;

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
    type = json_string_value(json_object_get(r, "resourceType"));
    if (type == NULL || strcmp(type, "ImagingStudy") != 0) {
        c->other++;
        json_decref(r);
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
            sl_asprintf("studies file line %zu: ImagingStudy without a "
                        "Study Instance UID (identifier system "
                        "urn:dicom:uid) or an accession number (identifier "
                        "type ACSN, at most 16 characters)",
                        lineno));
        json_decref(r);
        return 0;
    }
    sl_strv_push_owned(&c->keys, key);
    json_decref(r);
    return 1;
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

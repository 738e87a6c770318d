/* dicom_json.c - reads DICOMweb answers (dicom_json.h): a QIDO-RS answer
 * is a JSON array of datasets in the DICOM JSON model (PS3.18 F.2), each
 * tag an object with "vr" and an optional "Value" array. Only the values
 * of the tags asked for are kept; they are checked against their VR before
 * they go anywhere (a UID ends up in a URL path). */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/dicom_json.h"

int
sl_qido_is_uid(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > 64 || strspn(s, "0123456789.") != n || s[0] == '.' ||
        s[n - 1] == '.' || strstr(s, "..") != NULL)
        return 0;
    return 1;
}

/* "(gggg,eeee)" of an 8-digit tag, into buf. */
static const char *
tag_name(const char *tag, char buf[12])
{
    snprintf(buf, 12, "(%.4s,%.4s)", tag, tag + 4);
    return buf;
}

/* The VR a tag sluice reads has (PS3.6), or NULL: the answer's own "vr"
 * must agree, so that a server cannot pass a path off as a UID by
 * calling it text. */
static const char *
tag_vr(const char *tag)
{
    static const char *const ui[] = { "0020000D", "0020000E", "00080018",
                                      "00080016", "00081150", "00081155" };
    size_t i;

    for (i = 0; i < sizeof(ui) / sizeof(*ui); i++)
        if (strcmp(tag, ui[i]) == 0)
            return "UI";
    if (strcmp(tag, "00080020") == 0)
        return "DA";
    if (strcmp(tag, "00080030") == 0)
        return "TM";
    return NULL;
}

static int
value_ok(const char *vr, const char *v)
{
    size_t n = strlen(v);

    if (strcmp(vr, "UI") == 0)
        return sl_qido_is_uid(v);
    if (strcmp(vr, "DA") == 0)
        return n == 8 && strspn(v, "0123456789") == n;
    if (strcmp(vr, "TM") == 0)
        return n <= 16 && strspn(v, "0123456789.:") == n;
    return n <= 1024;
}

int
sl_qido_parse(const char *json, size_t len, const char *const *tags,
              size_t ntags, struct sl_qido_rows *out, struct sl_err *err)
{
    struct sl_qido_rows r = { 0, ntags, NULL };
    json_error_t je;
    json_t *doc = NULL;
    size_t i, k;
    char tn[12];
    int rc = SL_OK;

    if (len == 0) {
        *out = r;
        return SL_OK;
    }
    doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL)
        return SL_ERR(err, SL_EPARSE,
                      "QIDO-RS answer: not JSON (line %d, column %d)", je.line,
                      je.column);
    if (!json_is_array(doc)) {
        rc = SL_ERR(err, SL_EPARSE, "QIDO-RS answer: not a JSON array");
        goto out;
    }
    r.n = json_array_size(doc);
    r.v = sl_calloc(r.n * ntags + 1, sizeof(*r.v));
    for (i = 0; i < r.n; i++) {
        json_t *ds = json_array_get(doc, i);
        if (!json_is_object(ds)) {
            rc = SL_ERR(err, SL_EPARSE,
                        "QIDO-RS answer: result %zu is not a JSON object",
                        i + 1);
            goto out;
        }
        for (k = 0; k < ntags; k++) {
            json_t *el = json_object_get(ds, tags[k]), *vals, *v0;
            const char *vr;
            if (el == NULL)
                continue;
            vr = json_string_value(json_object_get(el, "vr"));
            if (!json_is_object(el) || vr == NULL) {
                rc = SL_ERR(err, SL_EPARSE,
                            "QIDO-RS answer: result %zu, %s: not an "
                            "element (an object with \"vr\")",
                            i + 1, tag_name(tags[k], tn));
                goto out;
            }
            if (tag_vr(tags[k]) != NULL && strcmp(vr, tag_vr(tags[k])) != 0) {
                rc = SL_ERR(err, SL_EPARSE,
                            "QIDO-RS answer: result %zu, %s: its VR is not "
                            "%s",
                            i + 1, tag_name(tags[k], tn), tag_vr(tags[k]));
                goto out;
            }
            vals = json_object_get(el, "Value");
            if (vals == NULL || json_array_size(vals) == 0)
                continue;
            v0 = json_array_get(vals, 0);
            if (json_is_null(v0))
                continue;
            if (!json_is_string(v0) || !json_is_array(vals) ||
                !value_ok(vr, json_string_value(v0))) {
                rc =
                    SL_ERR(err, SL_EPARSE,
                           "QIDO-RS answer: result %zu, %s: the value "
                           "is not a valid %s",
                           i + 1, tag_name(tags[k], tn),
                           strlen(vr) == 2 &&
                                   strspn(vr, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 2
                               ? vr
                               : "value");
                goto out;
            }
            r.v[i * ntags + k] = sl_strdup(json_string_value(v0));
        }
    }
    *out = r;
    r.v = NULL;
    r.n = 0;
out:
    sl_qido_rows_free(&r);
    json_decref(doc);
    return rc;
}

void
sl_qido_rows_free(struct sl_qido_rows *r)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; r->v != NULL && i < r->n * r->ntags; i++)
        free(r->v[i]);
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

/* The first value of tag in dataset ds, or NULL. */
static json_t *
first_value(json_t *ds, const char *tag)
{
    json_t *vals = json_object_get(json_object_get(ds, tag), "Value");

    return json_array_get(vals, 0); /* NULL when not an array, or empty */
}

int
sl_stow_failed_parse(const char *json, size_t len, struct sl_stow_failed **out,
                     size_t *n, struct sl_strv *stored, struct sl_err *err)
{
    struct sl_strv ok = { 0 };
    struct sl_stow_failed *f = NULL;
    json_error_t je;
    json_t *doc, *ds, *seq;
    size_t i, nf = 0;
    int rc = SL_OK;

    if (len == 0) {
        *out = NULL;
        *n = 0;
        return SL_OK;
    }
    doc = json_loadb(json, len, 0, &je);
    if (doc == NULL)
        return SL_ERR(err, SL_EPARSE, /* ok is empty */
                      "STOW-RS answer: not JSON (line %d, column %d)", je.line,
                      je.column);
    ds = json_is_array(doc) ? json_array_get(doc, 0) : doc;
    if (!json_is_object(ds)) {
        rc = SL_ERR(err, SL_EPARSE,
                    "STOW-RS answer: not a dataset (a JSON "
                    "object)");
        goto out;
    }
    seq = json_object_get(json_object_get(ds, "00081198"), "Value");
    if (seq != NULL && !json_is_array(seq)) {
        rc = SL_ERR(err, SL_EPARSE,
                    "STOW-RS answer: (0008,1198) Failed SOP "
                    "Sequence: Value is not an array");
        goto out;
    }
    f = sl_calloc(json_array_size(seq) + 1, sizeof(*f));
    for (i = 0; i < json_array_size(seq); i++) {
        json_t *it = json_array_get(seq, i), *uid, *why;
        if (!json_is_object(it)) {
            rc = SL_ERR(err, SL_EPARSE,
                        "STOW-RS answer: (0008,1198) item "
                        "%zu is not a dataset",
                        i + 1);
            goto out;
        }
        uid = first_value(it, "00081155");
        why = first_value(it, "00081197");
        if (!json_is_string(uid) || !sl_qido_is_uid(json_string_value(uid))) {
            rc = SL_ERR(err, SL_EPARSE,
                        "STOW-RS answer: (0008,1198) item "
                        "%zu: (0008,1155) is not a UID",
                        i + 1);
            goto out;
        }
        f[nf].sop = sl_strdup(json_string_value(uid));
        /* US: a number; some servers write it as a string */
        if (json_is_integer(why))
            f[nf].reason = (unsigned)(json_integer_value(why) & 0xFFFF);
        else if (json_is_string(why))
            f[nf].reason =
                (unsigned)(strtoul(json_string_value(why), NULL, 0) & 0xFFFF);
        else
            f[nf].reason = 0x0110; /* processing failure: none given */
        nf++;
    }
    seq = json_object_get(json_object_get(ds, "00081199"), "Value");
    for (i = 0; i < json_array_size(seq); i++) {
        json_t *uid = first_value(json_array_get(seq, i), "00081155");
        if (!json_is_string(uid) || !sl_qido_is_uid(json_string_value(uid))) {
            rc = SL_ERR(err, SL_EPARSE,
                        "STOW-RS answer: (0008,1199) item "
                        "%zu: (0008,1155) is not a UID",
                        i + 1);
            goto out;
        }
        sl_strv_push(&ok, json_string_value(uid));
    }
    *out = f;
    *n = nf;
    f = NULL;
    nf = 0;
    if (stored != NULL) {
        for (i = 0; i < ok.n; i++)
            sl_strv_push(stored, ok.v[i]);
    }
out:
    sl_strv_free(&ok);
    sl_stow_failed_free(f, nf);
    json_decref(doc);
    return rc;
}

void
sl_stow_failed_free(struct sl_stow_failed *f, size_t n)
{
    size_t i;

    if (f == NULL)
        return;
    for (i = 0; i < n; i++)
        free(f[i].sop);
    free(f);
}

const char *
sl_stow_reason_text(unsigned st)
{
    if ((st & 0xFF00) == 0xA700)
        return "refused: out of resources";
    if ((st & 0xFF00) == 0xA900)
        return "error: data set does not match SOP class";
    if ((st & 0xF000) == 0xC000)
        return "error: cannot understand";
    switch (st) {
    case 0x0110:
        return "processing failure";
    case 0x0122:
        return "refused: SOP class not supported";
    case 0x0124:
        return "refused: not authorized";
    case 0x0111:
        return "duplicate SOP instance";
    case 0x0212:
        return "mistyped argument";
    default:
        return "failure";
    }
}

void
sl_dicomweb_scrub(struct sl_err *err, const char *uid)
{
    size_t n = uid ? strlen(uid) : 0;
    char *p;

    if (n < 7) /* "{study}" is 7 long: the message never grows */
        return;
    while ((p = strstr(err->msg, uid)) != NULL) {
        memmove(p + 7, p + n, strlen(p + n) + 1);
        memcpy(p, "{study}", 7);
    }
}

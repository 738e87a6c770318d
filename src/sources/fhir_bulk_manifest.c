/* fhir_bulk_manifest.c - the complete-status manifest of a Bulk Data
 * export and the fhir-bulk source's checkpoint (fhir_bulk.h). Both come
 * from outside (a server, the state store): every field is checked, and
 * an error names the element, never its value. Fuzzed by
 * tests/fuzz/fuzz_bulk_manifest.c. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sources/fhir_bulk.h"

/* A manifest is small (a few URLs per resource type); above this it is
 * refused rather than held. */
#define MANIFEST_FILES_MAX 100000

static int
digits(const char *s, int n)
{
    int i;

    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int
bulk_instant_ok(const char *s)
{
    size_t i;

    if (s == NULL || strlen(s) < 20 || strlen(s) > 40)
        return 0;
    if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2) || s[10] != 'T' || !digits(s + 11, 2) ||
        s[13] != ':' || !digits(s + 14, 2) || s[16] != ':' ||
        !digits(s + 17, 2))
        return 0;
    i = 19;
    if (s[i] == '.') {
        i++;
        if (s[i] < '0' || s[i] > '9')
            return 0;
        while (s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (s[i] == 'Z')
        return s[i + 1] == '\0';
    if (s[i] == '+' || s[i] == '-')
        return digits(s + i + 1, 2) && s[i + 3] == ':' &&
               digits(s + i + 4, 2) && s[i + 6] == '\0';
    return 0;
}

static int
url_ok(const char *u)
{
    size_t i;

    if (u == NULL ||
        (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0))
        return 0;
    for (i = 0; u[i]; i++)
        if ((unsigned char)u[i] <= 0x20 || u[i] == 0x7f)
            return 0;
    return i < 8192;
}

/* A resource type: [A-Z][A-Za-z]{0,63} */
static int
type_ok(const char *t)
{
    size_t i;

    if (t == NULL || t[0] < 'A' || t[0] > 'Z' || strlen(t) > 64)
        return 0;
    for (i = 1; t[i]; i++)
        if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')))
            return 0;
    return 1;
}

void
bulk_manifest_clear(struct bulk_manifest *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->n; i++) {
        free(m->files[i].type);
        free(m->files[i].url);
    }
    free(m->files);
    free(m->transaction_time);
    memset(m, 0, sizeof(*m));
}

static int
add_files(struct bulk_manifest *m, const json_t *arr, const char *name,
          int error, struct sl_err *err)
{
    size_t i;
    const json_t *e;

    if (arr == NULL)
        return SL_OK;
    if (!json_is_array(arr))
        return SL_ERR(err, SL_EPARSE, "manifest: %s: not an array", name);
    if (m->n + json_array_size(arr) > MANIFEST_FILES_MAX)
        return SL_ERR(err, SL_EPARSE, "manifest: more than %d files",
                      MANIFEST_FILES_MAX);
    json_array_foreach(arr, i, e)
    {
        const char *type = json_string_value(json_object_get(e, "type"));
        const char *url = json_string_value(json_object_get(e, "url"));
        struct bulk_file *f;

        if (!json_is_object(e))
            return SL_ERR(err, SL_EPARSE, "manifest: %s[%zu]: not an object",
                          name, i);
        if (!type_ok(type))
            return SL_ERR(err, SL_EPARSE, "manifest: %s[%zu].type: %s", name, i,
                          type ? "not a resource type" : "missing");
        if (!url_ok(url))
            return SL_ERR(err, SL_EPARSE, "manifest: %s[%zu].url: %s", name, i,
                          url ? "not an absolute http(s) URL" : "missing");
        m->files = sl_realloc(m->files, (m->n + 1) * sizeof(*m->files));
        f = &m->files[m->n++];
        f->type = sl_strdup(type);
        f->url = sl_strdup(url);
        f->error = error;
    }
    return SL_OK;
}

int
bulk_manifest_parse(const char *json, size_t len, struct bulk_manifest *m,
                    struct sl_err *err)
{
    json_error_t je;
    json_t *doc;
    const json_t *tt, *rat;
    int rc;

    memset(m, 0, sizeof(*m));
    doc = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL)
        return SL_ERR(err, SL_EPARSE,
                      "manifest: not JSON (line %d column "
                      "%d)",
                      je.line, je.column);
    if (!json_is_object(doc)) {
        rc = SL_ERR(err, SL_EPARSE, "manifest: not a JSON object");
        goto out;
    }
    tt = json_object_get(doc, "transactionTime");
    if (!json_is_string(tt) || !bulk_instant_ok(json_string_value(tt))) {
        rc = SL_ERR(err, SL_EPARSE, "manifest: transactionTime: %s",
                    tt ? "not a FHIR instant" : "missing");
        goto out;
    }
    rat = json_object_get(doc, "requiresAccessToken");
    if (!json_is_boolean(rat)) {
        rc = SL_ERR(err, SL_EPARSE, "manifest: requiresAccessToken: %s",
                    rat ? "not a boolean" : "missing");
        goto out;
    }
    if (!json_is_array(json_object_get(doc, "output"))) {
        rc =
            SL_ERR(err, SL_EPARSE, "manifest: output: %s",
                   json_object_get(doc, "output") ? "not an array" : "missing");
        goto out;
    }
    m->transaction_time = sl_strdup(json_string_value(tt));
    m->requires_token = json_is_true(rat);
    if ((rc = add_files(m, json_object_get(doc, "output"), "output", 0, err)) !=
        SL_OK)
        goto out;
    m->noutputs = m->n;
    rc = add_files(m, json_object_get(doc, "error"), "error", 1, err);
out:
    json_decref(doc);
    if (rc != SL_OK)
        bulk_manifest_clear(m);
    return rc;
}

/* ---- the checkpoint ------------------------------------------------------ */
void
bulk_ck_clear(struct bulk_ck *ck)
{
    if (ck == NULL)
        return;
    free(ck->since);
    free(ck->tt);
    free(ck->status_url);
    memset(ck, 0, sizeof(*ck));
}

char *
bulk_ck_format(const struct bulk_ck *ck)
{
    return sl_asprintf("bulk1\t%s\t%s\t%zu\t%llu\t%s",
                       ck->since ? ck->since : "-", ck->tt ? ck->tt : "-",
                       ck->file, (unsigned long long)ck->lines,
                       ck->status_url ? ck->status_url : "-");
}

/* The next tab-separated field of *p (copied), or NULL at the end. */
static char *
field(const char **p)
{
    const char *s = *p, *t;

    if (s == NULL)
        return NULL;
    t = strchr(s, '\t');
    if (t == NULL) {
        *p = NULL;
        return sl_strdup(s);
    }
    *p = t + 1;
    return sl_strndup(s, (size_t)(t - s));
}

int
bulk_ck_parse(const char *s, struct bulk_ck *ck)
{
    const char *p = s;
    char *f[6] = { 0 }, *end;
    int i, ok = 0;
    unsigned long long file, lines;

    memset(ck, 0, sizeof(*ck));
    for (i = 0; i < 6; i++)
        if ((f[i] = field(&p)) == NULL)
            goto out;
    if (p != NULL || strcmp(f[0], "bulk1") != 0)
        goto out;
    if (strcmp(f[1], "-") != 0 && !bulk_instant_ok(f[1]))
        goto out;
    if (strcmp(f[2], "-") != 0 && !bulk_instant_ok(f[2]))
        goto out;
    if (f[3][0] < '0' || f[3][0] > '9' || f[4][0] < '0' || f[4][0] > '9')
        goto out;
    file = strtoull(f[3], &end, 10);
    if (*end != '\0' || file > MANIFEST_FILES_MAX)
        goto out;
    lines = strtoull(f[4], &end, 10);
    if (*end != '\0')
        goto out;
    if (strcmp(f[5], "-") != 0 && !url_ok(f[5]))
        goto out;
    ck->since = strcmp(f[1], "-") ? f[1] : NULL;
    ck->tt = strcmp(f[2], "-") ? f[2] : NULL;
    ck->status_url = strcmp(f[5], "-") ? f[5] : NULL;
    if (ck->since)
        f[1] = NULL;
    if (ck->tt)
        f[2] = NULL;
    if (ck->status_url)
        f[5] = NULL;
    ck->file = (size_t)file;
    ck->lines = lines;
    ok = 1;
out:
    for (i = 0; i < 6; i++)
        free(f[i]);
    return ok ? SL_OK : SL_ESTATE;
}

/* ---- an OperationOutcome's words ----------------------------------------- */
#define DIAG_MAX 300

char *
bulk_outcome_text(const char *body, size_t len)
{
    json_t *oo = json_loadb(body ? body : "", len, 0, NULL);
    const json_t *issues = json_object_get(oo, "issue"), *is;
    struct sl_buf b;
    size_t i;

    sl_buf_init(&b);
    json_array_foreach(issues, i, is)
    {
        const char *d = json_string_value(json_object_get(is, "diagnostics"));
        if (d == NULL)
            d = json_string_value(
                json_object_get(json_object_get(is, "details"), "text"));
        if (d == NULL)
            continue;
        if (b.len > 0)
            sl_buf_adds(&b, "; ");
        sl_buf_adds(&b, d);
        if (b.len > DIAG_MAX)
            break;
    }
    json_decref(oo);
    if (b.len == 0) {
        sl_buf_free(&b);
        return NULL;
    }
    if (b.len > DIAG_MAX) {
        b.len = DIAG_MAX;
        sl_buf_adds(&b, "...");
    }
    for (i = 0; i < b.len; i++)
        if ((unsigned char)b.data[i] < 0x20 || b.data[i] == 0x7f)
            b.data[i] = ' ';
    return sl_buf_steal(&b);
}

/* The length of the UTF-8 character at p (n bytes left), or 0 when p does
 * not start one (RFC 3629: no overlong forms, no surrogates, at most
 * U+10FFFF). */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
    size_t k, i;
    unsigned char lo = 0x80, hi = 0xBF;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        k = 2;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        k = 3;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        k = 4;
    else
        return 0;
    if (p[0] == 0xE0)
        lo = 0xA0;
    else if (p[0] == 0xED)
        hi = 0x9F;
    else if (p[0] == 0xF0)
        lo = 0x90;
    else if (p[0] == 0xF4)
        hi = 0x8F;
    if (n < k || p[1] < lo || p[1] > hi)
        return 0;
    for (i = 2; i < k; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return k;
}

void
bulk_progress_text(const char *v, char *out, size_t len)
{
    const unsigned char *p = (const unsigned char *)(v ? v : "");
    size_t n = strlen((const char *)p), i = 0, o = 0, max;

    max = len - 1 < 60 ? len - 1 : 60;
    while (i < n) {
        size_t k = utf8_len(p + i, n - i);
        if (k == 0) { /* not UTF-8 */
            if (o + 1 > max)
                break;
            out[o++] = '?';
            i++;
            continue;
        }
        if (o + k > max)
            break; /* never half a character */
        if (k == 1 && (p[i] < 0x20 || p[i] == 0x7f))
            out[o++] = ' ';
        else if (k == 2 && p[i] == 0xC2 && p[i + 1] < 0xA0)
            out[o++] = ' '; /* C1 controls, U+0080 to U+009F */
        else {
            memcpy(out + o, p + i, k);
            o += k;
        }
        i += k;
    }
    out[o] = '\0';
}

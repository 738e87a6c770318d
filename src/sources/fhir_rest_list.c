/* fhir_rest_list.c - the fhir-rest source's lists: the resources seen
 * near the watermark (for the next run's overlap) and the patient list
 * (a file or a Group on the server). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources/fhir_rest_int.h"

void
sl_rest_seen_free(struct seen *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(v[i].key);
    free(v);
}

int
sl_rest_seen_cmp(const void *a, const void *b)
{
    return strcmp(((const struct seen *)a)->key, ((const struct seen *)b)->key);
}

static int
seen_cmp_ms_desc(const void *a, const void *b)
{
    int64_t x = ((const struct seen *)a)->ms, y = ((const struct seen *)b)->ms;

    return x < y ? 1 : x > y ? -1 : 0;
}

/* Keeps what lies within the overlap of the watermark, at most SEEN_MAX
 * of the newest; what is dropped moves cut_ms. */
void
sl_rest_recent_prune(struct rest_src *s, int64_t w)
{
    size_t i, k = 0;

    if (s->nrecent > 1) /* none: s->recent may be NULL */
        qsort(s->recent, s->nrecent, sizeof(*s->recent), seen_cmp_ms_desc);
    for (i = 0; i < s->nrecent; i++) {
        if (s->recent[i].ms > w - s->overlap_ms && k < SEEN_MAX &&
            s->recent[i].ms > s->cut_ms) {
            s->recent[k++] = s->recent[i];
            continue;
        }
        if (k >= SEEN_MAX && s->recent[i].ms > s->cut_ms &&
            s->recent[i].ms > w - s->overlap_ms)
            s->cut_ms = s->recent[i].ms;
        free(s->recent[i].key);
    }
    s->nrecent = k;
}

void
sl_rest_recent_add(struct rest_src *s, const char *key, int64_t ms)
{
    /* at most 2 * SEEN_MAX between prunes: the memory bound */
    if (s->nrecent >= 2 * SEEN_MAX)
        sl_rest_recent_prune(s, s->max_ms);
    if (s->nrecent == s->caprecent) {
        s->caprecent = s->caprecent ? s->caprecent * 2 : 256;
        s->recent = sl_realloc(s->recent, s->caprecent * sizeof(*s->recent));
    }
    s->recent[s->nrecent].key = sl_strdup(key);
    s->recent[s->nrecent].ms = ms;
    s->nrecent++;
}

char *
sl_rest_seen_key(const char *t, const char *id, const char *v, int64_t ms)
{
    size_t tl, il, vl;
    char num[32], *k;

    if (t == NULL || id == NULL)
        return NULL;
    /* once a resource: concatenated rather than printf'd */
    if (v == NULL) {
        snprintf(num, sizeof(num), "@%lld", (long long)ms);
        v = num;
    }
    tl = strlen(t);
    il = strlen(id);
    vl = strlen(v);
    k = sl_malloc(tl + il + vl + 3);
    memcpy(k, t, tl);
    k[tl] = '/';
    memcpy(k + tl + 1, id, il);
    k[tl + 1 + il] = '/';
    memcpy(k + tl + il + 2, v, vl + 1);
    return k;
}

int
sl_rest_was_seen(const struct rest_src *s, const char *key)
{
    struct seen k;

    k.key = (char *)key;
    k.ms = 0;
    return s->nprev &&
           bsearch(&k, s->prev, s->nprev, sizeof(*s->prev), sl_rest_seen_cmp);
}

void
sl_rest_split(const char *v, struct sl_strv *out)
{
    const char *p = v;

    while (p && *p) {
        size_t n;
        p += strspn(p, " \t\r\n");
        n = strcspn(p, " \t\r\n");
        if (n > 0) {
            char *w = sl_strndup(p, n);
            sl_strv_push_owned(out, w);
        }
        p += n;
    }
}

static int
valid_id(const char *id)
{
    size_t n = strlen(id);

    return n >= 1 && n <= 64 &&
           strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                      "0123456789-.") == n;
}

/* Adds "Patient/ID" or "ID" to the list; -1 when it is not an id. */
static int
add_patient(struct rest_src *s, const char *ref)
{
    if (strncmp(ref, "Patient/", 8) == 0)
        ref += 8;
    if (!valid_id(ref))
        return -1;
    sl_strv_push(&s->patients, ref);
    return 0;
}

int
sl_rest_patients_file(struct rest_src *s, const char *path, struct sl_err *err)
{
    char *data = NULL, *line, *save = NULL;
    size_t len;
    int rc, lineno = 0;

    if ((rc = sl_file_read(path, &data, &len, err)) != SL_OK)
        return rc;
    /* a NUL byte (a UTF-16 file, say) would end the reading there and
     * drop every line after it unseen (found by fuzz_patients_file, seed
     * regress-nul-byte): the file is refused, naming the line */
    if ((line = memchr(data, '\0', len)) != NULL) {
        const char *q;
        for (q = data, lineno = 1; q < line; q++)
            lineno += *q == '\n';
        rc = SL_ERR(err, SL_ECONFIG,
                    "%s:%d: a NUL byte (the file must be text: UTF-8, one "
                    "id a line)",
                    path, lineno);
        sl_freezero(data, len);
        return rc;
    }
    for (line = data; line && *line; line = save) {
        char *nl = strchr(line, '\n'), *e;
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        lineno++;
        while (*line == ' ' || *line == '\t')
            line++;
        e = line + strlen(line);
        while (e > line && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            *--e = '\0';
        if (*line == '\0' || *line == '#')
            continue;
        if (add_patient(s, line) != 0) {
            rc = SL_ERR(err, SL_ECONFIG, "%s:%d: not a Patient id", path,
                        lineno);
            break;
        }
    }
    sl_freezero(data, len);
    return rc;
}

int
sl_rest_group_members(struct rest_src *s, const char *buf, size_t len,
                      const char *shown)
{
    json_t *doc = json_loadb(buf ? buf : "", len, 0, NULL), *m;
    size_t i;

    if (!json_is_array(json_object_get(doc, "member"))) {
        json_decref(doc);
        return -1;
    }
    json_array_foreach(json_object_get(doc, "member"), i, m)
    {
        const char *ref = json_string_value(
            json_object_get(json_object_get(m, "entity"), "reference"));
        if (ref && strncmp(ref, "Patient/", 8) == 0 && add_patient(s, ref) != 0)
            sl_log(SL_LOG_WARN,
                   "GET %s: member %zu is not a Patient "
                   "reference: skipped",
                   shown, i + 1);
    }
    json_decref(doc);
    return 0;
}

int
sl_rest_patients_group(struct rest_src *s, const char *group,
                       struct sl_err *err)
{
    struct sl_http_body b = { { 0 }, 64u * 1024 * 1024 };
    struct sl_http_req rq = { 0 };
    struct sl_http_resp rs;
    char *path = sl_asprintf("Group/%s", group), *shown = NULL;
    int rc;

    sl_buf_init(&b.buf);
    rq.method = "GET";
    rq.path = path;
    rq.sink = sl_http_collect;
    rq.sink_arg = &b;
    if ((rc = sl_http_do(s->http, &rq, &rs, err)) != SL_OK)
        goto out;
    shown = sl_http_url_for_log(s->http, path);
    if (rs.status != 200) {
        rc = SL_ERR(err, SL_ENET, "GET %s: HTTP %ld: cannot read the Group",
                    shown, rs.status);
        goto out;
    }
    if (sl_rest_group_members(s, b.buf.data, b.buf.len, shown) != 0)
        rc = SL_ERR(err, SL_EPARSE, "GET %s: not a Group with members", shown);
out:
    sl_buf_free(&b.buf);
    free(shown);
    free(path);
    return rc;
}

/* fhir_rest_page.c - reads one page of a FHIR search (a searchset
 * Bundle) as a server sent it, and FHIR instants. This is a parser of
 * outside input: it never trusts the shape of what came, and its
 * messages never quote it (a page holds patient data). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/date.h"
#include "sources/fhir_rest_int.h"
#include "fhir/fhir_json.h"

void
sl_rest_page_clear(struct sl_rest_page *p)
{
    if (p == NULL)
        return;
    json_decref(p->doc);
    free(p->next);
    /* a page holds patient data */
    sl_freezero(p->raw, p->raw_len);
    sl_freezero(p->copy, p->raw_len);
    sl_jtape_free(&p->tape);
    free(p->at);
    memset(p, 0, sizeof(*p));
}

int
sl_rest_page_parse(const char *buf, size_t len, struct sl_rest_page *out,
                   char *why, size_t whylen)
{
    json_error_t je;
    json_t *doc, *rt, *links, *entries, *l;
    const char *type;
    size_t i;

    memset(out, 0, sizeof(*out));
    doc = sl_fhir_json_loadb(buf, len, 0, &je);
    if (doc == NULL) {
        /* jansson's text ends with the token near the error: not kept */
        const char *near = strstr(je.text, " near ");
        int n = near ? (int)(near - je.text) : (int)strlen(je.text);
        snprintf(why, whylen, "malformed JSON at line %d column %d: %.*s",
                 je.line, je.column, n, je.text);
        return -1;
    }
    rt = json_object_get(doc, "resourceType");
    if (!json_is_string(rt) || strcmp(json_string_value(rt), "Bundle") != 0) {
        const char *t = json_string_value(rt);
        /* a resource type is a name, never data: shown when it is one */
        int name = t && strlen(t) < 64 &&
                   strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "abcdefghijklmnopqrstuvwxyz") == strlen(t);
        snprintf(why, whylen, "not a Bundle (%s)",
                 !json_is_object(doc) ? "not a JSON object"
                 : name && *t         ? t
                                      : "no resourceType");
        json_decref(doc);
        return -1;
    }
    type = json_string_value(json_object_get(doc, "type"));
    if (type && strcmp(type, "searchset") != 0 &&
        strcmp(type, "collection") != 0 && strcmp(type, "history") != 0) {
        snprintf(why, whylen, "a Bundle of type %s, not a searchset",
                 strlen(type) < 32 &&
                         strspn(type, "abcdefghijklmnopqrstuvwxyz-") ==
                             strlen(type)
                     ? type
                     : "?");
        json_decref(doc);
        return -1;
    }
    entries = json_object_get(doc, "entry");
    if (entries != NULL && !json_is_array(entries)) {
        snprintf(why, whylen, "Bundle.entry is not an array");
        json_decref(doc);
        return -1;
    }
    links = json_object_get(doc, "link");
    if (links != NULL && !json_is_array(links)) {
        snprintf(why, whylen, "Bundle.link is not an array");
        json_decref(doc);
        return -1;
    }
    json_array_foreach(links, i, l)
    {
        const char *rel = json_string_value(json_object_get(l, "relation"));
        const char *url = json_string_value(json_object_get(l, "url"));
        if (rel == NULL || strcmp(rel, "next") != 0)
            continue;
        if (url == NULL || *url == '\0') {
            snprintf(why, whylen, "the next link has no url");
            free(out->next);
            json_decref(doc);
            out->next = NULL;
            return -1;
        }
        free(out->next);
        out->next = sl_strdup(url);
    }
    out->doc = doc;
    out->entries = entries;
    return 0;
}

/* The index just after the JSON string starting at b[i] ('"'), or 0
 * when it does not end. */
static size_t
skip_string(const char *b, size_t n, size_t i)
{
    const unsigned char *p = (const unsigned char *)b + i + 1;
    const unsigned char *end = (const unsigned char *)b + n;

    while (p < end) {
        p = sl_jt_plain_end(p, end); /* the plain run, 8 bytes a step */
        if (p >= end)
            break;
        if (*p == '\\')
            p += 2;
        else if (*p == '"')
            return (size_t)(p - (const unsigned char *)b) + 1;
        else
            p++;
    }
    return 0;
}

static size_t
skip_ws(const char *b, size_t n, size_t i)
{
    while (i < n &&
           (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
        i++;
    return i;
}

char *
sl_rest_page_next_scan(const char *b, size_t n)
{
    size_t i = 0;
    int depth = 0;

    while (i < n) {
        size_t j, k, e;
        int d = 0;
        json_t *v, *l;
        char *url = NULL;

        if (b[i] != '"') {
            if (b[i] == '{' || b[i] == '[')
                depth++;
            else if (b[i] == '}' || b[i] == ']')
                depth--;
            i++;
            continue;
        }
        if ((j = skip_string(b, n, i)) == 0)
            return NULL;
        k = skip_ws(b, n, j);
        if (depth != 1 || j - i != 6 || memcmp(b + i, "\"link\"", 6) != 0 ||
            k >= n || b[k] != ':') {
            i = j;
            continue;
        }
        /* the member "link" of the Bundle: its value alone is parsed */
        k = skip_ws(b, n, k + 1);
        if (k >= n || b[k] != '[')
            return NULL;
        for (e = k; e < n;) {
            if (b[e] == '"') {
                if ((e = skip_string(b, n, e)) == 0)
                    return NULL;
                continue;
            }
            if (b[e] == '[' || b[e] == '{')
                d++;
            else if ((b[e] == ']' || b[e] == '}') && --d == 0)
                break;
            e++;
        }
        if (e >= n)
            return NULL;
        v = json_loadb(b + k, e + 1 - k, 0, NULL);
        json_array_foreach(v, j, l)
        {
            const char *rel = json_string_value(json_object_get(l, "relation"));
            const char *u = json_string_value(json_object_get(l, "url"));
            if (rel && u && *u && strcmp(rel, "next") == 0) {
                free(url);
                url = sl_strdup(u);
            }
        }
        json_decref(v);
        return url;
    }
    return NULL;
}

/* ---- the fast reading ------------------------------------------------------
 * The tape reader has checked the page's syntax; what is left is finding
 * each entry's resource in the bytes as they came, so that it travels as
 * text. The walk below reads structure only and is bounded by len. */

/* The index after the JSON value starting at b[i], or 0. */
static size_t
skip_value(const char *b, size_t n, size_t i)
{
    int d = 0;

    if (i >= n)
        return 0;
    if (b[i] == '"')
        return skip_string(b, n, i);
    if (b[i] != '{' && b[i] != '[') {
        while (i < n && b[i] != ',' && b[i] != '}' && b[i] != ']' &&
               b[i] != ' ' && b[i] != '\t' && b[i] != '\r' && b[i] != '\n')
            i++;
        return i;
    }
    while (i < n) {
        if (b[i] == '"') {
            if ((i = skip_string(b, n, i)) == 0)
                return 0;
            continue;
        }
        if (b[i] == '{' || b[i] == '[')
            d++;
        else if ((b[i] == '}' || b[i] == ']') && --d == 0)
            return i + 1;
        i++;
    }
    return 0;
}

/* The value of member key (written as it is, no escapes) of the object at
 * b[i] ('{'): 1 with [*vs, *ve) and *oe the index after the object, 0
 * when it has none or on a surprise. */
static int
member_span(const char *b, size_t n, size_t i, const char *key, size_t *vs,
            size_t *ve, size_t *oe)
{
    size_t kl = strlen(key);
    int found = 0;

    if (i >= n || b[i] != '{')
        return 0;
    i = skip_ws(b, n, i + 1);
    if (i < n && b[i] == '}')
        return 0;
    while (i < n && b[i] == '"') {
        size_t ks = i, ke = skip_string(b, n, i), v, e;
        if (ke == 0)
            return 0;
        i = skip_ws(b, n, ke);
        if (i >= n || b[i] != ':')
            return 0;
        v = skip_ws(b, n, i + 1);
        if ((e = skip_value(b, n, v)) == 0)
            return 0;
        if (!found && ke - ks == kl + 2 && memcmp(b + ks + 1, key, kl) == 0) {
            *vs = v;
            *ve = e;
            found = 1;
        }
        i = skip_ws(b, n, e);
        if (i < n && b[i] == '}') {
            *oe = i + 1;
            return found;
        }
        if (i >= n || b[i] != ',')
            return 0;
        i = skip_ws(b, n, i + 1);
    }
    return 0;
}

static const char *
jt_path_str(const struct sl_jtape *t, size_t obj, const char *a, const char *b)
{
    size_t i = sl_jt_get(t, obj, a);

    return sl_jt_str(t, b ? sl_jt_get(t, i, b) : i);
}

/* The index of the last byte before j that is not blank, or (size_t)-1 */
static size_t
back_ws(const char *b, size_t j)
{
    while (j > 0) {
        char c = b[--j];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return j;
    }
    return (size_t)-1;
}

/* The resources' spans in the bytes found from the tape rather than by
 * walking the page again (the walk cost as much as the tape reading).
 * The tape's strings were decoded in place in copy, a copy of b: a
 * string node's text starts where its quotes' content starts in b. The
 * resource (value node r, key node r - 1, of entry k in array ent under
 * the root) starts after its key's ':'; it ends just before the first
 * string that follows it, the text between being blanks and punctuation
 * only: the closes of the containers it leaves (entry, array, root: those
 * that end before that string), a ',' and the opens of those it enters.
 * 1 with at[] filled for the n entries; 0 on any surprise (the walk then
 * decides). */
static int
spans_from_tape(const char *b, size_t len, const struct sl_rest_page *p,
                size_t ent, size_t *at, size_t n)
{
    const struct sl_jtape *t = &p->tape;
    size_t i;

    for (i = 0; i < n; i++) {
        size_t k = at[i * 3], r = sl_jt_get(t, k, "resource");
        size_t ks, q, sn, j, c, vs;
        const size_t up[3] = { k, ent, SL_JT_ROOT };
        if (r < 2 || t->n[r - 1].type != SL_JT_STRING)
            return 0;
        ks = (size_t)(t->n[r - 1].v.s - p->copy);
        /* the key as written, without escapes */
        if (ks == 0 || ks + 9 > len || b[ks - 1] != '"' ||
            memcmp(b + ks, "resource\"", 9) != 0)
            return 0;
        q = skip_ws(b, len, ks + 9);
        if (q >= len || b[q] != ':')
            return 0;
        vs = skip_ws(b, len, q + 1);
        if (vs >= len || b[vs] != '{')
            return 0;
        for (sn = t->n[r].end; sn < t->len && t->n[sn].type != SL_JT_STRING;
             sn++)
            ;
        if (sn < t->len) {
            size_t qs = (size_t)(t->n[sn].v.s - p->copy);
            if (qs == 0 || qs > len || b[qs - 1] != '"')
                return 0;
            j = back_ws(b, qs - 1);
            while (j != (size_t)-1 && (b[j] == '{' || b[j] == '['))
                j = back_ws(b, j);
            if (j == (size_t)-1 || b[j] != ',')
                return 0;
            j = back_ws(b, j);
        } else {
            j = back_ws(b, len);
        }
        for (c = 0; c < 3; c++) {
            if (t->n[up[c]].end > sn)
                continue; /* still open at that string */
            if (j == (size_t)-1 || (b[j] != '}' && b[j] != ']'))
                return 0;
            j = back_ws(b, j);
        }
        if (j == (size_t)-1 || b[j] != '}' || j <= vs)
            return 0;
        at[i * 3 + 1] = vs;
        at[i * 3 + 2] = j + 1 - vs;
    }
    return 1;
}

int
sl_rest_page_parse_fast(char *buf, size_t len, struct sl_rest_page *out)
{
    struct sl_rest_page p;
    const struct sl_jtape *t = &p.tape;
    const char *rt, *type;
    size_t ent, links, k, i, vs, ve, e, pos, idx = 0;

    memset(&p, 0, sizeof(p));
    memset(out, 0, sizeof(*out));
    if (buf == NULL || len == 0 || len > UINT32_MAX)
        return 0;
    p.copy = sl_malloc(len + 1);
    memcpy(p.copy, buf, len);
    p.copy[len] = '\0';
    p.raw_len = len;
    if (!sl_jtape_parse(&p.tape, p.copy, len) ||
        t->n[SL_JT_ROOT].type != SL_JT_OBJECT)
        goto no;
    rt = jt_path_str(t, SL_JT_ROOT, "resourceType", NULL);
    type = jt_path_str(t, SL_JT_ROOT, "type", NULL);
    if (rt == NULL || strcmp(rt, "Bundle") != 0 ||
        (sl_jt_get(t, SL_JT_ROOT, "type") &&
         (type == NULL ||
          (strcmp(type, "searchset") != 0 && strcmp(type, "collection") != 0))))
        goto no;
    links = sl_jt_get(t, SL_JT_ROOT, "link");
    if (links && t->n[links].type != SL_JT_ARRAY)
        goto no;
    for (k = sl_jt_first(t, links); k; k = sl_jt_next(t, links, k)) {
        const char *rel = jt_path_str(t, k, "relation", NULL);
        const char *url = jt_path_str(t, k, "url", NULL);
        if (rel == NULL || strcmp(rel, "next") != 0)
            continue;
        if (url == NULL || *url == '\0')
            goto no; /* worded by the other reading */
        free(p.next);
        p.next = sl_strdup(url);
    }
    ent = sl_jt_get(t, SL_JT_ROOT, "entry");
    if (ent && t->n[ent].type != SL_JT_ARRAY)
        goto no;
    p.n = ent ? t->n[ent].len : 0;
    p.at = sl_calloc(p.n * 3 + 1, sizeof(*p.at));
    for (k = sl_jt_first(t, ent); k; k = sl_jt_next(t, ent, k), idx++) {
        size_t res = sl_jt_get(t, k, "resource");
        const char *r;
        if (idx >= p.n || t->n[k].type != SL_JT_OBJECT || res == 0 ||
            t->n[res].type != SL_JT_OBJECT)
            goto no;
        r = jt_path_str(t, res, "resourceType", NULL);
        if (r == NULL || *r == '\0')
            goto no;
        p.at[idx * 3] = k;
    }
    if (idx != p.n)
        goto no;
    if (p.n > 0 && !spans_from_tape(buf, len, &p, ent, p.at, p.n)) {
        /* the entries in the bytes, walked: the array of the root's
         * "entry" */
        pos = skip_ws(buf, len, 0);
        if (!member_span(buf, len, pos, "entry", &vs, &ve, &e) ||
            buf[vs] != '[')
            goto no;
        pos = skip_ws(buf, len, vs + 1);
        for (idx = 0; idx < p.n; idx++) {
            if (pos >= len || buf[pos] != '{' ||
                !member_span(buf, len, pos, "resource", &vs, &ve, &e) ||
                buf[vs] != '{')
                goto no;
            p.at[idx * 3 + 1] = vs;
            p.at[idx * 3 + 2] = ve - vs;
            pos = skip_ws(buf, len, e);
            if (pos < len && buf[pos] == ',')
                pos = skip_ws(buf, len, pos + 1);
        }
    }
    for (i = 0; i < p.n; i++)
        if (p.at[i * 3 + 1] + p.at[i * 3 + 2] > len)
            goto no;
    p.raw = buf; /* ours from here */
    *out = p;
    return 1;
no:
    free(p.next);
    sl_freezero(p.copy, len);
    sl_jtape_free(&p.tape);
    free(p.at);
    return 0;
}

char *
sl_rest_compact(const char *s, size_t n, size_t *outlen)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n, *q;
    char *out = sl_malloc(n + 1), *w = out;

    while (p < end) {
        if (*p == '"') {
            /* a string as it is, escapes and all */
            q = p + 1;
            while (q < end) {
                q = sl_jt_plain_end(q, end);
                if (q >= end)
                    break;
                if (*q == '\\')
                    q += 2;
                else if (*q++ == '"')
                    break;
            }
            if (q > end)
                q = end;
            memcpy(w, p, (size_t)(q - p));
            w += q - p;
            p = q;
        } else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
            p++;
        } else {
            *w++ = (char)*p++;
        }
    }
    *w = '\0';
    *outlen = (size_t)(w - out);
    return out;
}

size_t
sl_rest_page_count(const struct sl_rest_page *p)
{
    return p->doc ? json_array_size(p->entries) : p->n;
}

int
sl_rest_page_at(const struct sl_rest_page *p, size_t i, struct sl_rest_entry *e,
                char *why, size_t whylen)
{
    memset(e, 0, sizeof(*e));
    if (p->doc != NULL) {
        json_t *res, *meta;
        if (sl_rest_page_entry(json_array_get(p->entries, i), &res, &e->mode,
                               why, whylen) != 0)
            return -1;
        meta = json_object_get(res, "meta");
        e->res = res;
        e->rtype = json_string_value(json_object_get(res, "resourceType"));
        e->id = json_string_value(json_object_get(res, "id"));
        e->last_updated =
            json_string_value(json_object_get(meta, "lastUpdated"));
        e->version_id = json_string_value(json_object_get(meta, "versionId"));
        return 0;
    } else {
        const struct sl_jtape *t = &p->tape;
        size_t k = p->at[i * 3], res = sl_jt_get(t, k, "resource");
        const char *m = jt_path_str(t, k, "search", "mode");
        e->mode = m && strcmp(m, "outcome") == 0   ? 'o'
                  : m && strcmp(m, "include") == 0 ? 'i'
                                                   : 'm';
        e->rtype = jt_path_str(t, res, "resourceType", NULL);
        e->id = jt_path_str(t, res, "id", NULL);
        e->last_updated = jt_path_str(t, res, "meta", "lastUpdated");
        e->version_id = jt_path_str(t, res, "meta", "versionId");
        e->text = p->raw + p->at[i * 3 + 1];
        e->text_len = p->at[i * 3 + 2];
        return 0;
    }
}

int
sl_rest_page_entry(const json_t *entry, json_t **res, char *mode, char *why,
                   size_t whylen)
{
    json_t *r = json_object_get(entry, "resource"), *rt;
    const char *m = json_string_value(
        json_object_get(json_object_get(entry, "search"), "mode"));

    if (!json_is_object(entry) || !json_is_object(r)) {
        snprintf(why, whylen, "the entry has no resource");
        return -1;
    }
    rt = json_object_get(r, "resourceType");
    if (!json_is_string(rt) || json_string_length(rt) == 0) {
        snprintf(why, whylen, "not a FHIR resource: no resourceType");
        return -1;
    }
    *res = r;
    if (m && strcmp(m, "outcome") == 0)
        *mode = 'o';
    else if (m && strcmp(m, "include") == 0)
        *mode = 'i';
    else
        *mode = 'm';
    return 0;
}

/* n digits at s as a number, or -1 */
static long
digits(const char *s, int n)
{
    long v = 0;
    int i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int
sl_rest_instant_ms(const char *s, int64_t *out)
{
    long y, mo, d, h, mi, sec, ms = 0, oh = 0, om = 0;
    int64_t t;
    const char *p;
    int sign = 0, k;

    if (s == NULL || strlen(s) < 20 || s[4] != '-' || s[7] != '-' ||
        s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return -1;
    y = digits(s, 4);
    mo = digits(s + 5, 2);
    d = digits(s + 8, 2);
    h = digits(s + 11, 2);
    mi = digits(s + 14, 2);
    sec = digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 ||
        mi < 0 || mi > 59 || sec < 0 || sec > 60)
        return -1;
    p = s + 19;
    if (*p == '.') {
        p++;
        for (k = 0; *p >= '0' && *p <= '9'; p++, k++)
            if (k < 3)
                ms = ms * 10 + (*p - '0');
        if (k == 0)
            return -1;
        for (; k < 3; k++)
            ms *= 10;
    }
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        if (p[3] != ':' || (oh = digits(p + 1, 2)) < 0 || oh > 14 ||
            (om = digits(p + 4, 2)) < 0 || om > 59)
            return -1;
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    t = (int64_t)sl_days_from_civil(y, (int)mo, (int)d) * 86400 + h * 3600 +
        mi * 60 + sec;
    t -= (int64_t)sign * (oh * 3600 + om * 60);
    *out = t * 1000 + ms;
    return 0;
}

void
sl_rest_instant_format(int64_t ms, char *out, size_t len)
{
    int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
    long rem = (long)(s - days * 86400), y;
    int m, d;

    sl_civil_from_days((long)days, &y, &m, &d);
    snprintf(out, len, "%04ld-%02d-%02dT%02ld:%02ld:%02ld.%03dZ", y, m, d,
             rem / 3600, rem / 60 % 60, rem % 60, (int)(ms - s * 1000));
}

/* fhir_rest_url.c - the fhir-rest source's units (one search per type,
 * per patient and type, $everything per patient, a type's history) and
 * the URL of each one's first page. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources/fhir_rest_int.h"

/* ---- URLs -----------------------------------------------------------------
 */

/* Percent-encodes what a query value may not hold as it is. */
static void
add_enc(struct sl_buf *b, const char *v)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
            c == '/' || c == ',')
            sl_buf_addc(b, (char)c);
        else {
            sl_buf_addc(b, '%');
            sl_buf_addc(b, hex[c >> 4]);
            sl_buf_addc(b, hex[c & 15]);
        }
    }
}

/* a unit that reads a type's history for its deletions */
int
sl_rest_unit_hist(const struct rest_src *s, size_t u)
{
    return u >= s->nbase;
}

/* Where a history unit starts: the run's own start when incremental;
 * in a run that reads everything, the overlap before the watermark its
 * searches found, whose deletions are only remembered (so that the next
 * run does not pass them on); -1 when there is nothing to read. */
int64_t
sl_rest_hist_since(const struct rest_src *s)
{
    if (s->since_ms >= 0)
        return s->since_ms;
    return s->max_ms >= 0 ? s->max_ms - s->overlap_ms : -1;
}

const char *
sl_rest_unit_type(const struct rest_src *s, size_t u)
{
    if (sl_rest_unit_hist(s, u))
        return s->types.v[(u - s->nbase) % s->types.n];
    return s->types.v[u % s->types.n];
}

static const char *
unit_patient(const struct rest_src *s, size_t u)
{
    if (s->patients.n == 0 || sl_rest_unit_hist(s, u))
        return NULL;
    return s->patients.v[s->everything ? u : u / s->types.n];
}

/* The first page of unit u (a path under the base). */
char *
sl_rest_first_url(const struct rest_src *s, size_t u)
{
    struct sl_buf b;
    const char *type = sl_rest_unit_type(s, u), *pat = unit_patient(s, u);
    char when[40];
    size_t i, tl = strlen(type);

    sl_buf_init(&b);
    if (sl_rest_unit_hist(s, u)) {
        sl_rest_instant_format(sl_rest_hist_since(s), when, sizeof(when));
        sl_buf_addf(&b, "%s/_history?_count=%ld&_since=", type, s->count);
        add_enc(&b, when);
        return sl_buf_steal(&b);
    }
    if (s->everything) {
        sl_buf_addf(&b, "Patient/%s/$everything?_count=%ld", pat, s->count);
        if (s->since_ms >= 0) {
            sl_rest_instant_format(s->since_ms, when, sizeof(when));
            sl_buf_adds(&b, "&_since=");
            add_enc(&b, when);
        }
        return sl_buf_steal(&b);
    }
    sl_buf_addf(&b, "%s?_count=%ld", type, s->count);
    if (s->since_ms >= 0) {
        sl_rest_instant_format(s->since_ms, when, sizeof(when));
        sl_buf_adds(&b, "&_lastUpdated=gt");
        add_enc(&b, when);
    }
    if (pat != NULL) {
        if (strcmp(type, "Patient") == 0)
            sl_buf_addf(&b, "&_id=%s", pat);
        else
            sl_buf_addf(&b, "&patient=Patient/%s", pat);
    }
    for (i = 0; i < s->includes.n; i++) {
        const char *v = s->includes.v[i];
        if ((strncmp(v, type, tl) == 0 && v[tl] == ':') ||
            strncmp(v, "*", 1) == 0) {
            sl_buf_adds(&b, "&_include=");
            add_enc(&b, v);
        }
    }
    for (i = 0; i < s->revincludes.n; i++) {
        sl_buf_adds(&b, "&_revinclude=");
        add_enc(&b, s->revincludes.v[i]);
    }
    for (i = 0; i < s->extra.n; i++) {
        const char *v = s->extra.v[i], *q = strchr(v, '?');
        if (q && (size_t)(q - v) == tl && strncmp(v, type, tl) == 0 && q[1])
            sl_buf_addf(&b, "&%s", q + 1);
    }
    return sl_buf_steal(&b);
}

/* "Observation page 3", "patient 2 Observation page 1": no data */
void
sl_rest_unit_name(const struct rest_src *s, char *out, size_t len)
{
    size_t pi = s->everything ? s->u : s->u / s->types.n;

    if (sl_rest_unit_hist(s, s->u))
        snprintf(out, len, "%s history page %ld", sl_rest_unit_type(s, s->u),
                 s->pageno);
    else if (s->everything)
        snprintf(out, len, "patient %zu $everything page %ld", pi + 1,
                 s->pageno);
    else if (s->patients.n)
        snprintf(out, len, "patient %zu %s page %ld", pi + 1,
                 sl_rest_unit_type(s, s->u), s->pageno);
    else
        snprintf(out, len, "%s page %ld", sl_rest_unit_type(s, s->u), s->pageno);
}


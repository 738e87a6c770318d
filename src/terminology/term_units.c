/* term_units.c - Quantity units normalised to UCUM through a conversion
 * table (terminology/units-si.csv and the like):
 *
 *   analyte system,analyte code,analyte,from,to,factor
 *   http://loinc.org,2339-0,Glucose [Mass/volume] in Blood,mg/dL,mmol/L,10/180.156
 *   ,,any analyte,mg/dl,mg/dL,1
 *
 * A row with an analyte converts the Quantities of Observations (value,
 * component values, reference range bounds) whose code has that coding
 * and whose unit is `from` (UCUM code, or the unit text of a Quantity
 * without a system): value times factor (exact decimals, term_dec.c),
 * unit and code `to`, system UCUM. A row without an analyte (factor 1)
 * only names a spelling of a unit: a Quantity without a system whose
 * unit is `from` gets system UCUM and code `to`. Lines starting with '#',
 * blank lines and the line of column names ("analyte system,...") are
 * skipped; fields are not quoted. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/jtape.h"
#include "terminology/term_int.h"

#define UCUM "http://unitsofmeasure.org"

struct unit_row {
    char *system, *code; /* NULL: a spelling row */
    char *from, *to, *factor;
    int line;
};

struct sl_term_units {
    char *name;
    size_t n;
    struct unit_row *r;
};

void
sl_term_units_free(struct sl_term_units *u)
{
    size_t i;

    if (u == NULL)
        return;
    for (i = 0; i < u->n; i++) {
        free(u->r[i].system);
        free(u->r[i].code);
        free(u->r[i].from);
        free(u->r[i].to);
        free(u->r[i].factor);
    }
    free(u->r);
    free(u->name);
    free(u);
}

const char *
sl_term_units_name(const struct sl_term_units *u)
{
    return u->name;
}

static char *
field(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    return n ? sl_strndup(s, n) : NULL;
}

/* One line into its six fields; the count found. */
static int
split6(const char *line, size_t len, char *f[6])
{
    const char *p = line, *end = line + len;
    int n = 0;

    memset(f, 0, 6 * sizeof(*f));
    for (;;) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        const char *stop = c ? c : end;
        if (n < 6)
            f[n] = field(p, (size_t)(stop - p));
        n++;
        if (c == NULL)
            break;
        p = c + 1;
    }
    return n;
}

static int
check_row(const char *name, int line, char *f[6], struct sl_err *err)
{
    char out[64];

    if ((f[0] == NULL) != (f[1] == NULL))
        return SL_ERR(err, SL_ECONFIG, "%s:%d: the analyte needs both its "
                      "system and its code, or neither", name, line);
    if (f[0] && !term_system_ok(f[0]))
        return SL_ERR(err, SL_ECONFIG, "%s:%d: analyte system \"%s\" is not "
                      "a system URI (http://..., urn:oid:...)", name, line,
                      f[0]);
    if (f[3] == NULL || f[4] == NULL || f[5] == NULL)
        return SL_ERR(err, SL_ECONFIG, "%s:%d: empty %s", name, line,
                      f[3] == NULL ? "from unit" : f[4] == NULL ? "to unit"
                                                                : "factor");
    if (strchr(f[5], '-') || term_dec_convert("1", f[5], out, sizeof(out)) ||
        strcmp(out, "0") == 0)
        return SL_ERR(err, SL_ECONFIG, "%s:%d: factor \"%s\" is not a "
                      "positive decimal or NUM/DEN of decimals", name, line,
                      f[5]);
    if (f[0] == NULL && strcmp(f[5], "1") != 0)
        return SL_ERR(err, SL_ECONFIG, "%s:%d: a row without an analyte "
                      "names a spelling of a unit: its factor is 1", name,
                      line);
    return SL_OK;
}

static int
same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

int
sl_term_units_parse(const char *name, const char *data, size_t len,
                    struct sl_term_units **out, struct sl_err *err)
{
    struct sl_term_units *u = sl_calloc(1, sizeof(*u));
    const char *p = data, *end = data + len;
    int line = 0, rc = SL_OK, k;
    size_t cap = 0, i;
    const char *base = strrchr(name, '/'), *dot;

    base = base ? base + 1 : name;
    dot = strrchr(base, '.');
    u->name = dot ? sl_strndup(base, (size_t)(dot - base)) : sl_strdup(base);
    while (p < end && rc == SL_OK) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *f[6];
        int nf;

        line++;
        if (memchr(p, '\0', n) != NULL) {
            rc = SL_ERR(err, SL_ECONFIG, "%s:%d: a NUL byte", name, line);
            break;
        }
        {
            /* within the line: data need not end in a NUL (a blank
             * last line read past the end, found by fuzz_term_units) */
            size_t s = 0;
            while (s < n && (p[s] == ' ' || p[s] == '\t' || p[s] == '\r'))
                s++;
            if (s >= n || p[s] == '#' ||
                (n - s >= 15 && memcmp(p + s, "analyte system,", 15) == 0)) {
                p = nl ? nl + 1 : end;
                continue;
            }
        }
        nf = split6(p, n, f);
        if (nf != 6)
            rc = SL_ERR(err, SL_ECONFIG, "%s:%d: %d fields, 6 expected "
                        "(analyte system, analyte code, analyte, from, to, "
                        "factor)", name, line, nf);
        else
            rc = check_row(name, line, f, err);
        for (i = 0; rc == SL_OK && i < u->n; i++)
            if (same(u->r[i].system, f[0]) && same(u->r[i].code, f[1]) &&
                strcmp(u->r[i].from, f[3]) == 0)
                rc = SL_ERR(err, SL_ECONFIG, "%s:%d: conflicting rows: %s "
                            "from %s is already converted at line %d", name,
                            line, f[1] ? f[1] : "any analyte", f[3],
                            u->r[i].line);
        if (rc == SL_OK) {
            struct unit_row *r;
            if (u->n == cap) {
                cap = cap ? 2 * cap : 16;
                u->r = sl_realloc(u->r, cap * sizeof(*u->r));
            }
            r = &u->r[u->n++];
            r->system = f[0];
            r->code = f[1];
            r->from = f[3];
            r->to = f[4];
            r->factor = f[5];
            r->line = line;
            f[0] = f[1] = f[3] = f[4] = f[5] = NULL;
        }
        for (k = 0; k < 6; k++)
            free(f[k]);
        p = nl ? nl + 1 : end;
    }
    if (rc == SL_OK && u->n == 0)
        rc = SL_ERR(err, SL_ECONFIG, "%s: no conversion in the table", name);
    if (rc != SL_OK) {
        sl_term_units_free(u);
        return rc;
    }
    *out = u;
    return SL_OK;
}

int
sl_term_units_load(const char *name_or_path, struct sl_term_units **out,
                   struct sl_err *err)
{
    char *path, *dir, *data = NULL;
    size_t len = 0;
    int rc;

    if (strchr(name_or_path, '/') || sl_str_has_suffix(name_or_path, ".csv")) {
        path = sl_strdup(name_or_path);
    } else {
        dir = sl_term_dir();
        path = sl_asprintf("%s/%s.csv", dir, name_or_path);
        free(dir);
    }
    rc = sl_file_read(path, &data, &len, err);
    if (rc == SL_OK)
        rc = sl_term_units_parse(path, data, len, out, err);
    free(data);
    free(path);
    return rc;
}

/* ---- applying the table to a resource ---------------------------------- */

struct uwalk {
    const struct sl_term_units *u;
    int keep_original;
    sl_term_report_fn report;
    void *arg;
    int changed;
    struct sl_buf where;
};

static const char *
jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The row converting a Quantity of unit `unit` for an analyte among the
 * codings of cc (or a spelling row when cc is NULL). */
static const struct unit_row *
row_for(const struct sl_term_units *u, const json_t *cc, const char *unit)
{
    size_t i, k;
    const json_t *c;

    for (i = 0; i < u->n; i++) {
        const struct unit_row *r = &u->r[i];
        if (strcmp(r->from, unit) != 0)
            continue;
        if (r->system == NULL) {
            if (cc == NULL)
                return r;
            continue;
        }
        if (cc == NULL)
            continue;
        json_array_foreach(json_object_get(cc, "coding"), k, c)
        {
            const char *s = jstr(c, "system"), *code = jstr(c, "code");
            if (s && code && strcmp(s, r->system) == 0 &&
                strcmp(code, r->code) == 0)
                return r;
        }
    }
    return NULL;
}

static void
note(struct uwalk *w, int ok, const char *leaf)
{
    size_t base = w->where.len;

    sl_buf_addf(&w->where, ".%s", leaf);
    if (w->report)
        w->report(w->arg, w->u->name, ok, w->where.data);
    w->where.len = base;
    w->where.data[base] = '\0';
}

static void
quantity(struct uwalk *w, json_t *q, const json_t *cc, const char *leaf)
{
    const char *system = jstr(q, "system"), *code = jstr(q, "code");
    const char *unit = jstr(q, "unit"), *key;
    const struct unit_row *r = NULL;
    json_t *v = json_object_get(q, "value"), *orig;
    char text[64], res[64];
    const char *lt = NULL;
    size_t ln = 0;

    if (!json_is_object(q))
        return;
    /* the unit: the UCUM code, or the text of a Quantity without system */
    if (system && strcmp(system, UCUM) == 0 && code)
        key = code;
    else if (system == NULL && unit)
        key = unit;
    else
        return;
    if (json_is_number(v))
        r = row_for(w->u, cc, key);
    if (r == NULL && system == NULL) {
        /* a spelling named in UCUM, then converted if a row says so */
        if ((r = row_for(w->u, NULL, key)) == NULL)
            return;
        json_object_set_new(q, "system", json_string(UCUM));
        json_object_set_new(q, "code", json_string(r->to));
        w->changed = 1;
        r = json_is_number(v) ? row_for(w->u, cc, r->to) : NULL;
    }
    if (r == NULL)
        return;
    if (json_is_integer(v))
        snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
    else if ((lt = sl_jtape_real_text(v, &ln)) != NULL && ln < sizeof(text))
        memcpy(text, lt, ln + 1); /* as written: 5.30 has three digits */
    else
        snprintf(text, sizeof(text), "%.15g", json_real_value(v));
    if (term_dec_convert(text, r->factor, res, sizeof(res)) != 0) {
        note(w, 0, leaf);
        return;
    }
    orig = json_deep_copy(q);
    json_object_del(orig, "extension");
    if (lt != NULL) /* the copy holds the double alone */
        json_object_set_new(orig, "value",
                            sl_jtape_real_lex(json_real_value(v), lt, ln));
    if (strchr(res, '.')) /* written as computed: 5.50 keeps its zero */
        json_object_set_new(q, "value",
                            sl_jtape_real_lex(strtod(res, NULL), res,
                                              strlen(res)));
    else
        json_object_set_new(q, "value",
                            json_integer(strtoll(res, NULL, 10)));
    json_object_set_new(q, "unit", json_string(r->to));
    json_object_set_new(q, "system", json_string(UCUM));
    json_object_set_new(q, "code", json_string(r->to));
    if (w->keep_original) {
        json_t *ext = json_object_get(q, "extension");
        if (!json_is_array(ext)) {
            ext = json_array();
            json_object_set_new(q, "extension", ext);
        }
        json_array_append_new(ext, json_pack("{ss so}", "url",
                                             SL_TERM_ORIGINAL_QUANTITY,
                                             "valueQuantity", orig));
    } else {
        json_decref(orig);
    }
    w->changed = 1;
    note(w, 1, leaf);
}

static void
observation(struct uwalk *w, json_t *obs)
{
    const json_t *code = json_object_get(obs, "code");
    json_t *x, *rr;
    size_t i;

    sl_buf_reset(&w->where);
    sl_buf_adds(&w->where, "Observation");
    quantity(w, json_object_get(obs, "valueQuantity"), code,
             "valueQuantity");
    json_array_foreach(json_object_get(obs, "referenceRange"), i, rr)
    {
        char leaf[64];
        snprintf(leaf, sizeof(leaf), "referenceRange[%zu].low", i);
        quantity(w, json_object_get(rr, "low"), code, leaf);
        snprintf(leaf, sizeof(leaf), "referenceRange[%zu].high", i);
        quantity(w, json_object_get(rr, "high"), code, leaf);
    }
    json_array_foreach(json_object_get(obs, "component"), i, x)
    {
        char leaf[64];
        snprintf(leaf, sizeof(leaf), "component[%zu].valueQuantity", i);
        quantity(w, json_object_get(x, "valueQuantity"),
                 json_object_get(x, "code"), leaf);
    }
}

static void
units_one(struct uwalk *w, json_t *res)
{
    const char *rt = jstr(res, "resourceType");
    json_t *e;
    size_t i;

    if (rt == NULL)
        return;
    if (strcmp(rt, "Bundle") == 0) {
        json_array_foreach(json_object_get(res, "entry"), i, e)
        {
            json_t *r = json_object_get(e, "resource");
            if (json_is_object(r))
                units_one(w, r);
        }
    } else if (strcmp(rt, "Observation") == 0) {
        observation(w, res);
    }
}

void
sl_term_units_apply(const struct sl_term_units *u, json_t *res,
                    int keep_original, sl_term_report_fn report, void *arg,
                    int *changed)
{
    struct uwalk w;

    memset(&w, 0, sizeof(w));
    w.u = u;
    w.keep_original = keep_original;
    w.report = report;
    w.arg = arg;
    sl_buf_init(&w.where);
    units_one(&w, res);
    sl_buf_free(&w.where);
    *changed = w.changed;
}

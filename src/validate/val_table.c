/* val_table.c - look-ups in the generated tables of R4 core (val_core.c)
 * and the findings list. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate/validate_int.h"

static int
elem_cmp(const void *k, const void *e)
{
    return strcmp(k, ((const struct sl_val_elem *)e)->path);
}

const struct sl_val_elem *
sl_val_elem_find(const char *path)
{
    return bsearch(path, sl_val_elems, sl_val_nelems, sizeof(sl_val_elems[0]),
                   elem_cmp);
}

static int
type_cmp(const void *k, const void *e)
{
    return strcmp(k, ((const struct sl_val_type *)e)->name);
}

const struct sl_val_type *
sl_val_type_find(const char *name)
{
    return bsearch(name, sl_val_types, sl_val_ntypes, sizeof(sl_val_types[0]),
                   type_cmp);
}

/* Lines are sorted "system|code": a code-only look-up scans them, a full
 * one is a binary search over line starts (ValueSets are small). */
int
sl_val_vset_has(const struct sl_val_vset *vs, const char *system,
                const char *code)
{
    const char *p = vs->codes;
    size_t cl = strlen(code), sl = system ? strlen(system) : 0;

    if (p == NULL)
        return 0;
    while (*p) {
        const char *e = strchr(p, '\n'), *bar;
        size_t n = e ? (size_t)(e - p) : strlen(p);
        bar = memchr(p, '|', n);
        if (bar != NULL && (size_t)(p + n - bar - 1) == cl &&
            memcmp(bar + 1, code, cl) == 0 &&
            (system == NULL ||
             ((size_t)(bar - p) == sl && memcmp(p, system, sl) == 0)))
            return 1;
        p += n + (e != NULL);
    }
    return 0;
}

void
sl_val_add(struct sl_val_result *r, enum sl_severity sev, const char *type,
           const char *profile, const char *expr, const char *fmt, ...)
{
    struct sl_val_issue *is;
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 8;
        r->v = realloc(r->v, r->cap * sizeof(*r->v));
        if (r->v == NULL)
            abort();
    }
    is = &r->v[r->n++];
    is->sev = sev;
    is->type = type;
    is->expr = expr ? sl_strdup(expr) : NULL;
    is->msg = sl_strdup(msg);
    is->profile = sl_strdup(profile ? profile : "R4");
}

size_t
sl_val_result_errors(const struct sl_val_result *r)
{
    size_t i, n = 0;

    for (i = 0; i < r->n; i++)
        n += r->v[i].sev == SL_SEV_ERROR;
    return n;
}

void
sl_val_result_clear(struct sl_val_result *r)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        free(r->v[i].expr);
        free(r->v[i].msg);
        free(r->v[i].profile);
    }
    free(r->v);
    r->v = NULL;
    r->n = r->cap = 0;
}

json_t *
sl_val_result_outcome(const struct sl_val_result *r)
{
    json_t *oo = json_object(), *issues = json_array();
    size_t i;

    json_object_set_new(oo, "resourceType", json_string("OperationOutcome"));
    for (i = 0; i < r->n; i++) {
        const struct sl_val_issue *is = &r->v[i];
        json_t *o = json_object();
        json_object_set_new(o, "severity",
                            json_string(is->sev == SL_SEV_ERROR ? "error"
                                        : is->sev == SL_SEV_WARNING
                                            ? "warning"
                                            : "information"));
        json_object_set_new(o, "code", json_string(is->type));
        json_object_set_new(o, "diagnostics",
                            json_string(is->profile ? is->profile : "R4"));
        json_object_set_new(o, "details",
                            json_pack("{ss}", "text", is->msg));
        if (is->expr)
            json_object_set_new(o, "expression",
                                json_pack("[s]", is->expr));
        json_array_append_new(issues, o);
    }
    if (r->n == 0)
        json_array_append_new(issues,
                              json_pack("{ssssss}", "severity", "information",
                                        "code", "informational",
                                        "diagnostics", "no findings"));
    json_object_set_new(oo, "issue", issues);
    return oo;
}

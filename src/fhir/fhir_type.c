/* fhir_type.c - look-ups in the R4 type table (see fhir.h): the rows of
 * fhir_type_rows.c behind a hash index; and in the Patient compartment
 * (fhir_compartment.c). */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "common/common.h"
#include "common/hash.h"
#include "fhir/fhir.h"

/* An index of the rows by hash, built once (pthread_once: the engine
 * may run on several threads). */
static uint32_t *row_index; /* row number + 1; 0 is empty */
static size_t row_index_cap;
static pthread_once_t row_once = PTHREAD_ONCE_INIT;

/* FNV-1a from the short seed (common/hash.h) */
static uint64_t
str_hash(const char *s)
{
    return sl_fnv1a64_cont(SL_FNV1A64_OFFSET_SHORT, s);
}

static void
build_row_index(void)
{
    size_t i, j;

    for (row_index_cap = 1; row_index_cap < 2 * sl_fhir_type_nrows;)
        row_index_cap *= 2;
    row_index = sl_calloc(row_index_cap, sizeof(*row_index));
    for (i = 0; i < sl_fhir_type_nrows; i++) {
        j = (size_t)str_hash(sl_fhir_type_rows[i].path) & (row_index_cap - 1);
        while (row_index[j])
            j = (j + 1) & (row_index_cap - 1);
        row_index[j] = (uint32_t)(i + 1);
    }
}

const char *
sl_fhir_type_lookup(const char *path)
{
    size_t j;

    pthread_once(&row_once, build_row_index);
    j = (size_t)str_hash(path) & (row_index_cap - 1);
    for (; row_index[j]; j = (j + 1) & (row_index_cap - 1)) {
        const struct sl_fhir_type_row *r = &sl_fhir_type_rows[row_index[j] - 1];
        if (strcmp(r->path, path) == 0)
            return r->types;
    }
    return NULL;
}

int
sl_fhir_type_is_resource(const char *name)
{
    const char *t = sl_fhir_type_lookup(name);
    return t != NULL && strcmp(t, "=resource") == 0;
}

int
sl_fhir_type_is_complex(const char *name)
{
    const char *t = sl_fhir_type_lookup(name);
    return t != NULL && strcmp(t, "=complex") == 0;
}

const struct sl_fhir_link *
sl_fhir_compartment_links_of(const char *type, size_t *n)
{
    size_t lo = 0, hi = sl_fhir_compartment_nlinks, end;

    /* the first row of type: rows are sorted by type */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(sl_fhir_compartment_links[mid].type, type) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (end = lo; end < sl_fhir_compartment_nlinks &&
                   strcmp(sl_fhir_compartment_links[end].type, type) == 0;
         end++)
        ;
    *n = end - lo;
    return end > lo ? &sl_fhir_compartment_links[lo] : NULL;
}

int
sl_fhir_is_context_type(const char *type)
{
    size_t i;

    for (i = 0; sl_fhir_context_types[i]; i++)
        if (strcmp(sl_fhir_context_types[i], type) == 0)
            return 1;
    return 0;
}

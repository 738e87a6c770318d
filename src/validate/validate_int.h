/* validate_int.h - what the files of src/validate share: the generated
 * tables of R4 core (val_core.c, by build-aux/gen-fhir-validate.mjs) and
 * the walk's context. */
#ifndef SL_VALIDATE_INT_H
#define SL_VALIDATE_INT_H

#include <stddef.h>

#include "validate/validate.h"

/* An element of R4 core, by the path of src/fhir's type table: its
 * cardinality (max -1: unbounded) and the ValueSet (index in
 * sl_val_vsets, -1 for none) of its required binding. Sorted by path. */
struct sl_val_elem {
    const char *path;
    int min, max;
    int vset;
};
extern const struct sl_val_elem sl_val_elems[];
extern const size_t sl_val_nelems;

/* A type or resource: its base type ("" for Base/Element roots). */
struct sl_val_type {
    const char *name;
    const char *base;
    int abstract;
};
extern const struct sl_val_type sl_val_types[];
extern const size_t sl_val_ntypes;

/* A ValueSet: its codes as "system|code" lines, sorted, or NULL when R4
 * core alone cannot expand it. */
struct sl_val_vset {
    const char *url;
    const char *codes;
    size_t ncodes;
};
extern const struct sl_val_vset sl_val_vsets[];
extern const size_t sl_val_nvsets;

/* An invariant of a type or element (where it is defined). */
struct sl_val_cons {
    const char *path;
    const char *key;
    int error; /* 1: severity error, 0: warning */
    const char *expr;
    const char *human;
};
extern const struct sl_val_cons sl_val_conss[];
extern const size_t sl_val_ncons;

const struct sl_val_elem *sl_val_elem_find(const char *path);
const struct sl_val_type *sl_val_type_find(const char *name);
/* 1 when system|code is in the ValueSet, 0 when not; code-only lookups
 * (system NULL) match any system. */
int sl_val_vset_has(const struct sl_val_vset *vs, const char *system,
                    const char *code);

/* The walk's findings. */
void sl_val_add(struct sl_val_result *r, enum sl_severity sev,
                const char *type, const char *profile, const char *expr,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Primitive formats (val_prim.c): NULL when value is a valid JSON
 * representation of primitive type, else what is wrong with it (static
 * text, no value). */
const char *sl_val_prim_check(const char *type, const json_t *value);

#endif

/* val_walk.h - the walk of one resource (val_walk.c, val_refs.c). */
#ifndef SL_VAL_WALK_H
#define SL_VAL_WALK_H

#include "validate/validate_int.h"

struct val_walk {
    const struct sl_validator *v;
    struct sl_val_result *out;
    int depth;
    const json_t *res;  /* the resource being walked (innermost) */
    const json_t *root; /* the resource validated (a Bundle, a container) */
};

/* Walks res (a resource) at expr (NULL: its type); top: the resource
 * validated, not one inside it. */
void sl_val_walk_resource(struct val_walk *w, const json_t *res,
                          const char *expr, int top);
/* The invariants of core at base (a type, or a backbone element's path)
 * on node (val_inv.c). */
void sl_val_invariants(struct val_walk *w, const json_t *node,
                       const char *base, const char *expr);
/* contained resources of res: referenced, with an id, not nested (dom-2
 * to dom-5), and "#id" references naming one that is there. */
void sl_val_check_contained(struct val_walk *w, const json_t *res,
                            const char *expr);
/* Bundle rules: fullUrl against the entry's id, unique fullUrls (bdl-7),
 * references inside a document, message or transaction resolved. */
void sl_val_check_bundle(struct val_walk *w, const json_t *bundle,
                         const char *expr);

/* The extensions on obj (of base, at expr; is_res: a resource) whose
 * definitions are loaded: used in one of their contexts, their
 * contextInvariants hold (val_ext.c). */
void sl_val_ext_context(struct val_walk *w, const json_t *obj,
                        const char *base, const char *expr, int is_res);

#endif

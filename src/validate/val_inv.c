/* val_inv.c - the invariants of R4 core (val_core.c: each with its
 * FHIRPath expression) evaluated by the FHIRPath engine (src/fhirpath) on
 * every object of a resource they apply to: those of its type and the
 * type's bases, or of its backbone element's path. Each expression is
 * compiled once. An invariant the engine cannot compile or evaluate is a
 * warning "could not be checked" at that element, never a silent pass.
 * Invariants that need the whole resource or Bundle at once (ele-1,
 * ext-1, dom-2 to dom-5, bdl-7, ref-1) are checked natively instead (val_walk.c,
 * val_refs.c). */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fhirpath/fhirpath.h"
#include "validate/val_profile.h"
#include "validate/val_walk.h"

#define PX "R4"

static struct sl_fp_expr **compiled;
static char **why; /* the compile error, for "could not be checked" */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int
native(const char *key)
{
    static const char *const keys[] = {"ele-1", "ext-1", "dom-2", "dom-3",
                                       "dom-4", "dom-5", "bdl-7", "ref-1"};
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(key, keys[i]) == 0)
            return 1;
    return 0;
}

static void
compile_all(void)
{
    size_t i;

    compiled = sl_calloc(sl_val_ncons, sizeof(*compiled));
    why = sl_calloc(sl_val_ncons, sizeof(*why));
    for (i = 0; i < sl_val_ncons; i++) {
        struct sl_err err = {0};
        if (native(sl_val_conss[i].key))
            continue;
        if (sl_fp_compile(sl_val_conss[i].expr, &compiled[i], &err) != SL_OK)
            why[i] = sl_strdup(err.msg);
    }
}

/* memberOf() against the ValueSets of core that R4 alone expands, then
 * (ud: the validator) the loaded ones and its terminology server. */
static int
member_of(void *ud, const char *system, const char *code, const char *vs,
          int *is_member)
{
    size_t i, ul = strcspn(vs, "|");

    for (i = 0; i < sl_val_nvsets; i++)
        if (strlen(sl_val_vsets[i].url) == ul &&
            strncmp(sl_val_vsets[i].url, vs, ul) == 0 &&
            sl_val_vsets[i].codes != NULL) {
            *is_member = sl_val_vset_has(&sl_val_vsets[i], system, code);
            return SL_OK;
        }
    return sl_val_member_of(ud, system, code, vs, is_member);
}

/* The invariants defined at path (a type or an element path); the focus
 * is typed by base (the object's type or backbone path). */
static void
run_at(struct val_walk *w, const json_t *node, const char *path,
       const char *base, const char *expr)
{
    size_t lo = 0, hi = sl_val_ncons, i;
    struct sl_fp_env env = {0};

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(sl_val_conss[mid].path, path) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    env.resource = (json_t *)w->res;
    env.root = (json_t *)(w->root ? w->root : w->res);
    env.member_of = member_of;
    env.ud = (void *)w->v;
    if (node != w->res)
        env.focus_path = base;
    for (i = lo; i < sl_val_ncons && strcmp(sl_val_conss[i].path, path) == 0;
         i++) {
        const struct sl_val_cons *c = &sl_val_conss[i];
        struct sl_err err = {0};
        int v = -1;
        if (native(c->key))
            continue;
        if (compiled[i] == NULL) {
            sl_val_add(w->out, SL_SEV_WARNING, "not-supported", PX, expr,
                       "%s could not be checked: its FHIRPath expression "
                       "did not compile (%s)", c->key,
                       why[i] ? why[i] : "?");
            continue;
        }
        if (sl_fp_eval_bool(compiled[i], &env, (json_t *)node, &v, &err) !=
            SL_OK) {
            sl_val_add(w->out, SL_SEV_WARNING, "not-supported", PX, expr,
                       "%s could not be checked: %s", c->key, err.msg);
            continue;
        }
        if (v == 0)
            sl_val_add(w->out, c->error ? SL_SEV_ERROR : SL_SEV_WARNING,
                       "invariant", PX, expr, "%s: %s", c->key, c->human);
    }
}

void
sl_val_invariants(struct val_walk *w, const json_t *node, const char *base,
                  const char *expr)
{
    const struct sl_val_type *t;
    int depth = 0;

    pthread_once(&once, compile_all);
    if (strchr(base, '.')) {
        run_at(w, node, base, base, expr); /* a backbone element */
        return;
    }
    for (t = sl_val_type_find(base); t != NULL && depth < 8; depth++) {
        run_at(w, node, t->name, base, expr);
        if (t->base[0] == '\0')
            break;
        t = sl_val_type_find(t->base);
    }
}

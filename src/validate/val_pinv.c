/* val_pinv.c - the invariants a profile adds (ElementDefinition.
 * constraint with a FHIRPath expression), evaluated by the FHIRPath
 * engine on each value of the element. Constraints a profile's snapshot
 * repeats from R4 core (their source is a core StructureDefinition, or
 * their key is one of core's) are left to the base walk. An expression
 * that does not compile or fails to evaluate is a warning "could not be
 * checked", never a silent pass. */
#include "config.h"

#include <string.h>

#include "fhirpath/fhirpath.h"
#include "validate/val_profile.h"

static int
core_key(const char *key)
{
    size_t i;

    for (i = 0; i < sl_val_ncons; i++)
        if (strcmp(sl_val_conss[i].key, key) == 0)
            return 1;
    return 0;
}

void
sl_val_profile_invariants(const struct sl_validator *vr, const json_t *el,
                          const json_t *node,
                          const json_t *res, const char *pname,
                          const char *expr, struct sl_val_result *out)
{
    const json_t *c;
    size_t i;

    json_array_foreach(json_object_get(el, "constraint"), i, c) {
        const char *key = json_string_value(json_object_get(c, "key"));
        const char *x = json_string_value(json_object_get(c, "expression"));
        const char *src = json_string_value(json_object_get(c, "source"));
        const char *human = json_string_value(json_object_get(c, "human"));
        const char *sev = json_string_value(json_object_get(c, "severity"));
        struct sl_fp_expr *e = NULL;
        struct sl_fp_env env = {0};
        struct sl_err err = {0};
        int v = -1;

        if (key == NULL || x == NULL || core_key(key) ||
            (src && strncmp(src, "http://hl7.org/fhir/StructureDefinition/",
                            40) == 0 &&
             sl_val_type_find(src + 40) != NULL))
            continue;
        if (sl_fp_compile(x, &e, &err) != SL_OK) {
            sl_val_add(out, SL_SEV_WARNING, "not-supported", pname, expr,
                       "%s could not be checked: its FHIRPath expression "
                       "did not compile (%s)", key, err.msg);
            continue;
        }
        env.resource = (json_t *)res;
        env.root = (json_t *)res;
        env.member_of = sl_val_member_of;
        env.ud = (void *)vr;
        if (sl_fp_eval_bool(e, &env, (json_t *)node, &v, &err) != SL_OK)
            sl_val_add(out, SL_SEV_WARNING, "not-supported", pname, expr,
                       "%s could not be checked: %s", key, err.msg);
        else if (v == 0)
            sl_val_add(out,
                       sev && strcmp(sev, "error") == 0 ? SL_SEV_ERROR
                                                        : SL_SEV_WARNING,
                       "invariant", pname, expr, "%s: %s", key,
                       human ? human : "the profile's invariant fails");
        sl_fp_free(e);
    }
}

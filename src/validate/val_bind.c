/* val_bind.c - a profile's required and extensible bindings: the codes
 * of a code, Coding or CodeableConcept against the ValueSet, expanded
 * here from the loaded ValueSets and CodeSystems (compose.include of
 * concepts, of a whole complete CodeSystem, is-a / descendent-of filters,
 * included ValueSets, excludes) or taken from R4 core's expansions. A
 * ValueSet that cannot be expanded locally is asked of the terminology
 * server when the validator has one (sl_validator_set_terminology:
 * ValueSet/$validate-code through src/terminology's client and its
 * cache); without one, or when the server does not answer or does not
 * know the ValueSet, it gives a warning "could not check" naming the
 * ValueSet, never a silent pass. A code outside a required binding is an
 * error, outside an extensible one a warning. FHIRPath memberOf() of the
 * validator's invariants goes the same way (sl_val_member_of). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "validate/val_profile.h"

/* Adds the system|code lines of concepts to b: all of them (under
 * NULL), or those below the concept under (and under itself when self). */
static void
add_concepts(struct sl_buf *b, const char *system, const json_t *concepts,
             const char *under, int self, int depth)
{
    const json_t *c;
    size_t i;

    if (depth > 32)
        return;
    json_array_foreach(concepts, i, c) {
        const char *code = json_string_value(json_object_get(c, "code"));
        const json_t *below = json_object_get(c, "concept");
        if (code == NULL)
            continue;
        if (under == NULL) {
            sl_buf_addf(b, "\n%s|%s", system, code);
            add_concepts(b, system, below, NULL, 0, depth + 1);
        } else if (strcmp(code, under) == 0) {
            if (self)
                sl_buf_addf(b, "\n%s|%s", system, code);
            add_concepts(b, system, below, NULL, 0, depth + 1);
        } else {
            add_concepts(b, system, below, under, self, depth + 1);
        }
    }
}

/* "\nsystem|code" lines of a ValueSet's expansion into b; 0 when it
 * cannot be expanded here. */
static int
expand(const struct sl_validator *v, const char *url, struct sl_buf *b,
       int depth)
{
    const json_t *vs = sl_val_def_find(v, "ValueSet", url), *inc;
    size_t i, k;

    if (depth > 8)
        return 0;
    if (vs == NULL) {
        size_t ul = strcspn(url, "|");
        for (k = 0; k < sl_val_nvsets; k++)
            if (strlen(sl_val_vsets[k].url) == ul &&
                strncmp(sl_val_vsets[k].url, url, ul) == 0 &&
                sl_val_vsets[k].codes) {
                sl_buf_addf(b, "\n%s", sl_val_vsets[k].codes);
                return 1;
            }
        return 0;
    }
    json_array_foreach(json_object_get(json_object_get(vs, "compose"),
                                       "include"), i, inc) {
        const char *sys = json_string_value(json_object_get(inc, "system"));
        const json_t *concepts = json_object_get(inc, "concept"), *c, *vsu;
        const json_t *filter = json_object_get(inc, "filter");
        size_t j;
        json_array_foreach(json_object_get(inc, "valueSet"), j, vsu)
            if (!json_is_string(vsu) ||
                !expand(v, json_string_value(vsu), b, depth + 1))
                return 0;
        if (sys == NULL)
            continue;
        if (json_array_size(concepts) > 0) {
            json_array_foreach(concepts, j, c) {
                const char *code = json_string_value(json_object_get(c,
                                                                     "code"));
                if (code)
                    sl_buf_addf(b, "\n%s|%s", sys, code);
            }
            continue;
        }
        {
            const json_t *cs = sl_val_def_find(v, "CodeSystem", sys);
            const char *content = json_string_value(json_object_get(cs,
                                                                    "content"));
            const char *op = NULL, *val = NULL;
            if (cs == NULL || content == NULL ||
                strcmp(content, "complete") != 0)
                return 0;
            if (json_array_size(filter) > 1)
                return 0;
            if (json_array_size(filter) == 1) {
                const json_t *f = json_array_get(filter, 0);
                op = json_string_value(json_object_get(f, "op"));
                val = json_string_value(json_object_get(f, "value"));
                if (!op || !val ||
                    (strcmp(op, "is-a") != 0 &&
                     strcmp(op, "descendent-of") != 0))
                    return 0;
            }
            add_concepts(b, sys, json_object_get(cs, "concept"), val,
                         op == NULL || strcmp(op, "is-a") == 0, 0);
        }
    }
    return json_array_size(json_object_get(json_object_get(vs, "compose"),
                                           "exclude")) == 0;
}

static int
has(const struct sl_buf *b, const char *system, const char *code)
{
    const char *p = b->data;
    size_t cl = strlen(code);

    while (p && (p = strchr(p, '\n')) != NULL) {
        const char *e = strchr(p + 1, '\n'), *bar;
        size_t n = e ? (size_t)(e - p - 1) : strlen(p + 1);
        bar = memchr(p + 1, '|', n);
        if (bar && (size_t)(p + 1 + n - bar - 1) == cl &&
            memcmp(bar + 1, code, cl) == 0 &&
            (system == NULL || ((size_t)(bar - p - 1) == strlen(system) &&
                                memcmp(p + 1, system, strlen(system)) == 0)))
            return 1;
        p = p + 1;
    }
    return 0;
}

int
sl_val_member_of(void *ud, const char *system, const char *code,
                 const char *vs, int *is_member)
{
    const struct sl_validator *v = ud;
    struct sl_buf b;
    struct sl_err err = {0};
    int rc = SL_OK;

    if (v == NULL || code == NULL)
        return SL_ENOTFOUND;
    sl_buf_init(&b);
    if (expand(v, vs, &b, 0))
        *is_member = has(&b, system, code);
    else if (v->member != NULL)
        rc = v->member(v->member_ud, vs, system, code, is_member, &err);
    else
        rc = SL_ENOTFOUND;
    sl_buf_free(&b);
    return rc;
}

/* One (system, code) asked of the server: 1 in, 0 not, -1 no answer
 * (*why, the first reason, set when empty). */
static int
ask(const struct sl_validator *v, const char *url, const char *system,
    const char *code, char **why)
{
    struct sl_err err = {0};
    int m = 0;

    if (v->member(v->member_ud, url, system, code, &m, &err) == SL_OK)
        return m != 0;
    if (*why == NULL)
        *why = sl_strdup(err.msg[0] ? err.msg : "no answer");
    return -1;
}

/* val against the ValueSet url through the terminology server (key NULL:
 * the message has no element name before it). */
void
sl_val_binding_remote(const struct sl_validator *v, const json_t *val,
                      const char *url, const char *strength,
                      enum sl_severity sev, const char *key,
                      const char *pname, const char *expr,
                      struct sl_val_result *out)
{
    const json_t *c;
    size_t i, tried = 0, hit = 0, unknown = 0;
    char *why = NULL;
    int a;

    if (json_is_string(val)) {
        tried = 1;
        a = ask(v, url, NULL, json_string_value(val), &why);
        hit += a == 1;
        unknown += a < 0;
    } else if (json_is_object(val)) {
        const json_t *codings = json_object_get(val, "coding");
        const char *code = json_string_value(json_object_get(val, "code"));
        if (code && !codings) {
            tried = 1;
            a = ask(v, url,
                    json_string_value(json_object_get(val, "system")), code,
                    &why);
            hit += a == 1;
            unknown += a < 0;
        }
        json_array_foreach(codings, i, c) {
            code = json_string_value(json_object_get(c, "code"));
            if (!code)
                continue;
            tried++;
            a = ask(v, url, json_string_value(json_object_get(c, "system")),
                    code, &why);
            hit += a == 1;
            unknown += a < 0;
            if (a == 1)
                break;
        }
    }
    if (tried > 0 && hit == 0 && unknown > 0)
        sl_val_add(out, SL_SEV_WARNING, "not-supported", pname, expr,
                   "could not check the code against %s: the terminology "
                   "server gave no answer (%s)", url, why);
    else if (tried > 0 && hit == 0)
        sl_val_add(out, sev, "code-invalid", pname, expr,
                   "%s%sthe code is not in the %s ValueSet %s (the "
                   "terminology server says so): use one of its codes",
                   key ? key : "", key ? ": " : "", strength, url);
    free(why);
}

void
sl_val_binding(const struct sl_validator *v, const json_t *el,
               const json_t *val, const char *key, const char *pname,
               const char *expr, struct sl_val_result *out)
{
    const json_t *bind = json_object_get(el, "binding"), *c;
    const char *strength = json_string_value(json_object_get(bind,
                                                             "strength"));
    const char *url = json_string_value(json_object_get(bind, "valueSet"));
    enum sl_severity sev;
    struct sl_buf b;
    size_t i, tried = 0, hit = 0;
    int local;

    if (strength == NULL || url == NULL ||
        (strcmp(strength, "required") != 0 &&
         strcmp(strength, "extensible") != 0))
        return;
    sev = strength[0] == 'r' ? SL_SEV_ERROR : SL_SEV_WARNING;
    sl_buf_init(&b);
    local = expand(v, url, &b, 0);
    if (!local && v->member != NULL) {
        sl_val_binding_remote(v, val, url, strength, sev, key, pname, expr,
                              out);
        sl_buf_free(&b);
        return;
    }
    if (!local) {
        sl_val_add(out, SL_SEV_WARNING, "not-supported", pname, expr,
                   "could not check the code against %s: it cannot be "
                   "expanded locally (load its CodeSystem, or use a "
                   "terminology server)", url);
        sl_buf_free(&b);
        return;
    }
    if (json_is_string(val)) {
        tried = 1;
        hit = has(&b, NULL, json_string_value(val));
    } else if (json_is_object(val)) {
        const json_t *codings = json_object_get(val, "coding");
        if (json_object_get(val, "code") && !codings) {
            const char *sys = json_string_value(json_object_get(val,
                                                                "system"));
            const char *code = json_string_value(json_object_get(val,
                                                                 "code"));
            tried = code != NULL;
            hit = code && has(&b, sys, code);
        }
        json_array_foreach(codings, i, c) {
            const char *sys = json_string_value(json_object_get(c, "system"));
            const char *code = json_string_value(json_object_get(c, "code"));
            if (!code)
                continue;
            tried++;
            hit += has(&b, sys, code);
        }
    }
    if (tried > 0 && hit == 0)
        sl_val_add(out, sev, "code-invalid", pname, expr,
                   "%s: the code is not in the %s ValueSet %s: use one of "
                   "its codes", key, strength, url);
    sl_buf_free(&b);
}

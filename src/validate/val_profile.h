/* val_profile.h - the validator's state and profiles (validator.c,
 * val_profile.c). */
#ifndef SL_VAL_PROFILE_H
#define SL_VAL_PROFILE_H

#include <zlib.h>

#include "validate/validate_int.h"

struct sl_validator {
    json_t **defs; /* StructureDefinitions, ValueSets, CodeSystems loaded */
    size_t ndefs, capdefs;
    struct sl_strv profiles; /* URLs every resource is checked against */
    struct sl_strv type_profiles; /* from folders of profiles: URLs that
                                     apply to resources of their type */
    int unknown_ext_error; /* an unknown extension is an error */
    int security_checks;   /* HTML markup in strings is an error */
    int no_example_urls;   /* a URL of an example domain is an error */
    sl_val_member_fn member; /* the terminology server, or NULL */
    void *member_ud;
};

/* The loaded conformance resource of type rtype (NULL: any) with this
 * canonical URL, or NULL. Borrowed. With a "|version" suffix, the one of
 * that version (or of a release of it: |0.2 finds 0.2.1) when it is
 * loaded, else one of another version. */
const json_t *sl_val_def_find(const struct sl_validator *v, const char *rtype,
                              const char *url);
/* Checks a StructureDefinition enough to use it: kind, type, a snapshot
 * or a differential of elements with paths under its type. */
int sl_val_sd_check(const json_t *sd, const char *name, struct sl_err *err);
/* Gives the elements of sd that have none the id R4 would give them. */
void sl_val_sd_fill_ids(json_t *sd);
/* The .json members of a FHIR package read from gz (a tar). */
int sl_val_load_tgz_mem(struct sl_validator *v, gzFile gz, const char *name,
                        struct sl_err *err);
/* res against the profile url (unknown: a warning). */
void sl_val_profile_check(const struct sl_validator *v, const json_t *res,
                          const char *url, struct sl_val_result *out);

/* ---- what val_profile.c and val_slice.c share ---- */
/* Values found in a resource, each with its path. */
struct nodes {
    size_t n, cap;
    const json_t **v;
    char **expr;
};
void sl_valp_nodes_push(struct nodes *ns, const json_t *v, const char *expr);
void sl_valp_nodes_free(struct nodes *ns);
/* obj's member for path segment seg (sl bytes; "value[x]" matches
 * valueQuantity), its key in *key. */
const json_t *sl_valp_member(const json_t *obj, const char *seg, size_t sl,
                             const char **key);
/* The values at the dotted path rest below node (arrays flattened). */
void sl_valp_navigate(const json_t *node, const char *rest,
                      const char *expr, struct nodes *out);
/* Whether x (a resource or a value of a type) conforms to the profile
 * url (no error): 1 yes, 0 no, -1 the profile is not loaded. */
int sl_valp_conforms(const struct sl_validator *v, const json_t *x,
                     const char *url);
/* pat's members all in v (arrays: each item of pat matches one of v). */
int sl_valp_match(const json_t *pat, const json_t *v);
/* el's member "PREFIX[Type]" (fixedCode...), its key in *which. */
const json_t *sl_valp_prefixed(const json_t *el, const char *pre,
                               const char **which);
/* The element el of a profile checked on the values below roots, whose
 * path is root_path (in_slice: el is inside a slice, roots are the items
 * of that slice). */
void sl_valp_check_element(const struct sl_validator *v,
                      const struct nodes *roots, const char *root_path,
                           const json_t *el, int in_slice, const char *pname,
                           struct sl_val_result *out);
/* Slicing: els[i] has "slicing"; its slices are matched by their
 * discriminators, counted, closed and ordered rules checked, and the
 * elements inside each slice checked on the items it matched
 * (val_slice.c). */
void sl_val_slicing(const struct sl_validator *v,
               const struct nodes *roots, const char *root_path,
                    const json_t *els, size_t i, const char *pname,
                    struct sl_val_result *out);

/* val (a code, Coding or CodeableConcept at expr) against el's binding
 * (val_bind.c). */
void sl_val_binding(const struct sl_validator *v, const json_t *el,
                    const json_t *val, const char *key, const char *pname,
                    const char *expr, struct sl_val_result *out);
/* val (a code, Coding or CodeableConcept) against the ValueSet url through
 * v's terminology server (v->member set); key: the element's name in the
 * message, or NULL. */
void sl_val_binding_remote(const struct sl_validator *v, const json_t *val,
                           const char *url, const char *strength,
                           enum sl_severity sev, const char *key,
                           const char *pname, const char *expr,
                           struct sl_val_result *out);
/* FHIRPath memberOf() for the validator's invariants (ud: the validator):
 * the ValueSets of R4 core expanded in sluice, then the terminology
 * server when one is set (val_bind.c). */
int sl_val_member_of(void *ud, const char *system, const char *code,
                     const char *vs, int *is_member);

/* The invariants el adds (not core's) on node, a value of el at expr in
 * res (val_pinv.c). */
void sl_val_profile_invariants(const struct sl_validator *v,
                               const json_t *el, const json_t *node,
                               const json_t *res, const char *pname,
                               const char *expr, struct sl_val_result *out);

/* A QuestionnaireResponse against its Questionnaire (val_qr.c). */
void sl_val_qr_check(const struct sl_validator *v, const json_t *qr,
                     const char *expr, struct sl_val_result *out);

/* A narrative's XHTML (s, len bytes) at expr: allowed elements and
 * attributes, no active content (txt-1), some text (txt-2)
 * (val_xhtml.c). */
/* The HTML element (a static name) s holds a start tag of, or NULL
 * (--security-checks: markup in a string). */
const char *sl_val_html_tag(const char *s);
void sl_val_xhtml_check(const char *s, size_t len, const char *expr,
                        struct sl_val_result *out);
/* A profile's narrative controls on a narrative's div (s, len bytes):
 * lang_ctrl (narrative-language-control: "_no", "_yes", "_resource" with
 * res_lang the resource's language, or a language) and src_ctrl
 * (narrative-source-control: each part has a class boilerplate,
 * generated or original); either may be NULL (val_xhtml.c). */
void sl_val_xhtml_controls(const char *s, size_t len, const char *lang_ctrl,
                           const char *src_ctrl, const char *res_lang,
                           const char *pname, const char *expr,
                           struct sl_val_result *out);

#endif

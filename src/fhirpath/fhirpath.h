/* fhirpath.h - a FHIRPath (N1, as FHIR R4 uses it) engine over jansson
 * values: compile an expression once, evaluate it on many resources.
 *
 * For the validator (branch validate), the API is stable:
 *
 *   struct sl_fp_expr *e;
 *   struct sl_fp_env env = {.resource = res, .root = bundle_or_res};
 *   int v;
 *   if (sl_fp_compile("name.exists() or text.exists()", &e, &err) != SL_OK)
 *       ... err.msg names the position (1-based column) ...
 *   if (sl_fp_eval_bool(e, &env, focus, &v, &err) != SL_OK)
 *       ... the expression failed at run time (err.msg says why) ...
 *   v: 1 true, 0 false, -1 empty (an invariant holds unless v == 0)
 *   sl_fp_free(e);
 *
 * An element's invariant (ElementDefinition.constraint on a path below
 * the resource) is evaluated with the element as focus and its place in
 * env.focus_path ("Observation.referenceRange", or a type such as
 * "Quantity"), env.resource still the resource.
 *
 * An expression is immutable once compiled: several threads may evaluate
 * the same one at once. Nothing is copied from the resource into error
 * messages (they name the function, the operator and the position in the
 * expression, never a value).
 *
 * Types come from the R4 type table of src/fhir (fhir.h): navigation
 * knows choice elements (value resolves valueQuantity, valueString...),
 * primitives with extensions (_birthDate), contained and Bundle resources,
 * so that is, as and ofType work on FHIR types (Quantity, Age, string...)
 * and on System types (System.String, Integer...).
 */
#ifndef SL_FHIRPATH_FHIRPATH_H
#define SL_FHIRPATH_FHIRPATH_H

#include <stddef.h>

#include <jansson.h>

#include "common/common.h"

/* A compiled expression (opaque, immutable). */
struct sl_fp_expr;
/* A result collection (opaque). */
struct sl_fp_result;

/* What an expression sees beside its focus. Every member may be NULL. */
struct sl_fp_env {
    json_t *resource; /* %resource (NULL: the focus) */
    json_t *root;     /* %rootResource: the Bundle or container, for
                       * resolve() (NULL: %resource) */
    json_t *context;  /* %context (NULL: the focus) */
    /* When the focus is an element rather than a resource (an element's
     * invariant): where it is in the R4 type table, so that navigation
     * and ofType() know its children's types. Either its type
     * ("Quantity", "HumanName") or its element path
     * ("Observation.referenceRange", "Patient.contact"); for a choice
     * element, the type it has ("Quantity" for valueQuantity). NULL: untyped
     * (names still navigate; FHIR type tests on it are false). */
    const char *focus_path;
    /* And for a primitive focus, its "_name" sibling (id, extension). */
    json_t *focus_ext;
    /* memberOf(valueset): sets *is_member for code in system (system may
     * be NULL for a bare code). Returns SL_OK, or an error status when the
     * membership could not be checked (the evaluation then fails with that
     * status: "could not check" is never a silent pass). When NULL,
     * memberOf() fails with SL_ENOTFOUND. */
    int (*member_of)(void *ud, const char *system, const char *code,
                     const char *valueset, int *is_member);
    /* conformsTo(url) on resource: sets *conforms. Returns SL_OK or an
     * error status as member_of. When NULL, conformsTo() is true when
     * url is the base definition of the resource's type
     * (http://hl7.org/fhir/StructureDefinition/TYPE) or is listed in its
     * meta.profile, false otherwise. */
    int (*conforms_to)(void *ud, json_t *resource, const char *url,
                       int *conforms);
    void *ud;
};

/* Compiles text. On success *out owns the expression (free it with
 * sl_fp_free). On a syntax error returns SL_EPARSE and err says what was
 * expected and at which column. */
int sl_fp_compile(const char *text, struct sl_fp_expr **out,
                  struct sl_err *err);
/* The text the expression was compiled from. */
const char *sl_fp_text(const struct sl_fp_expr *e);
void sl_fp_free(struct sl_fp_expr *e); /* NULL-safe */

/* Evaluates e on focus (borrowed; it must outlive the result, whose items
 * may point into it). env may be NULL. On success *out owns the result
 * collection (free with sl_fp_result_free). A run-time error (a function
 * given the wrong kind of argument, a collection of several items where
 * one is needed, a failing callback) returns its status and err.msg. */
int sl_fp_eval(const struct sl_fp_expr *e, const struct sl_fp_env *env,
               json_t *focus, struct sl_fp_result **out, struct sl_err *err);
/* Evaluates e as a condition: *value is 1 (true), 0 (false) or -1 (the
 * empty collection). A single non-Boolean item counts as true (the spec's
 * singleton evaluation); several items are an error (SL_EPARSE). */
int sl_fp_eval_bool(const struct sl_fp_expr *e, const struct sl_fp_env *env,
                    json_t *focus, int *value, struct sl_err *err);

/* ---- results ------------------------------------------------------------ */
size_t sl_fp_result_count(const struct sl_fp_result *r);
/* Item i as JSON (a new reference; the caller json_decref's it): FHIR
 * elements as they are in the resource, System values as JSON booleans,
 * numbers and strings; dates, times and quantities as strings
 * ("2012-04", "5 'mg'"), the form the fhirpath npm library prints. */
json_t *sl_fp_result_json(const struct sl_fp_result *r, size_t i);
/* Item i as FHIRPath's toString() would give it, or NULL when it has no
 * string form (a complex element). The caller frees the string. */
char *sl_fp_result_string(const struct sl_fp_result *r, size_t i);
/* The type of item i: "FHIR.Quantity", "System.Integer"... (static). */
const char *sl_fp_result_type(const struct sl_fp_result *r, size_t i);
/* The whole collection as one line of JSON (an array), as `fhirpath`
 * (npm) prints it. The caller frees the string. */
char *sl_fp_result_dump(const struct sl_fp_result *r);
void sl_fp_result_free(struct sl_fp_result *r); /* NULL-safe */

/* Converts v from one UCUM unit to another with the engine's UCUM table
 * (the units "What it covers" in docs/validation.md lists): 0 and *out,
 * or -1 when a unit is not known there or the two are of different
 * dimensions. For the validator's limits of Quantity values. */
int sl_fp_ucum_convert(double v, const char *from, const char *to,
                       double *out);
/* A regular expression as FHIR writes them (\d \s \w, their negations,
 * escapes inside brackets, (?:) as the POSIX extended one regcomp() takes
 * (what matches() uses). The caller frees the string. */
char *sl_fp_regex_ere(const char *re);

#endif

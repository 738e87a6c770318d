/* validate.h - FHIR R4 validation of resources: the base specification
 * (elements, cardinality, primitive formats, choice types, contained
 * resources, Bundle rules, required bindings of core) and profiles
 * (StructureDefinitions loaded from files or IG packages). Findings say
 * what to change and where (an element path); they never hold a value
 * from the resource. Used by `sluice validate` and the <validate> stage
 * (src/pipeline/stage_validate.c); docs/validation.md. */
#ifndef SL_VALIDATE_H
#define SL_VALIDATE_H

#include <stddef.h>

#include <jansson.h>

#include "common/common.h"
#include "item/item.h"

struct sl_validator;

/* One finding. type is a FHIR IssueType code ("structure", "required",
 * "value", "invalid", "code-invalid", "not-found", "processing",
 * "invariant"); expr the element path (FHIRPath-like: Patient.name[0].
 * family); msg what to change; profile the name of what it was checked
 * against ("R4" for the base specification, else the profile's name or
 * URL). All strings are owned by the result. */
struct sl_val_issue {
    enum sl_severity sev;
    const char *type; /* static */
    char *expr;
    char *msg;
    char *profile;
};
struct sl_val_result {
    size_t n, cap;
    struct sl_val_issue *v;
};

/* A validator for R4 core. Safe to use from several threads at once once
 * loaded (sl_validate_resource only reads it). */
struct sl_validator *sl_validator_new(void);
void sl_validator_free(struct sl_validator *v); /* NULL-safe */
/* How an extension whose definition is not loaded is reported:
 * SL_SEV_WARNING (the default: a gateway must not quarantine local
 * extensions it was not told about) or SL_SEV_ERROR (HL7's reference
 * validator's policy; extensions of HL7's own namespace
 * http://hl7.org/fhir/StructureDefinition/, whose definitions sluice does
 * not ship, and of example domains stay warnings). Set before use. */
void sl_validator_set_unknown_extensions(struct sl_validator *v, int sev);
/* on: a string or markdown value holding HTML markup (a start tag of an
 * HTML element: <script>, <a href=...>) is an error, as HL7's reference
 * validator's security checks have it. Off by default. */
void sl_validator_set_security_checks(struct sl_validator *v, int on);
/* on: a uri, url or canonical value on an example domain (example.org,
 * example.com, example.net, acme.com: RFC 2606's and HL7's) is an error,
 * as HL7's reference validator has it when examples are not allowed.
 * Off by default. */
void sl_validator_set_no_example_urls(struct sl_validator *v, int on);
/* Membership of a code in a ValueSet that cannot be expanded from what is
 * loaded: asked of a terminology server (the <validate> stage passes one
 * to sl_term_client_validate_code). On SL_OK *member says whether (system
 * (may be NULL), code) is in the ValueSet of canonical url vs; any other
 * return: it could not be told (err says why, never the code). Must be
 * thread-safe. */
typedef int (*sl_val_member_fn)(void *ud, const char *vs, const char *system,
                                const char *code, int *member,
                                struct sl_err *err);
/* Required and extensible bindings and FHIRPath memberOf() whose ValueSet
 * is not expandable locally go to fn (ud borrowed); without one they give
 * "could not check" warnings. Set before use. */
void sl_validator_set_terminology(struct sl_validator *v, sl_val_member_fn fn,
                                  void *ud);
/* Loads an IG: a folder of JSON conformance resources (a FHIR package's
 * package/ folder or any folder), or a FHIR package .tgz. Its
 * StructureDefinitions, ValueSets and CodeSystems become known (profiles
 * by canonical URL). Errors name the file (and the member of a .tgz). */
int sl_validator_load_ig(struct sl_validator *v, const char *path,
                         struct sl_err *err);
/* Loads one conformance resource (StructureDefinition, ValueSet,
 * CodeSystem) from a JSON file. */
int sl_validator_load_file(struct sl_validator *v, const char *path,
                           struct sl_err *err);
/* Loads one conformance resource given as JSON (doc borrowed). name says
 * where it came from in errors. */
int sl_validator_load_json(struct sl_validator *v, const json_t *doc,
                           const char *name, struct sl_err *err);
/* Every resource is also checked against this profile (a canonical URL
 * of a loaded StructureDefinition, or a JSON or XML file holding one,
 * loaded then); or, given a folder, every profile in it (loaded as an IG)
 * is checked on the resources of its type. May be called several times.
 * In folders and packages, files that are not FHIR resources are
 * skipped; a file given by name must be one (SL_ENOTFOUND). */
int sl_validator_add_profile(struct sl_validator *v, const char *url_or_file,
                             struct sl_err *err);

/* Reads a FHIR resource in XML into its JSON form (*out, the caller's),
 * so that it can be validated as JSON is. Errors name the file and line. */
int sl_val_xml_read(const char *path, json_t **out, struct sl_err *err);

/* Validates res (borrowed) against R4, the profiles added and the
 * profiles its meta.profile names; findings are appended to out. */
void sl_validate_resource(const struct sl_validator *v, const json_t *res,
                          struct sl_val_result *out);
/* Number of findings of severity error. */
size_t sl_val_result_errors(const struct sl_val_result *r);
/* A new OperationOutcome holding one issue per finding (or one
 * information issue "no findings" when there are none). */
json_t *sl_val_result_outcome(const struct sl_val_result *r);
void sl_val_result_clear(struct sl_val_result *r);

#endif

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
};

/* The loaded conformance resource of type rtype (NULL: any) with this
 * canonical URL (a "|version" suffix ignored), or NULL. Borrowed. */
const json_t *sl_val_def_find(const struct sl_validator *v, const char *rtype,
                              const char *url);
/* Checks a StructureDefinition enough to use it: kind, type, a snapshot
 * or a differential of elements with paths under its type. */
int sl_val_sd_check(const json_t *sd, const char *name, struct sl_err *err);
/* The .json members of a FHIR package read from gz (a tar). */
int sl_val_load_tgz_mem(struct sl_validator *v, gzFile gz, const char *name,
                        struct sl_err *err);
/* res against the profile url (unknown: a warning). */
void sl_val_profile_check(const struct sl_validator *v, const json_t *res,
                          const char *url, struct sl_val_result *out);

/* A QuestionnaireResponse against its Questionnaire (val_qr.c). */
void sl_val_qr_check(const struct sl_validator *v, const json_t *qr,
                     const char *expr, struct sl_val_result *out);

#endif

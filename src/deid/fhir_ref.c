/* fhir_ref.c - references: what a reference string points to, and the
 * patient a resource belongs to (see fhir_int.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "deid/fhir_int.h"

/* The "Type/id" a reference string points to, or NULL (caller frees). */
static char *
ref_target(const struct sl_fhir_deid *d, const char *ref)
{
    const char *p, *seg[64];
    size_t nseg = 0, i;
    char *copy, *s, *res = NULL;

    if (strncmp(ref, "urn:uuid:", 9) == 0) {
        const struct fd_urn *u = fhir_map_get(&d->urns, ref);
        return u ? sl_strdup(u->ref) : NULL;
    }
    if (strchr(ref, '?') || ref[0] == '#')
        return NULL;
    copy = sl_strdup(ref);
    for (s = copy, p = copy; nseg < 64; s++) {
        if (*s == '/' || *s == '\0') {
            int end = *s == '\0';
            *s = '\0';
            seg[nseg++] = p;
            p = s + 1;
            if (end)
                break;
        }
    }
    for (i = nseg; i-- > 1;)
        if (sl_fhir_type_is_resource(seg[i - 1]) && seg[i][0] &&
            strcmp(seg[i], "_history") != 0) {
            res = FHIR_JOIN(seg[i - 1], "/", seg[i]);
            break;
        }
    free(copy);
    return res;
}

/* The "Encounter/id" that refs (the references of encounter and of
 * context, as in MedicationAdministration; NULL when absent) name, or NULL
 * (caller frees). */
char *
fhir_ref_encounter(const struct sl_fhir_deid *d, const char *const refs[2])
{
    size_t i;

    for (i = 0; i < 2; i++) {
        char *t;
        if (refs[i] == NULL || (t = ref_target(d, refs[i])) == NULL)
            continue;
        if (strncmp(t, "Encounter/", 10) == 0)
            return t;
        free(t);
    }
    return NULL;
}

/* The reference of subject, patient or beneficiary (prefs) as
 * "Patient/id"; else the patient of the Encounter that erefs name, as
 * learned in pass 1. */
char *
fhir_ref_patient(const struct sl_fhir_deid *d, const char *const prefs[3],
                 const char *const erefs[2])
{
    const struct fd_encounter *enc;
    char *eref;
    size_t i;

    for (i = 0; i < 3; i++) {
        char *t;
        if (prefs[i] == NULL || (t = ref_target(d, prefs[i])) == NULL)
            continue;
        if (strncmp(t, "Patient/", 8) == 0)
            return t;
        free(t);
    }
    if ((eref = fhir_ref_encounter(d, erefs)) == NULL)
        return NULL;
    enc = fhir_map_get(&d->encounters, eref);
    free(eref);
    return enc && enc->patient ? sl_strdup(enc->patient) : NULL;
}

/* The members that name a resource's patient, and its encounter. */
const char *const fhir_ref_pat_keys[3] = { "subject", "patient",
                                           "beneficiary" };
const char *const fhir_ref_enc_keys[2] = { "encounter", "context" };

/* fhir_ref_patient with the references of the jansson resource res. */
char *
fhir_ref_patient_json(const struct sl_fhir_deid *d, const json_t *res)
{
    const char *prefs[3], *erefs[2];
    size_t i;

    for (i = 0; i < 3; i++)
        prefs[i] =
            fhir_jstr(json_object_get(res, fhir_ref_pat_keys[i]), "reference");
    for (i = 0; i < 2; i++)
        erefs[i] =
            fhir_jstr(json_object_get(res, fhir_ref_enc_keys[i]), "reference");
    return fhir_ref_patient(d, prefs, erefs);
}

/* fuzz_validate_res.c - fuzz target for what the validator reads from a
 * resource itself (src/validate): the input is a resource (JSON) validated
 * against R4 with a Questionnaire and an extension definition loaded, so
 * that narratives (XHTML parsed with libxml2), QuestionnaireResponses
 * (enableWhen and its expressions, limits, attachments), extension
 * contexts, Bundles (links, documents) and primitives are all reached.
 * Checked: no crash, and every finding has a message and a profile. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "validate/validate.h"

static const char questionnaire[] =
    "{\"resourceType\":\"Questionnaire\",\"url\":\"http://example.org/Q\","
    "\"status\":\"active\",\"item\":[{\"linkId\":\"a\",\"type\":\"boolean\","
    "\"required\":true},{\"linkId\":\"b\",\"type\":\"quantity\","
    "\"required\":true,\"enableWhen\":[{\"question\":\"a\",\"operator\":"
    "\"=\",\"answerBoolean\":true}],\"extension\":[{\"url\":"
    "\"http://hl7.org/fhir/uv/sdc/StructureDefinition/"
    "sdc-questionnaire-maxQuantity\",\"valueQuantity\":{\"value\":3,"
    "\"system\":\"http://unitsofmeasure.org\",\"code\":\"kg\"}}]},"
    "{\"linkId\":\"c\",\"type\":\"attachment\",\"extension\":[{\"url\":"
    "\"http://hl7.org/fhir/StructureDefinition/maxSize\",\"valueDecimal\":"
    "10}]}]}";
static const char extension[] =
    "{\"resourceType\":\"StructureDefinition\",\"url\":"
    "\"http://example.org/ext\",\"name\":\"E\",\"status\":\"active\","
    "\"kind\":\"complex-type\",\"abstract\":false,\"type\":\"Extension\","
    "\"context\":[{\"type\":\"element\",\"expression\":\"Patient\"},"
    "{\"type\":\"fhirpath\",\"expression\":\"Observation.code\"}],"
    "\"contextInvariant\":[\"active.exists()\"],\"baseDefinition\":"
    "\"http://hl7.org/fhir/StructureDefinition/Extension\",\"derivation\":"
    "\"constraint\",\"differential\":{\"element\":[{\"id\":\"Extension\","
    "\"path\":\"Extension\"}]}}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sl_validator *v;
    struct sl_val_result r = { 0 };
    struct sl_err err = { 0 };
    json_t *res;
    size_t i;

    if (v == NULL) {
        json_t *q = json_loads(questionnaire, 0, NULL);
        json_t *e = json_loads(extension, 0, NULL);
        v = sl_validator_new();
        sl_validator_set_unknown_extensions(v, SL_SEV_ERROR);
        FUZZ_ASSERT(q && e);
        FUZZ_ASSERT(sl_validator_load_json(v, q, "q.json", &err) == SL_OK);
        FUZZ_ASSERT(sl_validator_load_json(v, e, "e.json", &err) == SL_OK);
        json_decref(q);
        json_decref(e);
    }
    res = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(res)) {
        json_decref(res);
        return 0;
    }
    sl_validate_resource(v, res, &r);
    FUZZ_ASSERT(sl_val_result_errors(&r) <= r.n);
    for (i = 0; i < r.n; i++)
        FUZZ_ASSERT(r.v[i].msg != NULL && r.v[i].profile != NULL);
    sl_val_result_clear(&r);
    json_decref(res);
    return 0;
}

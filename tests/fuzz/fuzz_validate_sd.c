/* fuzz_validate_sd.c - fuzz target for the validator's loaders
 * (src/validate/validator.c): the low bit of the first byte chooses the
 * form (0 a conformance resource or Bundle of them as JSON, 1 a FHIR
 * package: a tar, gzip'd or not), the rest is the file. Checked: a refused
 * input's error names the file; whatever was loaded, every loaded
 * StructureDefinition can be used as a profile and a Patient and an
 * Observation (one of them with a meta.profile of each) validate against
 * it without a crash, with findings that all have a message. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "validate/validate.h"

static const char patient[] =
    "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"active\":true,"
    "\"gender\":\"female\",\"birthDate\":\"1970-01-02\","
    "\"name\":[{\"family\":\"Doe\",\"given\":[\"Ann\"]}],"
    "\"extension\":[{\"url\":\"http://example.org/x\",\"valueString\":\"y\"}],"
    "\"identifier\":[{\"system\":\"urn:oid:1.2.3\",\"value\":\"1\"}]}";
static const char observation[] =
    "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":"
    "{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"1-8\"}]},"
    "\"component\":[{\"code\":{\"text\":\"a\"},\"valueQuantity\":"
    "{\"value\":1,\"unit\":\"mg\"}}],\"valueString\":\"x\"}";

static void
check(const struct sl_validator *v, json_t *res)
{
    struct sl_val_result r = {0};
    size_t i;

    sl_validate_resource(v, res, &r);
    FUZZ_ASSERT(sl_val_result_errors(&r) <= r.n);
    for (i = 0; i < r.n; i++)
        FUZZ_ASSERT(r.v[i].msg != NULL && r.v[i].profile != NULL);
    sl_val_result_clear(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_validator *v;
    struct sl_err err = {0};
    json_t *p, *o, *urls;
    char *path;
    int rc;

    if (size == 0)
        return 0;
    path = fuzz_util_write(data[0] & 1 ? "pkg.tgz" : "in.json", data + 1,
                           size - 1);
    v = sl_validator_new();
    rc = data[0] & 1 ? sl_validator_load_ig(v, path, &err)
                     : sl_validator_load_file(v, path, &err);
    if (rc != SL_OK)
        FUZZ_ASSERT(strstr(err.msg, path) != NULL);
    p = json_loads(patient, 0, NULL);
    o = json_loads(observation, 0, NULL);
    FUZZ_ASSERT(p != NULL && o != NULL);
    check(v, p);
    check(v, o);
    /* every StructureDefinition loaded, through meta.profile */
    urls = json_array();
    {
        json_t *sd = NULL;
        size_t n = 0;
        /* the loader keeps what it accepted; a JSON input is re-read to
         * name its profiles (parsing it again cannot fail differently) */
        if (!(data[0] & 1))
            sd = json_loadb((const char *)data + 1, size - 1, 0, NULL);
        if (json_is_object(sd) && json_is_string(json_object_get(sd, "url")))
            json_array_append(urls, json_object_get(sd, "url"));
        n = json_array_size(urls);
        json_decref(sd);
        if (n > 0) {
            json_object_set_new(p, "meta", json_pack("{sO}", "profile", urls));
            json_object_set_new(o, "meta", json_pack("{sO}", "profile", urls));
            check(v, p);
            check(v, o);
            if (rc == SL_OK &&
                sl_validator_add_profile(
                    v, json_string_value(json_array_get(urls, 0)), &err) ==
                    SL_OK) {
                check(v, p);
                check(v, o);
            }
        }
    }
    json_decref(urls);
    json_decref(p);
    json_decref(o);
    sl_validator_free(v);
    free(path);
    return 0;
}

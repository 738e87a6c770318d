/* fuzz_fhirpath.c - fuzz target for the FHIRPath engine (src/fhirpath):
 * the input's first line is an expression, the rest a resource (JSON); when
 * the rest is not a JSON object, a small built-in Patient is the focus.
 * Both the parser and the evaluator are fuzzed. Checked: a refused
 * expression says at which column; an accepted one evaluates to a result
 * whose dump is a JSON array of its count, or fails with a message; the
 * boolean form agrees with the collection form. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fhirpath/fhirpath.h"
#include "fuzz.h"

static const char patient[] =
    "{\"resourceType\":\"Patient\",\"id\":\"f\",\"active\":true,"
    "\"name\":[{\"family\":\"F\",\"given\":[\"A\",\"B\"]}],"
    "\"birthDate\":\"1970-01\",\"_birthDate\":{\"extension\":[{\"url\":\"u\","
    "\"valueInteger\":1}]},\"contained\":[{\"resourceType\":\"Organization\","
    "\"id\":\"o\"}],\"managingOrganization\":{\"reference\":\"#o\"},"
    "\"multipleBirthInteger\":2}";

static int
member_of(void *ud, const char *system, const char *code, const char *vs,
          int *is_member)
{
    (void)ud, (void)system, (void)vs;
    FUZZ_ASSERT(code != NULL);
    *is_member = code[0] == 'a';
    return code[0] == 'x' ? SL_ENET : SL_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    size_t elen = nl ? (size_t)(nl - (const char *)data) : size;
    char *text = malloc(elen + 1);
    struct sl_err err = {0};
    struct sl_fp_expr *e = NULL;
    struct sl_fp_result *r = NULL;
    struct sl_fp_env env = {0};
    json_t *res = NULL, *arr;
    char *dump;
    int rc, b;

    FUZZ_ASSERT(text != NULL);
    memcpy(text, data, elen);
    text[elen] = '\0';
    if (strlen(text) != elen) /* an embedded NUL: not an expression */
        goto out;
    if (nl != NULL)
        res = json_loadb(nl + 1, size - elen - 1, 0, NULL);
    if (!json_is_object(res)) {
        json_decref(res);
        res = json_loads(patient, 0, NULL);
    }
    if (sl_fp_compile(text, &e, &err) != SL_OK) {
        FUZZ_ASSERT(e == NULL);
        FUZZ_ASSERT(strstr(err.msg, "column ") != NULL);
        goto out;
    }
    FUZZ_ASSERT(strcmp(sl_fp_text(e), text) == 0);
    env.resource = res;
    env.member_of = member_of;
    rc = sl_fp_eval(e, &env, res, &r, &err);
    if (rc != SL_OK) {
        FUZZ_ASSERT(r == NULL && err.msg[0] != '\0');
        goto out;
    }
    dump = sl_fp_result_dump(r);
    arr = json_loads(dump, 0, NULL);
    FUZZ_ASSERT(json_is_array(arr));
    FUZZ_ASSERT(json_array_size(arr) == sl_fp_result_count(r));
    json_decref(arr);
    free(dump);
    for (size_t i = 0; i < sl_fp_result_count(r); i++) {
        json_t *j = sl_fp_result_json(r, i);
        FUZZ_ASSERT(j != NULL && sl_fp_result_type(r, i) != NULL);
        json_decref(j);
        free(sl_fp_result_string(r, i));
    }
    rc = sl_fp_eval_bool(e, &env, res, &b, &err);
    if (sl_fp_result_count(r) <= 1) {
        FUZZ_ASSERT(rc == SL_OK);
        FUZZ_ASSERT((b == -1) == (sl_fp_result_count(r) == 0));
    } else {
        FUZZ_ASSERT(rc != SL_OK);
    }
out:
    sl_fp_result_free(r);
    sl_fp_free(e);
    json_decref(res);
    free(text);
    return 0;
}

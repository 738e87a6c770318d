/* fuzz_deid_fhir.c - fuzz target for the FHIR de-identification engine:
 * the input is JSON (a resource or a Bundle); it is learned (pass 1) and
 * de-identified (pass 2) with the built-in basic profile, twice in a row
 * with the same engine, and nothing the engine returns may be other than
 * SL_OK, SL_EQUARANTINE or SL_EPARSE. sl_fhir_deid_resource_json, on a
 * copy, must agree with sl_fhir_deid_resource and write the same
 * document in the same order (reals in their shortest exact form). Built as tests/fuzz.mk builds every
 * target (the plain driver in `make check`, libFuzzer with
 * --enable-fuzzing; `make fuzz FUZZ_RUN=deid_fhir`); its seeds are in
 * tests/fuzz/corpus/deid_fhir, replayed by tests/integration/deid_fhir_fuzz.sh. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deid/fhir.h"
#include "fuzz.h"

static struct sl_keys *keys;
static struct sl_profile_chain *chain;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_fhir_deid *d = NULL;
    struct sl_err err;
    json_t *v;

    if (keys == NULL) {
        if (sl_keys_from_bytes("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", 32, &keys,
                               NULL) != SL_OK ||
            sl_profile_chain_load("basic", &chain, &err) != SL_OK)
            abort();
    }
    v = json_loadb((const char *)data, size, 0, NULL);
    if (v == NULL)
        return 0;
    if (sl_fhir_deid_new(chain, keys, &d, &err) != SL_OK)
        abort();
    if (sl_fhir_deid_learn(d, v, &err) == SL_OK) {
        json_t *w = json_deep_copy(v);
        struct sl_buf out;
        struct sl_err err2;
        int rc = sl_fhir_deid_resource(d, v, &err), rc2;
        FUZZ_ASSERT(rc == SL_OK || rc == SL_EQUARANTINE || rc == SL_EPARSE);
        sl_buf_init(&out);
        rc2 = sl_fhir_deid_resource_json(d, w, &out, &err2);
        FUZZ_ASSERT(rc2 == rc);
        if (rc == SL_OK) {
            /* the same document, in the same order: read back, it is
             * what jansson would write, reals aside (written as the
             * shortest form that reads back as the same double) */
            json_t *back = out.data ? json_loads(out.data, 0, NULL) : NULL;
            char *text = json_dumps(v, JSON_COMPACT);
            char *again = back ? json_dumps(back, JSON_COMPACT) : NULL;
            FUZZ_ASSERT(back != NULL && json_equal(back, v));
            FUZZ_ASSERT(text != NULL && again != NULL &&
                        strcmp(text, again) == 0);
            free(text);
            free(again);
            json_decref(back);
        } else if (rc == SL_EQUARANTINE)
            FUZZ_ASSERT(strcmp(err.msg, err2.msg) == 0);
        sl_buf_free(&out);
        json_decref(w);
        /* what came out goes in again: it must still be handled */
        rc = sl_fhir_deid_resource(d, v, &err);
        FUZZ_ASSERT(rc == SL_OK || rc == SL_EQUARANTINE || rc == SL_EPARSE);
    }
    sl_fhir_deid_free(d);
    json_decref(v);
    return 0;
}

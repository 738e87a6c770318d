/* fuzz_deid_fhir.c - libFuzzer target for the FHIR engine: the input is
 * JSON; it is learned (pass 1) and de-identified (pass 2) with the basic
 * profile, twice in a row with the same engine. Not built by make check:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 \
 *     -D_GNU_SOURCE -DSL_DATADIR='"/x"' -I. -Isrc \
 *     $(pkg-config --cflags libxml-2.0 jansson) tests/fuzz/fuzz_deid_fhir.c \
 *     src/deid/fhir.c src/deid/fhir_util.c src/deid/fhir_types.c \
 *     src/deid/profile.c src/keys/keys.c src/common/common.c \
 *     src/common/files.c src/common/log.c \
 *     $(pkg-config --libs jansson libxml-2.0 libcrypto) -lm -pthread \
 *     -o fuzz_deid_fhir
 *   SLUICE_PROFILE_DIR=profiles/deid ./fuzz_deid_fhir CORPUS/
 *
 * with CORPUS holding the inputs of tests/data/deid/fhir (one resource a
 * file) and a few `sluice synth` Bundles. The sources are compiled here,
 * not linked from the libraries, so that libFuzzer sees their coverage.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deid/fhir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
        (void)sl_fhir_deid_resource(d, v, &err);
        (void)sl_fhir_deid_resource(d, v, &err);
    }
    sl_fhir_deid_free(d);
    json_decref(v);
    return 0;
}

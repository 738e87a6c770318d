/* fuzz_store_bundle.c - fuzz target for the text writer of the fhir-store
 * target's Bundles (src/sinks/fhir_store_send.c): a resource's JSON text,
 * from any input, is copied into the Bundle with references to the
 * Bundle's entries rewritten to their urn:uuid fullUrls by a scan of the
 * text. The input, when it is a JSON object, is two entries'
 * (Patient/p1 and Observation/o1) text; the Bundle must parse, hold two
 * entries, and as a batch (nothing rewritten) give the input back. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sinks/fhir_store_int.h"

static void
one(enum store_mode mode, json_t *in, const char *text, size_t len)
{
    struct store s;
    struct entry e[2];
    json_t *b, *entries;
    char *out;
    size_t i;

    memset(&s, 0, sizeof(s));
    memset(e, 0, sizeof(e));
    s.mode = mode;
    e[0].ref = (char *)"Patient/p1";
    e[1].ref = (char *)"Observation/o1";
    for (i = 0; i < 2; i++) {
        e[i].res = in;
        e[i].text = text;
        e[i].text_len = len;
        store_full_url(e[i].ref, e[i].full_url);
    }
    out = store_bundle_text(&s, e, 0, 2);
    b = json_loads(out, 0, NULL);
    FUZZ_ASSERT(b != NULL);
    entries = json_object_get(b, "entry");
    FUZZ_ASSERT(json_array_size(entries) == 2);
    if (mode == MODE_BATCH)
        for (i = 0; i < 2; i++)
            FUZZ_ASSERT(json_equal(
                json_object_get(json_array_get(entries, i), "resource"), in));
    json_decref(b);
    free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *in = json_loadb((const char *)data, size, 0, NULL);

    /* the target only ever holds a parsed object's text */
    if (in != NULL && json_is_object(in)) {
        one(MODE_BATCH, in, (const char *)data, size);
        one(MODE_TRANSACTION, in, (const char *)data, size);
    }
    json_decref(in);
    return 0;
}

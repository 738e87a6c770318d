/* fuzz_term_reply.c - fuzz target for what the remote terminology client
 * reads from a server (src/terminology/term_client.c): a $translate reply,
 * as JSON text. Checked: a reply that is not a Parameters with a boolean
 * `result` and well-formed matches is refused; an accepted one gives at
 * most SL_TERM_MAX_MATCHES matches, translations first, each with a
 * system and (translations) a code, and "mapped" only when the server's
 * result said so. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "terminology/term_int.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_term_result r;
    json_t *norm = NULL;
    size_t i;
    int seen_non = 0;

    if (term_reply_translate((const char *)data, size, &r, &norm) != SL_OK) {
        FUZZ_ASSERT(norm == NULL);
        return 0;
    }
    FUZZ_ASSERT(r.outcome == SL_TERM_MAPPED || r.outcome == SL_TERM_UNMAPPED);
    FUZZ_ASSERT(r.n <= SL_TERM_MAX_MATCHES);
    for (i = 0; i < r.n; i++) {
        FUZZ_ASSERT(r.m[i].system != NULL);
        if (!sl_term_rel_is_match(r.m[i].rel)) {
            seen_non = 1;
        } else {
            FUZZ_ASSERT(!seen_non);
            FUZZ_ASSERT(r.m[i].code != NULL);
        }
    }
    json_decref(norm);
    return 0;
}

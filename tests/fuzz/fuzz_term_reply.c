/* fuzz_term_reply.c - fuzz target for what the remote terminology client
 * reads from a server (src/terminology/term_client.c): a $translate reply,
 * as JSON text; the same text is also read as a $lookup and a
 * $validate-code reply (term_reply_lookup, term_reply_validate). Checked: a reply that is not a Parameters with a boolean
 * `result` and well-formed matches is refused; an accepted one gives at
 * most SL_TERM_MAX_MATCHES matches, translations first, each with a
 * system and (translations) a code, and "mapped" only when the server's
 * result said so and there is a translation. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "terminology/term_int.h"

/* The same reply as the answer to $lookup and to $validate-code, with a
 * success and a refusal status: an answer has exactly the keys the
 * client reads, of their types. */
static void
lookup_validate(const uint8_t *data, size_t size)
{
    static const long statuses[] = { 200, 404, 500 };
    json_t *reply = json_loadb((const char *)data, size, 0, NULL);
    size_t i;

    for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        json_t *a = term_reply_lookup(reply, statuses[i]);
        json_t *d;

        if (a != NULL) {
            FUZZ_ASSERT(statuses[i] != 500);
            FUZZ_ASSERT(json_is_boolean(json_object_get(a, "found")));
            d = json_object_get(a, "display");
            FUZZ_ASSERT(d == NULL || json_is_string(d) ||
                        (json_is_null(d) &&
                         json_is_false(json_object_get(a, "found"))));
            json_decref(a);
        }
        a = term_reply_validate(reply, statuses[i]);
        if (a != NULL) {
            FUZZ_ASSERT(statuses[i] == 200);
            FUZZ_ASSERT(json_is_boolean(json_object_get(a, "result")));
            d = json_object_get(a, "message");
            FUZZ_ASSERT(d == NULL || json_is_string(d));
            json_decref(a);
        }
    }
    FUZZ_ASSERT(term_reply_lookup(NULL, 200) == NULL);
    FUZZ_ASSERT(term_reply_validate(NULL, 200) == NULL);
    json_decref(reply);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_term_result r;
    json_t *norm = NULL;
    size_t i;
    int seen_non = 0;

    lookup_validate(data, size);
    if (term_reply_translate((const char *)data, size, &r, &norm) != SL_OK) {
        FUZZ_ASSERT(norm == NULL);
        return 0;
    }
    FUZZ_ASSERT(r.outcome == SL_TERM_MAPPED || r.outcome == SL_TERM_UNMAPPED);
    FUZZ_ASSERT(r.n <= SL_TERM_MAX_MATCHES);
    /* mapped: there is a translation to write (a reply with result true
     * and no translation used to give mapped with none, and the
     * translate stage read a match that was never filled) */
    FUZZ_ASSERT(r.outcome != SL_TERM_MAPPED ||
                (r.n > 0 && sl_term_rel_is_match(r.m[0].rel)));
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

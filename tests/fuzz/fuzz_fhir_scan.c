/* fuzz_fhir_scan.c - fuzz target for the NDJSON line reader of
 * `sluice deid` (src/fhir/jtape.c), checked against jansson, whose
 * reading it must agree with: whenever sl_jtape_parse accepts the input,
 * json_loadb(..., JSON_REJECT_DUPLICATES) accepts it too, the jansson
 * document built from the tape is written out exactly as jansson's own,
 * and the tape made from jansson's document is the same tape (what pass 1
 * learns from); a decimal kept as written (1.50) has the same value, and
 * the tape of the document built from the tape keeps the same text. When the reader declines, jansson decides, so declining is
 * always allowed. Built as tests/fuzz.mk builds every target; its seeds are
 * in tests/fuzz/corpus/fhir_scan, replayed by
 * tests/integration/fhir_scan_fuzz.sh. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/jtape.h"
#include "fuzz.h"

static void
same_tape(const struct sl_jtape *a, const struct sl_jtape *b)
{
    size_t i;

    FUZZ_ASSERT(a->len == b->len);
    for (i = 1; i < a->len; i++) {
        const struct sl_jt_node *x = &a->n[i], *y = &b->n[i];
        FUZZ_ASSERT(x->type == y->type && x->end == y->end);
        if (x->type == SL_JT_REAL) {
            double dx = sl_jt_real(a, i), dy = sl_jt_real(b, i);
            FUZZ_ASSERT(memcmp(&dx, &dy, sizeof(double)) == 0);
            FUZZ_ASSERT(y->len == 0 || (x->len == y->len &&
                                        memcmp(x->v.s, y->v.s, x->len) == 0));
            continue;
        }
        FUZZ_ASSERT(x->len == y->len);
        if (x->type == SL_JT_STRING) {
            FUZZ_ASSERT(memcmp(x->v.s, y->v.s, x->len) == 0);
            FUZZ_ASSERT(x->v.s[x->len] == '\0' && strlen(x->v.s) == x->len);
        } else if (x->type == SL_JT_INTEGER)
            FUZZ_ASSERT(x->v.i == y->v.i);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_jtape t = { 0 }, t2 = { 0 };
    char *text = malloc(size + 1);
    json_t *j;
    int ok;

    if (text == NULL)
        abort();
    memcpy(text, data, size);
    ok = sl_jtape_parse(&t, text, size);
    j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (ok) {
        json_t *b = sl_jtape_to_json(&t, SL_JT_ROOT);
        char *dj, *db;

        FUZZ_ASSERT(j != NULL && b != NULL);
        dj = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        db = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
        FUZZ_ASSERT(dj != NULL && db != NULL && strcmp(dj, db) == 0);
        FUZZ_ASSERT(sl_jtape_from_json(&t2, j));
        same_tape(&t, &t2);
        sl_jtape_free(&t2);
        /* the document from the tape keeps every kept decimal's text */
        FUZZ_ASSERT(sl_jtape_from_json(&t2, b));
        same_tape(&t2, &t);
        same_tape(&t, &t2);
        free(dj);
        free(db);
        json_decref(b);
    }
    json_decref(j);
    sl_jtape_free(&t);
    sl_jtape_free(&t2);
    free(text);
    return 0;
}

/* fuzz_text_detect.c - fuzz target of the free-text detectors
 * (src/deid/text_detect.c, text_date.c, text_names.c) and the FHIR
 * scrubber around them (src/deid/fhir_scrub.c), on any bytes: the spans
 * are in order, inside the input and not empty, even when the input is
 * not NUL-terminated; every date span can be written again moved or
 * reduced to the year (a year of four digits); the scrubber runs on
 * any NUL-free input, and its output is scanned again, without a memory
 * error (run it under ASan and UBSan). Built as tests/fuzz.mk
 * builds every target; its seeds are in tests/fuzz/corpus/text_detect,
 * replayed by tests/integration/text_detect_fuzz.sh. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deid/fhir_int.h"
#include "deid/text_detect.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_text_spans sp = { 0 };
    struct sl_fhir_vset v = { 0 };
    struct fhir_scrub x = { &v, NULL, NULL };
    char *exact = malloc(size ? size : 1), *text;
    size_t k, prev = 0;

    if (exact == NULL)
        abort();
    /* exactly size bytes: the detectors must not read past len */
    memcpy(exact, data, size);
    sl_text_detect(exact, size, &sp);
    for (k = 0; k < sp.n; k++) {
        const struct sl_text_span *s = &sp.v[k];
        FUZZ_ASSERT(s->start >= prev && s->start < s->end && s->end <= size);
        FUZZ_ASSERT(s->kind >= 0 && s->kind < SL_TEXT_NKINDS);
        prev = s->end;
        if (s->kind == SL_TEXT_DATE) {
            struct sl_buf b;
            sl_buf_init(&b);
            if (sl_text_date_write(s, -365, 0, &b))
                FUZZ_ASSERT(b.len > 0);
            sl_buf_reset(&b);
            if (sl_text_date_write(s, 0, 1, &b))
                FUZZ_ASSERT(b.len == 4);
            sl_buf_free(&b);
        }
    }
    sl_text_spans_free(&sp);
    free(exact);
    if (size > 4096 || memchr(data, 0, size) != NULL)
        return 0;
    text = malloc(size + 1);
    if (text == NULL)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    {
        char *out = fhir_scrub_text(&x, text);
        struct sl_text_spans again = { 0 };
        if (out != NULL) {
            sl_text_detect(out, strlen(out), &again);
            sl_text_spans_free(&again);
            free(out);
        }
    }
    free(text);
    return 0;
}

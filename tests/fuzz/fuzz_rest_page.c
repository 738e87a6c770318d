/* fuzz_rest_page.c - fuzz target of the fhir-rest source's page reader
 * (src/sources/fhir_rest_page.c): one input is the body of one search
 * reply, as a server (or anything between it and sluice) sent it. Its
 * first line is also tried as a FHIR instant. See docs/fuzzing.md. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "fuzz.h"
#include "sources/fhir_rest_int.h"

/* The reader's messages start with one of these and quote nothing of the
 * input but a resource type name (letters only) or a Bundle type. */
static int
known_why(const char *why)
{
    static const char *const starts[] = {
        "malformed JSON at line ",     "not a Bundle (",
        "a Bundle of type ",           "Bundle.entry is not an array",
        "Bundle.link is not an array", "the next link has no url",
    };
    size_t i;

    for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++)
        if (strncmp(why, starts[i], strlen(starts[i])) == 0)
            return 1;
    return 0;
}

static void
instant(const uint8_t *data, size_t size)
{
    size_t n = 0;
    char line[64], out[40];
    int64_t ms, again;

    while (n < size && n < sizeof(line) - 1 && data[n] != '\n')
        n++;
    memcpy(line, data, n);
    line[n] = '\0';
    if (sl_rest_instant_ms(line, &ms) != 0)
        return;
    /* what is accepted can be written and read back to the same time */
    sl_rest_instant_format(ms, out, sizeof(out));
    FUZZ_ASSERT(sl_rest_instant_ms(out, &again) == 0);
    FUZZ_ASSERT(again == ms);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_rest_page page;
    char why[200];
    size_t i;
    json_t *e;

    instant(data, size);
    {
        /* the quick look for the next link never reads past the input */
        char *nx = sl_rest_page_next_scan((const char *)data, size);
        FUZZ_ASSERT(nx == NULL || nx[0] != '\0');
        free(nx);
    }
    why[0] = '\0';
    if (sl_rest_page_parse((const char *)data, size, &page, why, sizeof(why)) !=
        0) {
        FUZZ_ASSERT(page.doc == NULL && page.next == NULL);
        FUZZ_ASSERT(known_why(why));
        return 0;
    }
    FUZZ_ASSERT(json_is_object(page.doc));
    FUZZ_ASSERT(page.entries == NULL || json_is_array(page.entries));
    FUZZ_ASSERT(page.next == NULL || page.next[0] != '\0');
    json_array_foreach(page.entries, i, e)
    {
        json_t *res = NULL;
        char mode = 0, ewhy[128];
        ewhy[0] = '\0';
        if (sl_rest_page_entry(e, &res, &mode, ewhy, sizeof(ewhy)) == 0) {
            FUZZ_ASSERT(json_is_object(res));
            FUZZ_ASSERT(
                json_string_length(json_object_get(res, "resourceType")) > 0);
            FUZZ_ASSERT(mode == 'm' || mode == 'i' || mode == 'o');
        } else {
            FUZZ_ASSERT(strcmp(ewhy, "the entry has no resource") == 0 ||
                        strcmp(ewhy, "not a FHIR resource: no resourceType") ==
                            0);
        }
    }
    sl_rest_page_clear(&page);
    sl_rest_page_clear(&page); /* reusable, and NULL-safe */
    return 0;
}

/* fuzz_term_map.c - fuzz target for the terminology map loaders
 * (src/terminology/term_load.c): the low bit of the first byte chooses the
 * form (0 ConceptMap JSON, 1 CSV), the rest is the map, parsed as
 * sl_term_map_load parses a file. Checked: a refused map leaves nothing
 * and names the file first; an accepted one has a name and a group, and
 * $translate over it keeps its promises (matches bounded, translations
 * first, "mapped" only with a translation). */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "terminology/terminology.h"

static void
check_translate(const struct sl_term_set *s, const struct sl_term_map *m,
                const char *system, const char *code)
{
    struct sl_term_result r;
    size_t i, first_non = 0;
    int seen_non = 0;

    sl_term_translate(s, m, system, NULL, code, NULL, &r);
    FUZZ_ASSERT(r.n <= SL_TERM_MAX_MATCHES);
    for (i = 0; i < r.n; i++) {
        FUZZ_ASSERT(r.m[i].system != NULL && r.m[i].map != NULL);
        if (!sl_term_rel_is_match(r.m[i].rel)) {
            if (!seen_non)
                first_non = i;
            seen_non = 1;
        } else {
            FUZZ_ASSERT(!seen_non); /* translations first */
            FUZZ_ASSERT(r.m[i].code != NULL);
        }
    }
    FUZZ_ASSERT((r.outcome == SL_TERM_MAPPED) ==
                (r.n > 0 && (!seen_non || first_non > 0)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char name[] = "fuzz-map";
    static const char *const systems[] = {
        "http://hospital.example.org/lab-codes", "http://example.org/cs-a",
        "http://loinc.org",
    };
    static const char *const codes[] = {"X", "K-SER", "A", ""};
    struct sl_term_map *m = NULL;
    struct sl_term_set *s;
    struct sl_err err = {0};
    size_t i, k;
    int rc;

    if (size == 0)
        return 0;
    rc = sl_term_map_parse(name, (const char *)data + 1, size - 1,
                           data[0] & 1, &m, &err);
    if (rc != SL_OK) {
        FUZZ_ASSERT(m == NULL);
        FUZZ_ASSERT(strncmp(err.msg, name, sizeof(name) - 1) == 0);
        return 0;
    }
    FUZZ_ASSERT(m != NULL && sl_term_map_name(m) != NULL);
    FUZZ_ASSERT(sl_term_map_ngroups(m) > 0);
    s = sl_term_set_new();
    FUZZ_ASSERT(sl_term_set_add(s, m, &err) == SL_OK);
    (void)sl_term_set_check(s, &err); /* other-map to itself or nothing */
    for (i = 0; i < sizeof(systems) / sizeof(systems[0]); i++)
        for (k = 0; k < sizeof(codes) / sizeof(codes[0]); k++)
            check_translate(s, m, systems[i], codes[k]);
    sl_term_set_free(s);
    return 0;
}

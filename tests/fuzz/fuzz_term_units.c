/* fuzz_term_units.c - fuzz target for the unit conversion tables
 * (src/terminology/term_units.c, term_dec.c): the input is a table, parsed
 * as sl_term_units_load parses a file, then applied to a few glucose
 * Observations. Checked: a refused table leaves nothing and its message
 * names the file first; an accepted one converts without a crash and
 * every converted Quantity has the UCUM system. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "terminology/terminology.h"

static void
apply(const struct sl_term_units *u, const char *unit, double v)
{
    json_t *obs = json_pack(
        "{ss s{s[{ssss}]} s{sf ss ss ss}}", "resourceType", "Observation",
        "code", "coding", "system", "http://loinc.org", "code", "2339-0",
        "valueQuantity", "value", v, "unit", unit, "system",
        "http://unitsofmeasure.org", "code", unit);
    int changed = 0;

    sl_term_units_apply(u, obs, 1, NULL, NULL, &changed);
    if (changed)
        FUZZ_ASSERT(strcmp(json_string_value(json_object_get(
                               json_object_get(obs, "valueQuantity"),
                               "system")),
                           "http://unitsofmeasure.org") == 0);
    json_decref(obs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_term_units *u = NULL;
    struct sl_err err = {0};

    if (sl_term_units_parse("fuzz-units", (const char *)data, size, &u,
                            &err) != SL_OK) {
        FUZZ_ASSERT(u == NULL);
        FUZZ_ASSERT(strncmp(err.msg, "fuzz-units", 10) == 0);
        return 0;
    }
    apply(u, "mg/dL", 95);
    apply(u, "mg/dL", 1e300);
    apply(u, "mmol/L", -0.000123);
    sl_term_units_free(u);
    return 0;
}

/* test_units.c - data-driven tests of Quantity unit normalisation
 * (src/terminology/term_units.c, term_dec.c): every case of
 * tests/data/terminology/units.json is one TAP line.
 *   decimal: value, factor -> the exact decimal result (or refused)
 *   bad:     a broken table -> the error naming its line
 *   apply:   a table, a resource -> the resource after and the
 *            Quantities reported
 *   time:    a dateTime -> the same instant in UTC, or left */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "terminology/term_int.h"

static const char *
s_of(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void
case_decimal(void **state)
{
    const json_t *c = *state;
    char out[64];
    int rc = term_dec_convert(s_of(c, "value"), s_of(c, "factor"), out,
                              sizeof(out));

    if (s_of(c, "out") == NULL) {
        assert_int_equal(rc, -1);
    } else {
        assert_int_equal(rc, 0);
        assert_string_equal(out, s_of(c, "out"));
    }
}

static void
case_bad(void **state)
{
    const json_t *c = *state;
    const char *t = s_of(c, "table");
    struct sl_term_units *u = NULL;
    struct sl_err err = {0};

    assert_int_equal(sl_term_units_parse("t.csv", t, strlen(t), &u, &err),
                     SL_ECONFIG);
    assert_null(u);
    assert_string_equal(err.msg, s_of(c, "error"));
}

static void
collect(void *arg, const char *table, int ok, const char *where)
{
    json_array_append_new(arg, json_sprintf("%s %s %s", table,
                                            ok ? "converted"
                                               : "not-converted",
                                            where));
}

static void
case_apply(void **state)
{
    const json_t *c = *state;
    struct sl_term_units *u = NULL;
    struct sl_err err = {0};
    json_t *res = json_deep_copy(json_object_get(c, "in"));
    json_t *reports = json_array();
    int changed = 0;

    if (sl_term_units_load(s_of(c, "table"), &u, &err) != SL_OK)
        fail_msg("%s", err.msg);
    sl_term_units_apply(u, res,
                        json_is_true(json_object_get(c, "keep_original")),
                        collect, reports, &changed);
    if (!json_equal(res, json_object_get(c, "out"))) {
        char *got = json_dumps(res, JSON_COMPACT);
        fail_msg("got %s", got);
    }
    assert_int_equal(changed, !json_equal(json_object_get(c, "in"),
                                          json_object_get(c, "out")));
    if (!json_equal(reports, json_object_get(c, "reports"))) {
        char *got = json_dumps(reports, JSON_COMPACT);
        fail_msg("reports %s", got);
    }
    json_decref(reports);
    json_decref(res);
    sl_term_units_free(u);
}

static void
case_time(void **state)
{
    const json_t *c = *state;
    char out[64];
    int rc = sl_term_time_utc(s_of(c, "value"), out, sizeof(out));

    if (s_of(c, "out") == NULL) {
        assert_int_equal(rc, -1);
    } else {
        assert_int_equal(rc, json_object_get(c, "rc") ? 0 : 1);
        assert_string_equal(out, s_of(c, "out"));
    }
}

int
main(void)
{
    const char *src = getenv("top_srcdir");
    const char *kinds[] = {"decimal", "bad", "apply", "time"};
    void (*fns[])(void **) = {case_decimal, case_bad, case_apply, case_time};
    struct CMUnitTest *tests;
    json_error_t je;
    json_t *all, *c;
    char *p;
    size_t n = 0, k, i;
    int rc;

    p = sl_asprintf("%s/tests/data/terminology/units.json", src ? src : ".");
    all = json_load_file(p, 0, &je);
    if (all == NULL) {
        fprintf(stderr, "%s:%d: %s\n", p, je.line, je.text);
        return 1;
    }
    setenv("SLUICE_TERMINOLOGY_DIR", "", 1); /* the source tree's tables */
    tests = calloc(128, sizeof(*tests));
    for (k = 0; k < 4; k++)
        json_array_foreach(json_object_get(all, kinds[k]), i, c)
        {
            if (n == 127)
                break;
            tests[n].name = s_of(c, "name");
            tests[n].test_func = fns[k];
            tests[n].initial_state = c;
            n++;
        }
    rc = _cmocka_run_group_tests("units", tests, n, NULL, NULL);
    free(tests);
    json_decref(all);
    free(p);
    return rc;
}

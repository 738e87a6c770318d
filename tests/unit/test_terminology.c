/* test_terminology.c - data-driven tests of the terminology module: every
 * case of tests/data/terminology/translate.json is one TAP line.
 *   translate: a map set, one coding -> outcome and matches ($translate)
 *   bad:       a broken map -> the error it must give (file and line or
 *              element path)
 *   apply:     a resource, a policy -> the resource after, or the reason
 *              it is quarantined, and the codings reported */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "terminology/terminology.h"

static char *data_dir;

static const char *
s_of(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static struct sl_term_set *
load_set(const json_t *c)
{
    struct sl_term_set *s = sl_term_set_new();
    struct sl_err err = {0};
    const json_t *m;
    size_t i;

    json_array_foreach(json_object_get(c, "maps"), i, m)
    {
        const char *n = json_string_value(m);
        char *p = strchr(n, '.') ? sl_asprintf("%s/maps/%s", data_dir, n)
                                 : sl_strdup(n); /* a shipped map */
        int rc = sl_term_set_load(s, p, &err);
        if (rc != SL_OK)
            fail_msg("%s", err.msg);
        free(p);
    }
    assert_int_equal(sl_term_set_check(s, &err), SL_OK);
    return s;
}

static void
case_translate(void **state)
{
    const json_t *c = *state, *e;
    struct sl_term_set *s = load_set(c);
    struct sl_term_result r;
    const char *outcome[] = {"out-of-scope", "mapped", "unmapped"};
    size_t i;

    sl_term_translate(s, sl_term_set_map(s, 0), s_of(c, "system"),
                      s_of(c, "version"), s_of(c, "code"), s_of(c, "target"),
                      &r);
    assert_string_equal(outcome[r.outcome], s_of(c, "outcome"));
    assert_int_equal(r.n, json_array_size(json_object_get(c, "matches")));
    json_array_foreach(json_object_get(c, "matches"), i, e)
    {
        char *got = sl_asprintf("%s|%s|%s", r.m[i].system,
                                r.m[i].code ? r.m[i].code : "",
                                sl_term_rel_name(r.m[i].rel));
        assert_string_equal(got, json_string_value(e));
        free(got);
    }
    if (s_of(c, "display"))
        assert_string_equal(r.m[0].display, s_of(c, "display"));
    if (s_of(c, "target_version"))
        assert_string_equal(r.m[0].version, s_of(c, "target_version"));
    sl_term_set_free(s);
}

static void
case_bad(void **state)
{
    const json_t *c = *state;
    struct sl_term_map *m = NULL;
    struct sl_err err = {0};
    char *p = sl_asprintf("%s/bad/%s", data_dir, s_of(c, "file"));
    const char *want = s_of(c, "error"), *at;

    assert_int_equal(sl_term_map_load(p, &m, &err), SL_ECONFIG);
    assert_null(m);
    /* the message starts with the file's path, then says where and why */
    at = strstr(err.msg, want);
    if (at == NULL)
        fail_msg("got: %s\nwant: %s", err.msg, want);
    assert_true(strncmp(err.msg, p, strlen(p)) == 0);
    free(p);
}

static void
collect(void *arg, const char *map, int mapped, const char *where)
{
    json_array_append_new(arg, json_sprintf("%s %s %s", map,
                                            mapped ? "mapped" : "unmapped",
                                            where));
}

static void
case_apply(void **state)
{
    const json_t *c = *state, *e;
    struct sl_term_set *s = load_set(c);
    json_t *res = json_deep_copy(json_object_get(c, "in"));
    json_t *reports = json_array();
    const char *els[8] = {0};
    struct sl_term_apply a = {0};
    struct sl_err err = {0};
    size_t i;
    int changed = 0, rc;

    a.set = s;
    a.policy = strcmp(s_of(c, "policy"), "replace") == 0 ? SL_TERM_REPLACE
                                                         : SL_TERM_ADD;
    a.unmapped = strcmp(s_of(c, "unmapped"), "drop") == 0 ? SL_TERM_DROP
                 : strcmp(s_of(c, "unmapped"), "quarantine") == 0
                     ? SL_TERM_QUARANTINE
                     : SL_TERM_KEEP;
    json_array_foreach(json_object_get(c, "elements"), i, e)
        els[i] = json_string_value(e);
    a.elements = els[0] ? els : NULL;
    a.report = collect;
    a.arg = reports;
    rc = sl_term_apply_resource(&a, res, &changed, &err);
    if (s_of(c, "quarantine")) {
        assert_int_equal(rc, SL_EQUARANTINE);
        assert_string_equal(err.msg, s_of(c, "quarantine"));
    } else {
        assert_int_equal(rc, SL_OK);
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
    }
    json_decref(reports);
    json_decref(res);
    sl_term_set_free(s);
}

static void
element_paths(void **state)
{
    struct sl_err err = {0};

    (void)state;
    assert_int_equal(sl_term_element_check("Observation.code", &err), SL_OK);
    assert_int_equal(sl_term_element_check("observation.code", &err),
                     SL_ECONFIG);
    assert_int_equal(sl_term_element_check("Observation", &err), SL_ECONFIG);
    assert_int_equal(sl_term_element_check("Observation..code", &err),
                     SL_ECONFIG);
    assert_int_equal(sl_term_element_check("Observation.code[0]", &err),
                     SL_ECONFIG);
}

/* other-map naming a map the run does not have is refused up front */
static void
other_map_missing(void **state)
{
    struct sl_term_set *s = sl_term_set_new();
    struct sl_err err = {0};
    char *p = sl_asprintf("%s/maps/chain.json", data_dir);

    (void)state;
    assert_int_equal(sl_term_set_load(s, p, &err), SL_OK);
    assert_int_equal(sl_term_set_check(s, &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "map chain: group[0].unmapped.url: no map "
                                    "of this run has the url http://example."
                                    "org/fhir/ConceptMap/chain-b"));
    /* the same map twice: the report could not tell them apart */
    assert_int_equal(sl_term_set_load(s, p, &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "two maps are named chain"));
    sl_term_set_free(s);
    free(p);
}

/* the prefilter of text an earlier stage wrote: never a false "no" */
static void
may_apply(void **state)
{
    struct sl_term_set *s = sl_term_set_new();
    struct sl_err err = {0};
    const char *none = "{\"resourceType\":\"Patient\",\"id\":\"p\"}";
    const char *some = "{\"code\":{\"coding\":[{\"system\":"
                       "\"http://hospital.example.org/lab-codes\"}]}}";
    const char *esc = "{\"system\":\"http:\\/\\/hospital.example.org"
                      "\\/lab-codes\"}";
    const char *uesc = "{\"system\":\"http\\u003a//hospital.example.org"
                       "/lab-codes\"}";
    const char *quote = "{\"resourceType\":\"Patient\",\"id\":\"p\\\"q\\\\\"}";

    (void)state;
    assert_int_equal(sl_term_set_load(s, "lab-local-to-loinc", &err), SL_OK);
    assert_false(sl_term_set_may_apply(s, none, strlen(none)));
    assert_true(sl_term_set_may_apply(s, some, strlen(some)));
    assert_true(sl_term_set_may_apply(s, esc, strlen(esc)));
    assert_true(sl_term_set_may_apply(s, uesc, strlen(uesc)));
    /* other escapes cannot hide a system: no need to parse */
    assert_false(sl_term_set_may_apply(s, quote, strlen(quote)));
    sl_term_set_free(s);
}

int
main(void)
{
    const char *src = getenv("top_srcdir");
    const char *kinds[] = {"translate", "bad", "apply"};
    void (*fns[])(void **) = {case_translate, case_bad, case_apply};
    struct CMUnitTest *tests;
    json_error_t je;
    json_t *all, *c;
    char *p;
    size_t n = 0, k, i;
    int rc;

    data_dir = sl_asprintf("%s/tests/data/terminology", src ? src : ".");
    p = sl_asprintf("%s/translate.json", data_dir);
    all = json_load_file(p, 0, &je);
    if (all == NULL) {
        fprintf(stderr, "%s:%d: %s\n", p, je.line, je.text);
        return 1;
    }
    setenv("SLUICE_TERMINOLOGY_DIR", "", 1); /* the source tree's maps */
    tests = calloc(128, sizeof(*tests));
    for (k = 0; k < 3; k++)
        json_array_foreach(json_object_get(all, kinds[k]), i, c)
        {
            if (n == 126)
                break;
            tests[n].name = s_of(c, "name") ? s_of(c, "name") : s_of(c, "file");
            tests[n].test_func = fns[k];
            tests[n].initial_state = c;
            n++;
        }
    tests[n].name = "element paths";
    tests[n++].test_func = element_paths;
    tests[n].name = "other-map and names checked in a set";
    tests[n++].test_func = other_map_missing;
    tests[n].name = "text naming no mapped system is skipped, no other";
    tests[n++].test_func = may_apply;
    rc = _cmocka_run_group_tests("terminology", tests, n, NULL, NULL);
    free(tests);
    json_decref(all);
    free(p);
    free(data_dir);
    return rc;
}

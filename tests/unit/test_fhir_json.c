/* test_fhir_json.c - sl_fhir_json_dumps writes what json_dumps writes,
 * byte for byte, for documents without decimals (every JSON type, escapes,
 * nesting, empty containers, compact, indented and sorted), and decimals
 * in their shortest form: 4.2 and 0.1 as read, not 17 digits, every one
 * reading back as the same double; decimals read by sl_fhir_json_loadb
 * written as they were read (1.50 stays 1.50), unless changed since. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fhir/fhir_json.h"

static const char *docs[] = {
    "{}",
    "[]",
    "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"active\":true,"
    "\"deceasedBoolean\":false,\"x\":null,\"multipleBirthInteger\":2}",
    "{\"a\":[],\"b\":{},\"c\":[1,[2,[3,{}]],{\"d\":[]}],\"e\":-9007199254740993}",
    "{\"text\":\"quote \\\" back \\\\ slash / tab \\t nl \\n cr \\r ff \\f "
    "bs \\b nul-ish \\u0001 \\u001f del \\u007f\"}",
    "{\"name\":[{\"family\":\"M\\u00fcller\",\"given\":[\"Jos\\u00e9\","
    "\"\\u5f20\\u4f1f\",\"\\ud83d\\ude00\"]}]}",
    "{\"z\":1,\"a\":{\"y\":2,\"b\":3},\"m\":[{\"k\":\"v\",\"c\":\"w\"}]}",
};

static void
test_same_as_jansson(void **state)
{
    static const size_t flags[] = {
        JSON_COMPACT, 0, JSON_INDENT(1), JSON_INDENT(2),
        JSON_COMPACT | JSON_SORT_KEYS, JSON_INDENT(1) | JSON_PRESERVE_ORDER,
        JSON_INDENT(3) | JSON_SORT_KEYS,
    };
    size_t i, k;

    (void)state;
    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        json_error_t je;
        json_t *j = json_loads(docs[i], 0, &je);

        assert_non_null(j);
        for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
            char *a = json_dumps(j, flags[k]);
            char *b = sl_fhir_json_dumps(j, flags[k]);

            assert_non_null(b);
            assert_string_equal(b, a);
            free(a);
            free(b);
        }
        json_decref(j);
    }
    assert_null(sl_fhir_json_dumps(NULL, 0));
}

static void
test_decimals_shortest(void **state)
{
    static const struct {
        double d;
        const char *text;
    } cases[] = {
        { 4.2, "4.2" },          { 0.1, "0.1" },
        { 72.0, "72.0" },        { -0.5, "-0.5" },
        { 1234567.891, "1234567.891" },
        { 98.6, "98.6" },        { 1e-5, "1e-5" },
        { 1.5e20, "1.5e20" },    { 0.30000000000000004, "0.30000000000000004" },
        { 5.4, "5.4" },          { 0.0, "0.0" },
    };
    char buf[64];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = sl_fhir_real_text(cases[i].d, buf, sizeof(buf));

        assert_int_equal(n, strlen(cases[i].text));
        assert_string_equal(buf, cases[i].text);
        assert_true(strtod(buf, NULL) == cases[i].d);
    }
    {
        json_t *j = json_pack("{s:{s:f,s:s},s:[f,f]}", "valueQuantity",
                              "value", 4.2, "unit", "mg/dL", "range", 0.1,
                              72.0);
        char *s = sl_fhir_json_dumps(j, JSON_COMPACT);

        assert_string_equal(s, "{\"valueQuantity\":{\"value\":4.2,\"unit\":"
                               "\"mg/dL\"},\"range\":[0.1,72.0]}");
        free(s);
        json_decref(j);
    }
}

/* Every double the text of which reads back: a sweep of values. */
static void
test_round_trip(void **state)
{
    char buf[64];
    unsigned long i;
    double d = 0.001;

    (void)state;
    for (i = 0; i < 20000; i++) {
        size_t n = sl_fhir_real_text(d, buf, sizeof(buf));

        assert_true(n > 0);
        assert_true(strtod(buf, NULL) == d);
        assert_true(strpbrk(buf, ".e") != NULL);
        d = d * 1.0007 + 0.013;
    }
    assert_int_equal(sl_fhir_real_text(1.0 / 0.0, buf, sizeof(buf)), 0);
}

/* Decimals keep the text they were read with, through the fast reader
 * and its jansson document; a value changed since, or made by jansson,
 * is written in the shortest form, even in a block that held a kept one. */
static void
test_decimals_kept(void **state)
{
    static const char *doc =
        "{\"resourceType\":\"Observation\",\"valueQuantity\":{\"value\":1.50},"
        "\"component\":[{\"valueQuantity\":{\"value\":100.000}},"
        "{\"valueQuantity\":{\"value\":1e2}},{\"valueQuantity\":{\"value\":"
        "2.5E-3}},{\"valueQuantity\":{\"value\":-0.0}},{\"valueQuantity\":"
        "{\"value\":0.00001}},{\"valueQuantity\":{\"value\":"
        "12345678901234567890.5}},{\"valueQuantity\":{\"value\":98.6}},"
        "{\"valueQuantity\":{\"value\":3.14159265358979323846}}],"
        "\"n\":[1.0,72,0.1,-5.250]}";
    json_error_t je;
    json_t *j = sl_fhir_json_loadb(doc, strlen(doc), JSON_REJECT_DUPLICATES,
                                   &je), *v;
    char *s;
    int i;

    (void)state;
    assert_non_null(j);
    s = sl_fhir_json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, doc);
    free(s);
    /* changed: the text is no longer the value's */
    v = json_object_get(json_object_get(j, "valueQuantity"), "value");
    assert_int_equal(json_real_set(v, 4.2), 0);
    s = sl_fhir_json_dumps(j, JSON_COMPACT);
    assert_non_null(strstr(s, "{\"value\":4.2}"));
    free(s);
    json_decref(j);
    /* the blocks of kept decimals reused by reals jansson makes */
    for (i = 0; i < 200; i++) {
        json_t *a = sl_fhir_json_loadb("[1.50,2.500,3e0]", 16, 0, &je);
        json_t *b;
        assert_non_null(a);
        json_decref(a);
        b = json_pack("[f,f,f]", 1.5, 2.5, 3.0);
        s = sl_fhir_json_dumps(b, JSON_COMPACT);
        assert_string_equal(s, "[1.5,2.5,3.0]");
        free(s);
        json_decref(b);
    }
    /* what the fast reader leaves to jansson: still parsed, errors as
     * jansson gives them */
    j = sl_fhir_json_loadb("{\"a\":1.50,\"a\":2}", 17, JSON_REJECT_DUPLICATES,
                           &je);
    assert_null(j);
    assert_non_null(strstr(je.text, "duplicate"));
    j = sl_fhir_json_loadb("{\"a\":1.50,", 11, 0, &je);
    assert_null(j);
    assert_true(je.text[0] != '\0');
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_jansson),
        cmocka_unit_test(test_decimals_shortest),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_decimals_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

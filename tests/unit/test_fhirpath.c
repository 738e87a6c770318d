/* test_fhirpath.c - the FHIRPath engine's edge cases, data-driven as jq's
 * tests are: each row is an expression, the resource it runs on, and the
 * result collection it must give (as `sluice fhirpath` prints it) or the
 * error it must give ("!" then a part of the message). Each row is one TAP
 * line. Then the API's promises: eval_bool's three values, the memberOf
 * and conformsTo callbacks, %rootResource for resolve(), NULL-safety. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fhirpath/fhirpath.h"

static const char pat[] =
    "{\"resourceType\":\"Patient\",\"id\":\"p\",\"active\":true,"
    "\"name\":[{\"use\":\"official\",\"family\":\"Fam\",\"given\":[\"A\","
    "\"B\"]},{\"given\":[\"C\"]}],\"birthDate\":\"1970-06-15\","
    "\"_birthDate\":{\"extension\":[{\"url\":\"http://t\",\"valueInteger\":"
    "7}]},\"gender\":\"female\",\"multipleBirthBoolean\":false,"
    "\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o1\","
    "\"name\":\"Org\"}],\"managingOrganization\":{\"reference\":\"#o1\"},"
    "\"meta\":{\"profile\":[\"http://example.org/p\"]}}";
static const char obs[] =
    "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{"
    "\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"29463-7\"}]},"
    "\"valueQuantity\":{\"value\":70.5,\"code\":\"kg\",\"system\":"
    "\"http://unitsofmeasure.org\"},\"effectiveDateTime\":\"2020-01-02T03:04:"
    "05+02:00\",\"component\":[{\"valueString\":\"x\"},{\"_valueString\":{"
    "\"extension\":[{\"url\":\"u\",\"valueCode\":\"absent\"}]}}]}";

struct row {
    const char *expr;
    const char *res; /* pat or obs */
    const char *want;
};

static const struct row rows[] = {
    /* lexer and parser */
    {"name.given", pat, "[\"A\",\"B\",\"C\"]"},
    {"name.`given`", pat, "[\"A\",\"B\",\"C\"]"},
    {"name.given // a comment", pat, "[\"A\",\"B\",\"C\"]"},
    {"/* c */ name.family", pat, "[\"Fam\"]"},
    {"'it''s'", pat, "!column 5"},
    {"'a\\'b\\u00e9'", pat, "[\"a'bé\"]"},
    {"name.", pat, "!column 6: a name was expected"},
    {"name.given)", pat, "!column 11"},
    {"1 +", pat, "!column 4"},
    {"(1", pat, "!')' was expected"},
    {"'open", pat, "!column 1: unterminated string"},
    {"name #", pat, "!column 6: unexpected character"},
    {"$foo", pat, "!unknown special variable"},
    {"%nosuch", pat, "!unknown variable %nosuch"},
    {"nosuch()", pat, "!unknown function nosuch()"},
    {"name.where()", pat, "!where() takes 1 to 1 arguments"},
    {"2 + 3 * 4 - 1", pat, "[13]"},
    {"-2.5 + 1", pat, "[-1.5]"},
    {"1 | 2 = 2", pat, "[false]"},
    {"true or false and false", pat, "[true]"},
    {"@2012-04-15T10:00:00.000+01:00", pat, "[\"2012-04-15T10:00:00.000+01:00\"]"},
    {"@2015T", pat, "[\"2015\"]"},
    {"@T14:30", pat, "[\"14:30\"]"},
    {"3 days", pat, "[\"3 days\"]"},
    {"2.50 'mg'", pat, "[\"2.5 'mg'\"]"},
    /* navigation, FHIR types */
    {"Patient.name.family", pat, "[\"Fam\"]"},
    {"Observation.status", pat, "[]"},
    {"birthDate.extension.value", pat, "[7]"},
    {"birthDate.extension('http://t').value is integer", pat, "[true]"},
    {"multipleBirth", pat, "[false]"},
    {"multipleBirth is boolean", pat, "[true]"},
    {"multipleBirth is Boolean", pat, "[false]"},
    {"value.value", obs, "[70.5]"},
    {"value is Quantity", obs, "[true]"},
    {"value.ofType(string)", obs, "[]"},
    {"component.value", obs, "[\"x\",null]"},
    {"component.value.hasValue()", obs, "[false]"},
    {"component[0].value.hasValue()", obs, "[true]"},
    {"component[1].value.hasValue()", obs, "[false]"},
    {"component[1].value.extension.value", obs, "[\"absent\"]"},
    {"managingOrganization.resolve().name", pat, "[\"Org\"]"},
    {"contained.ofType(Organization).id", pat, "[\"o1\"]"},
    {"name[1].given", pat, "[\"C\"]"},
    {"name[-1]", pat, "[]"},
    /* three-valued logic */
    {"{} and true", pat, "[]"},
    {"{} and false", pat, "[false]"},
    {"{} or true", pat, "[true]"},
    {"{} or false", pat, "[]"},
    {"{} xor true", pat, "[]"},
    {"false implies {}", pat, "[true]"},
    {"{} implies true", pat, "[true]"},
    {"{} implies false", pat, "[]"},
    {"{}.not()", pat, "[]"},
    {"name.given and true", pat, "!needs a single boolean"},
    /* equality and equivalence */
    {"{} = {}", pat, "[]"},
    {"{} ~ {}", pat, "[true]"},
    {"1 ~ {}", pat, "[false]"},
    {"'A b' ~ 'a B'", pat, "[true]"},
    {"1.0 = 1", pat, "[true]"},
    {"1.2 ~ 1.24", pat, "[true]"},
    {"name.given = ('A' | 'B' | 'C')", pat, "[true]"},
    {"name.given = ('B' | 'A' | 'C')", pat, "[false]"},
    {"name.given ~ ('B' | 'A' | 'C')", pat, "[true]"},
    /* dates with partial precision */
    {"@2012 = @2012-01", pat, "[]"},
    {"@2012 < @2013-01", pat, "[true]"},
    {"@2012-01-01T10:00Z = @2012-01-01T11:00+01:00", pat, "[true]"},
    {"@2012-01-01T10:00:00 = @2012-01-01T10:00:00.000", pat, "[true]"},
    {"birthDate > @1970-06", pat, "[]"},
    {"birthDate >= @1970-06-15", pat, "[true]"},
    {"effective < @2020-01-02T02:00:00Z", obs, "[true]"},
    {"effective = @2020-01-02T01:04:05Z", obs, "[true]"},
    {"@2012-03-31 - 1 month", pat, "[\"2012-02-29\"]"},
    {"@2012 + 13 months", pat, "[\"2013\"]"},
    {"@2012-01-01T23:00:00Z + 2 hours", pat, "[\"2012-01-02T01:00:00Z\"]"},
    {"@T23:30 + 1 hour", pat, "[\"00:30\"]"},
    {"@2012-01-01 + 1 'mg'", pat, "!calendar duration"},
    {"@2012-01-01 + 1 'a'", pat, "!calendar duration"},
    /* quantities */
    {"value > 70000 'g'", obs, "[true]"},
    {"value = 70.5 'kg'", obs, "[true]"},
    {"1 'm' = 100 'cm'", pat, "[true]"},
    {"1 'mg/dL' = 10 'mg/L'", pat, "[true]"},
    {"1 'kg' = 1 'm'", pat, "[false]"},
    {"1 'kg' < 1 'm'", pat, "[]"},
    {"1 year = 1 'a'", pat, "[]"},
    {"1 week = 7 'd'", pat, "[true]"},
    /* functions */
    {"name.given.count()", pat, "[3]"},
    {"name.given.first() | name.given.last()", pat, "[\"A\",\"C\"]"},
    {"name.given.skip(1).take(1)", pat, "[\"B\"]"},
    {"name.given.single()", pat, "!single() was given 3 items"},
    {"name.where(use = 'official').given.tail()", pat, "[\"B\"]"},
    {"name.select(given.count())", pat, "[2,1]"},
    {"name.given.where($index > 0)", pat, "[\"B\",\"C\"]"},
    {"(1|2|3).aggregate($this + $total, 0)", pat, "[6]"},
    {"name.all(given.exists())", pat, "[true]"},
    {"name.exists(family.exists())", pat, "[true]"},
    {"iif(active, 'y', 'n')", pat, "[\"y\"]"},
    {"iif({}, 'y')", pat, "[]"},
    {"gender.substring(1, 2)", pat, "[\"em\"]"},
    {"gender.substring(9)", pat, "[]"},
    {"gender.indexOf('male')", pat, "[2]"},
    {"gender.replace('male', 'M')", pat, "[\"feM\"]"},
    {"gender.matches('^f[a-z]+$')", pat, "[true]"},
    {"gender.matches('\\\\d')", pat, "[false]"},
    {"gender.matches('(')", pat, "!not a valid regular expression"},
    {"gender.replaceMatches('(e)', '[$1]')", pat, "[\"f[e]mal[e]\"]"},
    {"'a,b'.split(',').join('+')", pat, "[\"a+b\"]"},
    {"'é'.length()", pat, "[1]"},
    {"'3'.toInteger() + '0.5'.toDecimal()", pat, "[3.5]"},
    {"'x'.toInteger()", pat, "[]"},
    {"'2020-02-30'.convertsToDate()", pat, "[false]"},
    {"name.given.toString()", pat, "!needs a single item"},
    {"(1|2|3).intersect(2|3|4).exclude(3)", pat, "[2]"},
    {"(1|1).combine(1).count()", pat, "[2]"},
    {"(1|2).subsetOf(1|2|3)", pat, "[true]"},
    {"name.descendants().count()", pat, "[5]"},
    {"%resource.id = %rootResource.id", pat, "[true]"},
    {"text.div.htmlChecks()", pat, "[]"},
    {"'<div>ok</div>'.htmlChecks()", pat, "[true]"},
    {"'<div><script>x</script></div>'.htmlChecks()", pat, "[false]"},
    {"'<div><p onclick=\"x\">a</p></div>'.htmlChecks()", pat, "[false]"},
    {"conformsTo('http://hl7.org/fhir/StructureDefinition/Patient')", pat, "[true]"},
    {"conformsTo('http://example.org/p')", pat, "[true]"},
    {"conformsTo('http://example.org/q')", pat, "[false]"},
    {"gender.memberOf('http://vs')", pat, "!memberOf() needs a terminology"},
    {"5 / 0", pat, "[]"},
    {"7 div 2 | 7 mod 2", pat, "[3,1]"},
    {"2.power(3)", pat, "[8]"},
    {"1.5.round()", pat, "[2]"},
};

static void
run_row(void **state)
{
    const struct row *r = *state;
    struct sl_err err = {0};
    struct sl_fp_expr *e = NULL;
    struct sl_fp_result *res = NULL;
    json_t *j = json_loads(r->res, 0, NULL);
    char *dump = NULL;
    int rc;

    assert_non_null(j);
    rc = sl_fp_compile(r->expr, &e, &err);
    if (rc == SL_OK)
        rc = sl_fp_eval(e, NULL, j, &res, &err);
    if (r->want[0] == '!') {
        if (rc == SL_OK)
            dump = sl_fp_result_dump(res);
        if (rc == SL_OK || strstr(err.msg, r->want + 1) == NULL)
            fail_msg("%s: wanted an error with '%s', got %s", r->expr,
                     r->want + 1, rc == SL_OK ? dump : err.msg);
    } else {
        if (rc != SL_OK)
            fail_msg("%s: %s", r->expr, err.msg);
        dump = sl_fp_result_dump(res);
        if (strcmp(dump, r->want) != 0)
            fail_msg("%s: wanted %s, got %s", r->expr, r->want, dump);
    }
    free(dump);
    sl_fp_result_free(res);
    sl_fp_free(e);
    json_decref(j);
}

static void
eval_bool_values(void **state)
{
    static const struct {
        const char *expr;
        int want;
    } t[] = {{"active", 1}, {"active.not()", 0}, {"nothing", -1},
             {"name.family", 1}, {"{} or true", 1}};
    json_t *j = json_loads(pat, 0, NULL);
    struct sl_err err = {0};
    size_t i;
    int v;

    (void)state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct sl_fp_expr *e = NULL;
        assert_int_equal(sl_fp_compile(t[i].expr, &e, &err), SL_OK);
        assert_int_equal(sl_fp_eval_bool(e, NULL, j, &v, &err), SL_OK);
        assert_int_equal(v, t[i].want);
        sl_fp_free(e);
    }
    {
        struct sl_fp_expr *e = NULL;
        assert_int_equal(sl_fp_compile("name.given", &e, &err), SL_OK);
        assert_int_not_equal(sl_fp_eval_bool(e, NULL, j, &v, &err), SL_OK);
        assert_non_null(strstr(err.msg, "several items"));
        sl_fp_free(e);
    }
    json_decref(j);
}

static int
member_of(void *ud, const char *system, const char *code, const char *vs,
          int *is_member)
{
    int *calls = ud;
    (*calls)++;
    if (strcmp(vs, "http://down") == 0)
        return SL_ENET;
    *is_member = strcmp(vs, "http://vs") == 0 && system != NULL &&
                 strcmp(system, "http://loinc.org") == 0 &&
                 strcmp(code, "29463-7") == 0;
    return SL_OK;
}

static void
member_of_callback(void **state)
{
    json_t *j = json_loads(obs, 0, NULL);
    struct sl_err err = {0};
    struct sl_fp_expr *e = NULL;
    struct sl_fp_env env = {0};
    int calls = 0, v = -5;

    (void)state;
    env.member_of = member_of;
    env.ud = &calls;
    assert_int_equal(sl_fp_compile("code.memberOf('http://vs')", &e, &err),
                     SL_OK);
    assert_int_equal(sl_fp_eval_bool(e, &env, j, &v, &err), SL_OK);
    assert_int_equal(v, 1);
    assert_int_equal(calls, 1);
    sl_fp_free(e);
    /* could not check: an error, never a silent pass */
    assert_int_equal(sl_fp_compile("code.memberOf('http://down')", &e, &err),
                     SL_OK);
    assert_int_equal(sl_fp_eval_bool(e, &env, j, &v, &err), SL_ENET);
    assert_non_null(strstr(err.msg, "could not be checked"));
    sl_fp_free(e);
    json_decref(j);
}

static int
conforms(void *ud, json_t *res, const char *url, int *c)
{
    (void)ud, (void)res;
    *c = strcmp(url, "http://yes") == 0;
    return SL_OK;
}

static void
conforms_to_callback(void **state)
{
    json_t *j = json_loads(pat, 0, NULL);
    struct sl_err err = {0};
    struct sl_fp_expr *e = NULL;
    struct sl_fp_env env = {0};
    int v;

    (void)state;
    env.conforms_to = conforms;
    assert_int_equal(sl_fp_compile("conformsTo('http://yes')", &e, &err),
                     SL_OK);
    assert_int_equal(sl_fp_eval_bool(e, &env, j, &v, &err), SL_OK);
    assert_int_equal(v, 1);
    sl_fp_free(e);
    json_decref(j);
}

/* resolve() from an entry's resource finds its siblings through
 * %rootResource, as the validator evaluates an entry's invariants */
static void
resolve_in_root(void **state)
{
    json_t *b = json_loads(
        "{\"resourceType\":\"Bundle\",\"entry\":[{\"fullUrl\":\"urn:uuid:1\","
        "\"resource\":{\"resourceType\":\"Patient\",\"id\":\"x\"}},{"
        "\"fullUrl\":\"http://s/fhir/Observation/2\",\"resource\":{"
        "\"resourceType\":\"Observation\",\"subject\":{\"reference\":"
        "\"urn:uuid:1\"},\"hasMember\":[{\"reference\":\"Observation/2\"}]}}"
        "]}", 0, NULL);
    json_t *o = json_object_get(json_array_get(json_object_get(b, "entry"), 1),
                                "resource");
    struct sl_err err = {0};
    struct sl_fp_expr *e = NULL;
    struct sl_fp_result *r = NULL;
    struct sl_fp_env env = {0};
    char *d;

    (void)state;
    env.resource = o;
    env.root = b;
    assert_int_equal(sl_fp_compile("subject.resolve().id | hasMember.resolve()"
                                   ".resourceType", &e, &err), SL_OK);
    assert_int_equal(sl_fp_eval(e, &env, o, &r, &err), SL_OK);
    d = sl_fp_result_dump(r);
    assert_string_equal(d, "[\"x\",\"Observation\"]");
    free(d);
    sl_fp_result_free(r);
    sl_fp_free(e);
    json_decref(b);
}

/* an element's invariant: the focus is the element, typed by focus_path */
static void
element_focus(void **state)
{
    json_t *o = json_loads(obs, 0, NULL);
    json_t *q = json_object_get(o, "valueQuantity");
    json_t *bd = json_string("2020-01"), *ext = json_loads(
        "{\"extension\":[{\"url\":\"u\",\"valueCode\":\"x\"}]}", 0, NULL);
    struct sl_err err = {0};
    struct sl_fp_expr *e = NULL;
    struct sl_fp_env env = {0};
    int v;

    (void)state;
    env.resource = o;
    env.focus_path = "Quantity";
    assert_int_equal(sl_fp_compile("$this is Quantity and value > 70 and "
                                   "%resource.status = 'final'", &e, &err),
                     SL_OK);
    assert_int_equal(sl_fp_eval_bool(e, &env, q, &v, &err), SL_OK);
    assert_int_equal(v, 1);
    env.focus_path = NULL; /* untyped: names navigate, types do not */
    assert_int_equal(sl_fp_eval_bool(e, &env, q, &v, &err), SL_OK);
    assert_int_equal(v, 0);
    sl_fp_free(e);
    /* a primitive with its _name: ele-1 */
    env.focus_path = "date";
    env.focus_ext = ext;
    assert_int_equal(sl_fp_compile("hasValue() or (children().count() > "
                                   "id.count())", &e, &err), SL_OK);
    assert_int_equal(sl_fp_eval_bool(e, &env, bd, &v, &err), SL_OK);
    assert_int_equal(v, 1);
    sl_fp_free(e);
    assert_int_equal(sl_fp_compile("extension.value = 'x' and $this is date",
                                   &e, &err), SL_OK);
    assert_int_equal(sl_fp_eval_bool(e, &env, bd, &v, &err), SL_OK);
    assert_int_equal(v, 1);
    sl_fp_free(e);
    json_decref(bd);
    json_decref(ext);
    json_decref(o);
}

static void
null_safe(void **state)
{
    (void)state;
    sl_fp_free(NULL);
    sl_fp_result_free(NULL);
    assert_int_equal(sl_fp_result_count(NULL), 0);
    assert_null(sl_fp_result_json(NULL, 0));
}

int
main(void)
{
    size_t n = sizeof(rows) / sizeof(rows[0]), i;
    struct CMUnitTest *t = calloc(n + 6, sizeof(*t));
    int rc;

    for (i = 0; i < n; i++) {
        t[i].name = rows[i].expr;
        t[i].test_func = run_row;
        t[i].initial_state = (void *)&rows[i];
    }
    t[n++] = (struct CMUnitTest)cmocka_unit_test(eval_bool_values);
    t[n++] = (struct CMUnitTest)cmocka_unit_test(member_of_callback);
    t[n++] = (struct CMUnitTest)cmocka_unit_test(conforms_to_callback);
    t[n++] = (struct CMUnitTest)cmocka_unit_test(resolve_in_root);
    t[n++] = (struct CMUnitTest)cmocka_unit_test(element_focus);
    t[n++] = (struct CMUnitTest)cmocka_unit_test(null_safe);
    rc = _cmocka_run_group_tests("fhirpath", t, n, NULL, NULL);
    free(t);
    return rc;
}

/* test_config.c - loading sluice.xml: values and defaults a job sees, the
 * option table against the schema, secrets, cron schedules. The error
 * cases are data-driven in tests/integration/config_errors.sh. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "config/config.h"

static char *
data_path(const char *name)
{
    const char *top = getenv("top_srcdir");

    return sl_asprintf("%s/tests/data/config/%s", top ? top : ".", name);
}

static char *
scratch_file(const char *content, size_t len)
{
    char tmpl[] = "/tmp/sluice-test-config.XXXXXX";
    int fd = mkstemp(tmpl);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    close(fd);
    return sl_strdup(tmpl);
}

static void
test_load_full_with_defaults(void **state)
{
    struct sl_config *cfg = NULL;
    struct sl_err err = { 0 };
    const struct sl_conf_node *t;
    const struct sl_job *j;
    char *path = data_path("ok-full.xml"), *p;
    (void)state;

    assert_int_equal(sl_config_load(path, 1, &cfg, &err), SL_OK);
    assert_int_equal(cfg->nsources, 2);
    assert_int_equal(cfg->ntargets, 3);
    assert_int_equal(cfg->njobs, 2);
    assert_string_equal(cfg->pseudonym_key, "file:pseudonym.key");
    assert_true(cfg->base_dir[0] == '/');
    /* defaults, resolved against the config's folder */
    assert_true(sl_str_has_suffix(cfg->state_path,
                                  "/tests/data/config/sluice-state.db"));
    assert_true(sl_str_has_suffix(cfg->quarantine_dir,
                                  "/tests/data/config/quarantine"));

    t = sl_config_target(cfg, "fhir-out");
    assert_non_null(t);
    assert_string_equal(t->element, "target");
    assert_string_equal(t->type, "fhir-files");
    assert_int_equal(t->line, 7);
    assert_string_equal(sl_conf_get(t, "format"), "ndjson");
    assert_int_equal(sl_conf_get_long(t, "bundle-size", 0), 200);
    assert_null(sl_conf_get(t, "layout")); /* not for this type */
    p = sl_conf_get_path(cfg, t, "path");
    assert_true(sl_str_has_suffix(p, "/tests/data/config/out/fhir"));
    free(p);
    t = sl_config_target(cfg, "fhir-bundles");
    assert_string_equal(sl_conf_get(t, "format"), "bundle");
    assert_int_equal(sl_conf_get_long(t, "bundle-size", 0), 50);
    t = sl_config_target(cfg, "dicom-out");
    assert_string_equal(sl_conf_get(t, "layout"), "patient/study/series");
    assert_non_null(sl_config_source(cfg, "pacs"));
    assert_null(sl_config_source(cfg, "fhir-out"));

    j = sl_config_job(cfg, "nightly");
    assert_non_null(j);
    assert_string_equal(j->schedule, "30 1 * * 1-5");
    assert_int_equal(j->from.n, 2);
    assert_string_equal(j->from.v[0], "ehr");
    assert_string_equal(j->from.v[1], "pacs");
    assert_string_equal(j->since, "checkpoint");
    assert_string_equal(j->deid_profile, "longitudinal"); /* built-in */
    assert_int_equal(j->push.n, 2);
    assert_string_equal(j->push.v[0], "fhir-out");
    assert_string_equal(j->push.v[1], "dicom-out");
    assert_string_equal(j->bundle, "transaction");
    assert_int_equal(j->bundle_size, 200);
    assert_int_equal(j->translate.n, 0);

    j = sl_config_job(cfg, "manual");
    assert_non_null(j);
    assert_null(j->schedule);
    assert_string_equal(j->since, "all");
    assert_true(j->deid_profile[0] == '/');
    assert_true(sl_str_has_suffix(j->deid_profile, "/site-profile.xml"));
    assert_int_equal(j->translate.n, 2);
    assert_true(sl_str_has_suffix(j->translate.v[1], "/config/map-b.json"));
    assert_int_equal(j->validate.n, 1);
    assert_int_equal(j->push.n, 1);
    assert_string_equal(j->bundle, "batch");
    assert_int_equal(j->bundle_size, 50);
    assert_null(sl_config_job(cfg, "nope"));

    sl_config_free(cfg);
    free(path);
}

static void
test_load_errors_first_in_err(void **state)
{
    struct sl_config *cfg = NULL;
    struct sl_err err = { 0 };
    char *path = data_path("bad-several.xml"), *want;
    (void)state;

    assert_int_equal(sl_config_load(path, 0, &cfg, &err), SL_ECONFIG);
    assert_null(cfg);
    assert_int_equal(err.code, SL_ECONFIG);
    want = sl_asprintf("%s:3: source 'ehr': folder ", path);
    assert_memory_equal(err.msg, want, strlen(want));
    free(want);
    free(path);

    path = data_path("no-such-config.xml");
    assert_int_equal(sl_config_load(path, 0, &cfg, &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "no-such-config.xml: cannot open"));
    free(path);
    sl_config_free(NULL); /* NULL-safe */
}

static void
test_literal_secret_not_in_error(void **state)
{
    struct sl_config *cfg = NULL;
    struct sl_err err = { 0 };
    char *path = data_path("bad-literal-secret.xml");
    (void)state;

    assert_int_equal(sl_config_load(path, 0, &cfg, &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, ":3: attribute 'pseudonym' holds a "
                                    "literal secret"));
    assert_null(strstr(err.msg, "NOT-TO-BE-SHOWN"));
    free(path);
}

static void
test_secret_env(void **state)
{
    struct sl_err err = { 0 };
    char *s = NULL;
    size_t len = 0;
    (void)state;

    setenv("SLUICE_TEST_SECRET", "s3cret-value", 1);
    assert_int_equal(
        sl_secret_read("env:SLUICE_TEST_SECRET", NULL, &s, &len, &err), SL_OK);
    assert_int_equal(len, 12);
    assert_string_equal(s, "s3cret-value");
    sl_freezero(s, len);
    unsetenv("SLUICE_TEST_SECRET");
    assert_int_not_equal(
        sl_secret_read("env:SLUICE_TEST_SECRET", NULL, &s, &len, &err), SL_OK);
    assert_non_null(strstr(err.msg, "SLUICE_TEST_SECRET"));
    /* a literal is refused without being repeated */
    assert_int_equal(sl_secret_read("hunter2", NULL, &s, &len, &err), SL_EKEY);
    assert_null(strstr(err.msg, "hunter2"));
}

static void
test_secret_file(void **state)
{
    struct sl_err err = { 0 };
    char *f, *ref, *s = NULL, *dir, *base;
    size_t len = 0;
    (void)state;

    f = scratch_file("key-bytes\n", 10);
    ref = sl_asprintf("file:%s", f);
    assert_int_equal(sl_secret_read(ref, NULL, &s, &len, &err), SL_OK);
    assert_int_equal(len, 9); /* one trailing newline dropped */
    assert_memory_equal(s, "key-bytes", 9);
    sl_freezero(s, len);
    unlink(f);
    free(ref);
    free(f);

    f = scratch_file("k\r\n\n", 4); /* only one newline goes */
    ref = sl_asprintf("file:%s", f);
    assert_int_equal(sl_secret_read(ref, NULL, &s, &len, &err), SL_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(s, "k\r\n", 3);
    sl_freezero(s, len);
    /* relative to base_dir */
    dir = sl_path_dir(f);
    base = sl_asprintf("file:%s", f + strlen(dir) + 1);
    assert_int_equal(sl_secret_read(base, dir, &s, &len, &err), SL_OK);
    sl_freezero(s, len);
    unlink(f);
    free(base);
    free(dir);
    free(ref);
    free(f);

    assert_int_equal(
        sl_secret_read("file:/nonexistent/sluice.key", NULL, &s, &len, &err),
        SL_EKEY);
    assert_non_null(strstr(err.msg, "/nonexistent/sluice.key"));
}

static void
test_cron(void **state)
{
    static const char *const good[] = {
        "0 2 * * *",       "*/15 * * * 1-5", "0,30 8-18 1 1,6,12 0",
        " 59 23 31 12 7 ", "5-10/2 * * * *",
    };
    static const char *const bad[] = {
        "0 2 * *",      "60 * * * *", "* * * * * *", "a * * * *",
        "5-1 * * * *",  "* * 0 * *",  "*/0 * * * *", "",
        "1,,2 * * * *",
    };
    struct sl_err err;
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(sl_cron_check(good[i], &err), SL_OK);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(sl_cron_check(bad[i], &err), SL_ECONFIG);
}

static void
test_opt_table_rows(void **state)
{
    const struct sl_opt *o;
    long n;
    (void)state;

    for (o = sl_opt_table; o->name != NULL; o++) {
        assert_non_null(o->element);
        assert_true(o->doc != NULL && o->doc[0] != '\0');
        if (o->required)
            assert_null(o->def);
        if (o->type == SL_OPT_INT) {
            assert_true(o->min <= o->max);
            if (o->def)
                assert_int_equal(sl_parse_long(o->def, o->min, o->max, &n),
                                 SL_OK);
        }
        if (o->type == SL_OPT_ENUM) {
            assert_non_null(o->choices);
            if (o->def) {
                char *pad = sl_asprintf(" %s ", o->choices);
                char *word = sl_asprintf(" %s ", o->def);
                assert_non_null(strstr(pad, word));
                free(pad);
                free(word);
            }
        }
        /* a lookup finds this row (or a row for every kind) */
        assert_non_null(sl_opt_find(o->element, o->kind, o->name));
    }
    assert_int_equal(sl_opt_find("target", "fhir-files", "format")->type,
                     SL_OPT_ENUM);
    assert_null(sl_opt_find("target", "dicom-folder", "format"));
    assert_null(sl_opt_find("target", NULL, "format"));
    assert_int_equal(sl_opt_find("auth", "basic", "password")->type,
                     SL_OPT_SECRET);
}

/* The element an xs:attribute belongs to: the name of the nearest named
 * xs:element or xs:complexType around it (sluice.xsd names its complex
 * types after their elements). */
static const char *
xsd_owner(xmlNode *n, xmlChar **owned)
{
    for (n = n->parent; n != NULL && n->type == XML_ELEMENT_NODE;
         n = n->parent) {
        if (xmlStrcmp(n->name, BAD_CAST "element") == 0 ||
            xmlStrcmp(n->name, BAD_CAST "complexType") == 0) {
            *owned = xmlGetProp(n, BAD_CAST "name");
            if (*owned)
                return (const char *)*owned;
        }
    }
    return NULL;
}

static void
collect_xsd_attrs(xmlNode *n, struct sl_strv *out)
{
    for (; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (xmlStrcmp(n->name, BAD_CAST "attribute") == 0) {
            xmlChar *owner = NULL, *name = xmlGetProp(n, BAD_CAST "name");
            const char *el = xsd_owner(n, &owner);
            sl_strv_push_owned(
                out, sl_asprintf("%s@%s", el ? el : "?", (const char *)name));
            xmlFree(name);
            xmlFree(owner);
        }
        collect_xsd_attrs(n->children, out);
    }
}

static void
test_opt_table_matches_schema(void **state)
{
    const char *top = getenv("top_srcdir");
    struct sl_strv xsd = { 0 }, table = { 0 };
    const struct sl_opt *o;
    xmlDoc *doc;
    char *path;
    size_t i;
    (void)state;

    path = sl_asprintf("%s/conf/sluice.xsd", top ? top : ".");
    doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    collect_xsd_attrs(xmlDocGetRootElement(doc), &xsd);
    for (o = sl_opt_table; o->name != NULL; o++) {
        char *key = sl_asprintf("%s@%s", o->element, o->name);
        for (i = 0; i < table.n; i++)
            if (strcmp(table.v[i], key) == 0)
                break;
        if (i == table.n)
            sl_strv_push(&table, key);
        free(key);
    }
    sl_strv_sort(&xsd);
    sl_strv_sort(&table);
    for (i = 0; i < xsd.n && i < table.n; i++)
        assert_string_equal(xsd.v[i], table.v[i]);
    assert_int_equal(xsd.n, table.n);
    sl_strv_free(&xsd);
    sl_strv_free(&table);
    xmlFreeDoc(doc);
    free(path);
}

static void
test_print_options(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    (void)state;

    assert_non_null(f);
    sl_config_print_options(f);
    fclose(f);
    assert_non_null(strstr(buf, "### `<target>`"));
    assert_non_null(strstr(buf, "| `bundle-size` | fhir-files | integer "
                                "1..100000 | `200` |"));
    assert_non_null(strstr(buf, "| `password` | basic | secret"));
    assert_non_null(strstr(buf, SL_CONFIG_NS));
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_full_with_defaults),
        cmocka_unit_test(test_load_errors_first_in_err),
        cmocka_unit_test(test_literal_secret_not_in_error),
        cmocka_unit_test(test_secret_env),
        cmocka_unit_test(test_secret_file),
        cmocka_unit_test(test_cron),
        cmocka_unit_test(test_opt_table_rows),
        cmocka_unit_test(test_opt_table_matches_schema),
        cmocka_unit_test(test_print_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

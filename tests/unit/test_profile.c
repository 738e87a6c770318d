/* test_profile.c - profile lookup and extends chains, with a permissive
 * stand-in schema in a scratch profile folder (the real schema is tested
 * with the real profiles). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deid/profile.h"

static char dir[256];

static void
put(const char *name, const char *text)
{
    char *p = sl_path_join(dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

#define HEAD "<?xml version=\"1.0\"?>\n<profile xmlns=\"urn:sluice:deid:1\" "

static int
setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/sluice-prof.XXXXXX");
    assert_non_null(mkdtemp(dir));
    setenv("SLUICE_PROFILE_DIR", dir, 1);
    put("profile.xsd",
        "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" "
        "targetNamespace=\"urn:sluice:deid:1\" elementFormDefault=\"qualified\">"
        "<xs:element name=\"profile\"><xs:complexType><xs:sequence>"
        "<xs:any processContents=\"skip\" minOccurs=\"0\" maxOccurs=\"unbounded\"/>"
        "</xs:sequence><xs:attribute name=\"name\" use=\"required\"/>"
        "<xs:attribute name=\"version\" use=\"required\"/>"
        "<xs:attribute name=\"extends\"/></xs:complexType></xs:element>"
        "</xs:schema>");
    put("basic.xml", HEAD "name=\"basic\" version=\"1\"><fhir/><dicom/></profile>\n");
    put("site.xml", HEAD "name=\"site\" version=\"3\" extends=\"basic\"><fhir/></profile>\n");
    put("loop-a.xml", HEAD "name=\"a\" version=\"1\" extends=\"loop-b.xml\"/>\n");
    put("loop-b.xml", HEAD "name=\"b\" version=\"1\" extends=\"loop-a.xml\"/>\n");
    put("bad.xml", HEAD "name=\"bad\" version=\"1\">\n<fhir>\n</profile>\n");
    put("noname.xml", HEAD "version=\"1\"/>\n");
    put("ghost.xml", HEAD "name=\"g\" version=\"1\" extends=\"nothere\"/>\n");
    return 0;
}

static int
teardown(void **state)
{
    char cmd[300];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void
test_builtin_and_chain(void **state)
{
    struct sl_profile_chain *c = NULL;
    struct sl_err err;
    char *path, *desc;
    (void)state;
    assert_int_equal(sl_profile_chain_load("basic", &c, &err), SL_OK);
    assert_int_equal(c->n, 1);
    assert_non_null(c->docs[0].fhir);
    assert_non_null(c->docs[0].dicom);
    sl_profile_chain_free(c);
    c = NULL;
    path = sl_path_join(dir, "site.xml");
    assert_int_equal(sl_profile_chain_load(path, &c, &err), SL_OK);
    assert_int_equal(c->n, 2);
    assert_string_equal(c->docs[0].name, "basic");
    assert_string_equal(c->docs[1].name, "site");
    assert_null(c->docs[1].dicom);
    desc = sl_profile_chain_describe(c);
    assert_string_equal(desc, "basic 1 <- site 3");
    free(desc);
    sl_profile_chain_free(c);
    free(path);
}

static void
test_errors_name_file_and_line(void **state)
{
    struct sl_profile_chain *c = NULL;
    struct sl_err err;
    char *p;
    (void)state;
    assert_int_equal(sl_profile_chain_load("nosuch", &c, &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "no de-identification profile 'nosuch'"));
    p = sl_path_join(dir, "loop-a.xml");
    assert_int_equal(sl_profile_chain_load(p, &c, &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "extends itself"));
    free(p);
    p = sl_path_join(dir, "bad.xml");
    assert_int_equal(sl_profile_chain_load(p, &c, &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "bad.xml:4:"));
    free(p);
    p = sl_path_join(dir, "noname.xml");
    assert_int_equal(sl_profile_chain_load(p, &c, &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "noname.xml:2:"));
    free(p);
    p = sl_path_join(dir, "ghost.xml");
    assert_int_equal(sl_profile_chain_load(p, &c, &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "extends 'nothere'"));
    free(p);
    assert_null(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_and_chain),
        cmocka_unit_test(test_errors_name_file_and_line),
    };
    return cmocka_run_group_tests_name("profile", tests, setup, teardown);
}

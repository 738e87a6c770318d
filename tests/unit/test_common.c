/* test_common.c - status table, errors, buffers, parsing, paths. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/common.h"

static void
test_status_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(sl_status_exit(SL_OK), 0);
    assert_int_equal(sl_status_exit(SL_ECONFIG), 1);
    assert_int_equal(sl_status_exit(SL_EUSAGE), 1);
    assert_int_equal(sl_status_exit(SL_EIO), 2);
    assert_int_equal(sl_status_exit(SL_EQUARANTINE), 3);
    assert_string_equal(sl_status_name(SL_ECONFIG), "SL_ECONFIG");
    assert_int_equal(sl_status_http(SL_ENOTFOUND), 404);
    /* out-of-range codes do not crash */
    assert_string_equal(sl_status_name(9999), "SL_EINTERNAL");
}

static void
test_err_set_and_prefix(void **state)
{
    struct sl_err err;
    (void)state;
    assert_int_equal(SL_ERR(&err, SL_ECONFIG, "line %d: bad", 7), SL_ECONFIG);
    assert_string_equal(err.msg, "line 7: bad");
    sl_err_prefix(&err, "%s", "conf.xml");
    assert_string_equal(err.msg, "conf.xml: line 7: bad");
    assert_int_equal(SL_ERR(NULL, SL_EIO, "x"), SL_EIO);
}

static void
test_buf(void **state)
{
    struct sl_buf b;
    char *s;
    int i;
    (void)state;
    sl_buf_init(&b);
    for (i = 0; i < 1000; i++)
        sl_buf_addf(&b, "%d,", i);
    assert_true(b.len > 2000);
    assert_memory_equal(b.data, "0,1,2,", 6);
    s = sl_buf_steal(&b);
    assert_null(b.data);
    free(s);
}

static void
test_parse_long(void **state)
{
    long v = 0;
    (void)state;
    assert_int_equal(sl_parse_long("42", 0, 100, &v), SL_OK);
    assert_int_equal(v, 42);
    assert_int_not_equal(sl_parse_long("42x", 0, 100, &v), SL_OK);
    assert_int_not_equal(sl_parse_long("", 0, 100, &v), SL_OK);
    assert_int_not_equal(sl_parse_long("101", 0, 100, &v), SL_OK);
    assert_int_not_equal(sl_parse_long("-1", 0, 100, &v), SL_OK);
}

static void
test_paths(void **state)
{
    char *p;
    (void)state;
    p = sl_path_join("a/", "b");
    assert_string_equal(p, "a/b");
    free(p);
    p = sl_path_dir("/x/y/z.xml");
    assert_string_equal(p, "/x/y");
    free(p);
    p = sl_path_dir("z.xml");
    assert_string_equal(p, ".");
    free(p);
    p = sl_path_resolve("/etc/sluice", "/abs");
    assert_string_equal(p, "/abs");
    free(p);
    p = sl_path_resolve("/etc/sluice", "rel/x");
    assert_string_equal(p, "/etc/sluice/rel/x");
    free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_exit_codes),
        cmocka_unit_test(test_err_set_and_prefix),
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_parse_long),
        cmocka_unit_test(test_paths),
    };
    return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}

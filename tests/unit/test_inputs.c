/* test_inputs.c - reading inputs: a fhir-files source on one file, and a
 * folder walk whose errors never name a path (folder names under an
 * input often carry a patient's name). */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "sources/sources.h"

static char tmpdir[256];

static void
write_file(const char *rel, const char *text)
{
    char *p = sl_path_join(tmpdir, rel);
    FILE *f = fopen(p, "wb");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

static int
setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/sluice-ut.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int
teardown(void **state)
{
    char cmd[300];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Leaves non-zero bytes where the next call's locals will be, so that a
 * status left unset is seen as a failure rather than a lucky zero (and
 * valgrind names it). */
static void __attribute__((noinline))
dirty_stack(void)
{
    volatile unsigned char junk[4096];
    size_t i;

    for (i = 0; i < sizeof(junk); i++)
        junk[i] = 0x5a;
}

/* A fhir-files source whose path is one file, opened without a
 * checkpoint, as `sluice deid` and a one-file job do. */
static void
test_single_file_source_opens(void **state)
{
    struct sl_conf_node n = { 0 };
    char *names[1] = { "path" }, *values[1];
    struct sl_item *it = NULL;
    struct sl_err err = { 0 };
    void *ctx = NULL;
    int rc;

    (void)state;
    write_file("one.ndjson", "{\"resourceType\":\"Patient\",\"id\":\"1\"}\n");
    values[0] = sl_path_join(tmpdir, "one.ndjson");
    n.id = "src";
    n.element = "source";
    n.type = "fhir-files";
    n.nattr = 1;
    n.names = names;
    n.values = values;
    dirty_stack();
    rc = sl_source_fhir_files.open(NULL, &n, NULL, &ctx, &err);
    assert_int_equal(rc, SL_OK);
    assert_int_equal(sl_source_fhir_files.next(ctx, &it, &err), SL_OK);
    assert_non_null(it);
    assert_int_equal(it->kind, SL_ITEM_FHIR);
    assert_string_equal(it->pos, "file 1 line 1");
    sl_item_free(it);
    sl_source_fhir_files.close(ctx);
    free(values[0]);
}

/* A sub-folder that cannot be opened: the error says so without its
 * name. Tests run as root, for whom permissions do not stop opendir, so
 * the walk runs out of file descriptors instead: the limit leaves one for
 * the top folder and none for John_Doe. */
static void
test_walk_error_names_no_path(void **state)
{
    char *root = sl_path_join(tmpdir, "walk");
    char *sub = sl_path_join(root, "John_Doe");
    struct sl_strv files = { 0 };
    struct sl_err err = { 0 };
    struct rlimit old, low;
    int fd, rc;

    (void)state;
    assert_int_equal(sl_mkdir_p(sub, NULL), SL_OK);
    write_file("walk/John_Doe/a.json", "{}");
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    fd = dup(0); /* the lowest free descriptor */
    assert_true(fd >= 0);
    close(fd);
    low = old;
    low.rlim_cur = (rlim_t)fd + 1;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    rc = sl_dir_walk(root, &files, &err);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_int_equal(rc, SL_EIO);
    assert_non_null(strstr(err.msg, "sub-folder unreadable"));
    assert_non_null(strstr(err.msg, strerror(EMFILE)));
    assert_null(strstr(err.msg, "John_Doe"));
    assert_null(strstr(err.msg, tmpdir));
    sl_strv_free(&files);
    /* the top folder itself: no path either */
    memset(&err, 0, sizeof(err));
    assert_int_equal(sl_dir_walk(sub, &files, &err), SL_OK);
    sl_strv_free(&files);
    free(sub);
    sub = sl_path_join(root, "Jane_Roe");
    assert_int_equal(sl_dir_walk(sub, &files, &err), SL_EIO);
    assert_non_null(strstr(err.msg, "folder unreadable"));
    assert_null(strstr(err.msg, "Jane_Roe"));
    sl_strv_free(&files);
    free(sub);
    free(root);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_file_source_opens),
        cmocka_unit_test(test_walk_error_names_no_path),
    };
    return cmocka_run_group_tests_name("inputs", tests, setup, teardown);
}

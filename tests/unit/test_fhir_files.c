/* test_fhir_files.c - the fhir-files source and sink through their
 * vtables: items, positions, resume from a checkpoint, sink roll-back. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "sinks/sinks.h"
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

static struct sl_conf_node *
node(const char *id, const char *path, const char *fmt)
{
    struct sl_conf_node *n = sl_calloc(1, sizeof(*n));
    n->id = sl_strdup(id);
    n->element = sl_strdup("source");
    n->type = sl_strdup("fhir-files");
    n->nattr = fmt ? 3 : 1;
    n->names = sl_calloc(3, sizeof(char *));
    n->values = sl_calloc(3, sizeof(char *));
    n->names[0] = sl_strdup("path");
    n->values[0] = sl_strdup(path);
    if (fmt) {
        n->names[1] = sl_strdup("format");
        n->values[1] = sl_strdup(fmt);
        n->names[2] = sl_strdup("bundle-size");
        n->values[2] = sl_strdup("2");
    }
    return n;
}

static void
node_free(struct sl_conf_node *n)
{
    sl_conf_node_clear(n);
    free(n);
}

static int
setup(void **state)
{
    char *in;
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/sluice-ut.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    in = sl_path_join(tmpdir, "in");
    sl_mkdir_p(in, NULL);
    free(in);
    write_file("in/a.ndjson", "{\"resourceType\":\"Patient\",\"id\":\"1\"}\n"
                              "\n"
                              "{\"resourceType\":\"Observation\",\"id\":\"2\"}\n"
                              "{\"resourceType\":\n");
    write_file("in/b.json",
               "{\"resourceType\":\"Bundle\",\"entry\":["
               "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"3\"}},"
               "{\"resource\":{\"resourceType\":\"Encounter\",\"id\":\"4\"}}]}");
    write_file("in/c.txt", "ignored");
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

/* Reads all items, returning their positions joined by '|'. */
static char *
read_all(const char *checkpoint, char **last_ck, int stop_after)
{
    char *in = sl_path_join(tmpdir, "in");
    struct sl_conf_node *n = node("src", in, NULL);
    struct sl_buf b;
    struct sl_err err;
    void *ctx = NULL;
    int count = 0;

    sl_buf_init(&b);
    assert_int_equal(sl_source_fhir_files.open(NULL, n, checkpoint, &ctx, &err),
                     SL_OK);
    for (;;) {
        struct sl_item *it = NULL;
        assert_int_equal(sl_source_fhir_files.next(ctx, &it, &err), SL_OK);
        if (it == NULL)
            break;
        sl_item_parse(it); /* as a pipeline worker does */
        sl_buf_addf(&b, "%s%s:%s", b.len ? "|" : "", it->pos,
                    it->kind == SL_ITEM_BAD ? "BAD" : it->rtype);
        if (last_ck) {
            free(*last_ck);
            *last_ck = sl_strdup(it->checkpoint);
        }
        sl_item_free(it);
        if (++count == stop_after)
            break;
    }
    sl_source_fhir_files.close(ctx);
    node_free(n);
    free(in);
    return sl_buf_steal(&b);
}

static void
test_source_items_and_positions(void **state)
{
    char *s;
    (void)state;
    s = read_all(NULL, NULL, 0);
    assert_string_equal(s, "file 1 line 1:Patient|file 1 line 3:Observation|"
                           "file 1 line 4:BAD|file 2 entry 1:Patient|"
                           "file 2 entry 2:Encounter");
    free(s);
}

static void
test_source_resume(void **state)
{
    char *ck = NULL, *s;
    (void)state;
    s = read_all(NULL, &ck, 2);
    free(s);
    assert_non_null(ck);
    s = read_all(ck, NULL, 0);
    assert_string_equal(s, "file 1 line 4:BAD|file 2 entry 1:Patient|"
                           "file 2 entry 2:Encounter");
    free(s);
    free(ck);
    /* resuming in the middle of a Bundle */
    ck = NULL;
    s = read_all(NULL, &ck, 4);
    free(s);
    s = read_all(ck, NULL, 0);
    assert_string_equal(s, "file 2 entry 2:Encounter");
    free(s);
    free(ck);
}

static void
test_bad_reason_has_no_value(void **state)
{
    char *in = sl_path_join(tmpdir, "in2");
    struct sl_conf_node *n;
    struct sl_item *it = NULL;
    struct sl_err err;
    void *ctx = NULL;
    (void)state;
    sl_mkdir_p(in, NULL);
    write_file("in2/x.ndjson", "{\"resourceType\":\"Patient\",\"name\":Smithson}\n");
    n = node("src", in, NULL);
    assert_int_equal(sl_source_fhir_files.open(NULL, n, NULL, &ctx, &err), SL_OK);
    assert_int_equal(sl_source_fhir_files.next(ctx, &it, &err), SL_OK);
    assert_non_null(it);
    sl_item_parse(it); /* as a pipeline worker does */
    assert_int_equal(it->kind, SL_ITEM_BAD);
    assert_non_null(strstr(it->reason, "file 1 line 1"));
    assert_non_null(strstr(it->reason, "column"));
    assert_null(strstr(it->reason, "Smithson"));
    assert_null(strstr(it->reason, "x.ndjson"));
    sl_item_free(it);
    sl_source_fhir_files.close(ctx);
    node_free(n);
    free(in);
}

static void
put_one(void *ctx, const char *json)
{
    struct sl_item *it = sl_item_new(SL_ITEM_FHIR);
    struct sl_err err;
    int taken = 0;
    it->resource = json_loads(json, 0, NULL);
    it->rtype = sl_strdup(json_string_value(json_object_get(it->resource,
                                                            "resourceType")));
    it->pos = sl_strdup("t");
    assert_int_equal(sl_sink_fhir_files.put(ctx, it, &taken, &err), SL_OK);
    assert_int_equal(taken, 1);
    sl_item_free(it);
}

static long
count_lines(const char *rel)
{
    char *p = sl_path_join(tmpdir, rel), *text = NULL;
    size_t len = 0, i;
    long n = 0;
    if (sl_file_read(p, &text, &len, NULL) != SL_OK) {
        free(p);
        return -1;
    }
    for (i = 0; i < len; i++)
        n += text[i] == '\n';
    free(text);
    free(p);
    return n;
}

static void
test_sink_rolls_back_to_checkpoint(void **state)
{
    char *out = sl_path_join(tmpdir, "out");
    struct sl_conf_node *n = node("dst", out, NULL);
    struct sl_err err;
    char *st = NULL;
    void *ctx = NULL;
    (void)state;
    assert_int_equal(sl_sink_fhir_files.open(NULL, n, "run-1", NULL, &ctx, &err),
                     SL_OK);
    put_one(ctx, "{\"resourceType\":\"Patient\",\"id\":\"1\"}");
    assert_int_equal(sl_sink_fhir_files.checkpoint(ctx, &st, &err), SL_OK);
    /* written after the checkpoint, then a crash */
    put_one(ctx, "{\"resourceType\":\"Patient\",\"id\":\"2\"}");
    put_one(ctx, "{\"resourceType\":\"Condition\",\"id\":\"3\"}");
    {
        char *st2 = NULL;
        sl_sink_fhir_files.checkpoint(ctx, &st2, &err);
        free(st2);
    }
    sl_sink_fhir_files.close(ctx);
    assert_int_equal(count_lines("out/run-1/Patient.ndjson"), 2);
    /* resume from the first checkpoint */
    ctx = NULL;
    assert_int_equal(sl_sink_fhir_files.open(NULL, n, "run-1", st, &ctx, &err),
                     SL_OK);
    assert_int_equal(count_lines("out/run-1/Patient.ndjson"), 1);
    assert_int_equal(count_lines("out/run-1/Condition.ndjson"), -1);
    /* this attempt writes nothing before its checkpoint: the file from the
     * first attempt must still be part of the state */
    {
        char *st2 = NULL;
        assert_int_equal(sl_sink_fhir_files.checkpoint(ctx, &st2, &err), SL_OK);
        sl_sink_fhir_files.close(ctx);
        ctx = NULL;
        assert_int_equal(
            sl_sink_fhir_files.open(NULL, n, "run-1", st2, &ctx, &err), SL_OK);
        assert_int_equal(count_lines("out/run-1/Patient.ndjson"), 1);
        free(st2);
    }
    sl_sink_fhir_files.close(ctx);
    free(st);
    node_free(n);
    free(out);
}

static void
test_sink_bundles(void **state)
{
    char *out = sl_path_join(tmpdir, "outb");
    struct sl_conf_node *n = node("dst", out, "bundle");
    struct sl_err err;
    char *text = NULL, *p;
    void *ctx = NULL;
    json_t *b;
    (void)state;
    assert_int_equal(sl_sink_fhir_files.open(NULL, n, "r", NULL, &ctx, &err),
                     SL_OK);
    put_one(ctx, "{\"resourceType\":\"Patient\",\"id\":\"1\"}");
    put_one(ctx, "{\"resourceType\":\"Patient\",\"id\":\"2\"}");
    put_one(ctx, "{\"resourceType\":\"Patient\",\"id\":\"3\"}");
    assert_int_equal(sl_sink_fhir_files.finish(ctx, &err), SL_OK);
    {
        char *st = NULL;
        assert_int_equal(sl_sink_fhir_files.checkpoint(ctx, &st, &err), SL_OK);
        free(st);
        sl_sink_fhir_files.committed(ctx);
    }
    sl_sink_fhir_files.close(ctx);
    p = sl_path_join(out, "r/bundle-000001.json");
    assert_int_equal(sl_file_read(p, &text, NULL, NULL), SL_OK);
    b = json_loads(text, 0, NULL);
    assert_non_null(b);
    assert_string_equal(json_string_value(json_object_get(b, "type")),
                        "transaction");
    assert_int_equal(json_array_size(json_object_get(b, "entry")), 2);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_array_get(json_object_get(b, "entry"), 0),
                            "request"),
            "url")),
        "Patient/1");
    json_decref(b);
    free(text);
    free(p);
    p = sl_path_join(out, "r/bundle-000002.json");
    assert_true(sl_path_exists(p));
    free(p);
    /* pending files go once a committed checkpoint counts their Bundle */
    p = sl_path_join(out, "r/pending-000001.ndjson");
    assert_false(sl_path_exists(p));
    free(p);
    p = sl_path_join(out, "r/pending-000002.ndjson");
    assert_false(sl_path_exists(p));
    free(p);
    node_free(n);
    free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_items_and_positions),
        cmocka_unit_test(test_source_resume),
        cmocka_unit_test(test_bad_reason_has_no_value),
        cmocka_unit_test(test_sink_rolls_back_to_checkpoint),
        cmocka_unit_test(test_sink_bundles),
    };
    return cmocka_run_group_tests_name("fhir_files", tests, setup, teardown);
}

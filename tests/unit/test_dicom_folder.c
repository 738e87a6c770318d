/* test_dicom_folder.c - the dicom-folder source and sink, driven through
 * their vtables on a synthetic folder with a truncated file and a file
 * that is not DICOM. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/common.h"
#include "config/config.h"
#include "dicom/dicom.h"
#include "pipeline/pipeline.h"
#include "sinks/sinks.h"
#include "sources/sources.h"
#include "synth/synth.h"

/* 2 patients x 2 series x 2 instances */
#define NDICOM 8

static char scratch[] = "/tmp/sluice-test-dfolder.XXXXXX";
static char *in_dir, *out_dir, *trunc_rel = "000001/zz-trunc.dcm";

/* A hand-made config node: cfg=NULL resolves paths as given. */
struct node {
    struct sl_conf_node n;
    char *names[2], *values[2];
};

static void
node_init(struct node *nd, const char *id, const char *path, const char *layout)
{
    memset(nd, 0, sizeof(*nd));
    nd->n.element = (char *)"source";
    nd->n.id = (char *)id;
    nd->n.type = (char *)"dicom-folder";
    nd->n.line = 7;
    nd->names[0] = (char *)"path";
    nd->values[0] = (char *)path;
    nd->n.nattr = 1;
    if (layout) {
        nd->names[1] = (char *)"layout";
        nd->values[1] = (char *)layout;
        nd->n.nattr = 2;
    }
    nd->n.names = nd->names;
    nd->n.values = nd->values;
}

static void __attribute__((unused))
write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void
copy_file(const char *from, const char *to)
{
    char *data = NULL;
    size_t len = 0;
    struct sl_err err = { 0 };

    assert_int_equal(sl_file_read(from, &data, &len, &err), SL_OK);
    assert_int_equal(sl_file_write_atomic(to, data, len, &err), SL_OK);
    free(data);
}

static int
setup(void **state)
{
    struct sl_synth_opts o;
    struct sl_err err = { 0 };
    char *src, *dst;
    struct stat st;

    (void)state;
    if (mkdtemp(scratch) == NULL)
        return -1;
    in_dir = sl_path_join(scratch, "in");
    out_dir = sl_path_join(scratch, "out");
    sl_synth_opts_init(&o);
    o.patients = 2;
    o.instances = 2;
    o.quiet = 1;
    if (sl_synth_run(in_dir, &o, NULL, &err) != SL_OK)
        return -1;
    /* the source reads in/dicom; put a FHIR bundle and a truncated copy
     * in there too */
    src = sl_path_join(in_dir, "fhir/bundle-000001.json");
    dst = sl_path_join(in_dir, "dicom/000001/notes.json");
    copy_file(src, dst);
    free(src);
    free(dst);
    src = sl_path_join(in_dir, "dicom/000001/1/1.dcm");
    dst = sl_path_join(in_dir, "dicom/000001/zz-trunc.dcm");
    copy_file(src, dst);
    if (stat(dst, &st) != 0 || truncate(dst, st.st_size - 500) != 0)
        return -1;
    free(src);
    free(dst);
    src = sl_path_join(in_dir, "dicom");
    free(in_dir);
    in_dir = src;
    return 0;
}

static int
teardown(void **state)
{
    char *cmd = sl_asprintf("rm -rf '%s'", scratch);
    int rc;

    (void)state;
    rc = system(cmd);
    free(cmd);
    free(in_dir);
    free(out_dir);
    return rc == 0 ? 0 : -1;
}

/* Reads every item of the source from checkpoint cp. */
static size_t
read_all(const char *cp, struct sl_item **items, size_t max)
{
    const struct sl_source_ops *ops = sl_source_find("dicom-folder");
    struct node nd;
    struct sl_err err = { 0 };
    void *ctx = NULL;
    size_t n = 0;

    node_init(&nd, "pacs-export", in_dir, NULL);
    assert_non_null(ops);
    assert_int_equal(ops->open(NULL, &nd.n, cp, &ctx, &err), SL_OK);
    for (;;) {
        struct sl_item *it = NULL;
        assert_int_equal(ops->next(ctx, &it, &err), SL_OK);
        if (it == NULL)
            break;
        assert_true(n < max);
        items[n++] = it;
    }
    ops->close(ctx);
    return n;
}

static void
free_items(struct sl_item **items, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        sl_item_free(items[i]);
}

static void
test_source_reads_folder(void **state)
{
    struct sl_item *items[32];
    size_t n, i, ndicom = 0, nbad = 0;

    (void)state;
    n = read_all(NULL, items, 32);
    assert_int_equal(n, NDICOM + 1); /* the JSON file is skipped */
    for (i = 0; i < n; i++) {
        struct sl_item *it = items[i];
        assert_non_null(it->pos);
        assert_true(strncmp(it->pos, "file ", 5) == 0);
        assert_non_null(it->checkpoint);
        assert_non_null(it->origin);
        if (it->kind == SL_ITEM_DICOM) {
            ndicom++;
            assert_string_equal(it->path, it->origin);
            assert_true(strcmp(it->rtype, "CT") == 0 ||
                        strcmp(it->rtype, "MR") == 0);
        } else {
            assert_int_equal(it->kind, SL_ITEM_BAD);
            nbad++;
            assert_string_equal(it->stage, "read");
            assert_non_null(strstr(it->reason, "(7FE0,0010) Pixel Data"));
            assert_null(strstr(it->reason, "/")); /* no path */
            assert_non_null(strstr(it->checkpoint, trunc_rel));
        }
    }
    assert_int_equal(ndicom, NDICOM);
    assert_int_equal(nbad, 1);
    /* sorted order: the files of patient 1 come first */
    assert_non_null(strstr(items[0]->origin, "/000001/1/1.dcm"));
    assert_string_equal(items[0]->pos, "file 1");
    free_items(items, n);
}

static void
test_source_resumes(void **state)
{
    struct sl_item *all[32], *rest[32];
    size_t n, m, i;
    char *cp;
    const char *tab;

    (void)state;
    n = read_all(NULL, all, 32);
    /* after item 3 */
    m = read_all(all[2]->checkpoint, rest, 32);
    assert_int_equal(m, n - 3);
    for (i = 0; i < m; i++)
        assert_string_equal(rest[i]->origin, all[i + 3]->origin);
    free_items(rest, m);
    /* an index that no longer matches the path: found by path */
    tab = strchr(all[2]->checkpoint, '\t');
    assert_non_null(tab);
    cp = sl_asprintf("1%s", tab);
    m = read_all(cp, rest, 32);
    assert_int_equal(m, n - 3);
    assert_string_equal(rest[0]->origin, all[3]->origin);
    free_items(rest, m);
    free(cp);
    /* after the last item: nothing */
    m = read_all(all[n - 1]->checkpoint, rest, 32);
    assert_int_equal(m, 0);
    free_items(all, n);
}

static void
test_source_config_errors(void **state)
{
    const struct sl_source_ops *ops = sl_source_find("dicom-folder");
    struct node nd;
    struct sl_err err = { 0 };
    void *ctx = NULL;
    char *missing = sl_path_join(scratch, "no-such-folder");

    (void)state;
    node_init(&nd, "pacs-export", missing, NULL);
    assert_int_not_equal(ops->open(NULL, &nd.n, NULL, &ctx, &err), SL_OK);
    assert_null(ctx);
    assert_null(strstr(err.msg, missing));
    assert_non_null(strstr(err.msg, "pacs-export"));
    nd.n.nattr = 0;
    assert_int_equal(ops->open(NULL, &nd.n, NULL, &ctx, &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "line 7"));
    free(missing);
}

static void *
sink_open(const char *dir, const char *layout, const char *state_str)
{
    const struct sl_sink_ops *ops = sl_sink_find("dicom-folder");
    struct node nd;
    struct sl_err err = { 0 };
    void *ctx = NULL;

    node_init(&nd, "images", dir, layout);
    assert_non_null(ops);
    assert_int_equal(ops->open(NULL, &nd.n, "run-1", state_str, &ctx, &err),
                     SL_OK);
    return ctx;
}

static int
files_equal(const char *a, const char *b)
{
    char *da = NULL, *db = NULL;
    size_t la = 0, lb = 0;
    struct sl_err err = { 0 };
    int eq;

    if (sl_file_read(a, &da, &la, &err) != SL_OK ||
        sl_file_read(b, &db, &lb, &err) != SL_OK) {
        free(da);
        return 0;
    }
    eq = la == lb && memcmp(da, db, la) == 0;
    free(da);
    free(db);
    return eq;
}

static void
test_sink_layout_and_idempotence(void **state)
{
    const struct sl_sink_ops *ops = sl_sink_find("dicom-folder");
    struct sl_item *items[32], *fhir;
    struct sl_err err = { 0 };
    size_t n, i, taken_n = 0;
    char *st = NULL, *manifest, *expect;
    struct sl_dicom_summary *sum = NULL;
    void *ctx;
    int taken;

    (void)state;
    n = read_all(NULL, items, 32);
    ctx = sink_open(out_dir, NULL, NULL);
    for (i = 0; i < n; i++) {
        if (items[i]->kind != SL_ITEM_DICOM)
            continue;
        assert_int_equal(ops->put(ctx, items[i], &taken, &err), SL_OK);
        assert_int_equal(taken, 1);
        taken_n++;
    }
    assert_int_equal(taken_n, NDICOM);
    /* other kinds are not for this sink */
    fhir = sl_item_new(SL_ITEM_FHIR);
    assert_int_equal(ops->put(ctx, fhir, &taken, &err), SL_OK);
    assert_int_equal(taken, 0);
    sl_item_free(fhir);
    assert_int_equal(ops->checkpoint(ctx, &st, &err), SL_OK);
    assert_string_equal(st, "written=8 unchanged=0");
    ops->close(ctx);

    /* where the first instance went, byte for byte */
    assert_int_equal(sl_dicom_summary_read(items[0]->path, &sum, &err), SL_OK);
    expect = sl_asprintf("%s/%s/%s/%s/%s.dcm", out_dir, sum->patient_id,
                         sum->study_uid, sum->series_uid, sum->sop_uid);
    assert_true(files_equal(items[0]->path, expect));
    free(expect);
    sl_dicom_summary_free(sum);

    /* a crash after the checkpoint: everything is put again */
    ctx = sink_open(out_dir, NULL, st);
    for (i = 0; i < n; i++) {
        if (items[i]->kind != SL_ITEM_DICOM)
            continue;
        assert_int_equal(ops->put(ctx, items[i], &taken, &err), SL_OK);
    }
    free(st);
    assert_int_equal(ops->checkpoint(ctx, &st, &err), SL_OK);
    assert_string_equal(st, "written=8 unchanged=8");
    assert_int_equal(ops->finish(ctx, &err), SL_OK);
    ops->close(ctx);
    free(st);
    manifest = sl_path_join(out_dir, "manifest.json");
    assert_true(sl_path_exists(manifest));
    free(manifest);
    free_items(items, n);
}

static void
test_sink_duplicate_uid(void **state)
{
    const struct sl_sink_ops *ops = sl_sink_find("dicom-folder");
    struct sl_item *items[32];
    struct sl_err err = { 0 };
    char *dup_dir = sl_path_join(scratch, "dup");
    char *copy = sl_path_join(scratch, "changed.dcm");
    char *data = NULL;
    size_t n, len = 0;
    void *ctx;
    int taken;

    (void)state;
    n = read_all(NULL, items, 32);
    ctx = sink_open(dup_dir, "flat", NULL);
    assert_int_equal(ops->put(ctx, items[0], &taken, &err), SL_OK);
    /* the same UIDs, other pixels */
    assert_int_equal(sl_file_read(items[0]->path, &data, &len, &err), SL_OK);
    data[len - 10] ^= 0x55;
    assert_int_equal(sl_file_write_atomic(copy, data, len, &err), SL_OK);
    free(items[1]->tmp_path);
    items[1]->tmp_path = sl_strdup(copy); /* freed and unlinked with it */
    free(items[1]->path);
    items[1]->path = sl_strdup(items[0]->path);
    assert_int_equal(ops->put(ctx, items[1], &taken, &err), SL_EQUARANTINE);
    assert_int_equal(taken, 1);
    assert_string_equal(items[1]->stage, "sink");
    assert_string_equal(items[1]->reason, "duplicate SOP Instance UID "
                                          "(0008,0018) with different "
                                          "content");
    ops->close(ctx);
    free(data);
    free(copy);
    free(dup_dir);
    free_items(items, n);
}

static void
test_sink_names_sanitised(void **state)
{
    const struct sl_sink_ops *ops = sl_sink_find("dicom-folder");
    struct sl_dicom_builder *b = sl_dicom_builder_new();
    struct sl_item *it = sl_item_new(SL_ITEM_DICOM);
    struct sl_err err = { 0 };
    char *dir = sl_path_join(scratch, "names");
    char *f = sl_path_join(scratch, "odd.dcm"), *expect;
    void *ctx;
    int taken;

    (void)state;
    assert_int_equal(sl_dicom_builder_set_string(
                         b, 0x0008, 0x0016, "1.2.840.10008.5.1.4.1.1.7", &err),
                     SL_OK);
    assert_int_equal(
        sl_dicom_builder_set_string(b, 0x0008, 0x0018, "1.2.3", &err), SL_OK);
    assert_int_equal(
        sl_dicom_builder_set_string(b, 0x0020, 0x000D, "1.2.4", &err), SL_OK);
    assert_int_equal(
        sl_dicom_builder_set_string(b, 0x0020, 0x000E, "1.2.5", &err), SL_OK);
    assert_int_equal(
        sl_dicom_builder_set_string(b, 0x0010, 0x0020, "../O'Hara/x", &err),
        SL_OK);
    assert_int_equal(sl_dicom_builder_save(b, f, &err), SL_OK);
    sl_dicom_builder_free(b);
    it->path = sl_strdup(f);
    it->pos = sl_strdup("file 1");
    ctx = sink_open(dir, NULL, NULL);
    assert_int_equal(ops->put(ctx, it, &taken, &err), SL_OK);
    ops->close(ctx);
    expect = sl_path_join(dir, "_._O_Hara_x/1.2.4/1.2.5/1.2.3.dcm");
    assert_true(sl_path_exists(expect));
    free(expect);
    sl_item_free(it);
    free(f);
    free(dir);
}

static void
test_sink_bad_layout(void **state)
{
    const struct sl_sink_ops *ops = sl_sink_find("dicom-folder");
    struct node nd;
    struct sl_err err = { 0 };
    void *ctx = NULL;

    (void)state;
    node_init(&nd, "images", out_dir, "by-date");
    assert_int_equal(ops->open(NULL, &nd.n, "run-1", NULL, &ctx, &err),
                     SL_ECONFIG);
    assert_null(ctx);
    assert_non_null(strstr(err.msg, "layout"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_reads_folder),
        cmocka_unit_test(test_source_resumes),
        cmocka_unit_test(test_source_config_errors),
        cmocka_unit_test(test_sink_layout_and_idempotence),
        cmocka_unit_test(test_sink_duplicate_uid),
        cmocka_unit_test(test_sink_names_sanitised),
        cmocka_unit_test(test_sink_bad_layout),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* test_sink_export.c - the shared export helpers (src/sinks/export.c) and
 * the dicom-folder sink's layouts with manifests (src/sinks/dicom_media.c)
 * driven through the sink's vtable: names, journal lines, refusals,
 * re-deliveries and the roll-back of a resume. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/common.h"
#include "config/config.h"
#include "dicom/dicom.h"
#include "pipeline/pipeline.h"
#include "sinks/sinks.h"
#include "sinks/sinks_int.h"
#include "synth/synth.h"

static char scratch[] = "/tmp/sluice-test-sinkexp.XXXXXX";
/* synth output (not de-identified) and two de-identified copies */
static char *raw[2], *deid[2];

static void
name_is(const char *prefix, const char *v, const char *want)
{
    char *got = sl_export_name_safe(prefix, v);

    assert_string_equal(got, want);
    free(got);
}

static void
test_name_safe(void **state)
{
    (void)state;
    name_is("", "..", "_.");
    name_is("", ".", "_");
    name_is("", ".hidden", "_hidden");
    name_is("", "", "unknown");
    name_is("", NULL, "unknown");
    name_is("", "a/b c\\d", "a_b_c_d");
    name_is("study-", "1.2.3", "study-1.2.3");
}

static void
test_journal_parse(void **state)
{
    static const char *const bad[] = {
        "",
        "run-1\tok/x.dcm",
        "run-1\t../x.dcm\tp\ts\tr\to\tCT\tm\t"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "run-1\t/x.dcm\tp\ts\tr\to\tCT\tm\t"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "run-1\ta//x.dcm\tp\ts\tr\to\tCT\tm\t"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "run-1\tok/x.dcm\tp\t\tr\to\tCT\tm\t"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "run-1\tok/x.dcm\tp\ts\tr\to\tCT\tm\t"
        "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
        "run-1\tok/x.dcm\tp\ts\tr\to\tCT\tm\t0123",
        "run-1\tok/x.dcm\tp\ts\tr\to\tCT\tm\t"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\tx",
    };
    struct sl_export_inst x;
    size_t i;

    (void)state;
    assert_int_equal(
        dicom_media_journal_parse(
            "run-1\tP0000001/S0000001/R0000001/I0000001\tp\t1.2\t1.3\t1.4\t\t"
            "m\\n\t"
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            &x),
        0);
    assert_string_equal(x.run, "run-1");
    assert_string_equal(x.rel, "P0000001/S0000001/R0000001/I0000001");
    assert_string_equal(x.sop, "1.4");
    assert_null(x.modality); /* empty: absent */
    assert_string_equal(x.method, "m\\n");
    sl_export_inst_clear(&x);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(dicom_media_journal_parse(bad[i], &x), -1);
        assert_null(x.rel);
        assert_null(x.sop);
    }
}

static void
test_manifest_csv(void **state)
{
    struct sl_export e;
    struct sl_export_inst x;
    struct sl_buf csv;
    char *json = NULL;

    (void)state;
    sl_export_init(&e, SL_EXPORT_FOLDERS);
    memset(&x, 0, sizeof(x));
    x.patient = sl_strdup("kept, \"as is\""); /* a site profile kept it */
    x.study = sl_strdup("1.2");
    x.series = sl_strdup("1.3");
    x.sop = sl_strdup("1.4");
    x.method = sl_strdup("m");
    x.rel = sl_strdup("a/b.dcm");
    x.ours = 1; /* as if sluice's method were in (0012,0063) */
    memset(x.sha256, 'a', 64);
    assert_int_equal(sl_export_add(&e, &x), 0);
    sl_buf_init(&csv);
    assert_int_equal(sl_export_manifests(&e, NULL, &json, &csv, NULL), SL_OK);
    sl_buf_addc(&csv, '\0');
    assert_non_null(strstr(csv.data, "\na/b.dcm,\"kept, \"\"as is\"\"\",1.2,"
                                     "1.3,1.4,,\"m\",aaaa"));
    assert_non_null(strstr(json, "\"instances\": 1"));
    free(json);
    sl_buf_free(&csv);
    sl_export_free(&e);
}

static int
setup(void **state)
{
    struct sl_synth_opts o;
    struct sl_err err = { 0 };
    int i;

    (void)state;
    if (mkdtemp(scratch) == NULL)
        return -1;
    sl_synth_opts_init(&o);
    o.patients = 1;
    o.series = 1;
    o.instances = 2;
    o.quiet = 1;
    if (sl_synth_run(scratch, &o, NULL, &err) != SL_OK)
        return -1;
    for (i = 0; i < 2; i++) {
        struct sl_dicom_file *f = NULL;
        char *name = sl_asprintf("dicom/000001/1/%d.dcm", i + 1);
        raw[i] = sl_path_join(scratch, name);
        free(name);
        name = sl_asprintf("deid-%d.dcm", i + 1);
        deid[i] = sl_path_join(scratch, name);
        free(name);
        /* not a real de-identification: the flag the sink looks at */
        if (sl_dicom_file_open(raw[i], &f, NULL, &err) != SL_OK ||
            sl_dicom_file_put(f, 0x0010, 0x0020, "PSEUDO", &err) != SL_OK ||
            sl_dicom_file_put(f, 0x0012, 0x0062, "YES", &err) != SL_OK ||
            sl_dicom_file_put(f, 0x0012, 0x0063, "test", &err) != SL_OK ||
            sl_dicom_file_save(f, deid[i], &err) != SL_OK)
            return -1;
        sl_dicom_file_free(f);
    }
    return 0;
}

static int
teardown(void **state)
{
    char *cmd = sl_asprintf("rm -rf '%s'", scratch);
    int rc, i;

    (void)state;
    rc = system(cmd);
    free(cmd);
    for (i = 0; i < 2; i++) {
        free(raw[i]);
        free(deid[i]);
    }
    return rc == 0 ? 0 : -1;
}

/* A target node with path and layout. */
struct node {
    struct sl_conf_node n;
    char *names[2], *values[2];
};

static void
node_init(struct node *nd, const char *path, const char *layout)
{
    memset(nd, 0, sizeof(*nd));
    nd->n.element = (char *)"target";
    nd->n.id = (char *)"t";
    nd->n.type = (char *)"dicom-folder";
    nd->n.line = 3;
    nd->names[0] = (char *)"path";
    nd->values[0] = (char *)path;
    nd->names[1] = (char *)"layout";
    nd->values[1] = (char *)layout;
    nd->n.nattr = 2;
    nd->n.names = nd->names;
    nd->n.values = nd->values;
}

static int
put_file(const struct sl_sink_ops *ops, void *ctx, const char *path,
         char **reason)
{
    struct sl_item *it = sl_item_new(SL_ITEM_DICOM);
    struct sl_err err = { 0 };
    int rc, taken = 0;

    it->path = sl_strdup(path);
    it->pos = sl_strdup("file 1");
    rc = ops->put(ctx, it, &taken, &err);
    assert_int_equal(taken, 1);
    if (reason != NULL)
        *reason = it->reason ? sl_strdup(it->reason) : NULL;
    sl_item_free(it);
    return rc;
}

static size_t
lines_of(const char *path)
{
    char *data = NULL, *p;
    size_t len = 0, n = 0;

    if (sl_file_read(path, &data, &len, NULL) != SL_OK)
        return 0;
    for (p = data; p < data + len; p++)
        n += *p == '\n';
    free(data);
    return n;
}

static void
test_sink_folders(void **state)
{
    const struct sl_sink_ops *ops = sl_sink_find("dicom-folder");
    struct sl_config cfg;
    struct node nd;
    struct sl_err err = { 0 };
    char *out = sl_path_join(scratch, "out"), *st1 = NULL, *st2 = NULL;
    char *reason = NULL, *manifest = sl_path_join(out, "manifest.csv");
    char *journal = sl_path_join(scratch, "state/sinks/t/journal.tsv");
    static const char *const leftovers[3] = { "manifest.json.tmp.999",
                                              "run-1.zip.AbC123", "notes.txt" };
    struct sl_strv files = { 0 };
    void *ctx = NULL;
    int i;

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg.base_dir = scratch;
    cfg.state_path = (char *)"state/s.db";
    node_init(&nd, out, "folders");
    assert_int_equal(ops->open(&cfg, &nd.n, "run-1", NULL, &ctx, &err), SL_OK);
    assert_int_equal(put_file(ops, ctx, deid[0], NULL), SL_OK);
    assert_int_equal(ops->checkpoint(ctx, &st1, &err), SL_OK);
    assert_int_equal(put_file(ops, ctx, deid[1], NULL), SL_OK);
    /* not de-identified: quarantined, with the reason */
    assert_int_equal(put_file(ops, ctx, raw[0], &reason), SL_EQUARANTINE);
    assert_non_null(strstr(reason, "de-identified instances only"));
    free(reason);
    /* the same instance again: delivered once */
    assert_int_equal(put_file(ops, ctx, deid[0], NULL), SL_OK);
    assert_int_equal(ops->checkpoint(ctx, &st2, &err), SL_OK);
    assert_string_equal(st2 + strcspn(st2, " "), " written=2 unchanged=1");
    assert_int_equal(ops->finish(ctx, &err), SL_OK);
    ops->close(ctx);
    assert_int_equal(lines_of(manifest), 3); /* header + 2 */
    assert_int_equal(lines_of(journal), 3);  /* header + 2 */

    /* What a crash in finish() leaves goes when the target opens; other
     * files stay. */
    for (i = 0; i < 3; i++) {
        char *p = sl_path_join(out, leftovers[i]);
        assert_int_equal(sl_file_write_atomic(p, "x", 1, &err), SL_OK);
        free(p);
    }
    /* Resume from the first checkpoint: the second instance, delivered
     * after it, goes, and the journal is cut back. */
    assert_int_equal(ops->open(&cfg, &nd.n, "run-1", st1, &ctx, &err), SL_OK);
    for (i = 0; i < 3; i++) {
        char *p = sl_path_join(out, leftovers[i]);
        assert_int_equal(sl_path_exists(p), i == 2);
        free(p);
    }
    assert_int_equal(lines_of(journal), 2);
    assert_int_equal(sl_dir_walk(out, &files, &err), SL_OK);
    /* 1 instance, the 2 old manifests, notes.txt */
    assert_int_equal(files.n, 4);
    sl_strv_free(&files);
    assert_int_equal(put_file(ops, ctx, deid[1], NULL), SL_OK);
    assert_int_equal(ops->finish(ctx, &err), SL_OK);
    ops->close(ctx);
    assert_int_equal(lines_of(manifest), 3);
    assert_int_equal(sl_dir_walk(out, &files, &err), SL_OK);
    assert_int_equal(files.n, 5);
    sl_strv_free(&files);

    /* A checkpoint of another layout is refused, not misread. */
    assert_int_equal(
        ops->open(&cfg, &nd.n, "run-1", "written=1 unchanged=0", &ctx, &err),
        SL_ESTATE);
    free(st1);
    free(st2);
    free(out);
    free(manifest);
    free(journal);
}

/* (0012,0062) YES alone is not trusted: another tool's output gets
 * numbered names (never its Patient ID), and an instance that says sluice
 * de-identified it but carries a Patient ID or Name that is no pseudonym
 * is refused. */
static void
test_trust_not_flag_alone(void **state)
{
    struct sl_export e;
    struct sl_export_inst x;
    struct sl_dicom_file *f = NULL;
    struct sl_err err = { 0 };
    const char *refused = NULL;
    char *lie = sl_path_join(scratch, "lie.dcm"), *rel;

    (void)state;
    sl_export_init(&e, SL_EXPORT_FOLDERS);
    /* deid[0]: YES, method "test", Patient ID "PSEUDO": another tool */
    assert_int_equal(sl_export_inst_read(deid[0], &x, &refused, &err), SL_OK);
    assert_null(refused);
    assert_false(x.ours);
    rel = sl_export_rel_make(&e, &x, 0);
    assert_string_equal(rel, "patient-0001/study-0001/series-0001/000001.dcm");
    assert_null(strstr(rel, "PSEUDO"));
    free(rel);
    sl_export_inst_clear(&x);
    /* says sluice, but the Patient ID is a name */
    assert_int_equal(sl_dicom_file_open(raw[0], &f, NULL, &err), SL_OK);
    assert_int_equal(sl_dicom_file_put(f, 0x0010, 0x0020, "SMITH^JOHN", &err),
                     SL_OK);
    assert_int_equal(sl_dicom_file_put(f, 0x0012, 0x0062, "YES", &err), SL_OK);
    assert_int_equal(sl_dicom_file_put(f, 0x0012, 0x0063,
                                       "PS3.15 2023b Basic Profile; sluice "
                                       "basic 1",
                                       &err),
                     SL_OK);
    assert_int_equal(sl_dicom_file_save(f, lie, &err), SL_OK);
    sl_dicom_file_free(f);
    assert_int_equal(sl_export_inst_read(lie, &x, &refused, &err), SL_OK);
    assert_ptr_equal(refused, sl_export_not_pseudonym);
    sl_export_inst_clear(&x);
    sl_export_free(&e);
    free(lie);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_safe),
        cmocka_unit_test(test_journal_parse),
        cmocka_unit_test(test_manifest_csv),
        cmocka_unit_test(test_sink_folders),
        cmocka_unit_test(test_trust_not_flag_alone),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}

/* test_quarantine.c - the state store's dispatch to its backend (a fake
 * one here: what a second backend relies on), and the quarantine
 * interface over the state store and over a `sluice deid` folder. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "state/quarantine.h"
#include "state/state.h"

static char tmpdir[64];

static int
setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/sluice-quar.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void
put(const char *rel, const char *text)
{
    char *p = sl_path_join(tmpdir, rel);
    FILE *f = fopen(p, "wb");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

/* ---- a fake backend ------------------------------------------------------ */

struct fake {
    int opened, closed, ends, sets, commits;
    char last_status[16];
    size_t last_nq;
};

static struct fake fk;

static int
fake_open(const char *path, void **be, struct sl_err *err)
{
    (void)err;
    assert_string_equal(path, "fake://store");
    fk.opened++;
    *be = &fk;
    return SL_OK;
}

static void
fake_close(void *be)
{
    assert_ptr_equal(be, &fk);
    fk.closed++;
}

static int
fake_run_end(void *be, const char *run_id, const char *status, uint64_t in,
             uint64_t out, uint64_t quarantined, const char *summary,
             struct sl_err *err)
{
    (void)run_id, (void)in, (void)out, (void)quarantined, (void)summary;
    (void)err;
    assert_ptr_equal(be, &fk);
    fk.ends++;
    snprintf(fk.last_status, sizeof(fk.last_status), "%s", status);
    return SL_OK;
}

static int
fake_commit(void *be, const char *run_id, const struct sl_checkpoint *ck,
            const struct sl_qitem *q, size_t nq, struct sl_err *err)
{
    (void)run_id, (void)ck, (void)q, (void)err;
    assert_ptr_equal(be, &fk);
    fk.commits++;
    fk.last_nq = nq;
    return SL_OK;
}

static int
fake_set_status(void *be, int64_t id, const char *status, struct sl_err *err)
{
    (void)be, (void)status;
    fk.sets++;
    if (id != 1)
        return SL_ERR(err, SL_ENOTFOUND, "no quarantined item %lld",
                      (long long)id);
    return SL_OK;
}

static const struct sl_state_ops fake_ops = {
    .name = "fake",
    .prefix = "fake://",
    .open = fake_open,
    .close = fake_close,
    .run_end = fake_run_end,
    .commit = fake_commit,
    .quarantine_set_status = fake_set_status,
};

/* The public functions reach the backend's ops with its handle, and
 * refuse bad status words before the backend sees them. */
static void
test_dispatch_to_backend(void **state)
{
    struct sl_state *st = NULL;
    struct sl_checkpoint ck = { 0 };
    struct sl_qitem q[2] = { { 0 }, { 0 } };
    struct sl_err err = { 0 };

    (void)state;
    memset(&fk, 0, sizeof(fk));
    assert_int_equal(sl_state_open_ops(&fake_ops, "fake://store", &st, &err),
                     SL_OK);
    assert_int_equal(fk.opened, 1);
    assert_string_equal(sl_state_backend(st), "fake");
    assert_string_equal(sl_state_path(st), "fake://store");
    sl_state_busy_timeout(st, 10); /* optional op: absent, no crash */

    assert_int_equal(sl_state_run_end(st, "r", "finished", 3, 2, 1, NULL, &err),
                     SL_OK);
    assert_int_equal(fk.ends, 1);
    assert_string_equal(fk.last_status, "finished");
    assert_int_equal(sl_state_run_end(st, "r", "done", 0, 0, 0, NULL, &err),
                     SL_EUSAGE);
    assert_int_equal(fk.ends, 1);

    assert_int_equal(sl_state_commit(st, "r", &ck, q, 2, &err), SL_OK);
    assert_int_equal(fk.commits, 1);
    assert_int_equal(fk.last_nq, 2);

    assert_int_equal(sl_state_quarantine_set_status(st, 1, "gone", &err),
                     SL_EUSAGE);
    assert_int_equal(fk.sets, 0);
    assert_int_equal(sl_state_quarantine_set_status(st, 2, "released", &err),
                     SL_ENOTFOUND);
    assert_int_equal(fk.sets, 1);
    sl_state_close(st);
    assert_int_equal(fk.closed, 1);
    sl_state_close(NULL);
}

static void
test_exists(void **state)
{
    char *p = sl_path_join(tmpdir, "none.db");

    (void)state;
    assert_false(sl_state_exists(p));
    put("none.db", "");
    assert_true(sl_state_exists(p));
    free(p);
}

/* ---- the state store through the quarantine interface -------------------- */

static void
test_quarantine_state(void **state)
{
    char *path = sl_path_join(tmpdir, "q.db"), run[64];
    struct sl_checkpoint ck = { "{}", "{}", "{}", 1 };
    struct sl_qitem in[2] = { { 0 }, { 0 } }, *items = NULL, it = { 0 };
    struct sl_state *st = NULL;
    struct sl_quarantine *qu;
    struct sl_err err = { 0 };
    size_t n = 0;

    (void)state;
    assert_int_equal(sl_state_open(path, &st, &err), SL_OK);
    assert_string_equal(sl_state_backend(st), "sqlite");
    assert_int_equal(sl_state_run_start(st, "j", NULL, NULL, run, &err), SL_OK);
    in[0].pos = "line 1";
    in[0].reason = "bad";
    in[0].kind = "raw";
    in[0].data = "x";
    in[0].data_len = 1;
    in[1].pos = "line 2";
    in[1].reason = "worse";
    in[1].kind = "raw";
    assert_int_equal(sl_state_commit(st, run, &ck, in, 2, &err), SL_OK);

    qu = sl_quarantine_open_state(st);
    assert_string_equal(sl_quarantine_kind(qu), "state");
    assert_int_equal(sl_quarantine_list(qu, "open", &items, &n, &err), SL_OK);
    assert_int_equal(n, 2);
    assert_string_equal(items[0].name, "1");
    assert_string_equal(items[1].name, "2");
    assert_null(items[0].data);
    sl_quarantine_items_free(items, n);
    assert_int_equal(sl_quarantine_get(qu, "1", &it, &err), SL_OK);
    assert_string_equal(it.name, "1");
    assert_string_equal(it.data, "x");
    sl_qitem_clear(&it);
    assert_int_equal(sl_quarantine_get(qu, "in000001", &it, &err), SL_EUSAGE);
    assert_int_equal(sl_quarantine_get(qu, "9", &it, &err), SL_ENOTFOUND);
    assert_int_equal(sl_quarantine_set_status(qu, "2", "released", &err),
                     SL_OK);
    assert_int_equal(sl_quarantine_list(qu, "open", &items, &n, &err), SL_OK);
    assert_int_equal(n, 1);
    sl_quarantine_items_free(items, n);
    sl_quarantine_close(qu);
    sl_state_close(st);
    free(path);
}

/* ---- a sluice deid folder ------------------------------------------------ */

static void
test_quarantine_dir(void **state)
{
    char *qdir = sl_path_join(tmpdir, "qd");
    struct sl_qitem *items = NULL, it = { 0 };
    struct sl_quarantine *qu = NULL;
    struct sl_err err = { 0 };
    size_t n = 0;

    (void)state;
    assert_int_equal(sl_quarantine_dir_open(qdir, NULL, 0, &qu, &err), SL_ENOTFOUND);
    assert_int_equal(sl_mkdir_p(qdir, NULL), SL_OK);
    put("qd/in000002.dcm", "DICM-ish");
    put("qd/in000002.reason.txt", "item: in000002\nposition: file 2\n"
                                  "reason: truncated after (0010,0010)\n"
                                  "input: /in/Doe_Jane/IM1.dcm\n");
    put("qd/in000001-line000003.ndjson", "{\"resourceType\":\"Patient\"}");
    /* a reason that looks like a field, an input path with a newline */
    put("qd/in000001-line000003.reason.txt",
        "item: in000001-line000003\nposition: file 1 line 3\n"
        "reason: two lines\ninput: not this\ninput: /in/Roe\nRichard.ndjson\n");
    put("qd/in000003.reason-only", "");
    put("qd/in000003.reason.txt", "item: in000003\nposition: file 3\n"
                                  "reason: cannot read the file\n"
                                  "input: /in/x.json\n");
    put("qd/.in000004.reason.txt.tmp.1", "half written");
    put("qd/not an id.reason.txt", "item: x\n");
    put("qd/in000009.json", "an item without a reason file");

    assert_int_equal(sl_quarantine_dir_open(qdir, NULL, 0, &qu, &err), SL_OK);
    assert_string_equal(sl_quarantine_kind(qu), "folder");
    assert_int_equal(sl_quarantine_list(qu, NULL, &items, &n, &err), SL_OK);
    assert_int_equal(n, 3);
    assert_string_equal(items[0].name, "in000001-line000003");
    assert_string_equal(items[0].pos, "file 1 line 3");
    assert_string_equal(items[0].reason, "two lines\ninput: not this");
    assert_string_equal(items[0].origin, "/in/Roe\nRichard.ndjson");
    assert_string_equal(items[0].kind, "fhir");
    assert_string_equal(items[0].status, "open");
    assert_null(items[0].data);
    assert_int_equal(items[0].data_len, 26);
    assert_string_equal(items[1].name, "in000002");
    assert_string_equal(items[1].kind, "dicom");
    assert_string_equal(items[1].reason, "truncated after (0010,0010)");
    assert_non_null(strstr(items[1].path, "qd/in000002.dcm"));
    assert_string_equal(items[2].name, "in000003");
    assert_string_equal(items[2].kind, "raw");
    assert_non_null(items[2].created);
    sl_quarantine_items_free(items, n);

    assert_int_equal(sl_quarantine_list(qu, "released", &items, &n, &err),
                     SL_OK);
    assert_int_equal(n, 0);
    sl_quarantine_items_free(items, n);

    assert_int_equal(sl_quarantine_get(qu, "in000001-line000003", &it, &err),
                     SL_OK);
    assert_string_equal(it.data, "{\"resourceType\":\"Patient\"}");
    assert_string_equal(it.kind, "fhir");
    sl_qitem_clear(&it);
    assert_int_equal(sl_quarantine_get(qu, "in000002", &it, &err), SL_OK);
    assert_null(it.data); /* DICOM stays on disk: show gives its path */
    sl_qitem_clear(&it);
    assert_int_equal(sl_quarantine_get(qu, "in000009", &it, &err),
                     SL_ENOTFOUND);
    assert_int_equal(sl_quarantine_get(qu, "../qd/in000002", &it, &err),
                     SL_EUSAGE);
    assert_int_equal(sl_quarantine_get(qu, "", &it, &err), SL_EUSAGE);
    assert_int_equal(sl_quarantine_set_status(qu, "in000002", "released", &err),
                     SL_EUSAGE);
    assert_non_null(strstr(err.msg, "read-only"));
    sl_quarantine_close(qu);
    sl_quarantine_close(NULL);
    free(qdir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dispatch_to_backend),
        cmocka_unit_test(test_exists),
        cmocka_unit_test(test_quarantine_state),
        cmocka_unit_test(test_quarantine_dir),
    };
    return cmocka_run_group_tests_name("quarantine", tests, setup, teardown);
}

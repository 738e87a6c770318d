/* test_pipeline.c - the engine as a library: two jobs run at once in one
 * process (what the daemon will do), each with its own state store, its
 * own stop flag and its own observer, and each delivers all of its items;
 * stopping one leaves the other running. */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "pipeline/pipeline.h"
#include "state/state.h"

#define NRES 3000

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

/* Lines in the files of a folder (recursive). */
static long
count_lines(const char *rel)
{
    char *dir = sl_path_join(tmpdir, rel);
    struct sl_strv files = {0};
    long n = 0;
    size_t i;
    int c;

    if (sl_dir_walk(dir, &files, NULL) == SL_OK)
        for (i = 0; i < files.n; i++) {
            char *p = sl_path_join(dir, files.v[i]);
            FILE *f = fopen(p, "rb");
            while (f && (c = fgetc(f)) != EOF)
                n += c == '\n';
            if (f)
                fclose(f);
            free(p);
        }
    sl_strv_free(&files);
    free(dir);
    return n;
}

/* 1 when text occurs in a file under rel, else 0. */
static int
system_grep(const char *rel, const char *text)
{
    char *dir = sl_path_join(tmpdir, rel);
    char *cmd = sl_asprintf("grep -rqF '%s' '%s'", text, dir);
    int rc = system(cmd);

    free(cmd);
    free(dir);
    return rc == 0;
}

struct job_run {
    const struct sl_config *cfg;
    const char *job, *state;
    volatile sig_atomic_t stop;
    struct sl_run_opts opts;
    struct sl_run_observer obs;
    const struct sl_run_observer *list[1];
    struct sl_run_summary sum;
    int rc;
    unsigned long items_seen;
};

static void
on_item(void *arg, const struct sl_item *it, int delivered)
{
    struct job_run *j = arg;

    (void)it;
    j->items_seen += delivered != 0;
}

static void *
run_job(void *arg)
{
    struct job_run *j = arg;
    struct sl_state *st = NULL;
    struct sl_err err = {0};
    char *sp = sl_path_join(tmpdir, j->state);

    j->rc = sl_state_open(sp, &st, &err);
    free(sp);
    if (j->rc == SL_OK)
        j->rc = sl_pipeline_run(j->cfg, st, j->job, &j->opts, &j->sum, &err);
    sl_state_close(st);
    return NULL;
}

static void
job_init(struct job_run *j, const struct sl_config *cfg, const char *job,
         const char *state)
{
    memset(j, 0, sizeof(*j));
    j->cfg = cfg;
    j->job = job;
    j->state = state;
    j->opts.workers = 2;
    j->opts.commit_every = 100;
    j->opts.stop = &j->stop;
    j->obs.arg = j;
    j->obs.item = on_item;
    j->list[0] = &j->obs;
    j->opts.observers = j->list;
    j->opts.nobservers = 1;
}

static void
test_two_jobs_at_once(void **state)
{
    struct sl_config *cfg = NULL;
    struct sl_err err = {0};
    struct job_run a, b;
    pthread_t ta, tb;
    struct sl_buf nd;
    char *cfgpath;
    int i;

    (void)state;
    sl_buf_init(&nd);
    for (i = 0; i < NRES; i++)
        sl_buf_addf(&nd,
                    "{\"resourceType\":\"Patient\",\"id\":\"p%d\","
                    "\"name\":[{\"family\":\"Zyxwabc%d\"}],"
                    "\"identifier\":[{\"value\":\"MRN%06d\"}]}\n",
                    i, i, i);
    write_file("in/patients.ndjson", nd.data);
    sl_buf_free(&nd);
    write_file("key", "0123456789abcdef0123456789abcdef0123456789\n");
    {
        char *k = sl_path_join(tmpdir, "key");
        chmod(k, 0600); /* a key file is the owner's alone */
        free(k);
    }
    write_file("sluice.xml",
               "<sluice xmlns=\"urn:sluice:config:1\">\n"
               "  <keys pseudonym=\"file:key\"/>\n"
               "  <quarantine path=\"quarantine\"/>\n"
               "  <source id=\"ehr\" type=\"fhir-files\" path=\"in\"/>\n"
               "  <target id=\"a-out\" type=\"fhir-files\" path=\"a\"/>\n"
               "  <target id=\"b-out\" type=\"fhir-files\" path=\"b\"/>\n"
               "  <job id=\"a\"><pull from=\"ehr\"/><push to=\"a-out\"/></job>\n"
               "  <job id=\"b\"><pull from=\"ehr\"/><deid profile=\"basic\"/>"
               "<push to=\"b-out\"/></job>\n"
               "</sluice>\n");
    cfgpath = sl_path_join(tmpdir, "sluice.xml");
    assert_int_equal(sl_config_load(cfgpath, 1, &cfg, &err), SL_OK);
    free(cfgpath);

    job_init(&a, cfg, "a", "a.db");
    job_init(&b, cfg, "b", "b.db");
    assert_int_equal(pthread_create(&ta, NULL, run_job, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, run_job, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.rc, SL_OK);
    assert_int_equal(b.rc, SL_OK);
    /* each delivered every item, and each observer saw its own */
    assert_int_equal(a.sum.out, NRES);
    assert_int_equal(b.sum.out, NRES);
    assert_int_equal(a.items_seen, NRES);
    assert_int_equal(b.items_seen, NRES);
    assert_int_equal(count_lines("a"), NRES);
    assert_int_equal(count_lines("b"), NRES);
    /* job b de-identified (its names are gone), job a did not */
    assert_int_equal(system_grep("b", "Zyxwabc"), 0);
    assert_int_equal(system_grep("a", "Zyxwabc"), 1);
    sl_run_summary_free(&a.sum);
    sl_run_summary_free(&b.sum);

    /* a stop asked of one job stops that job, not the other */
    job_init(&a, cfg, "a", "a2.db");
    job_init(&b, cfg, "b", "b2.db");
    a.stop = 15; /* as SIGTERM would */
    assert_int_equal(pthread_create(&ta, NULL, run_job, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, run_job, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.rc, SL_EINTR);
    assert_int_equal(b.rc, SL_OK);
    assert_int_equal(b.sum.out, NRES);
    sl_run_summary_free(&a.sum);
    sl_run_summary_free(&b.sum);
    sl_config_free(cfg);
}

static int
setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "%s/sluice-pipe-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(tmpdir));
    {
        char *in = sl_path_join(tmpdir, "in");
        sl_mkdir_p(in, NULL);
        free(in);
    }
    return 0;
}

static int
teardown(void **state)
{
    char cmd[400];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "# could not remove %s\n", tmpdir);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_jobs_at_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

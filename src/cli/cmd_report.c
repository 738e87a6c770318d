/* cmd_report.c - sluice report RUN|JOB [-o FILE]: a run's report as one
 * self-contained HTML page, made again from the state store. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/report.h"
#include "config/config.h"
#include "state/state.h"

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
sl_report_keep(struct sl_state *st, const char *run_id, const char *dir,
               int keep, struct sl_err *err)
{
    char *path, *tmp, **names = NULL;
    size_t n = 0, i;
    struct dirent *e;
    FILE *f;
    DIR *d;
    int rc;

    if ((rc = sl_mkdir_private(dir, "reports", err)) != SL_OK)
        return rc;
    path = sl_asprintf("%s/%s.html", dir, run_id);
    tmp = sl_asprintf("%s/.%s.html.tmp", dir, run_id);
    if ((f = fopen(tmp, "w")) == NULL) {
        rc = SL_ERR(err, SL_EIO, "%s: cannot write", tmp);
        goto out;
    }
    rc = sl_report_write(st, run_id, f, err);
    if (fclose(f) != 0 && rc == SL_OK)
        rc = SL_ERR(err, SL_EIO, "%s: cannot write", tmp);
    if (rc == SL_OK && rename(tmp, path) != 0)
        rc = SL_ERR(err, SL_EIO, "%s: cannot write", path);
    if (rc != SL_OK) {
        unlink(tmp);
        goto out;
    }
    /* run ids sort by start time (to the second): the oldest go; the
     * report just written stays, even beside one of the same second */
    if ((d = opendir(dir)) != NULL) {
        while ((e = readdir(d)) != NULL)
            if (strncmp(e->d_name, "run-", 4) == 0 &&
                strstr(e->d_name, ".html") &&
                strcmp(e->d_name, strrchr(path, '/') + 1) != 0) {
                names = sl_realloc(names, (n + 1) * sizeof(*names));
                names[n++] = sl_strdup(e->d_name);
            }
        closedir(d);
    }
    if (n)
        qsort(names, n, sizeof(*names), cmp_str);
    for (i = 0; i < n; i++) {
        if (keep > 0 && n - i > (size_t)keep - 1) {
            char *old = sl_asprintf("%s/%s", dir, names[i]);
            unlink(old);
            free(old);
        }
        free(names[i]);
    }
    free(names);
out:
    free(path);
    free(tmp);
    return rc;
}

static int
exec_report(const struct cli_cmd *self, struct cli_global *g, int argc,
            char **argv)
{
    struct sl_config *cfg = NULL;
    struct sl_state *st = NULL;
    struct sl_err err = {0};
    struct sl_run_rec *recs = NULL;
    const char *what = NULL, *out = NULL, *state_path = NULL;
    char run[64];
    size_t n = 0;
    FILE *f = stdout;
    int i, rc;

    for (i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) &&
            i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
            state_path = argv[++i];
        else if (argv[i][0] == '-')
            return cli_usage_error(self, "unknown option %s", argv[i]);
        else if (what == NULL)
            what = argv[i];
        else
            return cli_usage_error(self, "one run at a time");
    }
    if (what == NULL)
        return cli_usage_error(self, "which run? ('sluice runs' lists them)");
    if ((rc = cli_state_open(g, state_path, &cfg, &st, &err)) != SL_OK)
        return cli_fail(&err);
    snprintf(run, sizeof(run), "%s", what);
    if (strncmp(what, "run-", 4) != 0) {
        /* a job's name: its latest run */
        if ((rc = sl_state_runs_list(st, what, 1, &recs, &n, &err)) !=
            SL_OK)
            goto fail;
        if (n == 0) {
            rc = SL_ERR(&err, SL_EUSAGE, "no run of job %s", what);
            goto fail;
        }
        snprintf(run, sizeof(run), "%s", recs[0].id);
    }
    if (out && (f = fopen(out, "w")) == NULL) {
        rc = SL_ERR(&err, SL_EIO, "%s: cannot write", out);
        goto fail;
    }
    rc = sl_report_write(st, run, f, &err);
    if (out && fclose(f) != 0 && rc == SL_OK)
        rc = SL_ERR(&err, SL_EIO, "%s: cannot write", out);
    if (rc == SL_ENOTFOUND)
        rc = SL_ERR(&err, SL_EUSAGE, "no run %s ('sluice runs' lists them)",
                    run);
    if (rc != SL_OK)
        goto fail;
    if (out)
        fprintf(stderr, "report of %s written to %s\n", run, out);
    rc = SL_EXIT_OK;
    goto done;
fail:
    rc = cli_fail(&err);
done:
    sl_run_recs_free(recs, n);
    sl_state_close(st);
    sl_config_free(cfg);
    return rc;
}

const struct cli_cmd cli_cmd_report = {
    "report",
    "RUN|JOB [-o FILE] [--state PATH]",
    "a run's report as one HTML page, from the state store",
    "Writes the report of RUN (an id from 'sluice runs'), or of the latest\n"
    "run of JOB, to stdout or FILE: one self-contained HTML page (no\n"
    "external assets, charts as inline SVG) that reads on a laptop screen\n"
    "and prints: items in and out by type, time per stage, items and\n"
    "bytes per source and target, de-identification actions per rule,\n"
    "codes mapped and unmapped per map, validation findings per profile\n"
    "and message, other findings by stage and code, quarantined items by\n"
    "reason, the job's throughput over its recent runs, and the run's\n"
    "audit records. It holds counts, codes, rule ids, messages, reasons\n"
    "and ids, never patient data. 'sluice daemon' writes one after every\n"
    "run into the state store's folder (reports/, the last 30 kept).\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE  write to FILE\n"
    "      --state PATH   the state store to read\n"
    "\n"
    "Exit status: 0, 1 for an unknown run or job, 2 on errors.\n",
    exec_report,
};

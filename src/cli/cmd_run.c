/* cmd_run.c - sluice run JOB [--dry-run]: runs one job now. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config/config.h"
#include "pipeline/pipeline.h"
#include "state/state.h"

/* The process's peak resident memory: the summary shows it so a user can
 * see that memory stays flat whatever the size of the input. */
static long
peak_kib(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return ru.ru_maxrss;
}

void
cli_print_run_summary(const struct sl_config *cfg, const struct sl_job *job,
                      const struct sl_run_summary *sum, int dry_run, int rc)
{
    const char *job_id = job ? job->id : "replay";
    size_t i;

    if (sl_log_get_format() == SL_LOGFMT_JSON) {
        json_t *o = json_object(), *types = json_object();
        char *s;
        json_object_set_new(o, "run", json_string(sum->run_id));
        json_object_set_new(o, "job", json_string(job_id));
        json_object_set_new(o, "status",
                            json_string(rc != SL_OK ? sl_status_name(rc)
                                        : dry_run   ? "dry-run"
                                                    : "finished"));
        json_object_set_new(o, "resumed", json_boolean(sum->resumed));
        json_object_set_new(o, "in", json_integer((json_int_t)sum->in));
        json_object_set_new(o, "out", json_integer((json_int_t)sum->out));
        json_object_set_new(o, "quarantined",
                            json_integer((json_int_t)sum->quarantined));
        json_object_set_new(o, "skipped",
                            json_integer((json_int_t)sum->skipped));
        json_object_set_new(o, "elapsed_seconds", json_real(sum->elapsed));
        json_object_set_new(o, "peak_memory_kib", json_integer(peak_kib()));
        for (i = 0; i < sum->ntypes; i++)
            json_object_set_new(types, sum->types[i].type,
                                json_pack("{sI sI sI}", "in",
                                          (json_int_t)sum->types[i].in, "out",
                                          (json_int_t)sum->types[i].out,
                                          "quarantined",
                                          (json_int_t)sum->types[i].quarantined));
        json_object_set_new(o, "types", types);
        {
            json_t *fs = json_array();
            for (i = 0; i < sum->nfindings; i++)
                json_array_append_new(
                    fs, json_pack("{ss ss ss sI}", "stage",
                                  sum->findings[i].stage, "code",
                                  sum->findings[i].code, "severity",
                                  sl_severity_name(sum->findings[i].severity),
                                  "n", (json_int_t)sum->findings[i].n));
            json_object_set_new(o, "findings", fs);
        }
        s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
        json_decref(o);
        return;
    }
    printf("%s %s of job %s%s: %llu in, %llu %s, %llu quarantined",
           dry_run ? "Dry run" : "Run", sum->run_id, job_id,
           sum->resumed ? " (resumed)" : "", (unsigned long long)sum->in,
           (unsigned long long)sum->out, dry_run ? "would be pushed" : "out",
           (unsigned long long)sum->quarantined);
    if (sum->skipped)
        printf(", %llu skipped (no target for their kind)",
               (unsigned long long)sum->skipped);
    printf(" in %.1f s, peak memory %ld MiB\n", sum->elapsed,
           peak_kib() / 1024);
    if (sum->ntypes) {
        printf("  %-24s %10s %10s %12s\n", "type", "in", "out", "quarantined");
        for (i = 0; i < sum->ntypes; i++)
            printf("  %-24s %10llu %10llu %12llu\n", sum->types[i].type,
                   (unsigned long long)sum->types[i].in,
                   (unsigned long long)sum->types[i].out,
                   (unsigned long long)sum->types[i].quarantined);
    }
    if (sum->nfindings) {
        printf("  %-24s %-10s %-16s %8s\n", "findings: stage", "severity",
               "code", "items");
        for (i = 0; i < sum->nfindings; i++)
            printf("  %-24s %-10s %-16s %8llu\n", sum->findings[i].stage,
                   sl_severity_name(sum->findings[i].severity),
                   sum->findings[i].code,
                   (unsigned long long)sum->findings[i].n);
    }
    if (!dry_run && job) {
        for (i = 0; i < job->push.n; i++) {
            const struct sl_conf_node *t;
            char *p;
            if ((t = sl_config_target(cfg, job->push.v[i])) == NULL)
                continue;
            p = sl_conf_get_path(cfg, t, "path");
            if (p && strcmp(t->type, "fhir-files") == 0)
                printf("  output (%s): %s/%s\n", t->id, p, sum->run_id);
            else if (p)
                printf("  output (%s): %s\n", t->id, p);
            free(p);
        }
        if (sum->quarantined)
            printf("  quarantined items: sluice quarantine list\n");
    }
}

static int
exec_run(const struct cli_cmd *self, struct cli_global *g, int argc,
         char **argv)
{
    struct sl_config *cfg = NULL;
    struct sl_state *st = NULL;
    struct sl_run_summary sum = {0};
    struct sl_run_opts opts = {0};
    struct sl_err err = {0};
    struct cli_run_view view;
    const char *job_id = NULL;
    int i, rc, ex, bar = 0;

    opts.workers = g->jobs;
    opts.commit_every = 1000;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0 || strcmp(argv[i], "-n") == 0)
            opts.dry_run = 1;
        else if (strcmp(argv[i], "--no-progress") == 0)
            bar = -1;
        else if (strcmp(argv[i], "--commit-every") == 0 && i + 1 < argc) {
            long n;
            if (sl_parse_long(argv[++i], 1, 1000000, &n) != SL_OK)
                return cli_usage_error(self, "--commit-every wants 1 to "
                                             "1000000");
            opts.commit_every = n;
        } else if (argv[i][0] == '-')
            return cli_usage_error(self, "unknown option %s", argv[i]);
        else if (job_id == NULL)
            job_id = argv[i];
        else
            return cli_usage_error(self, "one job at a time");
    }
    if (job_id == NULL)
        return cli_usage_error(self, "which job? ('sluice jobs' lists them)");
    bar = bar == 0 && !g->quiet && isatty(2) &&
          g->log_format == SL_LOGFMT_TEXT;
    cli_run_view_attach(&view, g, bar, &opts);

    if ((rc = sl_config_load(cli_config_path(g), 1, &cfg, &err)) != SL_OK)
        return sl_status_exit(rc);
    if (!opts.dry_run && cli_state_for_runs(cfg, &st, &err) != SL_OK) {
        ex = cli_fail(&err);
        goto out;
    }
    cli_signals_catch();
    rc = sl_pipeline_run(cfg, st, job_id, &opts, &sum, &err);
    cli_signals_restore();
    if (rc == SL_OK || sum.run_id[0])
        cli_print_run_summary(cfg, sl_config_job(cfg, job_id)
                               ? sl_config_job(cfg, job_id)
                               : &cfg->jobs[0],
                      &sum, opts.dry_run, rc);
    if (rc != SL_OK) {
        ex = cli_fail(&err);
        goto out;
    }
    ex = sum.quarantined ? SL_EXIT_QUARANTINED : SL_EXIT_OK;
out:
    sl_run_summary_free(&sum);
    sl_state_close(st);
    sl_config_free(cfg);
    return ex;
}

const struct cli_cmd cli_cmd_run = {
    "run",
    "JOB [--dry-run] [--no-progress]",
    "run a job now: pull, process and deliver, resuming an unfinished run",
    "Runs JOB from the configuration. If the last run of JOB did not finish\n"
    "(it was killed, the machine stopped, a target failed), that run is\n"
    "resumed from its last checkpoint: every item is delivered exactly once.\n"
    "Items that cannot be processed go to quarantine with a reason and the\n"
    "run goes on ('sluice quarantine list').\n"
    "\n"
    "Options:\n"
    "  -n, --dry-run         read and process everything, show what would be\n"
    "                        pushed and quarantined; write nothing\n"
    "      --no-progress     no progress bar, even on a terminal\n"
    "      --commit-every N  items between checkpoints (default 1000)\n"
    "\n"
    "A progress bar is drawn on a terminal; otherwise a progress line is\n"
    "logged every 10 seconds. The run ends with a summary on stdout (JSON\n"
    "with --log-format json). Exit 3 when items were quarantined.\n",
    exec_run,
};

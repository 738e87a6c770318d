/* cmd_jobs.c - sluice jobs: the configured jobs, one line each. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/cron.h"
#include "config/config.h"
#include "state/state.h"

enum {
    COL_JOB,
    COL_SCHEDULE,
    COL_NEXT,
    COL_FROM,
    COL_TO,
    COL_STAGES,
    COL_LAST,
    NCOLS
};

static char *
words_of(const struct sl_strv *sv)
{
    struct sl_buf b;
    size_t i;

    sl_buf_init(&b);
    for (i = 0; i < sv->n; i++)
        sl_buf_addf(&b, "%s%s", i ? " " : "", sv->v[i]);
    if (b.len == 0)
        sl_buf_adds(&b, "-");
    return sl_buf_steal(&b);
}

static char *
targets_of(const struct sl_job *j)
{
    return words_of(&j->push);
}

static char *
stages_of(const struct sl_job *j)
{
    struct sl_buf b;
    const char *p;

    sl_buf_init(&b);
    if (j->deid_profile) {
        /* A site profile by its file name: the folder is noise here. */
        p = strrchr(j->deid_profile, '/');
        sl_buf_addf(&b, "deid:%s", p ? p + 1 : j->deid_profile);
    }
    if (j->translate.n)
        sl_buf_addf(&b, "%stranslate:%zu", b.len ? " " : "", j->translate.n);
    if (j->validate.n)
        sl_buf_addf(&b, "%svalidate:%zu", b.len ? " " : "", j->validate.n);
    if (b.len == 0)
        sl_buf_adds(&b, "-");
    return sl_buf_steal(&b);
}

/* When the daemon runs the job next, in the job's zone: "-" for a job
 * without a schedule, "never" for one whose days never come. */
static char *
next_run_of(const struct sl_job *j, time_t now)
{
    struct sl_cron c;
    time_t t;
    char buf[64];

    if (!j->schedule)
        return sl_strdup("-");
    if (sl_cron_parse(j->schedule, &c, NULL) != SL_OK ||
        sl_cron_next(&c, j->timezone, now, &t) != SL_OK)
        return sl_strdup("never");
    sl_cron_format(t, j->timezone, buf, sizeof(buf));
    return sl_strdup(buf);
}

/* "finished 2026-11-23T02:00:03Z", "never", or "?" when the store
 * cannot say (st NULL: no store yet, so never run). */
static char *
last_run_of(struct sl_state *st, const char *job)
{
    struct sl_run_rec *recs = NULL;
    struct sl_err err = { 0 };
    size_t n = 0;
    char *s;

    if (st == NULL)
        return sl_strdup("never");
    if (sl_state_runs_list(st, job, 1, &recs, &n, &err) != SL_OK)
        return sl_strdup("?");
    s = n ? sl_asprintf("%s %s", recs[0].status, recs[0].started)
          : sl_strdup("never");
    sl_run_recs_free(recs, n);
    return s;
}

static void
print_row(const char *const *cell, const size_t *width)
{
    int c;

    for (c = 0; c + 1 < NCOLS; c++)
        printf("%-*s  ", (int)width[c], cell[c]);
    printf("%s\n", cell[NCOLS - 1]);
}

static int
exec_jobs(const struct cli_cmd *self, struct cli_global *g, int argc,
          char **argv)
{
    static const char *const heads[NCOLS] = {
        "JOB", "SCHEDULE", "NEXT RUN", "FROM", "TO", "STAGES", "LAST RUN"
    };
    time_t now = time(NULL);
    struct sl_state *st = NULL;
    struct sl_config *cfg = NULL;
    struct sl_err err = { 0 };
    char *(*cells)[NCOLS] = NULL;
    size_t width[NCOLS], i;
    int c;

    (void)argv;
    if (argc > 1)
        return cli_usage_error(self, "unexpected argument '%s'", argv[1]);
    if (sl_config_load(cli_config_path(g), 1, &cfg, &err) != SL_OK)
        return sl_status_exit(err.code);
    /* The last runs come from the state store when there is one; a job
     * list must not create a store, so a missing one means "never". */
    if (cfg->state_path && sl_state_exists(cfg->state_path) &&
        sl_state_open(cfg->state_path, &st, &err) != SL_OK) {
        sl_log(SL_LOG_WARN, "%s", err.msg);
        st = NULL;
    }
    cells = sl_calloc(cfg->njobs, sizeof(*cells));
    for (c = 0; c < NCOLS; c++)
        width[c] = strlen(heads[c]);
    for (i = 0; i < cfg->njobs; i++) {
        const struct sl_job *j = &cfg->jobs[i];
        cells[i][COL_JOB] = sl_strdup(j->id);
        cells[i][COL_SCHEDULE] =
            sl_strdup(j->schedule ? j->schedule : "manual");
        cells[i][COL_NEXT] = next_run_of(j, now);
        cells[i][COL_FROM] = words_of(&j->from);
        cells[i][COL_TO] = targets_of(j);
        cells[i][COL_STAGES] = stages_of(j);
        cells[i][COL_LAST] = last_run_of(st, j->id);
        for (c = 0; c < NCOLS; c++)
            if (strlen(cells[i][c]) > width[c])
                width[c] = strlen(cells[i][c]);
    }
    if (cfg->njobs == 0) {
        printf("no jobs in %s\n", cfg->path);
    } else {
        print_row(heads, width);
        for (i = 0; i < cfg->njobs; i++)
            print_row((const char *const *)cells[i], width);
    }
    for (i = 0; i < cfg->njobs; i++)
        for (c = 0; c < NCOLS; c++)
            free(cells[i][c]);
    free(cells);
    sl_state_close(st);
    sl_config_free(cfg);
    return SL_EXIT_OK;
}

const struct cli_cmd cli_cmd_jobs = {
    "jobs",
    "",
    "list the configured jobs",
    "Prints one line per job of the configuration: its id, its schedule\n"
    "('manual' when it has none), when it is due next in its time zone\n"
    "(the job's timezone=\"\", else the machine's), the sources it pulls from, the targets it\n"
    "pushes to and its stages (de-id profile, number of terminology maps,\n"
    "number of FHIR profile sets) and its last run from the state store\n"
    "(status and start time, or 'never'). Run one with 'sluice run JOB'.\n",
    exec_jobs,
};

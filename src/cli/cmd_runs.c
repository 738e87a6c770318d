/* cmd_runs.c - sluice runs: the runs recorded in the state store. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "config/config.h"
#include "state/state.h"

/* The findings of a run's summary (a new reference: an array, maybe
 * empty). */
static json_t *
findings_of(const struct sl_run_rec *r)
{
    json_t *sum = r->summary ? json_loads(r->summary, 0, NULL) : NULL;
    json_t *f = json_object_get(sum, "findings");

    f = json_is_array(f) ? json_incref(f) : json_array();
    json_decref(sum);
    return f;
}

static json_t *
run_json(const struct sl_run_rec *r)
{
    /* "o" steals the nested references; json_pack returns the new object. */
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:i, s:I, s:I, s:I, s:o}", "id", r->id,
        "job", r->job, "status", r->status, "started", r->started, "finished",
        r->finished[0] ? json_string(r->finished) : json_null(), "attempts",
        r->attempts, "in", (json_int_t)r->in, "out", (json_int_t)r->out,
        "quarantined", (json_int_t)r->quarantined, "findings", findings_of(r));
}

/* "stage/code n, ..." of a run's findings, or "-". Caller frees. */
static char *
findings_text(const struct sl_run_rec *r)
{
    json_t *f = findings_of(r), *x;
    struct sl_buf b;
    size_t i;

    sl_buf_init(&b);
    json_array_foreach(f, i, x)
    {
        sl_buf_addf(&b, "%s%s/%s %lld", b.len ? ", " : "",
                    json_string_value(json_object_get(x, "stage")),
                    json_string_value(json_object_get(x, "code")),
                    (long long)json_integer_value(json_object_get(x, "n")));
    }
    json_decref(f);
    if (b.len == 0)
        sl_buf_adds(&b, "-");
    return sl_buf_steal(&b);
}

static int
print_json(const struct sl_run_rec *runs, size_t n)
{
    json_t *arr = json_array();
    size_t i;
    int rc;

    for (i = 0; i < n; i++)
        json_array_append_new(arr, run_json(&runs[i])); /* steals */
    rc = json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(arr);
    if (rc != 0)
        return -1;
    fputc('\n', stdout);
    return 0;
}

static void
print_table(const struct sl_run_rec *runs, size_t n)
{
    size_t i;

    printf("%-26s  %-14s  %-11s  %-20s  %-20s  %9s  %9s  %9s  %s\n", "RUN",
           "JOB", "STATUS", "STARTED", "FINISHED", "IN", "OUT", "QUARANT.",
           "FINDINGS");
    for (i = 0; i < n; i++) {
        const struct sl_run_rec *r = &runs[i];
        char *f = findings_text(r);

        printf("%-26s  %-14s  %-11s  %-20s  %-20s  %9llu  %9llu  %9llu  %s\n",
               r->id, r->job, r->status, r->started,
               r->finished[0] ? r->finished : "-", (unsigned long long)r->in,
               (unsigned long long)r->out, (unsigned long long)r->quarantined,
               f);
        free(f);
    }
}

static int
exec_runs(const struct cli_cmd *self, struct cli_global *g, int argc,
          char **argv)
{
    static const struct option opts[] = {
        { "job", required_argument, NULL, 'J' },
        { "limit", required_argument, NULL, 'n' },
        { "json", no_argument, NULL, 'o' },
        { "state", required_argument, NULL, 's' },
        { NULL, 0, NULL, 0 },
    };
    struct sl_state *st = NULL;
    struct sl_run_rec *runs = NULL;
    struct sl_err err = { 0 };
    const char *job = NULL, *state_path = NULL;
    long limit = 20;
    size_t n = 0;
    int c, json = 0, rc;

    opterr = 0;
    optind = 0; /* glibc: reinitialise getopt for this argv */
    while ((c = getopt_long(argc, argv, ":n:", opts, NULL)) != -1) {
        switch (c) {
        case 'J':
            job = optarg;
            break;
        case 'n':
            if (sl_parse_long(optarg, 0, 1000000, &limit) != SL_OK)
                return cli_usage_error(self, "--limit wants a number from 0 "
                                             "(no limit) to 1000000");
            break;
        case 'o':
            json = 1;
            break;
        case 's':
            state_path = optarg;
            break;
        case ':':
            return cli_usage_error(self, "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(self, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);

    if ((rc = cli_state_open(g, state_path, NULL, &st, &err)) != SL_OK)
        goto fail;
    if ((rc = sl_state_runs_list(st, job, (size_t)limit, &runs, &n, &err)) !=
        SL_OK)
        goto fail;
    if (json) {
        if (print_json(runs, n) != 0) {
            rc = SL_ERR(&err, SL_EIO, "cannot write to standard output");
            goto fail;
        }
    } else {
        print_table(runs, n);
    }
    rc = SL_EXIT_OK;
    goto out;
fail:
    rc = cli_fail(&err);
out:
    sl_run_recs_free(runs, n);
    sl_state_close(st);
    return rc;
}

const struct cli_cmd cli_cmd_runs = {
    "runs",
    "[--job JOB] [--limit N] [--json] [--state PATH]",
    "list the runs recorded in the state store, newest first",
    "Options:\n"
    "      --job JOB         only the runs of this job\n"
    "  -n, --limit N         at most N runs (default 20; 0: all)\n"
    "      --json            a JSON array instead of a table\n"
    "      --state PATH      read this state store instead of the one the\n"
    "                        configuration names\n"
    "\n"
    "Each run shows its id, job, status (running, finished, failed,\n"
    "interrupted), start and end times (UTC), its counts of items read,\n"
    "delivered and quarantined, and its findings: how many items each\n"
    "stage found something about, by code (\"deid/quarantined 3\").\n",
    exec_runs,
};

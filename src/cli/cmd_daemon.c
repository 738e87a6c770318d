/* cmd_daemon.c - sluice daemon [--once] [--grace SECONDS]: runs every job
 * that has a schedule when it is due.
 *
 * One process, one job at a time (jobs due together run one after the
 * other, in the configuration's order). The state store holds, per job,
 * the last schedule slot handled and the job's lease, so a run of a job
 * never overlaps another one, from this daemon, `sluice run` or a daemon
 * elsewhere sharing the store. Signals: SIGTERM/SIGINT stop (a run in
 * progress checkpoints and ends "interrupted", and resumes at the next
 * start; after the grace time the process exits anyway, which the
 * checkpoints make safe), SIGHUP reloads the configuration after checking
 * it. systemd is told READY, RELOADING, STOPPING and a status line through
 * $NOTIFY_SOCKET when it is set (Type=notify). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/report.h"
#include "common/cron.h"
#include "config/config.h"
#include "metrics/metrics.h"
#include "pipeline/pipeline.h"
#include "state/state.h"

static volatile sig_atomic_t d_stop, d_hup, d_running;
static volatile sig_atomic_t d_grace = 30;

static void
on_stop(int sig)
{
    d_stop = sig;
    if (d_running && d_grace > 0)
        alarm((unsigned)d_grace);
}

static void
on_hup(int sig)
{
    (void)sig;
    d_hup = 1;
}

static void
on_alarm(int sig)
{
    static const char msg[] =
        "sluice daemon: the run did not stop within the grace time; exiting "
        "(it resumes from its last checkpoint at the next start)\n";

    (void)sig;
    if (write(2, msg, sizeof(msg) - 1) < 0) {
        /* nothing more can be done in a signal handler */
    }
    _exit(SL_EXIT_RUNTIME);
}

/* systemd's notify protocol: one datagram to $NOTIFY_SOCKET. */
static void
notify(const char *fmt, ...)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa;
    char msg[512];
    va_list ap;
    size_t n;
    int fd;

    if (path == NULL || (path[0] != '/' && path[0] != '@') ||
        (n = strlen(path)) >= sizeof(sa.sun_path))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, n);
    if (path[0] == '@')
        sa.sun_path[0] = '\0'; /* an abstract socket */
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        return;
    (void)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
                 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
    close(fd);
}

/* A scheduled job: the slot it is waiting for and when it starts (the
 * slot plus its jitter). */
struct djob {
    const struct sl_job *job;
    struct sl_cron cron;
    time_t slot, at;
    int due_now; /* run at once: a missed run (missed="once") */
};

struct daemon {
    const struct cli_global *g;
    const char *config_path;
    struct sl_config *cfg;
    struct sl_state *st;
    struct djob *jobs;
    size_t njobs;
    char *report_dir; /* reports/ beside the state store */
    long keep_reports; /* how many run reports are kept there (0: none) */
    struct sl_metrics *metrics; /* NULL without --metrics */
    const char *job_now; /* the job running, for the metrics observer */
    int once, failed, quarantined;
};

static void
iso(time_t t, char *buf, size_t len)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static time_t
with_jitter(const struct djob *d, time_t slot)
{
    return d->job->jitter > 0 ? slot + random() % (d->job->jitter + 1)
                              : slot;
}

/* The last slot of d's schedule at or before now, after `from`; from when
 * there is none. Bounded: a schedule every minute missed for years. */
static time_t
last_slot_by(const struct djob *d, time_t from, time_t now, long *missed)
{
    time_t t = from, n;
    long k = 0;

    while (k < 1000000 &&
           sl_cron_next(&d->cron, d->job->timezone, t, &n) == SL_OK &&
           n <= now) {
        t = n;
        k++;
    }
    *missed = k;
    return t;
}

/* Works out each scheduled job's next slot from the store: the first run
 * of the daemon starts from now (nothing is missed before it ever ran);
 * later, slots that passed while it was down follow missed="". */
static int
plan(struct daemon *D, struct sl_err *err)
{
    time_t now = time(NULL);
    size_t i, n = 0;
    int rc;

    free(D->jobs);
    D->jobs = sl_calloc(D->cfg->njobs ? D->cfg->njobs : 1, sizeof(*D->jobs));
    for (i = 0; i < D->cfg->njobs; i++) {
        const struct sl_job *j = &D->cfg->jobs[i];
        struct djob *d = &D->jobs[n];
        int64_t last = 0;
        long missed = 0;
        time_t t;

        if (j->schedule == NULL)
            continue;
        d->job = j;
        if (sl_cron_parse(j->schedule, &d->cron, err) != SL_OK)
            return SL_ECONFIG; /* check-config refused it already */
        rc = sl_state_slot_get(D->st, j->id, &last, err);
        if (rc == SL_ENOTFOUND) {
            last = (int64_t)now;
            if ((rc = sl_state_slot_set(D->st, j->id, last, err)) != SL_OK)
                return rc;
        } else if (rc != SL_OK) {
            return rc;
        }
        t = last_slot_by(d, (time_t)last, now, &missed);
        if (missed > 0) {
            char when[32];
            char nm[32];

            iso(t, when, sizeof(when));
            snprintf(nm, sizeof(nm), "%ld", missed);
            sl_log_event(SL_LOG_WARN, "runs-missed", "job", j->id, "missed",
                         nm, "last", when, "policy", j->missed, (char *)NULL);
            if ((rc = sl_state_slot_set(D->st, j->id, (int64_t)t, err)) !=
                SL_OK)
                return rc;
            d->due_now = strcmp(j->missed, "once") == 0;
        }
        if (sl_cron_next(&d->cron, j->timezone, t, &d->slot) != SL_OK)
            d->slot = (time_t)-1; /* never due ("0 0 30 2 *") */
        d->at = d->slot == (time_t)-1 ? (time_t)-1 : with_jitter(d, d->slot);
        n++;
    }
    D->njobs = n;
    return SL_OK;
}

/* The metrics observer: items read so far by the run in progress. */
static void
metrics_progress(void *arg, const struct sl_run_progress *p)
{
    struct daemon *D = arg;

    if (strcmp(p->phase, "run") == 0)
        sl_metrics_run_progress(D->metrics, D->job_now, p->items,
                                p->quarantined);
}

/* After a run: its counts from the state store, and the open quarantine. */
static void
metrics_run_end(struct daemon *D, const char *job, const char *status,
                double seconds)
{
    struct sl_run_rec *recs = NULL;
    struct sl_qitem *q = NULL;
    struct sl_err err = {0};
    size_t n = 0, nq = 0, i;

    if (D->metrics == NULL)
        return;
    if (sl_state_runs_list(D->st, job, 1, &recs, &n, &err) != SL_OK)
        n = 0;
    sl_metrics_run_end(D->metrics, job, status, seconds,
                       n ? recs[0].summary : NULL);
    sl_run_recs_free(recs, n);
    if (sl_state_quarantine_list(D->st, "open", &q, &nq, &err) == SL_OK) {
        sl_metrics_quarantine_open(D->metrics, nq);
        for (i = 0; i < nq; i++)
            sl_qitem_clear(&q[i]);
        free(q);
    }
}

/* Runs one job now (resuming its unfinished run if it has one). */
static void
run_job(struct daemon *D, const struct sl_job *j, const char *why)
{
    struct sl_run_opts opts = {0};
    struct sl_run_summary sum = {0};
    struct cli_run_view view;
    struct sl_err err = {0};
    char in[32], out[32], q[32], el[32];
    int rc;

    sl_log_event(SL_LOG_INFO, "run-start", "job", j->id, "why", why,
                 (char *)NULL);
    notify("STATUS=running %s", j->id);
    opts.workers = D->g->jobs;
    opts.commit_every = 1000;
    struct sl_run_observer mobs = {0};
    const struct sl_run_observer *obs[2];

    cli_run_view_attach(&view, D->g, 0, &opts);
    opts.stop = &d_stop;
    opts.progress_every = D->metrics ? 5 : 60;
    if (D->metrics) {
        mobs.arg = D;
        mobs.progress = metrics_progress;
        obs[0] = opts.observers[0];
        obs[1] = &mobs;
        opts.observers = obs;
        opts.nobservers = 2;
        D->job_now = j->id;
        sl_metrics_run_start(D->metrics, j->id);
    }
    d_running = 1;
    rc = sl_pipeline_run(D->cfg, D->st, j->id, &opts, &sum, &err);
    d_running = 0;
    alarm(0);
    snprintf(in, sizeof(in), "%llu", (unsigned long long)sum.in);
    snprintf(out, sizeof(out), "%llu", (unsigned long long)sum.out);
    snprintf(q, sizeof(q), "%llu", (unsigned long long)sum.quarantined);
    snprintf(el, sizeof(el), "%.1f", sum.elapsed);
    if (rc == SL_OK) {
        sl_log_event(SL_LOG_INFO, "run-end", "job", j->id, "run", sum.run_id,
                     "status", "finished", "in", in, "out", out,
                     "quarantined", q, "seconds", el, (char *)NULL);
        D->quarantined |= sum.quarantined > 0;
    } else if (rc == SL_EINTR) {
        sl_log_event(SL_LOG_INFO, "run-end", "job", j->id, "run", sum.run_id,
                     "status", "interrupted", "in", in, "out", out,
                     "quarantined", q, "seconds", el, "resume",
                     "at the next start", (char *)NULL);
    } else {
        sl_log_event(SL_LOG_ERROR, "run-end", "job", j->id, "run",
                     sum.run_id[0] ? sum.run_id : "-", "status",
                     rc == SL_EBUSY ? "skipped" : "failed", "error", err.msg,
                     (char *)NULL);
        D->failed |= rc != SL_EBUSY;
    }
    metrics_run_end(D, j->id,
                    rc == SL_OK       ? "finished"
                    : rc == SL_EINTR  ? "interrupted"
                    : rc == SL_EBUSY  ? "skipped"
                                      : "failed",
                    sum.elapsed);
    if (sum.run_id[0] && rc != SL_EBUSY && D->keep_reports > 0) {
        /* the run's report beside the state store, the last N kept */
        struct sl_err e2 = {0};

        if (sl_report_keep(D->st, sum.run_id, D->report_dir,
                           (int)D->keep_reports, &e2) != SL_OK)
            sl_log_event(SL_LOG_WARN, "report", "run", sum.run_id, "error",
                         e2.msg, (char *)NULL);
    }
    sl_run_summary_free(&sum);
    notify("STATUS=idle");
}

/* Resumes the runs of scheduled jobs that a crash or a stop left
 * unfinished. */
static void
resume_unfinished(struct daemon *D)
{
    size_t i;

    for (i = 0; i < D->njobs && !d_stop; i++) {
        struct sl_run_rec rec;
        struct sl_err err = {0};

        if (sl_state_run_unfinished(D->st, D->jobs[i].job->id, &rec, &err) ==
            SL_OK)
            run_job(D, D->jobs[i].job, "resume");
    }
}

/* Runs what is due at now; returns how many ran. */
static int
run_due(struct daemon *D, time_t now)
{
    struct sl_err err = {0};
    size_t i;
    int ran = 0;

    for (i = 0; i < D->njobs && !d_stop && !d_hup; i++) {
        struct djob *d = &D->jobs[i];
        time_t slot;

        if (d->due_now) {
            d->due_now = 0;
            run_job(D, d->job, "missed");
            ran++;
            continue;
        }
        if (d->at == (time_t)-1 || d->at > now)
            continue;
        slot = d->slot;
        /* Recorded first: a crash during the run resumes the run, it does
         * not count the slot as missed. */
        if (sl_state_slot_set(D->st, d->job->id, (int64_t)slot, &err) !=
            SL_OK)
            sl_log(SL_LOG_ERROR, "job %s: %s", d->job->id, err.msg);
        run_job(D, d->job, "schedule");
        ran++;
        /* Slots that passed during the run are not made up for: the next
         * run takes everything new anyway. */
        {
            long missed = 0;
            time_t t = last_slot_by(d, slot, time(NULL), &missed);

            if (missed > 0)
                sl_state_slot_set(D->st, d->job->id, (int64_t)t, &err);
            if (sl_cron_next(&d->cron, d->job->timezone, t, &d->slot) !=
                SL_OK)
                d->slot = (time_t)-1;
        }
        d->at = d->slot == (time_t)-1 ? (time_t)-1 : with_jitter(d, d->slot);
    }
    return ran;
}

static void
log_plan(const struct daemon *D)
{
    size_t i;

    for (i = 0; i < D->njobs; i++) {
        char next[64];

        if (D->jobs[i].at == (time_t)-1)
            snprintf(next, sizeof(next), "never");
        else
            sl_cron_format(D->jobs[i].at, D->jobs[i].job->timezone, next,
                           sizeof(next));
        sl_log_event(SL_LOG_INFO, "scheduled", "job", D->jobs[i].job->id,
                     "schedule", D->jobs[i].job->schedule, "next", next,
                     (char *)NULL);
    }
}

/* SIGHUP: the new configuration replaces the old one only if it loads and
 * checks clean; otherwise the old one keeps running and the log says why
 * (the error names the file and line). */
static void
reload(struct daemon *D)
{
    struct sl_config *cfg = NULL;
    struct sl_err err = {0};
    struct sl_config *old = D->cfg;

    d_hup = 0;
    notify("RELOADING=1");
    if (sl_config_load(D->config_path, 0, &cfg, &err) != SL_OK) {
        sl_log_event(SL_LOG_ERROR, "reload-refused", "error", err.msg,
                     "keeping", "the previous configuration", (char *)NULL);
        notify("READY=1");
        return;
    }
    D->cfg = cfg;
    if (plan(D, &err) != SL_OK) {
        sl_log_event(SL_LOG_ERROR, "reload-refused", "error", err.msg,
                     "keeping", "the previous configuration", (char *)NULL);
        D->cfg = old;
        sl_config_free(cfg);
        (void)plan(D, &err);
    } else {
        sl_config_free(old);
        sl_log_event(SL_LOG_INFO, "reloaded", "config", D->config_path,
                     (char *)NULL);
        log_plan(D);
    }
    notify("READY=1");
}

/* Deletes quarantined items past the configuration's retention-days, at
 * start and then once a day. */
static void
purge_due(struct daemon *D, time_t *last)
{
    struct sl_err err = {0};
    uint64_t n = 0;
    char nb[32], days[32];

    if (D->cfg->quarantine_retention_days <= 0 ||
        (*last && time(NULL) - *last < 86400))
        return;
    *last = time(NULL);
    snprintf(days, sizeof(days), "%ld", D->cfg->quarantine_retention_days);
    if (sl_state_quarantine_purge(D->st, D->cfg->quarantine_retention_days,
                                  &n, &err) != SL_OK) {
        sl_log_event(SL_LOG_ERROR, "quarantine-purge", "error", err.msg,
                     (char *)NULL);
        return;
    }
    snprintf(nb, sizeof(nb), "%llu", (unsigned long long)n);
    sl_log_event(SL_LOG_INFO, "quarantine-purge", "deleted", nb,
                 "older_than_days", days, (char *)NULL);
}

/* Waits until `until` or a signal, with the signals blocked outside the
 * wait so none is lost between the check and the sleep. */
static void
wait_until(time_t until, const sigset_t *orig)
{
    time_t now = time(NULL);
    struct timespec ts;

    if (d_stop || d_hup || until <= now)
        return;
    ts.tv_sec = until - now > 60 ? 60 : until - now;
    ts.tv_nsec = 0;
    (void)ppoll(NULL, 0, &ts, orig);
}

static int
exec_daemon(const struct cli_cmd *self, struct cli_global *g, int argc,
            char **argv)
{
    struct daemon D;
    struct sl_err err = {0};
    struct sigaction sa;
    sigset_t block, orig;
    long grace = 30;
    time_t last_purge = 0;
    const char *metrics_addr = NULL;
    int i, ex = SL_EXIT_OK;

    memset(&D, 0, sizeof(D));
    D.g = g;
    D.keep_reports = 30;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--once") == 0)
            D.once = 1;
        else if (strcmp(argv[i], "--metrics") == 0 && i + 1 < argc)
            metrics_addr = argv[++i];
        else if (strcmp(argv[i], "--keep-reports") == 0 && i + 1 < argc) {
            if (sl_parse_long(argv[++i], 0, 100000, &D.keep_reports) !=
                SL_OK)
                return cli_usage_error(self, "--keep-reports wants 0 to "
                                             "100000");
        } else if (strcmp(argv[i], "--grace") == 0 && i + 1 < argc) {
            if (sl_parse_long(argv[++i], 0, 86400, &grace) != SL_OK)
                return cli_usage_error(self, "--grace wants 0 to 86400 "
                                             "seconds");
        } else
            return cli_usage_error(self, "unknown argument '%s'", argv[i]);
    }
    d_grace = (sig_atomic_t)grace;
    D.config_path = cli_config_path(g);
    if (sl_config_load(D.config_path, 1, &D.cfg, &err) != SL_OK)
        return sl_status_exit(err.code);
    if (cli_state_for_runs(D.cfg, &D.st, &err) != SL_OK ||
        plan(&D, &err) != SL_OK) {
        ex = cli_fail(&err);
        goto out;
    }
    if (metrics_addr &&
        sl_metrics_start(metrics_addr, &D.metrics, &err) != SL_OK) {
        ex = cli_fail(&err);
        goto out;
    }
    {
        char *sd = sl_path_dir(sl_state_path(D.st));
        D.report_dir = sl_path_join(sd, "reports");
        free(sd);
    }
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());

    d_stop = d_hup = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);

    sl_log_event(SL_LOG_INFO, "daemon-start", "config", D.config_path,
                 "mode", D.once ? "once" : "service", (char *)NULL);
    log_plan(&D);
    notify("READY=1\nSTATUS=idle\nMAINPID=%ld", (long)getpid());
    sl_metrics_ready(D.metrics, 1);
    resume_unfinished(&D);
    purge_due(&D, &last_purge);
    if (D.once) {
        (void)run_due(&D, time(NULL));
    } else {
        while (!d_stop) {
            time_t next = (time_t)-1;
            size_t k;

            if (d_hup)
                reload(&D);
            run_due(&D, time(NULL));
            purge_due(&D, &last_purge);
            for (k = 0; k < D.njobs; k++)
                if (D.jobs[k].due_now)
                    next = time(NULL);
                else if (D.jobs[k].at != (time_t)-1 &&
                         (next == (time_t)-1 || D.jobs[k].at < next))
                    next = D.jobs[k].at;
            sigprocmask(SIG_BLOCK, &block, &orig);
            wait_until(next == (time_t)-1 ? time(NULL) + 60 : next, &orig);
            sigprocmask(SIG_SETMASK, &orig, NULL);
        }
    }
    notify("STOPPING=1");
    sl_log_event(SL_LOG_INFO, "daemon-stop", "reason",
                 d_stop ? "signal" : "done", (char *)NULL);
    ex = D.failed        ? SL_EXIT_RUNTIME
         : D.quarantined ? SL_EXIT_QUARANTINED
                         : SL_EXIT_OK;
out:
    sl_metrics_stop(D.metrics);
    free(D.report_dir);
    free(D.jobs);
    sl_state_close(D.st);
    sl_config_free(D.cfg);
    return ex;
}

const struct cli_cmd cli_cmd_daemon = {
    "daemon",
    "[--once] [--grace SECONDS] [--metrics ADDR] [--keep-reports N]",
    "run every job that has a schedule when it is due",
    "Runs as a service: every job of the configuration with a schedule=\"\"\n"
    "runs when its schedule says, in its timezone=\"\" (see sluice.xml(5)).\n"
    "One run of a job at a time, also across processes: the state store\n"
    "holds a lease per job, so 'sluice run JOB' beside the daemon waits its\n"
    "turn (it says who holds the job). Jobs due at the same time run one\n"
    "after the other, in the configuration's order. A run that a crash or\n"
    "a stop left unfinished resumes from its checkpoint when the daemon\n"
    "starts. Runs missed while it was not running follow the job's\n"
    "missed=\"once|skip\"; the first start of the daemon counts from then.\n"
    "\n"
    "Options:\n"
    "      --once           run what is due now (and unfinished runs), then\n"
    "                       exit: for cron or a Kubernetes CronJob\n"
    "      --grace SECONDS  on SIGTERM, how long a run in progress has to\n"
    "                       checkpoint and stop before the process exits\n"
    "                       anyway (default 30; 0: wait for it)\n"
    "      --metrics ADDR   serve /metrics (Prometheus), /healthz and\n"
    "                       /readyz over HTTP on ADDR: 127.0.0.1:9464,\n"
    "                       [::1]:9464, or a port alone (on 127.0.0.1):\n"
    "                       runs, items, bytes and errors per job, source\n"
    "                       and target, time per stage (histograms);\n"
    "                       labels are ids, never data or paths\n"
    "      --keep-reports N each run's HTML report is written to reports/\n"
    "                       beside the state store; the last N are kept\n"
    "                       (default 30; 0: none written)\n"
    "\n"
    "Signals: SIGTERM and SIGINT stop it (a run in progress ends\n"
    "'interrupted' and resumes at the next start); SIGHUP reloads the\n"
    "configuration after checking it: a configuration with errors is not\n"
    "taken, the log says why (file and line) and the old one keeps running.\n"
    "Under systemd (Type=notify) it reports READY, RELOADING and STOPPING.\n"
    "Once a day it deletes quarantined items older than <quarantine\n"
    "retention-days> (sluice quarantine purge).\n"
    "Logs go to stderr (--log-format json for JSON lines). Exit status: 0,\n"
    "2 when a run failed, 3 when a run quarantined items (with --once).\n",
    exec_daemon,
};

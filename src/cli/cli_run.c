/* cli_run.c - what `sluice run` and `sluice quarantine replay` show while
 * a run goes on (one observer of the pipeline: a progress bar on a
 * terminal, a progress log line otherwise), and the signals that stop a
 * run: SIGINT and SIGTERM ask the pipeline to checkpoint and stop. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "pipeline/pipeline.h"

static volatile sig_atomic_t cli_stop_signal;
static struct sigaction old_int, old_term;

static void
on_signal(int sig)
{
    cli_stop_signal = sig;
}

static void
draw(void *arg, const struct sl_run_progress *p)
{
    struct cli_run_view *v = arg;
    double rate = p->elapsed > 0 ? (double)p->items / p->elapsed : 0;

    if (v->bar) {
        char bar[31], eta[32] = "--:--";
        double frac = p->units_total
                          ? (double)p->units_done / (double)p->units_total
                          : 0;
        int i, fill = (int)(frac * 30);

        if (frac > 1 || p->final)
            frac = 1; /* the phase is over, whatever the sources counted */
        fill = (int)(frac * 30);
        for (i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        if (p->final) {
            snprintf(eta, sizeof(eta), "0:00");
        } else if (p->units_done > 0 && p->units_total >= p->units_done) {
            double left = p->elapsed *
                          (double)(p->units_total - p->units_done) /
                          (double)p->units_done;
            snprintf(eta, sizeof(eta), "%d:%02d", (int)left / 60,
                     (int)left % 60);
        }
        if (strcmp(p->phase, "learn") == 0)
            fprintf(stderr, "\rlearning [%s] %3d%% %llu items read, %.0f/s, "
                            "ETA %s ",
                    bar, (int)(frac * 100), (unsigned long long)p->items,
                    rate, eta);
        else
            fprintf(stderr, "\r[%s] %3d%% %llu items, %llu quarantined, "
                            "%.0f/s, ETA %s ",
                    bar, (int)(frac * 100), (unsigned long long)p->items,
                    (unsigned long long)p->quarantined, rate, eta);
        /* a source's words while it waits (an export's X-Progress); the
         * line is cleared to its end so a shorter one leaves nothing */
        if (p->status)
            fprintf(stderr, "(%s)", p->status);
        fputs("\033[K", stderr);
        if (p->final)
            fputc('\n', stderr);
        fflush(stderr);
    } else if (!v->quiet && !p->final) {
        char in[32], q[32], rt[32], fd[32], ft[32];
        snprintf(in, sizeof(in), "%llu", (unsigned long long)p->items);
        snprintf(q, sizeof(q), "%llu", (unsigned long long)p->quarantined);
        snprintf(rt, sizeof(rt), "%.0f", rate);
        snprintf(fd, sizeof(fd), "%llu", (unsigned long long)p->units_done);
        snprintf(ft, sizeof(ft), "%llu", (unsigned long long)p->units_total);
        sl_log_event(SL_LOG_INFO, "progress", "run", p->run_id, "phase",
                     p->phase, "items", in, "quarantined", q, "per_second",
                     rt, "files_done", fd, "files_total", ft,
                     p->status ? "status" : (char *)NULL, p->status,
                     (char *)NULL);
    }
}

void
cli_run_view_attach(struct cli_run_view *v, const struct cli_global *g,
                    int bar, struct sl_run_opts *opts)
{
    memset(v, 0, sizeof(*v));
    v->bar = bar;
    v->quiet = g->quiet;
    v->obs.arg = v;
    v->obs.progress = draw;
    v->list[0] = &v->obs;
    opts->observers = v->list;
    opts->nobservers = 1;
    opts->progress_every = bar ? 0.25 : 10.0;
    opts->stop = &cli_stop_signal;
}

void
cli_signals_catch(void)
{
    struct sigaction sa;

    cli_stop_signal = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
}

void
cli_signals_restore(void)
{
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
}

int
cli_run_spec(const struct cli_global *g, struct sl_job_spec *spec,
             const char *run_id, struct sl_run_summary *sum,
             struct sl_err *err)
{
    struct sl_run_opts ro = {0};
    struct cli_run_view view;
    int rc;

    ro.workers = g->jobs;
    ro.commit_every = 1000;
    ro.run_id = run_id;
    cli_run_view_attach(&view, g,
                        !g->quiet && isatty(2) &&
                            g->log_format == SL_LOGFMT_TEXT,
                        &ro);
    cli_signals_catch();
    rc = sl_pipeline_run_spec(spec, NULL, &ro, sum, err);
    cli_signals_restore();
    return rc;
}

/* pipeline.h - the one engine: sources -> stages -> targets, with a
 * bounded queue, a worker pool, checkpoints and observers.
 *
 * Data flow: one reader thread pulls items from the sources in a fixed
 * order and numbers them; workers parse what the sources left raw and run
 * the job's stages in order; one writer gives each result to every target
 * that takes its kind, in number order, and every so often commits a
 * checkpoint (source positions + every target's state) to the state
 * store in one transaction. After a crash the targets roll back to the
 * last checkpoint and the sources resume from it, so every item reaches
 * every target exactly once.
 *
 * A stage may ask for a learning pass: the pipeline then reads the
 * sources once before the main pass, in parallel, and gives each item to
 * the stage's learn() (items of one rank on one thread, in order).
 *
 * Nothing here is a global: progress, per-item events and the summary go
 * to observers in the run options, and a stop is asked for through
 * opts->stop (the CLI's signal handler sets it), so several jobs can run
 * in one process. */
#ifndef SL_PIPELINE_H
#define SL_PIPELINE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "config/config.h"
#include "item/item.h"

struct sl_job;
struct sl_keys;
struct sl_state;

/* ---- stages ------------------------------------------------------------- */
/* What a stage is created from: the job compiled before anything runs
 * (sl_job_compile). A stage never reads the config file, resolves paths or
 * reads secrets itself: path attributes of its node are already resolved
 * and secrets already read. Everything here is borrowed for the life of
 * the run. */
struct sl_stage_args {
    const char *job_id;
    const char *config_path;         /* for messages ("FILE:LINE"), or the
                                        command that built the job */
    const struct sl_conf_node *node; /* the stage's element in the job */
    const struct sl_keys *keys;      /* the pseudonym key, or NULL */
    const struct sl_keys *reid_key;  /* the re-identification map's key
                                        (<deid reid-key>), or NULL */
    const char *workdir;             /* exists; the stage's scratch files
                                        (rename() reaches the targets'
                                        folders from it when it can) */
};

/* A stage type: a pure function of (item, prepared data) with a
 * lifecycle. process() may rewrite the item, add findings, or mark it for
 * quarantine (returning SL_EQUARANTINE); any other error stops the run.
 * learn() and process() are called from several threads at once. */
struct sl_stage_ops {
    const char *name; /* its element in a job: "deid" */
    unsigned learns;  /* item kinds (SL_TAKES_*) learn() wants, or 0 */
    int (*create)(const struct sl_stage_args *a, void **ctx,
                  struct sl_err *err);
    /* Optional: the learning pass, on every item of the sources. */
    int (*learn)(void *ctx, struct sl_item *it, struct sl_err *err);
    /* Optional: called on a thread of the learning pass after it learned
     * a chunk of items (a few dozen of one input, in order), so that the
     * stage can finish what its learn() calls on that thread kept back:
     * the items' it->tape stay valid until then. */
    void (*learn_flush)(void *ctx);
    int (*process)(void *ctx, struct sl_item *it, struct sl_err *err);
    /* Optional: for the audit trail, a JSON object (caller frees) saying
     * what the stage applies (profile and version, key fingerprint). */
    char *(*describe)(void *ctx);
    /* Optional: the run finished; the stage reports (an explanation,
     * a map closed). Not called when the run failed or was stopped. */
    int (*finish)(void *ctx, struct sl_err *err);
    void (*free)(void *ctx);
    /* Optional: what the stage did by rule, for the run's report, given
     * to fn as (label, count): a rule's id and action, never a value.
     * Counts since create(); called at the end of a run. */
    void (*rule_counts)(void *ctx,
                        void (*fn)(void *arg, const char *rule, uint64_t n),
                        void *arg);
    /* Optional: non-zero when process() would neither change nor find
     * anything in a FHIR resource whose JSON text this is (the raw text a
     * source read, before it is parsed): when every stage of a job says
     * so, the pipeline checks the text with the fast reader and hands it
     * to the targets as it came, without building the document or
     * serialising it again. 0 (or NULL): the item is parsed and
     * processed as usual. Called from several threads at once. */
    int (*passes)(void *ctx, const char *text, size_t len);
};

/* ---- the registry: the one list of source, stage and target types ------- */
struct sl_source_type {
    const char *type;
    const struct sl_source_ops *ops;
    unsigned yields; /* SL_TAKES_* */
};
struct sl_target_type {
    const char *type;
    const struct sl_sink_ops *ops; /* NULL: accepted by the schema, not
                                      built yet */
    unsigned takes;                /* SL_TAKES_* */
};
const struct sl_source_type *sl_source_type_find(const char *type);
const struct sl_target_type *sl_target_type_find(const char *type);
const struct sl_stage_ops *sl_stage_find(const char *name);
/* The whole lists, ending with a NULL type / NULL name. */
extern const struct sl_source_type sl_source_types[];
extern const struct sl_target_type sl_target_types[];
extern const struct sl_stage_ops *const sl_stage_types[];
/* Kept for callers that only need the ops. */
const struct sl_source_ops *sl_source_find(const char *type);
const struct sl_sink_ops *sl_sink_find(const char *type);

/* ---- what a run reports --------------------------------------------------- */
struct sl_type_count {
    char *type;
    uint64_t in, out, quarantined;
};

struct sl_finding_count {
    char *stage, *code;
    enum sl_severity severity;
    uint64_t n;
};

/* What a run measured of one stage, source or target, or counted of a
 * rule: named by the config's ids and the stages' names, never by data. */
struct sl_part_count {
    char *name;   /* "deid", "parse", "write fhir-out"; a source or target
                     id; "deid: rule-id (method)" */
    uint64_t items, bytes, errors;
    double seconds;
    uint64_t retries; /* requests tried again (sources and targets) */
};

struct sl_run_summary {
    char run_id[64];
    int resumed;
    uint64_t in, out, quarantined, skipped;
    size_t ntypes;
    struct sl_type_count *types;
    size_t nfindings;
    struct sl_finding_count *findings;
    double elapsed;
    /* Time spent per stage (summed over the workers) and per target's
     * write; items and bytes per source and per target (errors: items a
     * target refused); actions per de-identification rule. Carried in the
     * checkpoints like the counts above. */
    size_t nstages, nsources, ntargets, nrules;
    struct sl_part_count *stages, *sources, *targets, *rules;
    /* items done (delivered and quarantined) over the run, for its
     * throughput: (Unix time, count) when each attempt starts and at each
     * checkpoint, thinned to at most SL_TIMELINE_MAX points */
    size_t ntimeline;
    struct sl_tl_point {
        double t;
        uint64_t n;
    } *timeline;
};
#define SL_TIMELINE_MAX 240

void sl_run_summary_free(struct sl_run_summary *sum);

/* Where a run is, for an observer. */
struct sl_run_progress {
    const char *run_id;
    const char *phase;      /* "learn" or "run" */
    uint64_t items;         /* items written (main pass) or read (learn) */
    uint64_t quarantined;
    uint64_t units_done;    /* in the sources' units (files) */
    uint64_t units_total;
    double elapsed;         /* seconds since the phase started */
    int final;              /* the last call of the phase */
    /* What a source says of where it is while it waits (a Bulk Data
     * export's X-Progress, "in progress: step 1 of 2"), or NULL. A call
     * with a new status may come between the periodic ones. */
    const char *status;
};

/* An observer of runs: every callback is optional and is called from one
 * thread at a time (the writer's or the caller's), never with data
 * values: items are named by source, position and kind. */
struct sl_run_observer {
    void *arg;
    void (*start)(void *arg, const struct sl_run_summary *sum);
    /* About every opts->progress_every seconds, and once at the end of
       each phase with final set. */
    void (*progress)(void *arg, const struct sl_run_progress *p);
    /* After each item is written or quarantined. */
    void (*item)(void *arg, const struct sl_item *it, int delivered);
    void (*end)(void *arg, const struct sl_run_summary *sum, int rc);
};

/* ---- a job compiled: everything a run needs, resolved up front ------------ */
struct sl_job_source {
    const struct sl_conf_node *node;
    const struct sl_source_ops *ops;
    unsigned yields;
    void *preset;   /* an already open source (replay), or NULL; the
                       run closes it */
    int learn_only; /* read by the learning pass only (replay: the job's
                       own sources teach, the quarantine is replayed) */
};
struct sl_job_stage {
    struct sl_conf_node node; /* a copy, paths resolved, secrets removed */
    const struct sl_stage_ops *ops;
};
struct sl_job_target {
    const struct sl_conf_node *node;
    const struct sl_sink_ops *ops;
    unsigned takes;
};

/* Where quarantined items go when a run has no state store (`sluice
 * deid`: a folder). put() takes a copy of what it needs; it is called
 * from the writer thread, in item order. */
struct sl_quarantine_sink {
    void *ctx;
    int (*put)(void *ctx, struct sl_item *it, struct sl_err *err);
};

/* The folder quarantine of `sluice deid` (quarantine_folder.c): items as
 * QDIR/ID.EXT with QDIR/ID.reason.txt. Free with
 * sl_quarantine_folder_free (NULL-safe). */
struct sl_quarantine_sink *sl_quarantine_folder_new(const char *qdir,
                                                    const void *key,
                                                    size_t keylen);
void sl_quarantine_folder_free(struct sl_quarantine_sink *q);

struct sl_job_spec {
    char *id;
    char *config_path; /* the file it came from, or the command's name */
    char *base_dir;
    const struct sl_config *cfg; /* handed to sources and targets; may be
                                    NULL for a job built in memory */
    size_t nsources, nstages, ntargets;
    struct sl_job_source *sources;
    struct sl_job_stage *stages;
    struct sl_job_target *targets;
    struct sl_keys *keys;     /* owned, or NULL */
    struct sl_keys *reid_key; /* owned, or NULL */
    char *workdir;            /* owned: the stages' scratch folder */
    char *qdir;               /* owned: the state store's quarantine copies
                                 (the run id is added) */
    const struct sl_quarantine_sink *quarantine; /* NULL: the state store's */
};

/* Compiles job job_id of cfg: types from the registry, stage paths
 * resolved, secrets (the pseudonym key, reid-key) read, the work folder
 * made. A stage or type this build does not have is refused, never
 * skipped. On success *out owns the spec (sl_job_spec_free). */
int sl_job_compile(const struct sl_config *cfg, const char *job_id,
                   struct sl_job_spec **out, struct sl_err *err);
void sl_job_spec_free(struct sl_job_spec *spec); /* NULL-safe */

/* ---- running a job --------------------------------------------------------- */
struct sl_run_opts {
    int workers;       /* worker threads, >= 1 */
    int dry_run;       /* read and process, do not write sinks or state */
    long commit_every; /* items between checkpoints */
    double progress_every; /* seconds between progress calls (0: 10) */
    /* Set (to the signal number, say) to ask the run to stop at the next
     * item: it checkpoints and ends "interrupted". May be NULL. */
    volatile sig_atomic_t *stop;
    const char *run_id; /* a run without a state store: its name */
    size_t nobservers;
    const struct sl_run_observer *const *observers;
};

/* Runs job `job_id` of cfg with its state in st: resumes the unfinished
 * run of that job if there is one. Fills *sum (free with
 * sl_run_summary_free). Returns SL_OK when the run finished, SL_EINTR
 * when opts->stop ended it. */
int sl_pipeline_run(const struct sl_config *cfg, struct sl_state *st,
                    const char *job_id, const struct sl_run_opts *opts,
                    struct sl_run_summary *sum, struct sl_err *err);

/* Runs a compiled job. st NULL: a run without a state store (no
 * checkpoints, no resume; spec->quarantine takes what is quarantined). */
int sl_pipeline_run_spec(struct sl_job_spec *spec, struct sl_state *st,
                         const struct sl_run_opts *opts,
                         struct sl_run_summary *sum, struct sl_err *err);

/* Runs quarantined items (all of one job, all open) through that job's
 * stages and targets again, as a new run named "JOB:replay". Items that
 * pass are delivered; items that fail are quarantined again as new entries
 * with the new reason. The old entries are marked "replayed". */
int sl_pipeline_replay(const struct sl_config *cfg, struct sl_state *st,
                       const int64_t *ids, size_t n,
                       const struct sl_run_opts *opts,
                       struct sl_run_summary *sum, struct sl_err *err);

#endif

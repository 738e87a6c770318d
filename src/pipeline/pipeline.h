/* pipeline.h - items, sources, stages and sinks, and the run loop that
 * streams items from sources through stages to sinks with a bounded queue
 * and a worker pool.
 *
 * Data flow: one reader thread pulls items from the sources in a fixed
 * order and numbers them; workers run the stages; one writer puts results
 * to the sinks in number order and, every so often, commits a checkpoint
 * (source position + sink state) to the state store in one transaction.
 * After a crash the sinks roll back to the last checkpoint and the sources
 * resume from it, so every item reaches the sink exactly once. */
#ifndef SL_PIPELINE_H
#define SL_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/common.h"

struct sl_config;
struct sl_conf_node;
struct sl_state;

enum sl_item_kind {
    SL_ITEM_FHIR,  /* a FHIR resource (JSON) */
    SL_ITEM_DICOM, /* a DICOM Part-10 file, left on disk */
    SL_ITEM_BAD,   /* input that could not be read: goes to quarantine */
};

/* One unit of work. Names and positions never hold patient data: `pos`
 * says where the item came from ("file 3 line 17", "file 12"), `origin`
 * is the input path, kept only for `sluice quarantine show`. */
struct sl_item {
    enum sl_item_kind kind;
    uint64_t seq;       /* number in this run, from 1 */
    const char *source; /* source id (owned by the config) */
    char *pos;          /* position, no PHI */
    char *origin;       /* input path (operator only, may hold PHI) */
    char *checkpoint;   /* source position just after this item */
    char *rtype;        /* resource type or DICOM modality, for counts */
    json_t *resource;   /* SL_ITEM_FHIR: owned reference */
    char *path;         /* SL_ITEM_DICOM: file on disk */
    char *tmp_path;     /* a stage's rewritten copy, removed when done */
    /* SL_ITEM_BAD, or set by a stage: why it goes to quarantine */
    char *reason;
    char *stage;        /* which stage quarantined it ("read", "deid") */
    char *raw;          /* SL_ITEM_BAD: the bytes that failed, if small */
    size_t raw_len;
};

struct sl_item *sl_item_new(enum sl_item_kind kind);
void sl_item_free(struct sl_item *it);
/* Marks the item for quarantine with a reason that holds no patient data
 * (copied). Returns SL_EQUARANTINE. */
int sl_item_quarantine(struct sl_item *it, const char *stage,
                       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- sources ------------------------------------------------------------ */
struct sl_source_ops {
    const char *type; /* "fhir-files", "dicom-folder", ... */
    /* Opens the source configured by node, resuming just after checkpoint
     * (NULL: from the start). */
    int (*open)(const struct sl_config *cfg, const struct sl_conf_node *node,
                const char *checkpoint, void **ctx, struct sl_err *err);
    /* Produces the next item in *out, or *out = NULL at the end. Unreadable
     * input is an SL_ITEM_BAD item, not an error; an error stops the run. */
    int (*next)(void *ctx, struct sl_item **out, struct sl_err *err);
    void (*close)(void *ctx);
    /* Optional: work done and total, in the source's own units (files),
     * for the progress bar's ETA. May be NULL. */
    void (*progress)(void *ctx, uint64_t *done, uint64_t *total);
};

/* ---- sinks -------------------------------------------------------------- */
struct sl_sink_ops {
    const char *type;
    /* Opens the sink; state is what checkpoint() returned at the last
     * committed checkpoint (NULL on a fresh run): the sink rolls back
     * anything written after it. */
    int (*open)(const struct sl_config *cfg, const struct sl_conf_node *node,
                const char *run_id, const char *state, void **ctx,
                struct sl_err *err);
    /* Accepts the item if it is of a kind this sink takes; sets *taken. */
    int (*put)(void *ctx, struct sl_item *it, int *taken,
               struct sl_err *err);
    /* Makes everything put so far durable and returns (in *state, caller
     * frees) what open() needs to roll back to this point. */
    int (*checkpoint)(void *ctx, char **state, struct sl_err *err);
    /* Finishes (flushes partial bundles, writes manifests). */
    int (*finish)(void *ctx, struct sl_err *err);
    void (*close)(void *ctx);
};

const struct sl_source_ops *sl_source_find(const char *type);
const struct sl_sink_ops *sl_sink_find(const char *type);

/* ---- stages --------------------------------------------------------------- */
struct sl_stage_ctx {
    const struct sl_config *cfg;
    const char *job_id;
    void *data; /* the stage's own prepared data (profiles, maps) */
};

/* A stage is a pure function of (item, context): it may rewrite the item
 * or mark it for quarantine (returning SL_EQUARANTINE); any other error
 * stops the run. Stages must be safe to call from several threads. */
struct sl_stage {
    const char *name;
    int (*fn)(struct sl_item *it, const struct sl_stage_ctx *ctx,
              struct sl_err *err);
    struct sl_stage_ctx ctx;
};

/* ---- running a job --------------------------------------------------------- */
struct sl_run_opts {
    int workers;      /* worker threads, >= 1 */
    int dry_run;      /* read and process, do not write sinks or state */
    int progress;     /* draw a progress bar (terminal) */
    long commit_every; /* items between checkpoints */
    int quiet;
};

struct sl_type_count {
    char *type;
    uint64_t in, out, quarantined;
};

struct sl_run_summary {
    char run_id[64];
    int resumed;
    uint64_t in, out, quarantined, skipped;
    size_t ntypes;
    struct sl_type_count *types;
    double elapsed;
};

/* Runs job `job_id` of cfg with its state in st: resumes the unfinished
 * run of that job if there is one. Fills *sum (free with
 * sl_run_summary_free). Returns SL_OK when the run finished. */
int sl_pipeline_run(const struct sl_config *cfg, struct sl_state *st,
                    const char *job_id, const struct sl_run_opts *opts,
                    struct sl_run_summary *sum, struct sl_err *err);
void sl_run_summary_free(struct sl_run_summary *sum);

/* Runs quarantined items (all of one job, all open) through that job's
 * stages and targets again, as a new run named "JOB:replay". Items that
 * pass are delivered; items that fail are quarantined again as new entries
 * with the new reason. The old entries are marked "replayed". */
int sl_pipeline_replay(const struct sl_config *cfg, struct sl_state *st,
                       const int64_t *ids, size_t n,
                       const struct sl_run_opts *opts,
                       struct sl_run_summary *sum, struct sl_err *err);

#endif

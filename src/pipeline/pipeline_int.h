/* pipeline_int.h - what the files of src/pipeline/ share: one run. */
#ifndef SL_PIPELINE_INT_H
#define SL_PIPELINE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "config/config.h"
#include "pipeline/pipeline.h"
#include "state/state.h"

struct src_slot {
    const struct sl_conf_node *node;
    const struct sl_source_ops *ops;
    void *preset;     /* an already open source, or NULL */
    int preset_ours;  /* preset opened by the run (a cohort, cohort.c):
                         closed by run_free when the main pass did not */
    /* cohort.c: the id of the source its cohort comes from
     * (ops->cohort_from; owned by the config), or NULL; and whether that
     * source has been read to its end into it */
    const char *cohort_from;
    int cohort_fed;
    char *checkpoint; /* of the last item written (owned) */
    char *last;       /* the source's checkpoint of the job's last finished
                         run (owned), or NULL: for ops->since on every run
                         but a replay, for ops->begin on a new run only */
    /* requests it retried (ops->retries), added when it is closed and
     * taken into the summary at each commit (summary.c) */
    atomic_uint_fast64_t retries;
};

struct target_slot {
    const struct sl_conf_node *node;
    const struct sl_sink_ops *ops;
    unsigned takes;
    void *ctx;
    double put_seconds; /* the writer's, since the last fold (summary.c) */
    uint64_t retries_seen; /* ops->retries at the last fold */
};

struct stage_slot {
    const struct sl_stage_ops *ops;
    void *ctx;
    /* time in process() and items through it, summed by the workers a
     * chunk at a time; taken into the summary at each commit */
    atomic_uint_fast64_t ns, items;
};

/* Consecutive items of one source handed from thread to thread together:
 * one lock and at most one wake-up a chunk, not an item. */
#define CHUNK_ITEMS 64
/* ... or fewer, once their raw text reaches CHUNK_BYTES */
#define CHUNK_BYTES (256 * 1024)
struct chunk {
    uint64_t cseq;
    struct chunk *next; /* in the list of written chunks (run.spent) */
    size_t n;
    struct sl_item *it[CHUNK_ITEMS];
};

struct run {
    struct sl_job_spec *spec;
    struct sl_state *st; /* NULL: a run without a state store */
    const struct sl_run_opts *opts;
    struct sl_run_summary *sum;
    char *qdir; /* quarantine folder of this run (DICOM copies) */

    size_t nsrc;
    struct src_slot *src;
    size_t ntargets;
    struct target_slot *tgt;
    size_t nstages;
    struct stage_slot *stages;

    /* the queue: items travel in chunks (queue.c); chunks cseq in
     * [write_cseq, next_cseq) are in flight, at most cap of them */
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_space, cv_done;
    size_t cap;
    struct chunk **wq; /* FIFO of chunks for the workers */
    size_t wq_head, wq_len;
    struct chunk **done; /* slot cseq % cap: processed, waiting to write */
    /* written chunks, freed by the reader, whose thread allocated most of
     * what their items hold: freed by the writer, every block would go
     * back to another thread's heap under its lock */
    struct chunk *spent;
    /* every target that takes FHIR reads no document (sl_sink_ops,
     * no_document): workers free each one after the stages */
    int docs_unread;
    uint64_t next_cseq, write_cseq;
    /* item numbers: the next the reader gives, one past the last written */
    uint64_t next_seq, write_seq;
    int reader_done, stop, failed;
    /* threads asleep on each condition: a wake-up is sent only to a
     * sleeper, and in batches (see queue.c) */
    int work_waiters, space_waiter, done_waiter;
    struct sl_err ferr;
    /* progress, in source units (files) */
    uint64_t units_done, units_total;

    /* writer's own */
    struct sl_qitem *pending;
    size_t npending;
    uint64_t since_commit;
    double last_commit, last_progress, started;
    /* The job's lease (state.h): its name, NULL when none was taken, and
     * when it was last renewed. */
    char *lease;
    double lease_renewed;
    uint64_t in_at_start;
    /* time the workers spent parsing raw items (as stage_slot.ns) */
    atomic_uint_fast64_t parse_ns, parse_items;
    /* the observers' progress calls, one at a time whichever thread
     * makes them (the writer, the learning reader, a source's status) */
    pthread_mutex_t progress_mu;
    char status[128];            /* a source's words, "" for none */
    const char *progress_phase;  /* of the last progress call, or NULL */
    uint64_t progress_items, progress_quarantined;
    double progress_since;
};

/* Whether the caller asked the run to stop (opts->stop). */
int run_stop_asked(const struct run *r);
/* Records the first failure and stops every thread. */
void run_fail(struct run *r, const struct sl_err *err);
/* Whether the run stops (asked, or failed); a stop asked is recorded. */
int run_stopping(struct run *r);
/* Seconds between two progress reports to the observers. */
double run_progress_every(const struct run *r);
/* The phase the next progress calls are about, from its start. */
void run_progress_phase(struct run *r, const char *phase, double since);
/* A source's words on where it is (item.h: watch), from the reader's
 * thread: kept for the next progress calls, and shown now when they
 * changed. */
void run_source_status(void *arg, const char *text);
/* Whether every source of the run reads local files (see
 * sl_source_ops.local): the calling thread then reads, and learns, writes
 * and processes beside --jobs - 1 threads, not beside --jobs of them. */
int run_sources_local(const struct run *r);
/* Whether the run reads, processes and writes on the calling thread, with
 * no other: one worker (--jobs 1) and local sources, which a hand-over
 * between threads would only slow down. */
int run_one_thread(const struct run *r);
/* Frees a chunk and its items from the from-th on (NULL-safe). */
void chunk_free(struct chunk *c, size_t from);
/* Frees a list of chunks linked by next, and their items (NULL-safe). */
void chunk_list_free(struct chunk *c);
/* The writer (writer.c): writes item it to every target that takes it,
 * counts it, quarantines it or moves its source's checkpoint, then
 * commits and reports progress when it is time. 0, or -1 when the run
 * failed (run_fail was called). */
int run_write_one(struct run *r, struct sl_item *it);
/* The writer of a run with a reader thread, on the calling thread: the
 * workers' chunks in order, until every chunk read is written. */
void run_writer_loop(struct run *r);

/* cohort.c: run_cohorts_open opens each source of the main pass whose
 * cohort comes from another source of the job, and leaves it open for the
 * main pass (preset, preset_ours). The learning pass, when it reads such a
 * source from its start with the main pass's since(), feeds them as it
 * reads: run_cohorts_feeds says whether it should for the source of node,
 * run_cohorts_item hands them an item, run_cohorts_done says that source
 * was read to its end. run_cohorts_feed then reads the sources the
 * learning pass did not, for the cohorts still unfed. */
int run_cohorts_open(struct run *r, struct sl_err *err);
int run_cohorts_feeds(const struct run *r, const struct sl_conf_node *node);
int run_cohorts_item(struct run *r, const struct sl_conf_node *node,
                     const struct sl_item *it, struct sl_err *err);
void run_cohorts_done(struct run *r, const struct sl_conf_node *node);
int run_cohorts_feed(struct run *r, struct sl_err *err);

/* learn.c: the learning pass; queue.c: the reader, workers and writer of
 * the main pass. Both return when the pass is over (or failed). */
int run_learn(struct run *r, struct sl_err *err);
int run_main(struct run *r, struct sl_err *err);

/* passes.c: before parsing, a raw FHIR line (it->text) that every stage
 * of the run passes (sl_stage_ops.passes) and the fast reader accepts as
 * a resource becomes the item's out_json, as it came, its rtype set: 1.
 * 0: parse and process it as usual. tape and copy: the worker's
 * scratch. */
int passes_raw(const struct run *r, struct sl_item *it, struct sl_jtape *tape,
               struct sl_buf *copy);

/* summary.c: counts of types and findings, kept in the checkpoint. */
struct sl_type_count *summary_type(struct sl_run_summary *sum,
                                   const char *type);
void summary_add_findings(struct sl_run_summary *sum,
                          const struct sl_item *it);
char *summary_json(const struct sl_run_summary *sum); /* caller frees */
void summary_load(struct sl_run_summary *sum, const char *text);
/* Adds (now, items done) to the summary's timeline. */
void summary_sample(struct sl_run_summary *sum);
/* The entry of name in a list of parts (made when missing). */
struct sl_part_count *summary_part(struct sl_part_count **v, size_t *n,
                                   const char *name);
/* Takes the stages' and targets' time since the last call into r->sum
 * (the writer's thread: before a commit, at the end). */
void summary_fold_times(struct run *r);
/* Takes the stages' counts per rule into r->sum (at the end of a run). */
void summary_fold_rules(struct run *r);

/* quarantine.c: the state store's quarantine for a job (items wait in
 * r->pending until the next commit, which stores them with the
 * checkpoint) and the commit itself. */
int quarantine_put(struct run *r, struct sl_item *it, struct sl_err *err);
int run_commit(struct run *r, struct sl_err *err);
/* Renews the job's lease when a minute has passed since the last time
 * (run.c); a failure is logged, the run goes on. */
void run_lease_renew(struct run *r);
/* Quarantines what target t refused after taking it (sl_sink_ops.refused)
 * and moves those items from the delivered count to the quarantined. */
/* Closes source slot s's open ctx, keeping its retries for the summary. */
void src_close(struct src_slot *s, void *ctx);
int run_take_refused(struct run *r, struct target_slot *t, struct sl_err *err);

/* Observers. */
void notify_progress(struct run *r, const char *phase, uint64_t items,
                     double since, int final);

#endif

/* item.h - the unit of work that flows from sources through stages to
 * targets, and the interfaces of sources and targets (sinks).
 *
 * This library sits below sources, sinks, stages and the pipeline: all of
 * them use items, none of them is used by it. */
#ifndef SL_ITEM_H
#define SL_ITEM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/common.h"

struct sl_config;
struct sl_conf_node;
struct sl_jtape;

enum sl_item_kind {
    SL_ITEM_FHIR,  /* a FHIR resource (JSON) */
    SL_ITEM_DICOM, /* a DICOM Part-10 file, left on disk */
    SL_ITEM_BAD,   /* input that could not be read: goes to quarantine */
    SL_ITEM_SKIP,  /* input that is neither FHIR nor DICOM: counted as
                      skipped, goes nowhere */
};

/* Writes a FHIR Provenance for resources a run delivered: a stage that
 * knows what it applied offers one (the deid stage: the profile chain),
 * and a target that groups resources (a file, a Bundle) asks it for the
 * group. targets: a JSON array of references ("Type/id"), borrowed.
 * Returns a new reference, or NULL when targets is empty. */
struct sl_provenance_maker {
    void *ctx;
    json_t *(*make)(void *ctx, const json_t *targets);
};

/* Sets of item kinds (what a target takes, a source yields). */
#define SL_TAKES_FHIR (1u << SL_ITEM_FHIR)
#define SL_TAKES_DICOM (1u << SL_ITEM_DICOM)

enum sl_severity {
    SL_SEV_INFO,
    SL_SEV_WARNING,
    SL_SEV_ERROR,
};

/* What a stage found about an item: counted per stage and code in the run
 * summary. Never a value from the data: `where` is an element path or a
 * DICOM tag. */
struct sl_finding {
    char *stage;
    enum sl_severity severity;
    char *code;  /* short, stable: "quarantined", "unmapped-code" */
    char *where; /* element path or tag, or NULL */
};

/* One unit of work. Names and positions never hold patient data: `pos`
 * says where the item came from ("file 3 line 17", "file 12"), `origin`
 * is the input path, kept only for `sluice quarantine show`. */
struct sl_item {
    enum sl_item_kind kind;
    uint64_t seq;       /* number in this run, from 1 */
    const char *source; /* source id (owned by the config) */
    long rank;          /* the input (file) it came from, in source order:
                           items of one rank are learned in order */
    char *pos;          /* position, no PHI */
    char *origin;       /* input path (operator only, may hold PHI) */
    char *checkpoint;   /* source position just after this item */
    char *rtype;        /* resource type or DICOM modality, for counts */
    json_t *resource;   /* SL_ITEM_FHIR: owned reference, or NULL while
                           text holds the unparsed JSON */
    char *text;         /* SL_ITEM_FHIR: raw JSON a source left to be
                           parsed by a worker (sl_item_parse), or NULL */
    size_t text_len;
    /* During a learning call only: text read by the fast tape reader
     * (fhir/jtape.h) when it could, else NULL. Borrowed. */
    const struct sl_jtape *tape;
    /* SL_ITEM_FHIR: json_dumps(resource, JSON_COMPACT), byte for byte,
     * when the stage that last changed the resource wrote it on its
     * worker thread (so that targets need not serialise on the writer's);
     * or, set by a source (fhir-rest, fhir-bulk), the resource's text as
     * the server sent it, on one line: the same value, its numbers and
     * escapes as written. NULL otherwise. A stage that changes resource
     * frees it. */
    char *out_json;
    size_t out_json_len;
    /* Set by a source whose reader already checked text as the worker's
     * parse would (one JSON object, as jansson takes it, with a non-empty
     * resourceType, which rtype holds) and set out_json from it: a run
     * without stages then never builds the document (fhir-rest). */
    int text_checked;
    /* "Type/id" of the resource, kept when the pipeline lets go of the
     * document once out_json holds it (for a Provenance), or NULL */
    char *ref;
    char *path;         /* SL_ITEM_DICOM: file on disk */
    int fd;             /* SL_ITEM_DICOM: path open for reading, left so by
                           the source's probe (a stage may take it over
                           and set -1), or -1; closed by sl_item_free */
    char *tmp_path;     /* a stage's rewritten copy, removed when done */
    /* SL_ITEM_BAD, or set by a stage: why it goes to quarantine */
    char *reason;
    char *stage;        /* which stage quarantined it ("read", "deid") */
    char *raw;          /* SL_ITEM_BAD: the bytes that failed, if small */
    size_t raw_len;
    size_t nfindings;
    struct sl_finding *findings;

    /* Where the item sits in its input, for targets and quarantines that
     * keep the inputs' layout (`sluice deid`): 0 when not known. */
    long unit;            /* number of its input among inputs of its kind */
    const char *unit_ext; /* its input's kind: ".json", ".ndjson",
                             ".ndjson.gz", ".dcm" (static) */
    const char *quarantine_ext; /* how a folder quarantine names it (static)
                                   or NULL */
    int whole;            /* SL_ITEM_FHIR: a whole document (a Bundle is
                             one item, not split) */
    int bundle_entry;     /* SL_ITEM_FHIR: an entry of a Bundle a source
                             split (its references may name fullUrls) */
    char *full_url;       /* that entry's fullUrl, or NULL (may hold PHI:
                             never printed) */
    json_t *companion;    /* a document a stage made to go beside the
                             item's output (a Provenance), or NULL */
    const struct sl_provenance_maker *provenance; /* or NULL */

    /* SL_ITEM_DICOM: what the stage that wrote tmp_path knows of it, so
     * that a target need not read it again (summary_set: summary is the
     * file's summary, or NULL and summary_why why a reader would refuse
     * the file). Freed with summary_free. */
    int summary_set;
    void *summary;
    void (*summary_free)(void *);
    char *summary_why;
    /* Set by the pipeline for the last target given the item: it may move
     * tmp_path into place rather than copy it. */
    int may_move;
    /* SL_ITEM_FHIR: the source found the resource deleted on the server
     * (fhir-rest, deletes="history"). resource holds only its
     * resourceType and id, which stages treat as any resource's (the
     * pseudonymised id is the one a target stored); a target deletes it
     * (fhir-store) or records it (fhir-files), never stores it. */
    int deleted;
    /* Set by the pipeline for the run's counts: the item's size as its
     * source gave it (raw text, DICOM file) and as the stages hand it to
     * the targets (the text they wrote, else the input's; the DICOM file
     * they wrote). */
    uint64_t in_bytes, out_bytes;
};

/* Bytes of a bad input kept in quarantine for the operator. */
#define SL_ITEM_RAW_MAX (1024 * 1024)

struct sl_item *sl_item_new(enum sl_item_kind kind);
void sl_item_free(struct sl_item *it); /* NULL-safe */
/* Marks the item for quarantine with a reason that holds no patient data
 * (copied), and records the finding (stage, error, "quarantined").
 * Returns SL_EQUARANTINE. */
int sl_item_quarantine(struct sl_item *it, const char *stage,
                       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds a finding (strings copied; where may be NULL). */
void sl_item_finding(struct sl_item *it, const char *stage,
                     enum sl_severity sev, const char *code,
                     const char *where);
const char *sl_severity_name(enum sl_severity sev);
/* "Type/id" of a FHIR resource, as a Provenance names it (caller frees),
 * or NULL when it has no resourceType or id. */
char *sl_resource_ref(const json_t *res);

/* Parses the raw JSON of an SL_ITEM_FHIR item left by its source (text):
 * afterwards it holds the resource, or it is an SL_ITEM_BAD item whose
 * reason names its position, the column and jansson's words (never the
 * text), with the text kept as raw. No-op for other items. Safe to call
 * from any thread on items of its own. */
void sl_item_parse(struct sl_item *it);

/* ---- sources ------------------------------------------------------------ */
struct sl_source_ops {
    const char *type; /* "fhir-files", "dicom-folder", ... */
    /* Opens the source configured by node, resuming just after checkpoint
     * (NULL: from the start). */
    int (*open)(const struct sl_config *cfg, const struct sl_conf_node *node,
                const char *checkpoint, void **ctx, struct sl_err *err);
    /* Produces the next item in *out, or *out = NULL at the end. Unreadable
     * input is an SL_ITEM_BAD item, not an error; an error stops the run.
     * A FHIR item may come unparsed (text set): the pipeline parses it on
     * a worker thread. */
    int (*next)(void *ctx, struct sl_item **out, struct sl_err *err);
    void (*close)(void *ctx);
    /* Optional: work done and total, in the source's own units (files),
     * for the progress bar's ETA. May be NULL. */
    void (*progress)(void *ctx, uint64_t *done, uint64_t *total);
    /* Optional: the reader needs only items of these kinds (SL_TAKES_*),
     * as the learning pass does; the source may then yield others as
     * SL_ITEM_SKIP without reading them (no DICOM file is opened to be
     * recognised when only FHIR is learned). Called after open, before
     * the first next. May be NULL. */
    void (*want)(void *ctx, unsigned kinds);
    /* Optional: the source reads incrementally. Called after open, before
     * the first next, with the checkpoint the source gave the last item
     * of the job's last finished run (a job with <pull since="checkpoint">
     * and a state store; on a resume too): the source reads only what is
     * new since then. Not called when there is no such run. May be NULL. */
    int (*since)(void *ctx, const char *last, struct sl_err *err);
    /* Optional: called after open (and want), before the first next.
     * stop: the run's stop flag (non-zero once a stop is asked: a source
     * that waits on a server checks it, and may tell the server). last:
     * on a new run (not a resume) of a job pulling since="checkpoint",
     * this source's last checkpoint in the job's latest finished run that
     * has one, else NULL: an incremental source starts after it. May be
     * NULL. */
    void (*begin)(void *ctx, const volatile sig_atomic_t *stop,
                  const char *last);
    /* Optional: called after begin, before the first next. report(arg,
     * text) tells the run where the source is while it waits, in words
     * for the progress bar (a Bulk Data export's X-Progress: printable,
     * no data), or NULL once it has nothing to say; the source calls it
     * from next() (the reader's thread) until close. May be NULL. */
    void (*watch)(void *ctx, void (*report)(void *arg, const char *text),
                  void *arg);
    /* Non-zero: next() reads local files and never waits on a peer, so a
     * run with one worker reads, processes and writes on one thread
     * (pipeline/queue.c); 0: a thread of its own reads it. */
    int local;
    /* Optional: requests to a peer tried again so far (sl_http_retries),
     * since open; the run's report and metrics count them per source.
     * May be NULL. */
    uint64_t (*retries)(void *ctx);
    /* Optional: the source's cohort comes from another source of the job
     * (a PACS source's studies="source:ehr", docs/pacs.md): that source's
     * id, or NULL. Called after open and since. The run then reads that
     * source from its start (in the learning pass when there is one, else
     * on its own: the same cohort on a resume), before this one's first
     * next, and hands each of its FHIR items, as read (before any stage),
     * to cohort_item (pipeline/cohort.c). May be NULL. */
    const char *(*cohort_from)(void *ctx);
    /* One item of that source (borrowed; text or resource set). Unusable
     * resources are the source's to report; an error stops the run. */
    int (*cohort_item)(void *ctx, const struct sl_item *it,
                       struct sl_err *err);
    /* That source has been read to its end. */
    void (*cohort_done)(void *ctx);
};

/* ---- targets (sinks) ---------------------------------------------------- */
struct sl_sink_ops {
    const char *type;
    /* Opens the sink; state is what checkpoint() returned at the last
     * committed checkpoint (NULL on a fresh run): the sink rolls back
     * anything written after it. */
    int (*open)(const struct sl_config *cfg, const struct sl_conf_node *node,
                const char *run_id, const char *state, void **ctx,
                struct sl_err *err);
    /* Accepts the item if it is of a kind this sink takes; sets *taken.
     * The item is not the sink's: several targets may be given it. */
    int (*put)(void *ctx, struct sl_item *it, int *taken,
               struct sl_err *err);
    /* Makes everything put so far durable and returns (in *state, caller
     * frees) what open() needs to roll back to this point. */
    int (*checkpoint)(void *ctx, char **state, struct sl_err *err);
    /* Finishes (flushes partial bundles, writes manifests). */
    int (*finish)(void *ctx, struct sl_err *err);
    void (*close)(void *ctx);
    /* Optional: the state last returned by checkpoint() is committed, so
     * what only an older state needed can go. May be NULL. */
    void (*committed)(void *ctx);
    /* Optional: items this target took in an earlier put() and refused
     * later (a per-entry error of a Bundle it sent after that put: the
     * fhir-store target). *out is an array of *n copies, each with its
     * reason set; the array and the items become the caller's, which
     * quarantines them. The pipeline asks after every put() and after
     * every checkpoint(), before the checkpoint is committed, so a refused
     * item is in the quarantine of the checkpoint that passed it. May be
     * NULL. */
    int (*refused)(void *ctx, struct sl_item ***out, size_t *n);
    /* Optional: requests to the peer tried again so far (sl_http_retries),
     * since open; counted per target in the run's report and metrics. May
     * be NULL. */
    uint64_t (*retries)(void *ctx);
    /* Set by a sink that reads nothing of a FHIR item's document (neither
     * resource nor out_json: only what stages put beside it, such as the
     * companion, the findings and pos) and never quarantines an item
     * itself: when every target of a run that takes FHIR is such a sink,
     * the pipeline frees each document on the worker thread once the
     * stages are done with it, rather than on the writer's once written. */
    int no_document;
};

#endif

/* state.h - the state store (SQLite, WAL): runs, checkpoints, quarantine
 * and the append-only audit trail.
 *
 * Nothing stored here except quarantine item data and origins holds
 * patient data; those two are shown only by `sluice quarantine show`. */
#ifndef SL_STATE_H
#define SL_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

struct sl_state;

/* Opens (creating when needed) the store at path and upgrades its schema.
 * On success *out owns it; close with sl_state_close(). A new store file
 * is created mode 0600: quarantine items hold patient data.
 * One struct sl_state is used by one thread at a time. */
int sl_state_open(const char *path, struct sl_state **out,
                  struct sl_err *err);
void sl_state_close(struct sl_state *st); /* NULL-safe */

/* The schema version this build writes (PRAGMA user_version). */
#define SL_STATE_SCHEMA_VERSION 2
/* The path the store was opened with (owned by st). */
const char *sl_state_path(const struct sl_state *st);
/* How long a write waits for another process's lock before failing with
 * SL_ESTATE "database is locked" (default 5000 ms). */
void sl_state_busy_timeout(struct sl_state *st, int ms);

struct sl_run_rec {
    char id[64];
    char job[128];
    char status[16]; /* running, finished, failed, interrupted */
    char started[32];
    char finished[32];
    uint64_t in, out, quarantined;
    int attempts; /* how many times the run was started (resumes + 1) */
};

/* Finds the unfinished run of job (status running/interrupted/failed);
 * SL_ENOTFOUND when there is none. */
int sl_state_run_unfinished(struct sl_state *st, const char *job,
                            struct sl_run_rec *out, struct sl_err *err);
/* Starts a new run of job; writes its id into run_id (64 bytes). */
int sl_state_run_start(struct sl_state *st, const char *job,
                       const char *config_path, const char *config_sha256,
                       char run_id[64], struct sl_err *err);
/* Marks an unfinished run as started again (attempts + 1). */
int sl_state_run_resume(struct sl_state *st, const char *run_id,
                        struct sl_err *err);
/* Ends a run: status "finished", "failed" or "interrupted", with its
 * final counts; summary_json may be NULL. SL_ENOTFOUND for an unknown
 * run. */
int sl_state_run_end(struct sl_state *st, const char *run_id,
                     const char *status, uint64_t in, uint64_t out,
                     uint64_t quarantined, const char *summary_json,
                     struct sl_err *err);
/* Lists runs, newest first (job may be NULL for all; limit 0: no
 * limit). Caller frees *out (NULL when *n is 0). */
int sl_state_runs_list(struct sl_state *st, const char *job, size_t limit,
                       struct sl_run_rec **out, size_t *n,
                       struct sl_err *err);

/* The last committed checkpoint of a run. Each out string is owned by the
 * caller (NULL when absent); SL_ENOTFOUND when the run has committed none.
 * sl_checkpoint_clear frees the strings (NULL-safe). */
struct sl_checkpoint {
    char *sources; /* JSON object: source id -> position */
    char *sinks;   /* JSON object: target id -> sink state */
    char *counts;  /* JSON: counts so far, per type */
    uint64_t seq;  /* items committed */
};
int sl_state_checkpoint_get(struct sl_state *st, const char *run_id,
                            struct sl_checkpoint *out, struct sl_err *err);
void sl_checkpoint_clear(struct sl_checkpoint *c);

/* A quarantined item. */
struct sl_qitem {
    int64_t id;
    char *run_id;
    char *job;
    char *source;
    char *pos;    /* position, no PHI */
    char *stage;
    char *reason; /* no PHI */
    char *origin; /* input path: operator only */
    char *kind;   /* "fhir", "dicom", "raw" */
    char *data;   /* FHIR JSON or raw bytes, or NULL */
    size_t data_len;
    char *path;   /* DICOM: copy kept in the quarantine folder */
    char *created;
    char *status; /* open, replayed, released */
};
void sl_qitem_clear(struct sl_qitem *q);

/* Commits, in one transaction, a checkpoint and the items quarantined
 * since the previous one, so that both survive a crash together or not
 * at all. The checkpoint replaces the run's previous one. In each item,
 * run_id and created may be NULL (the commit's run and now); id and status
 * are ignored (new ids, "open"). Nothing is kept from ck or q. */
int sl_state_commit(struct sl_state *st, const char *run_id,
                    const struct sl_checkpoint *ck,
                    const struct sl_qitem *q, size_t nq, struct sl_err *err);

/* Lists quarantined items, oldest first (status NULL: all). data is left
 * NULL (data_len gives its size): use sl_state_quarantine_get. Caller
 * frees with sl_qitem_clear on each and free(). */
int sl_state_quarantine_list(struct sl_state *st, const char *status,
                             struct sl_qitem **out, size_t *n,
                             struct sl_err *err);
/* One item with its data; SL_ENOTFOUND when there is none. The caller
 * owns the strings: sl_qitem_clear (wipes data and origin; NULL-safe). */
int sl_state_quarantine_get(struct sl_state *st, int64_t id,
                            struct sl_qitem *out, struct sl_err *err);
/* Sets an item's status (open, replayed, released) and audits it as
 * "quarantine-<status>" in the same transaction. SL_ENOTFOUND for an
 * unknown id, SL_EUSAGE for an unknown status. */
int sl_state_quarantine_set_status(struct sl_state *st, int64_t id,
                                   const char *status, struct sl_err *err);

/* Appends to the audit trail (never updated or deleted: triggers refuse).
 * details_json holds counts, versions and ids, never patient data. */
int sl_state_audit(struct sl_state *st, const char *action,
                   const char *job, const char *run_id,
                   const char *details_json, struct sl_err *err);

#endif

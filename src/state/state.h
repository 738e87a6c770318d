/* state.h - the state store: runs, checkpoints, quarantine and the
 * append-only audit trail.
 *
 * The sl_state_* functions are what the pipeline and the CLI call; each
 * dispatches to a backend, a struct sl_state_ops (at the end of this
 * header, with the contract every backend keeps). SQLite (state_sqlite.c)
 * is the default; a server backend (PostgreSQL, for many gateway
 * processes sharing one store) implements the same ops and nothing above
 * this header changes.
 *
 * Nothing stored here except quarantine item data and origins holds
 * patient data; those two are shown only by `sluice quarantine show`. */
#ifndef SL_STATE_H
#define SL_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

struct sl_state;

struct sl_state_ops;

/* Opens (creating when needed) the store at path and upgrades its schema.
 * The backend is the one whose prefix starts path (none yet but SQLite's
 * default: a file path). On success *out owns it; close with
 * sl_state_close(). A new store file is created mode 0600: quarantine
 * items hold patient data. One struct sl_state is used by one thread at
 * a time. */
int sl_state_open(const char *path, struct sl_state **out, struct sl_err *err);
/* The same with a given backend (tests, or a caller that knows). */
int sl_state_open_ops(const struct sl_state_ops *ops, const char *path,
                      struct sl_state **out, struct sl_err *err);
void sl_state_close(struct sl_state *st); /* NULL-safe */
/* True when a store is at path, without creating one: the commands that
 * only read a store say "no state store here" rather than make one. */
int sl_state_exists(const char *path);

/* The schema version the SQLite backend writes (PRAGMA user_version). */
#define SL_STATE_SCHEMA_VERSION 3
/* The path the store was opened with (owned by st). */
const char *sl_state_path(const struct sl_state *st);
/* The backend's name ("sqlite"). */
const char *sl_state_backend(const struct sl_state *st);
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
    /* The run's counts as JSON (types; findings per stage and code), as
     * the run ended; set only by sl_state_runs_list, else NULL. Owned:
     * free a list with sl_run_recs_free. */
    char *summary;
};
void sl_run_recs_free(struct sl_run_rec *v, size_t n); /* NULL-safe */

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
                       struct sl_run_rec **out, size_t *n, struct sl_err *err);

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
    int64_t id; /* the state store's id (0 in a quarantine folder) */
    char *name; /* the id as the operator types it, set by the
                 * quarantine interface (quarantine.h); else NULL */
    char *run_id;
    char *job;
    char *source;
    char *pos; /* position, no PHI */
    char *stage;
    char *reason; /* no PHI */
    char *origin; /* input path: operator only */
    char *kind;   /* "fhir", "dicom", "raw" */
    char *data;   /* FHIR JSON or raw bytes, or NULL */
    size_t data_len;
    char *path; /* DICOM: copy kept in the quarantine folder */
    char *created;
    char *status; /* open, replayed, released */
    /* 0: kept in the clear; 1: sealed (encrypted at rest) and no key, or
     * not the right one, was given to open it: data and origin are then
     * NULL; 2: sealed, and opened with the key */
    int sealed;
};
void sl_qitem_clear(struct sl_qitem *q);

/* Commits, in one transaction, a checkpoint and the items quarantined
 * since the previous one, so that both survive a crash together or not
 * at all. The checkpoint replaces the run's previous one. In each item,
 * run_id and created may be NULL (the commit's run and now); id and status
 * are ignored (new ids, "open"). Nothing is kept from ck or q. */
int sl_state_commit(struct sl_state *st, const char *run_id,
                    const struct sl_checkpoint *ck, const struct sl_qitem *q,
                    size_t nq, struct sl_err *err);

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

/* ---- the quarantine at rest ------------------------------------------- */

/* The quarantine key (copied; wiped at close). With it, sl_state_commit
 * seals every new item's data and origin (common/seal.h), and
 * sl_state_quarantine_get opens sealed ones; without it, sealed items come
 * back with sealed set and no data or origin. */
void sl_state_quarantine_key(struct sl_state *st, const void *key, size_t len);
/* True when st has a quarantine key. */
int sl_state_quarantine_sealing(const struct sl_state *st);
/* Keeps a copy of a DICOM file for the quarantine at dst: sealed with the
 * quarantine key when there is one, else a plain copy. st may be NULL. */
int sl_state_quarantine_file(struct sl_state *st, const char *src,
                             const char *dst, struct sl_err *err);
/* The readable form of a quarantined DICOM copy: *plain NULL when path is
 * not sealed (read it as it is), else a new file beside it that the caller
 * removes. SL_EKEY without the key, or with another one. */
int sl_state_quarantine_open_file(struct sl_state *st, const char *path,
                                  char **plain, struct sl_err *err);

/* Deletes the items older than days (their DICOM copies too) and audits
 * it; *n says how many. */
int sl_state_quarantine_purge(struct sl_state *st, long days, uint64_t *n,
                              struct sl_err *err);
/* Seals every item (data, origin, DICOM copy), and every run's
 * checkpoint positions, again with new_key (key rotation), opening each
 * with the current key or reading it in the clear; then new_key is the
 * current one. Every item is opened before any is
 * rewritten: an item neither key opens stops it with SL_EKEY and nothing
 * changes. An item already under new_key (a rekey that was interrupted)
 * is left as it is, so running it again finishes the job. Audits
 * "quarantine-rekeyed" {items}; *n counts the items rewritten. */
int sl_state_quarantine_rekey(struct sl_state *st, const void *new_key,
                              size_t new_len, uint64_t *n,
                              struct sl_err *err);

/* Appends to the audit trail (never updated or deleted: triggers refuse).
 * details_json holds counts, versions and ids, never patient data. */
int sl_state_audit(struct sl_state *st, const char *action, const char *job,
                   const char *run_id, const char *details_json,
                   struct sl_err *err);

/* ---- the audit trail's chain ------------------------------------------- */

/* One audit record as stored. The chain: each record's hash is SHA-256
 * over the previous record's hash and its own fields; its mac is
 * HMAC-SHA256 with the audit key over that hash (NULL without a key).
 * Records written before the chain existed have neither. */
struct sl_audit_rec {
    int64_t id;
    const char *time, *user, *host, *action, *job, *run_id, *details;
    const char *prev_hash, *hash, *mac; /* lowercase hex, or NULL */
};

/* The key (copied; wiped at close) that HMACs every record written from
 * now on through st. */
void sl_state_audit_key(struct sl_state *st, const void *key, size_t len);

/* Calls fn for every record, oldest first, until it returns non-zero. */
int sl_state_audit_scan(struct sl_state *st,
                        int (*fn)(void *ud, const struct sl_audit_rec *r),
                        void *ud, struct sl_err *err);

/* What checking the trail found. */
struct sl_audit_check {
    uint64_t records; /* in the chain, checked */
    uint64_t legacy;  /* before the chain began (an older sluice) */
    uint64_t macs;    /* HMACs checked (0 without a key) */
    int64_t bad_id;   /* the first broken record, 0 when intact */
    char bad_time[32], bad_action[64];
    char why[256];
};

/* Checks the chain from the first record (and every HMAC when key is
 * given). SL_OK whatever it finds: out->bad_id says. */
int sl_state_audit_verify(struct sl_state *st, const void *key, size_t len,
                          struct sl_audit_check *out, struct sl_err *err);

/* ---- leases and schedules ---------------------------------------------- */

/* Who holds a job: one run of a job at a time, across processes (the
 * daemon, `sluice run`, a CronJob on another machine sharing the store). */
struct sl_lease {
    char user[64];
    char host[256];
    long pid;
    unsigned long long start; /* the process's start (boot ticks) */
    char since[32]; /* ISO 8601 UTC */
    char expires[32];
};

/* Takes the lease on job for this process for ttl seconds (or renews it
 * when this process holds it). SL_EBUSY when another process holds it:
 * one that is alive on this host, or one on another host whose lease has
 * not expired; *who (may be NULL) then says which. A holder that died
 * (same host, its process gone) or expired loses the lease. Audits
 * "lease-take" with the job and, when one was taken over, from whom. */
int sl_state_lease_take(struct sl_state *st, const char *job, int ttl,
                        struct sl_lease *who, struct sl_err *err);
/* Gives the lease on job back, if this process holds it. */
int sl_state_lease_release(struct sl_state *st, const char *job,
                           struct sl_err *err);
/* This process as a lease holder (user, host, pid, start time). */
void sl_lease_self(struct sl_lease *me);
/* "user@host pid N since T" for messages (no patient data). */
void sl_lease_describe(const struct sl_lease *l, char *buf, size_t len);

/* The last schedule slot the daemon handled for job (seconds since the
 * epoch; SL_ENOTFOUND when none), and setting it. */
int sl_state_slot_get(struct sl_state *st, const char *job, int64_t *slot,
                      struct sl_err *err);
int sl_state_slot_set(struct sl_state *st, const char *job, int64_t slot,
                      struct sl_err *err);

/* ---- backends ------------------------------------------------------------ */

/* A state store backend: a table of functions, like the sources and sinks.
 * be is the handle its open returned; the dispatchers above pass it on
 * unchanged, after checking what does not depend on the backend (the
 * status words of run_end and quarantine_set_status), so an op may take
 * its arguments as valid.
 *
 * The contract, for every op:
 *  - It returns an SL_* status; on failure err says why, names the store
 *    (never with a password) and never holds patient data. SL_ESTATE is a
 *    store error; SL_ENOTFOUND is the only other failure a caller acts on.
 *  - Out parameters are written only on success. Strings given in are
 *    borrowed for the call; nothing is kept after it returns.
 *  - An op that changes the store is one transaction: when it returns
 *    SL_OK every change it made is durable (survives a crash, a kill -9 or
 *    a power cut); when it fails none of them is visible, to this process
 *    or another. Ops that audit write the audit row in that same
 *    transaction.
 *  - Several processes (and, for a server backend, several machines) may
 *    use one store at once. A write that meets another's lock waits up to
 *    the busy timeout, then fails with SL_ESTATE. Reads see committed data
 *    only.
 *  - The audit trail is append-only in the store itself (SQLite: triggers;
 *    a server: triggers or grants), not only in this code.
 *  - Audit rows carry the process's user and host (sl_state_identity() in
 *    state_int.h) and the time; ids and times are ISO 8601 UTC text.
 */
struct sl_state_ops {
    const char *name; /* "sqlite", "postgresql" */
    /* sl_state_open picks the backend whose prefix starts the path
     * ("postgresql://"); NULL marks the default (a file path). */
    const char *prefix;

    /* Opens (creating when needed) the store at path and brings its schema
     * to the version this build writes, one migration per transaction,
     * safe when two processes open a new store at once. A schema newer
     * than this build knows is SL_ESTATE. On success *be is the handle. */
    int (*open)(const char *path, void **be, struct sl_err *err);
    /* Closes the handle; NULL-safe. */
    void (*close)(void *be);
    /* Whether a store is at path, creating nothing; NULL when that cannot
     * be told without connecting (a server store is made by its
     * administrator): then it is taken to exist. */
    int (*exists)(const char *path);
    /* How long a write waits for a lock; NULL if the backend has no such
     * setting. */
    void (*busy_timeout)(void *be, int ms);

    /* The newest run of job with status running, interrupted or failed;
     * SL_ENOTFOUND when there is none. */
    int (*run_unfinished)(void *be, const char *job, struct sl_run_rec *out,
                          struct sl_err *err);
    /* Inserts a run (status running, attempts 1, started now, the config's
     * path and hash, the user and host) with a new id from
     * sl_state_run_id_make(), retrying a few times on a clash, and audits
     * "run-start" {config_sha256}; one transaction. Writes the id. */
    int (*run_start)(void *be, const char *job, const char *config_path,
                     const char *config_sha256, char run_id[64],
                     struct sl_err *err);
    /* Sets an unfinished run back to running (finished cleared, attempts
     * + 1) and audits "run-resume" {attempts}; one transaction.
     * SL_ENOTFOUND for an unknown or finished run. */
    int (*run_resume)(void *be, const char *run_id, struct sl_err *err);
    /* Sets the run's status (finished, failed or interrupted: checked),
     * finish time, counts and summary, and audits "run-end" {status, in,
     * out, quarantined}; one transaction. SL_ENOTFOUND for an unknown
     * run. */
    int (*run_end)(void *be, const char *run_id, const char *status,
                   uint64_t in, uint64_t out, uint64_t quarantined,
                   const char *summary_json, struct sl_err *err);
    /* Runs newest first (by start time, then insertion), job NULL for all,
     * limit 0 for no limit; *out is malloc'd (NULL when *n is 0). */
    int (*runs_list)(void *be, const char *job, size_t limit,
                     struct sl_run_rec **out, size_t *n, struct sl_err *err);

    /* The run's last committed checkpoint, strings malloc'd;
     * SL_ENOTFOUND when there is none. */
    int (*checkpoint_get)(void *be, const char *run_id,
                          struct sl_checkpoint *out, struct sl_err *err);
    /* The pipeline's commit, and the reason the store exists: in ONE
     * transaction, replace the run's checkpoint with ck and insert the nq
     * quarantined items (new ids, ascending in the order given; status
     * open; run_id and created defaulting to the commit's run and now).
     * After a crash the store holds both or neither: a checkpoint that
     * moved past an item without the item would lose it, an item without
     * its checkpoint would be quarantined twice on resume. */
    int (*commit)(void *be, const char *run_id, const struct sl_checkpoint *ck,
                  const struct sl_qitem *q, size_t nq, struct sl_err *err);

    /* Items oldest first (ascending id), status NULL for all, each with
     * data NULL and data_len its size; *out is malloc'd, each item freed
     * with sl_qitem_clear. */
    int (*quarantine_list)(void *be, const char *status, struct sl_qitem **out,
                           size_t *n, struct sl_err *err);
    /* One item with its data (malloc'd, NUL-terminated beyond data_len);
     * SL_ENOTFOUND for an unknown id. */
    int (*quarantine_get)(void *be, int64_t id, struct sl_qitem *out,
                          struct sl_err *err);
    /* Sets the item's status (open, replayed or released: checked) and
     * audits "quarantine-<status>" {id, from} in the same transaction.
     * SL_ENOTFOUND for an unknown id. */
    int (*quarantine_set_status)(void *be, int64_t id, const char *status,
                                 struct sl_err *err);

    /* Appends one audit row, its own transaction. */
    int (*audit)(void *be, const char *action, const char *job,
                 const char *run_id, const char *details_json,
                 struct sl_err *err);

    /* In one transaction: reads job's lease; when there is none, it is
     * me's (same host, pid and start), it expired, or gone(holder) says
     * its holder is dead, writes me's with expires = now + ttl and audits
     * "lease-take" (not on a renewal); else SL_EBUSY with *who set. */
    int (*lease_take)(void *be, const char *job, const struct sl_lease *me,
                      int ttl, int (*gone)(const struct sl_lease *),
                      struct sl_lease *who, struct sl_err *err);
    /* Deletes job's lease if me holds it; SL_OK either way. */
    int (*lease_release)(void *be, const char *job, const struct sl_lease *me,
                         struct sl_err *err);
    int (*slot_get)(void *be, const char *job, int64_t *slot,
                    struct sl_err *err);
    int (*slot_set)(void *be, const char *job, int64_t slot,
                    struct sl_err *err);
    /* Keeps a copy of the audit key for the records written from now. */
    void (*audit_key)(void *be, const void *key, size_t len);
    /* Every audit record, oldest first (ascending id), to fn until it
     * returns non-zero; the strings live for the call of fn. */
    int (*audit_scan)(void *be,
                      int (*fn)(void *ud, const struct sl_audit_rec *r),
                      void *ud, struct sl_err *err);
    /* Deletes the items created before `before` (ISO 8601 UTC) and audits
     * "quarantine-purged" {before, items}, one transaction; *paths (n
     * malloc'd strings) are their DICOM copies, for the caller to remove
     * once the delete is durable. */
    int (*quarantine_purge)(void *be, const char *before, char ***paths,
                            size_t *npaths, uint64_t *n, struct sl_err *err);
    /* Replaces an item's data and origin (already sealed). */
    int (*quarantine_rewrite)(void *be, int64_t id, const void *data,
                              size_t len, const char *origin,
                              struct sl_err *err);
};

/* The SQLite backend (state_sqlite.c), the default. */
extern const struct sl_state_ops sl_state_sqlite;

#endif

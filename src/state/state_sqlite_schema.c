/* state_sqlite_schema.c - creating, opening and migrating a SQLite state
 * store: the file mode, the pragmas that make commits durable, and one
 * migration step per schema version. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/state.h"
#include "state/state_sqlite_int.h"

#define STATE_BUSY_MS 5000

/* Schema migrations: migrations[v] takes a store from version v to v + 1,
 * inside one transaction with the user_version bump. Never edit a
 * released step; add a new one. */
static const char *const migrations[] = {
    /* 0 -> 1: the tables. */
    "CREATE TABLE runs ("
    " id TEXT PRIMARY KEY,"
    " job TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN"
    "  ('running', 'finished', 'failed', 'interrupted')),"
    " started TEXT NOT NULL,"
    " finished TEXT,"
    " config_path TEXT,"
    " config_sha256 TEXT,"
    " attempts INTEGER NOT NULL DEFAULT 1,"
    " count_in INTEGER NOT NULL DEFAULT 0,"
    " count_out INTEGER NOT NULL DEFAULT 0,"
    " count_quarantined INTEGER NOT NULL DEFAULT 0,"
    " summary TEXT,"
    " user TEXT,"
    " host TEXT);"
    "CREATE TABLE checkpoints ("
    " run_id TEXT PRIMARY KEY REFERENCES runs(id),"
    " sources TEXT,"
    " sinks TEXT,"
    " counts TEXT,"
    " seq INTEGER NOT NULL DEFAULT 0,"
    " updated TEXT NOT NULL);"
    "CREATE TABLE quarantine ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " run_id TEXT REFERENCES runs(id),"
    " job TEXT,"
    " source TEXT,"
    " pos TEXT,"
    " stage TEXT,"
    " reason TEXT,"
    " origin TEXT,"
    " kind TEXT CHECK (kind IN ('fhir', 'dicom', 'raw')),"
    " data BLOB,"
    " path TEXT,"
    " created TEXT NOT NULL,"
    " status TEXT NOT NULL DEFAULT 'open' CHECK (status IN"
    "  ('open', 'replayed', 'released')));"
    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " time TEXT NOT NULL,"
    " user TEXT,"
    " host TEXT,"
    " action TEXT NOT NULL,"
    " job TEXT,"
    " run_id TEXT,"
    " details TEXT);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
    "PRAGMA user_version = 1;",
    /* 1 -> 2: indexes for the queries the CLI and the daemon make. */
    "CREATE INDEX runs_job_started ON runs(job, started);"
    "CREATE INDEX runs_started ON runs(started);"
    "CREATE INDEX quarantine_status ON quarantine(status, id);"
    "CREATE INDEX quarantine_run ON quarantine(run_id);"
    "PRAGMA user_version = 2;",
    /* 2 -> 3: who runs a job now, and the daemon's last schedule slot. */
    "CREATE TABLE leases ("
    " job TEXT PRIMARY KEY,"
    " user TEXT,"
    " host TEXT NOT NULL,"
    " pid INTEGER NOT NULL,"
    " start INTEGER NOT NULL,"
    " since TEXT NOT NULL,"
    " expires TEXT NOT NULL);"
    "CREATE TABLE schedule ("
    " job TEXT PRIMARY KEY,"
    " slot INTEGER NOT NULL,"
    " updated TEXT NOT NULL);"
    /* the audit trail's hash chain and HMACs (records written before
     * have none: `sluice audit verify` counts them apart) */
    "ALTER TABLE audit ADD COLUMN prev_hash TEXT;"
    "ALTER TABLE audit ADD COLUMN hash TEXT;"
    "ALTER TABLE audit ADD COLUMN mac TEXT;"
    "PRAGMA user_version = 3;",
};
#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

_Static_assert(NMIGRATIONS == SL_STATE_SCHEMA_VERSION,
               "one migration step per schema version");

static int
schema_version(struct lite *st, int *out, struct sl_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc;

    if ((rc = prepare(st, "PRAGMA user_version", &s, err)) != SL_OK)
        return rc;
    if (sqlite3_step(s) != SQLITE_ROW) {
        rc = db_err(st, err);
        goto out;
    }
    *out = sqlite3_column_int(s, 0);
    rc = SL_OK;
out:
    sqlite3_finalize(s);
    return rc;
}

/* Brings the schema to SL_STATE_SCHEMA_VERSION, one step per transaction,
 * re-reading the version under the write lock so that two processes
 * opening a new store at once do not both migrate it. */
static int
schema_upgrade(struct lite *st, struct sl_err *err)
{
    int rc, v = 0;

    for (;;) {
        if ((rc = tx_begin(st, err)) != SL_OK)
            return rc;
        if ((rc = schema_version(st, &v, err)) != SL_OK)
            goto fail;
        if (v > SL_STATE_SCHEMA_VERSION) {
            rc = SL_ERR(err, SL_ESTATE,
                        "%s: schema version %d is newer than this sluice "
                        "knows (%d); upgrade sluice",
                        st->path, v, SL_STATE_SCHEMA_VERSION);
            goto fail;
        }
        if (v < 0) {
            rc = SL_ERR(err, SL_ESTATE, "%s: bad schema version %d", st->path,
                        v);
            goto fail;
        }
        if (v == SL_STATE_SCHEMA_VERSION)
            return tx_commit(st, err);
        if ((rc = exec_sql(st, migrations[v], err)) != SL_OK)
            goto fail;
        if ((rc = tx_commit(st, err)) != SL_OK)
            goto fail;
        sl_log(SL_LOG_DEBUG, "%s: state schema upgraded to version %d",
               st->path, v + 1);
    }
fail:
    tx_rollback(st);
    return rc;
}

int
sl_state_sqlite_schema_create(const char *path, struct sl_err *err)
{
    char *dir;
    int fd, rc = SL_OK;

    if (path[0] == ':' || strncmp(path, "file:", 5) == 0 ||
        sl_path_exists(path))
        return SL_OK;
    dir = sl_path_dir(path);
    if (dir && *dir && !sl_path_is_dir(dir))
        rc = sl_mkdir_p(dir, err);
    free(dir);
    if (rc != SL_OK)
        return rc;
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return SL_ERR(err, SL_ESTATE, "%s: cannot create: %s", path,
                      strerror(errno));
    close(fd);
    return SL_OK;
}

static int
set_pragmas(struct lite *st, struct sl_err *err)
{
    sqlite3_stmt *s = NULL;
    const unsigned char *mode;
    int rc;

    sqlite3_busy_timeout(st->db, STATE_BUSY_MS);
    if ((rc = prepare(st, "PRAGMA journal_mode = WAL", &s, err)) != SL_OK)
        return rc;
    if (sqlite3_step(s) != SQLITE_ROW) {
        rc = db_err(st, err);
        goto out;
    }
    mode = sqlite3_column_text(s, 0);
    /* An in-memory store reports "memory"; a file must really be in WAL. */
    if (mode == NULL || (strcmp((const char *)mode, "wal") != 0 &&
                         strcmp((const char *)mode, "memory") != 0)) {
        rc = SL_ERR(err, SL_ESTATE, "%s: cannot switch to WAL mode", st->path);
        goto out;
    }
    if ((rc = exec_sql(st,
                       "PRAGMA synchronous = FULL;"
                       "PRAGMA foreign_keys = ON;",
                       err)) != SL_OK)
        goto out;
    rc = SL_OK;
out:
    sqlite3_finalize(s);
    return rc;
}

int
sl_state_sqlite_schema_setup(struct lite *st, struct sl_err *err)
{
    int rc;

    if ((rc = set_pragmas(st, err)) != SL_OK)
        return rc;
    return schema_upgrade(st, err);
}

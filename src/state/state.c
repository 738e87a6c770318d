/* state.c - the state store's public functions: each checks what does not
 * depend on the backend, then calls the backend's op (state.h states the
 * contract). What every backend shares lives here too. */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "state/state.h"
#include "state/state_int.h"

struct sl_state {
    const struct sl_state_ops *ops;
    void *be; /* the backend's handle */
    char *path;
};

/* The backends this build has, the default (prefix NULL) last. */
static const struct sl_state_ops *const backends[] = {
    &sl_state_sqlite,
};

/* ---- open and close ------------------------------------------------------ */

int
sl_state_open_ops(const struct sl_state_ops *ops, const char *path,
                  struct sl_state **out, struct sl_err *err)
{
    struct sl_state *st;
    void *be = NULL;
    int rc;

    if ((rc = ops->open(path, &be, err)) != SL_OK)
        return rc;
    st = sl_calloc(1, sizeof(*st));
    st->ops = ops;
    st->be = be;
    st->path = sl_strdup(path);
    *out = st;
    return SL_OK;
}

/* The backend whose prefix starts path, else the default. */
static const struct sl_state_ops *
backend_for(const char *path)
{
    const struct sl_state_ops *ops = NULL;
    size_t i;

    for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
        const char *p = backends[i]->prefix;

        if (p == NULL ? ops == NULL : strncmp(path, p, strlen(p)) == 0)
            ops = backends[i];
    }
    return ops;
}

int
sl_state_open(const char *path, struct sl_state **out, struct sl_err *err)
{
    const struct sl_state_ops *ops = backend_for(path);

    if (ops == NULL) /* unreachable while the default is listed */
        return SL_ERR(err, SL_EINTERNAL, "no state store backend");
    return sl_state_open_ops(ops, path, out, err);
}

int
sl_state_exists(const char *path)
{
    const struct sl_state_ops *ops = backend_for(path);

    return ops != NULL && (ops->exists == NULL || ops->exists(path));
}

void
sl_state_close(struct sl_state *st)
{
    if (st == NULL)
        return;
    st->ops->close(st->be);
    free(st->path);
    free(st);
}

const char *
sl_state_path(const struct sl_state *st)
{
    return st->path;
}

const char *
sl_state_backend(const struct sl_state *st)
{
    return st->ops->name;
}

void
sl_state_busy_timeout(struct sl_state *st, int ms)
{
    if (st->ops->busy_timeout)
        st->ops->busy_timeout(st->be, ms);
}

/* ---- runs ---------------------------------------------------------------- */

int
sl_state_run_unfinished(struct sl_state *st, const char *job,
                        struct sl_run_rec *out, struct sl_err *err)
{
    return st->ops->run_unfinished(st->be, job, out, err);
}

int
sl_state_run_start(struct sl_state *st, const char *job,
                   const char *config_path, const char *config_sha256,
                   char run_id[64], struct sl_err *err)
{
    return st->ops->run_start(st->be, job, config_path, config_sha256, run_id,
                              err);
}

int
sl_state_run_resume(struct sl_state *st, const char *run_id, struct sl_err *err)
{
    return st->ops->run_resume(st->be, run_id, err);
}

int
sl_state_run_end(struct sl_state *st, const char *run_id, const char *status,
                 uint64_t in, uint64_t out, uint64_t quarantined,
                 const char *summary_json, struct sl_err *err)
{
    if (status == NULL ||
        (strcmp(status, "finished") != 0 && strcmp(status, "failed") != 0 &&
         strcmp(status, "interrupted") != 0))
        return SL_ERR(err, SL_EUSAGE,
                      "a run ends finished, failed or interrupted");
    return st->ops->run_end(st->be, run_id, status, in, out, quarantined,
                            summary_json, err);
}

int
sl_state_runs_list(struct sl_state *st, const char *job, size_t limit,
                   struct sl_run_rec **out, size_t *n, struct sl_err *err)
{
    return st->ops->runs_list(st->be, job, limit, out, n, err);
}

/* ---- checkpoints and commits --------------------------------------------- */

int
sl_state_checkpoint_get(struct sl_state *st, const char *run_id,
                        struct sl_checkpoint *out, struct sl_err *err)
{
    return st->ops->checkpoint_get(st->be, run_id, out, err);
}

void
sl_checkpoint_clear(struct sl_checkpoint *c)
{
    if (c == NULL)
        return;
    free(c->sources);
    free(c->sinks);
    free(c->counts);
    memset(c, 0, sizeof(*c));
}

int
sl_state_commit(struct sl_state *st, const char *run_id,
                const struct sl_checkpoint *ck, const struct sl_qitem *q,
                size_t nq, struct sl_err *err)
{
    return st->ops->commit(st->be, run_id, ck, q, nq, err);
}

/* ---- quarantine ---------------------------------------------------------- */

void
sl_qitem_clear(struct sl_qitem *q)
{
    if (q == NULL)
        return;
    free(q->name);
    free(q->run_id);
    free(q->job);
    free(q->source);
    free(q->pos);
    free(q->stage);
    free(q->reason);
    if (q->origin)
        sl_freezero(q->origin, strlen(q->origin));
    free(q->kind);
    if (q->data)
        sl_freezero(q->data, q->data_len);
    free(q->path);
    free(q->created);
    free(q->status);
    memset(q, 0, sizeof(*q));
}

int
sl_state_quarantine_list(struct sl_state *st, const char *status,
                         struct sl_qitem **out, size_t *n, struct sl_err *err)
{
    return st->ops->quarantine_list(st->be, status, out, n, err);
}

int
sl_state_quarantine_get(struct sl_state *st, int64_t id, struct sl_qitem *out,
                        struct sl_err *err)
{
    return st->ops->quarantine_get(st->be, id, out, err);
}

int
sl_state_quarantine_set_status(struct sl_state *st, int64_t id,
                               const char *status, struct sl_err *err)
{
    if (status == NULL ||
        (strcmp(status, "open") != 0 && strcmp(status, "replayed") != 0 &&
         strcmp(status, "released") != 0))
        return SL_ERR(err, SL_EUSAGE,
                      "a quarantined item is open, replayed or released");
    return st->ops->quarantine_set_status(st->be, id, status, err);
}

/* ---- audit --------------------------------------------------------------- */

int
sl_state_audit(struct sl_state *st, const char *action, const char *job,
               const char *run_id, const char *details_json, struct sl_err *err)
{
    return st->ops->audit(st->be, action, job, run_id, details_json, err);
}

/* ---- leases and schedule slots ------------------------------------------ */

/* The start time of process pid in clock ticks since boot (field 22 of
 * /proc/PID/stat), 0 when it cannot be read: with the pid it names one
 * process, so a pid reused after a crash is not taken for the holder. */
static unsigned long long
proc_start(long pid)
{
    char path[64], buf[1024], *p;
    unsigned long long v = 0;
    FILE *f;
    size_t n;
    int field;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if ((f = fopen(path, "r")) == NULL)
        return 0;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* the command name (field 2) may hold spaces: count after its ')' */
    if ((p = strrchr(buf, ')')) == NULL)
        return 0;
    for (field = 2; *p && field < 22; p++)
        if (*p == ' ')
            field++;
    if (field == 22)
        v = strtoull(p, NULL, 10);
    return v;
}

void
sl_lease_self(struct sl_lease *me)
{
    memset(me, 0, sizeof(*me));
    sl_state_identity(me->user, sizeof(me->user), me->host, sizeof(me->host));
    me->pid = (long)getpid();
    me->start = proc_start(me->pid);
}

/* Whether the holder (on this host) is no longer running. */
static int
holder_gone(const struct sl_lease *l)
{
    unsigned long long s = proc_start(l->pid);

    return s == 0 || s != l->start;
}

void
sl_lease_describe(const struct sl_lease *l, char *buf, size_t len)
{
    snprintf(buf, len, "%s@%s pid %ld since %s", l->user, l->host, l->pid,
             l->since);
}

int
sl_state_lease_take(struct sl_state *st, const char *job, int ttl,
                    struct sl_lease *who, struct sl_err *err)
{
    struct sl_lease me;

    sl_lease_self(&me);
    return st->ops->lease_take(st->be, job, &me, ttl, holder_gone, who, err);
}

int
sl_state_lease_release(struct sl_state *st, const char *job,
                       struct sl_err *err)
{
    struct sl_lease me;

    sl_lease_self(&me);
    return st->ops->lease_release(st->be, job, &me, err);
}

int
sl_state_slot_get(struct sl_state *st, const char *job, int64_t *slot,
                  struct sl_err *err)
{
    return st->ops->slot_get(st->be, job, slot, err);
}

int
sl_state_slot_set(struct sl_state *st, const char *job, int64_t slot,
                  struct sl_err *err)
{
    return st->ops->slot_set(st->be, job, slot, err);
}

/* ---- shared by the backends ---------------------------------------------- */

int
sl_state_run_id_make(char id[64], struct sl_err *err)
{
    unsigned char r[3];
    char now[32];

    if (RAND_bytes(r, sizeof(r)) != 1)
        return SL_ERR(err, SL_EINTERNAL, "no random bytes for a run id");
    sl_time_iso(now, sizeof(now)); /* YYYY-MM-DDTHH:MM:SSZ */
    snprintf(id, 64, "run-%.4s%.2s%.2s-%.2s%.2s%.2s-%02x%02x%02x", now, now + 5,
             now + 8, now + 11, now + 14, now + 17, r[0], r[1], r[2]);
    return SL_OK;
}

void
sl_state_identity(char *user, size_t userlen, char *host, size_t hostlen)
{
    struct passwd *pw = getpwuid(geteuid());
    const char *u = pw ? pw->pw_name : getenv("USER");

    if (u != NULL && *u)
        snprintf(user, userlen, "%s", u);
    else
        snprintf(user, userlen, "uid:%lu", (unsigned long)geteuid());
    if (gethostname(host, hostlen) != 0)
        snprintf(host, hostlen, "unknown");
    host[hostlen - 1] = '\0';
}

void
sl_run_recs_free(struct sl_run_rec *v, size_t n)
{
    size_t i;

    for (i = 0; v != NULL && i < n; i++)
        free(v[i].summary);
    free(v);
}

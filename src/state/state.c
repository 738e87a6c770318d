/* state.c - the state store's public functions: each checks what does not
 * depend on the backend, then calls the backend's op (state.h states the
 * contract). What every backend shares lives here too. */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/seal.h"
#include "state/state.h"
#include "state/state_int.h"



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
    sl_freezero(st->qkey, st->qkey_len);
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
    char *plain = NULL;
    int rc = st->ops->checkpoint_get(st->be, run_id, out, err);

    if (rc != SL_OK || out->sources == NULL || !sl_sealed_text(out->sources))
        return rc;
    if (st->qkey == NULL)
        rc = SL_EKEY;
    else
        rc = sl_unseal_text(st->qkey, st->qkey_len, CTX_CHECKPOINT,
                            out->sources, &plain, err);
    if (rc == SL_EKEY) {
        sl_checkpoint_clear(out);
        return SL_ERR(err, SL_EKEY,
                      "run %s: its checkpoint is encrypted with the "
                      "quarantine key, and the configuration's <quarantine "
                      "key> is missing or is not that key",
                      run_id);
    }
    if (rc != SL_OK) {
        sl_checkpoint_clear(out);
        sl_err_prefix(err, "run %s: checkpoint", run_id);
        return rc;
    }
    free(out->sources);
    out->sources = plain;
    return SL_OK;
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
    struct sl_qitem *sq;
    struct sl_checkpoint sck;
    size_t i;
    int rc = SL_OK;

    if (st->qkey == NULL)
        return st->ops->commit(st->be, run_id, ck, q, nq, err);
    /* the positions name input files: sealed too */
    if (ck != NULL && ck->sources != NULL) {
        sck = *ck;
        if ((rc = sl_seal_text(st->qkey, st->qkey_len, CTX_CHECKPOINT,
                               ck->sources, &sck.sources, err)) != SL_OK)
            return rc;
        ck = &sck;
    } else {
        sck.sources = NULL;
    }
    if (nq == 0) {
        rc = st->ops->commit(st->be, run_id, ck, q, nq, err);
        free(sck.sources);
        return rc;
    }
    /* Sealed copies of what holds PHI; the caller's items stay as they
     * are. */
    sq = sl_calloc(nq, sizeof(*sq));
    for (i = 0; i < nq && rc == SL_OK; i++) {
        unsigned char *b = NULL;
        size_t bn = 0;

        sq[i] = q[i];
        sq[i].data = NULL;
        sq[i].data_len = 0;
        sq[i].origin = NULL;
        if (q[i].data != NULL &&
            (rc = sl_seal(st->qkey, st->qkey_len, CTX_DATA, q[i].data,
                          q[i].data_len, &b, &bn, err)) == SL_OK) {
            sq[i].data = (char *)b;
            sq[i].data_len = bn;
        }
        if (rc == SL_OK && q[i].origin != NULL)
            rc = sl_seal_text(st->qkey, st->qkey_len, CTX_ORIGIN, q[i].origin,
                              &sq[i].origin, err);
    }
    if (rc == SL_OK)
        rc = st->ops->commit(st->be, run_id, ck, sq, nq, err);
    for (i = 0; i < nq; i++) {
        free(sq[i].data);
        free(sq[i].origin);
    }
    free(sq);
    free(sck.sources);
    return rc;
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
    size_t i;
    int rc = st->ops->quarantine_list(st->be, status, out, n, err);

    for (i = 0; rc == SL_OK && i < *n; i++)
        rc = sl_state_qitem_open(st, &(*out)[i], 0, err);
    return rc;
}

int
sl_state_quarantine_get(struct sl_state *st, int64_t id, struct sl_qitem *out,
                        struct sl_err *err)
{
    int rc = st->ops->quarantine_get(st->be, id, out, err);

    if (rc == SL_OK && (rc = sl_state_qitem_open(st, out, 1, err)) != SL_OK)
        sl_qitem_clear(out);
    return rc;
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

/* ---- the audit trail's chain ------------------------------------------- */

static void
hex_of(const unsigned char *b, size_t n, char *out)
{
    static const char h[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = h[b[i] >> 4];
        out[2 * i + 1] = h[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static void
net_add(struct sl_buf *b, const char *v)
{
    if (v == NULL)
        sl_buf_adds(b, "-");
    else
        sl_buf_addf(b, "%zu:%s,", strlen(v), v);
}

void
sl_state_audit_hash(const struct sl_audit_rec *r, const char *prev,
                    char out[65])
{
    struct sl_buf b;
    unsigned char md[32];
    unsigned int n = 0;

    sl_buf_init(&b);
    sl_buf_adds(&b, "sluice-audit-1\n");
    net_add(&b, prev);
    net_add(&b, r->time);
    net_add(&b, r->user);
    net_add(&b, r->host);
    net_add(&b, r->action);
    net_add(&b, r->job);
    net_add(&b, r->run_id);
    net_add(&b, r->details);
    EVP_Digest(b.data, b.len, md, &n, EVP_sha256(), NULL);
    sl_buf_free(&b);
    hex_of(md, 32, out);
}

void
sl_state_audit_mac(const void *key, size_t len, const char *hash,
                   char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;

    HMAC(EVP_sha256(), key, (int)len, (const unsigned char *)hash,
         strlen(hash), md, &n);
    hex_of(md, 32, out);
}

void
sl_state_audit_key(struct sl_state *st, const void *key, size_t len)
{
    st->ops->audit_key(st->be, key, len);
}

int
sl_state_audit_scan(struct sl_state *st,
                    int (*fn)(void *ud, const struct sl_audit_rec *r),
                    void *ud, struct sl_err *err)
{
    return st->ops->audit_scan(st->be, fn, ud, err);
}

struct verify {
    struct sl_audit_check *out;
    const void *key;
    size_t len;
    char last[65];
    int started;
};

static int
verify_bad(struct verify *v, const struct sl_audit_rec *r, const char *why)
{
    v->out->bad_id = r->id;
    snprintf(v->out->bad_time, sizeof(v->out->bad_time), "%s",
             r->time ? r->time : "?");
    snprintf(v->out->bad_action, sizeof(v->out->bad_action), "%s",
             r->action ? r->action : "?");
    snprintf(v->out->why, sizeof(v->out->why), "%s", why);
    return 1;
}

static int
verify_one(void *ud, const struct sl_audit_rec *r)
{
    struct verify *v = ud;
    char h[65], m[65];

    if (r->hash == NULL) {
        if (v->started)
            return verify_bad(v, r, "it has no hash: written outside the "
                                    "chain, after the chain began");
        v->out->legacy++;
        return 0;
    }
    v->started = 1;
    if (strcmp(r->prev_hash ? r->prev_hash : "", v->last) != 0)
        return verify_bad(v, r, "it does not follow the record before it: "
                                "a record was removed, inserted or "
                                "reordered");
    sl_state_audit_hash(r, v->last, h);
    if (CRYPTO_memcmp(h, r->hash, 64) != 0 || strlen(r->hash) != 64)
        return verify_bad(v, r, "its content does not match its hash: it "
                                "was changed after it was written");
    if (v->key) {
        if (r->mac == NULL)
            return verify_bad(v, r, "it has no HMAC: written without the "
                                    "audit key, or forged");
        sl_state_audit_mac(v->key, v->len, r->hash, m);
        if (strlen(r->mac) != 64 || CRYPTO_memcmp(m, r->mac, 64) != 0)
            return verify_bad(v, r, "its HMAC does not match: forged, or "
                                    "checked with the wrong audit key");
        v->out->macs++;
    }
    v->out->records++;
    memcpy(v->last, r->hash, 65);
    return 0;
}

int
sl_state_audit_verify(struct sl_state *st, const void *key, size_t len,
                      struct sl_audit_check *out, struct sl_err *err)
{
    struct verify v;

    memset(out, 0, sizeof(*out));
    memset(&v, 0, sizeof(v));
    v.out = out;
    v.key = key && len ? key : NULL;
    v.len = len;
    return sl_state_audit_scan(st, verify_one, &v, err);
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

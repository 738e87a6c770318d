/* quarantine_seal.c - the quarantine at rest: items' data, origins and
 * DICOM copies sealed with the quarantine key (common/seal.h) when the
 * store has one, opened again for an operator who has it, purged after
 * their retention and sealed anew under a new key. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/seal.h"
#include "state/state.h"
#include "state/state_int.h"

void
sl_state_quarantine_key(struct sl_state *st, const void *key, size_t len)
{
    sl_freezero(st->qkey, st->qkey_len);
    st->qkey = NULL;
    st->qkey_len = 0;
    if (key && len) {
        st->qkey = sl_malloc(len);
        memcpy(st->qkey, key, len);
        st->qkey_len = len;
    }
}

int
sl_state_quarantine_sealing(const struct sl_state *st)
{
    return st->qkey != NULL;
}

int
sl_state_quarantine_file(struct sl_state *st, const char *src,
                         const char *dst, struct sl_err *err)
{
    if (st == NULL || st->qkey == NULL)
        return sl_file_copy(src, dst, 1, err);
    return sl_seal_file(st->qkey, st->qkey_len, CTX_DICOM, src, dst, err);
}

int
sl_state_quarantine_open_file(struct sl_state *st, const char *path,
                              char **plain, struct sl_err *err)
{
    char *tmp;
    int rc;

    *plain = NULL;
    if (!sl_sealed_file(path))
        return SL_OK;
    if (st->qkey == NULL)
        return SL_ERR(err, SL_EKEY,
                      "%s: sealed, and no quarantine key was given", path);
    tmp = sl_asprintf("%s.open-%ld", path, (long)getpid());
    unlink(tmp);
    if ((rc = sl_unseal_file(st->qkey, st->qkey_len, CTX_DICOM, path, tmp,
                             err)) != SL_OK) {
        free(tmp);
        return rc;
    }
    *plain = tmp;
    return SL_OK;
}

int
sl_state_quarantine_purge(struct sl_state *st, long days, uint64_t *n,
                          struct sl_err *err)
{
    char before[32], **paths = NULL;
    size_t np = 0, i;
    struct tm tm;
    time_t t = time(NULL) - (time_t)days * 86400;
    int rc;

    gmtime_r(&t, &tm);
    strftime(before, sizeof(before), "%Y-%m-%dT%H:%M:%SZ", &tm);
    rc = st->ops->quarantine_purge(st->be, before, &paths, &np, n, err);
    for (i = 0; i < np; i++) {
        if (rc == SL_OK && paths[i][0])
            unlink(paths[i]);
        free(paths[i]);
    }
    free(paths);
    return rc;
}

/* 1 when the blob, text or file is sealed under key. */
static int
sealed_under(const void *key, size_t len, const struct sl_qitem *q)
{
    unsigned char *p = NULL;
    size_t pn = 0;
    char *o = NULL;
    struct sl_err e = {0};

    if (sl_sealed(q->data, q->data_len)) {
        if (sl_unseal(key, len, CTX_DATA, q->data, q->data_len, &p, &pn,
                      &e) != SL_OK)
            return 0;
        sl_freezero(p, pn);
        return 1;
    }
    if (sl_sealed_text(q->origin)) {
        if (sl_unseal_text(key, len, CTX_ORIGIN, q->origin, &o, &e) !=
            SL_OK)
            return 0;
        sl_freezero(o, strlen(o));
        return 1;
    }
    return 0;
}

/* Re-seals one item's DICOM copy under the new key. */
static int
rekey_file(struct sl_state *st, const void *nk, size_t nl, const char *path,
           struct sl_err *err)
{
    char *plain = NULL, *next;
    int rc;

    if ((rc = sl_state_quarantine_open_file(st, path, &plain, err)) != SL_OK)
        return rc;
    next = sl_asprintf("%s.rekey-%ld", path, (long)getpid());
    unlink(next);
    rc = sl_seal_file(nk, nl, CTX_DICOM, plain ? plain : path, next, err);
    if (plain) {
        unlink(plain);
        free(plain);
    }
    if (rc == SL_OK && rename(next, path) != 0)
        rc = SL_ERR(err, SL_EIO, "%s: cannot replace", path);
    if (rc != SL_OK)
        unlink(next);
    free(next);
    return rc;
}

/* Every run's checkpoint sealed under the current key (or in the clear)
 * sealed again under the new one; those already under it are left
 * alone. check: only make sure each opens with one of the two keys. */
static int
rekey_checkpoints(struct sl_state *st, const void *new_key, size_t new_len,
                  int check, struct sl_err *err)
{
    struct sl_run_rec *runs = NULL;
    size_t nr = 0, i;
    int rc;

    if ((rc = st->ops->runs_list(st->be, NULL, 0, &runs, &nr, err)) != SL_OK)
        return rc;
    for (i = 0; i < nr && rc == SL_OK; i++) {
        struct sl_checkpoint ck = {0};
        char *plain = NULL, *sealed = NULL;
        struct sl_err e2 = {0};

        rc = st->ops->checkpoint_get(st->be, runs[i].id, &ck, err);
        if (rc == SL_ENOTFOUND) {
            rc = SL_OK;
            continue;
        }
        if (rc != SL_OK || ck.sources == NULL) {
            sl_checkpoint_clear(&ck);
            continue;
        }
        if (sl_sealed_text(ck.sources)) {
            if (sl_unseal_text(new_key, new_len, CTX_CHECKPOINT, ck.sources,
                               &plain, &e2) == SL_OK) {
                free(plain); /* already under the new key */
                sl_checkpoint_clear(&ck);
                continue;
            }
            if (st->qkey == NULL ||
                sl_unseal_text(st->qkey, st->qkey_len, CTX_CHECKPOINT,
                               ck.sources, &plain, &e2) != SL_OK)
                rc = SL_ERR(err, SL_EKEY,
                            "the checkpoint of run %s is sealed with "
                            "neither the current key nor the new one; "
                            "nothing was changed",
                            runs[i].id);
        } else {
            plain = sl_strdup(ck.sources);
        }
        if (rc == SL_OK && !check &&
            (rc = sl_seal_text(new_key, new_len, CTX_CHECKPOINT, plain,
                               &sealed, err)) == SL_OK) {
            free(ck.sources);
            ck.sources = sealed;
            rc = st->ops->commit(st->be, runs[i].id, &ck, NULL, 0, err);
        }
        if (plain)
            sl_freezero(plain, strlen(plain));
        sl_checkpoint_clear(&ck);
    }
    sl_run_recs_free(runs, nr);
    return rc;
}

int
sl_state_quarantine_rekey(struct sl_state *st, const void *new_key,
                          size_t new_len, uint64_t *n, struct sl_err *err)
{
    struct sl_qitem *v = NULL;
    size_t nv = 0, i;
    char *details;
    int rc;

    *n = 0;
    if (new_len < SL_SEAL_KEY_MIN)
        return SL_ERR(err, SL_EKEY, "the new key has %zu bytes; it needs at "
                      "least %d ('sluice keygen' makes one)", new_len,
                      SL_SEAL_KEY_MIN);
    if ((rc = st->ops->quarantine_list(st->be, NULL, &v, &nv, err)) != SL_OK)
        return rc;
    /* first: every item opens with one of the two keys */
    for (i = 0; i < nv && rc == SL_OK; i++) {
        struct sl_qitem q = {0};

        if ((rc = st->ops->quarantine_get(st->be, v[i].id, &q, err)) != SL_OK)
            break;
        if ((sl_sealed(q.data, q.data_len) || sl_sealed_text(q.origin)) &&
            !(st->qkey && sealed_under(st->qkey, st->qkey_len, &q)) &&
            !sealed_under(new_key, new_len, &q))
            rc = SL_ERR(err, SL_EKEY,
                        "quarantine item %lld is sealed with neither the "
                        "current key nor the new one; nothing was changed",
                        (long long)v[i].id);
        sl_qitem_clear(&q);
    }
    if (rc == SL_OK)
        rc = rekey_checkpoints(st, new_key, new_len, 1, err);
    /* then: each item not yet under the new key is sealed with it */
    for (i = 0; i < nv && rc == SL_OK; i++) {
        struct sl_qitem q = {0};
        unsigned char *b = NULL;
        size_t bn = 0;
        char *o = NULL;

        if ((rc = st->ops->quarantine_get(st->be, v[i].id, &q, err)) != SL_OK)
            break;
        if (sealed_under(new_key, new_len, &q)) {
            sl_qitem_clear(&q);
            continue;
        }
        if ((rc = sl_state_qitem_open(st, &q, 1, err)) == SL_OK && q.data &&
            (rc = sl_seal(new_key, new_len, CTX_DATA, q.data, q.data_len, &b,
                          &bn, err)) != SL_OK)
            b = NULL;
        if (rc == SL_OK && q.origin)
            rc = sl_seal_text(new_key, new_len, CTX_ORIGIN, q.origin, &o, err);
        if (rc == SL_OK && q.path && q.kind && strcmp(q.kind, "dicom") == 0 &&
            sl_path_exists(q.path))
            rc = rekey_file(st, new_key, new_len, q.path, err);
        if (rc == SL_OK)
            rc = st->ops->quarantine_rewrite(st->be, q.id, b, bn, o, err);
        if (rc == SL_OK)
            (*n)++;
        free(b);
        free(o);
        sl_qitem_clear(&q);
    }
    for (i = 0; i < nv; i++)
        sl_qitem_clear(&v[i]);
    free(v);
    if (rc == SL_OK) /* the runs' positions too */
        rc = rekey_checkpoints(st, new_key, new_len, 0, err);
    if (rc != SL_OK)
        return rc;
    sl_state_quarantine_key(st, new_key, new_len);
    details = sl_asprintf("{\"items\":%llu}", (unsigned long long)*n);
    rc = sl_state_audit(st, "quarantine-rekeyed", NULL, NULL, details, err);
    free(details);
    return rc;
}

/* Opens a sealed item in place; without the key (or with another one) it
 * is marked sealed and its data and origin dropped. */
int
sl_state_qitem_open(struct sl_state *st, struct sl_qitem *q, int with_data,
          struct sl_err *err)
{
    unsigned char *p = NULL;
    size_t pn = 0;
    char *o = NULL;
    int rc;

    if (!sl_sealed_text(q->origin) && !sl_sealed(q->data, q->data_len))
        return SL_OK;
    if (st->qkey == NULL)
        goto sealed;
    if (sl_sealed_text(q->origin)) {
        rc = sl_unseal_text(st->qkey, st->qkey_len, CTX_ORIGIN, q->origin, &o,
                            err);
        if (rc == SL_EKEY)
            goto sealed;
        if (rc != SL_OK)
            return rc;
        free(q->origin);
        q->origin = o;
    }
    if (with_data && sl_sealed(q->data, q->data_len)) {
        rc = sl_unseal(st->qkey, st->qkey_len, CTX_DATA, q->data, q->data_len,
                       &p, &pn, err);
        if (rc == SL_EKEY)
            goto sealed;
        if (rc != SL_OK)
            return rc;
        free(q->data);
        q->data = (char *)p;
        q->data_len = pn;
    }
    q->sealed = 2;
    return SL_OK;
sealed:
    if (q->origin)
        sl_freezero(q->origin, strlen(q->origin));
    q->origin = NULL;
    free(q->data);
    q->data = NULL;
    q->sealed = 1;
    return SL_OK;
}

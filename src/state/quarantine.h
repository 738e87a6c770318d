/* quarantine.h - quarantined items wherever they are kept, behind one
 * interface: the state store (what jobs quarantine) or a folder (what
 * `sluice deid --quarantine QDIR` writes). `sluice quarantine list|show`
 * read either through it.
 *
 * Items are struct sl_qitem (state.h); each has a name, the id an
 * operator types: the state store's number ("17") or, in a folder, the
 * stem its files share ("in000002-line000001"). Only origin, path and
 * data hold what an operator alone may see (`sluice quarantine show`). */
#ifndef SL_QUARANTINE_H
#define SL_QUARANTINE_H

#include <stddef.h>

#include "common/common.h"
#include "state/state.h"

struct sl_quarantine;

/* An implementation. be is the handle given to sl_quarantine_new. Ops
 * return an SL_* status and write their out parameters only on success;
 * messages hold no patient data and no input path. */
struct sl_quarantine_ops {
    const char *name; /* "state", "folder" */
    /* Items in a stable order (the state store: oldest first; a folder:
     * by name), status NULL for all. Each item has its name, data NULL and
     * data_len the data's size. *out is malloc'd, each item freed with
     * sl_qitem_clear. */
    int (*list)(void *be, const char *status, struct sl_qitem **out, size_t *n,
                struct sl_err *err);
    /* One item by name, with its data (NUL-terminated beyond data_len);
     * SL_ENOTFOUND for an unknown name, SL_EUSAGE for one that cannot be
     * an id here. */
    int (*get)(void *be, const char *name, struct sl_qitem *out,
               struct sl_err *err);
    /* Sets an item's status, audited where the store keeps an audit
     * trail; NULL when the quarantine is read-only. */
    int (*set_status)(void *be, const char *name, const char *status,
                      struct sl_err *err);
    /* Frees the handle; NULL-safe. */
    void (*close)(void *be);
};

/* Wraps an implementation's handle; the result owns be (ops->close). */
struct sl_quarantine *sl_quarantine_new(const struct sl_quarantine_ops *ops,
                                        void *be);
/* The state store's quarantine. st is borrowed: it must outlive q. */
struct sl_quarantine *sl_quarantine_open_state(struct sl_state *st);
/* A `sluice deid` quarantine folder (quarantine_dir.c), read-only; key
 * (keylen bytes, copied; NULL: none) opens what was sealed with a
 * quarantine key. SL_ENOTFOUND when dir is not a folder. On success *out
 * is the caller's: sl_quarantine_close. */
int sl_quarantine_dir_open(const char *dir, const void *key, size_t keylen,
                           struct sl_quarantine **out, struct sl_err *err);
void sl_quarantine_close(struct sl_quarantine *q); /* NULL-safe */

/* The implementation's name ("state", "folder"). */
const char *sl_quarantine_kind(const struct sl_quarantine *q);
int sl_quarantine_list(struct sl_quarantine *q, const char *status,
                       struct sl_qitem **out, size_t *n, struct sl_err *err);
int sl_quarantine_get(struct sl_quarantine *q, const char *name,
                      struct sl_qitem *out, struct sl_err *err);
/* SL_EUSAGE on a read-only quarantine. */
int sl_quarantine_set_status(struct sl_quarantine *q, const char *name,
                             const char *status, struct sl_err *err);
/* Frees n items and the array (NULL-safe). */
void sl_quarantine_items_free(struct sl_qitem *items, size_t n);

#endif

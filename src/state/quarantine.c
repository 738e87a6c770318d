/* quarantine.c - the quarantine interface (quarantine.h) and its state
 * store implementation, a thin layer over sl_state_quarantine_*. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "state/quarantine.h"

struct sl_quarantine {
    const struct sl_quarantine_ops *ops;
    void *be;
};

struct sl_quarantine *
sl_quarantine_new(const struct sl_quarantine_ops *ops, void *be)
{
    struct sl_quarantine *q = sl_calloc(1, sizeof(*q));

    q->ops = ops;
    q->be = be;
    return q;
}

void
sl_quarantine_close(struct sl_quarantine *q)
{
    if (q == NULL)
        return;
    q->ops->close(q->be);
    free(q);
}

const char *
sl_quarantine_kind(const struct sl_quarantine *q)
{
    return q->ops->name;
}

int
sl_quarantine_list(struct sl_quarantine *q, const char *status,
                   struct sl_qitem **out, size_t *n, struct sl_err *err)
{
    return q->ops->list(q->be, status, out, n, err);
}

int
sl_quarantine_get(struct sl_quarantine *q, const char *name,
                  struct sl_qitem *out, struct sl_err *err)
{
    return q->ops->get(q->be, name, out, err);
}

int
sl_quarantine_set_status(struct sl_quarantine *q, const char *name,
                         const char *status, struct sl_err *err)
{
    if (q->ops->set_status == NULL)
        return SL_ERR(err, SL_EUSAGE,
                      "a quarantine %s is read-only: release and replay "
                      "need the state store",
                      q->ops->name);
    return q->ops->set_status(q->be, name, status, err);
}

void
sl_quarantine_items_free(struct sl_qitem *items, size_t n)
{
    size_t i;

    for (i = 0; items != NULL && i < n; i++)
        sl_qitem_clear(&items[i]);
    free(items);
}

/* ---- the state store ----------------------------------------------------- */

static int
state_id(const char *name, int64_t *id, struct sl_err *err)
{
    long v;

    if (sl_parse_long(name, 1, LONG_MAX, &v) != SL_OK)
        return SL_ERR(err, SL_EUSAGE, "'%s' is not an item id", name);
    *id = (int64_t)v;
    return SL_OK;
}

static int
state_list(void *be, const char *status, struct sl_qitem **out, size_t *n,
           struct sl_err *err)
{
    struct sl_qitem *items = NULL;
    size_t ni = 0, i;
    int rc;

    if ((rc = sl_state_quarantine_list(be, status, &items, &ni, err)) != SL_OK)
        return rc;
    for (i = 0; i < ni; i++)
        items[i].name = sl_asprintf("%lld", (long long)items[i].id);
    *out = items;
    *n = ni;
    return SL_OK;
}

static int
state_get(void *be, const char *name, struct sl_qitem *out, struct sl_err *err)
{
    int64_t id = 0;
    int rc;

    if ((rc = state_id(name, &id, err)) != SL_OK)
        return rc;
    if ((rc = sl_state_quarantine_get(be, id, out, err)) != SL_OK)
        return rc;
    out->name = sl_asprintf("%lld", (long long)out->id);
    return SL_OK;
}

static int
state_set_status(void *be, const char *name, const char *status,
                 struct sl_err *err)
{
    int64_t id = 0;
    int rc;

    if ((rc = state_id(name, &id, err)) != SL_OK)
        return rc;
    return sl_state_quarantine_set_status(be, id, status, err);
}

static void
state_close(void *be)
{
    (void)be; /* borrowed */
}

static const struct sl_quarantine_ops state_ops = {
    .name = "state",
    .list = state_list,
    .get = state_get,
    .set_status = state_set_status,
    .close = state_close,
};

struct sl_quarantine *
sl_quarantine_open_state(struct sl_state *st)
{
    return sl_quarantine_new(&state_ops, st);
}

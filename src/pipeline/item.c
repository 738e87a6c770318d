/* item.c - the unit of work that flows through a pipeline. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pipeline/pipeline.h"

struct sl_item *
sl_item_new(enum sl_item_kind kind)
{
    struct sl_item *it = sl_calloc(1, sizeof(*it));
    it->kind = kind;
    return it;
}

void
sl_item_free(struct sl_item *it)
{
    if (it == NULL)
        return;
    free(it->pos);
    free(it->origin);
    free(it->checkpoint);
    free(it->rtype);
    json_decref(it->resource);
    free(it->path);
    if (it->tmp_path) {
        unlink(it->tmp_path);
        free(it->tmp_path);
    }
    free(it->reason);
    free(it->stage);
    sl_freezero(it->raw, it->raw_len);
    free(it);
}

int
sl_item_quarantine(struct sl_item *it, const char *stage, const char *fmt,
                   ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    free(it->reason);
    free(it->stage);
    it->reason = sl_strdup(msg);
    it->stage = sl_strdup(stage);
    return SL_EQUARANTINE;
}

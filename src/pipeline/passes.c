/* passes.c - the text path of the main pass: a raw FHIR line that every
 * stage of the job passes (sl_stage_ops.passes: `sluice translate` on a
 * resource that names no mapped system) goes to the targets as it came,
 * its text as out_json: no document is built or serialised. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fhir/jtape.h"
#include "pipeline/pipeline_int.h"

int
passes_raw(const struct run *r, struct sl_item *it, struct sl_jtape *tape,
           struct sl_buf *copy)
{
    const char *t = it->text, *rt;
    size_t i, n = it->text_len;

    /* white space around the text: the usual way, which rewrites it */
    if (r->nstages == 0 || it->kind != SL_ITEM_FHIR || it->resource != NULL ||
        t == NULL || n < 2 || it->whole || it->out_json != NULL ||
        t[0] != '{' || t[n - 1] != '}')
        return 0;
    for (i = 0; i < r->nstages; i++) {
        const struct stage_slot *s = &r->stages[i];
        if (s->ops->passes == NULL || !s->ops->passes(s->ctx, t, n))
            return 0;
    }
    /* the fast reader decodes in place: a copy, which holds patient data
     * until the next item overwrites it (wiped when the worker ends). A
     * text it is unsure of goes the usual way, which words the error. */
    sl_buf_reset(copy);
    sl_buf_add(copy, t, n);
    if (!sl_jtape_parse(tape, copy->data, n) ||
        tape->n[SL_JT_ROOT].type != SL_JT_OBJECT)
        return 0;
    rt = sl_jt_str(tape, sl_jt_get(tape, SL_JT_ROOT, "resourceType"));
    if (rt == NULL || *rt == '\0')
        return 0;
    free(it->rtype);
    it->rtype = sl_strdup(rt);
    it->out_json = it->text;
    it->out_json_len = n;
    it->text = NULL;
    it->text_len = 0;
    return 1;
}

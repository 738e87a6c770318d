/* fhir_scrub.c - the scrubber of FHIR free text (the "scrub" method on
 * strings, narrative text and attribute values, attachment text): the
 * values learned in pass 1 (fhir_util.c) and what the detectors find
 * without learning (text_detect.c), in one pass over the spans of both.
 * Every scrubbed string goes through fhir_scrub_text. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "deid/fhir_int.h"
#include "deid/text_detect.h"

/* what replaces an age over 89: Safe Harbor (C)'s one group */
#define AGE_TEXT "90+"

/* The replacement of the span [a, b) of text into out: a span that is
 * exactly one date the detectors read is written as the profile writes
 * dates (the year, or shifted by the patient's offset); an age over 89
 * becomes AGE_TEXT; anything else REDACTED_TEXT. */
static void
replace(const struct fhir_scrub *x, const struct sl_text_span *sp, size_t a,
        size_t b, struct sl_buf *out)
{
    if (sp && sp->start == a && sp->end == b) {
        if (sp->kind == SL_TEXT_AGE) {
            sl_buf_adds(out, AGE_TEXT);
            return;
        }
        if (sp->kind == SL_TEXT_DATE && sp->y != 0) {
            int shift = 0, year_only = 1;
            if (x->c && x->r && x->c->d->text_shift) {
                shift = fhir_method_shift(x->c, x->r);
                year_only = 0;
            }
            if (sl_text_date_write(sp, shift, year_only, out))
                return;
        }
    }
    sl_buf_adds(out, REDACTED_TEXT);
}

char *
fhir_scrub_text(const struct fhir_scrub *x, const char *text)
{
    size_t len = strlen(text), at = 0, k = 0, a, b, va = 0, vb = 0;
    struct sl_text_spans det = { 0 };
    struct sl_buf out;
    int have_v;

    /* what was clean is clean again: the detectors depend on the text
     * alone, and the set is the same */
    if (fhir_memo_scrub_clean(x->values, text, len))
        return NULL;
    sl_text_detect(text, len, &det);
    have_v = sl_fhir_vset_find(x->values, text, len, 0, &va, &vb);
    if (det.n == 0 && !have_v) {
        fhir_memo_scrub_clean_add(x->values, text, len);
        return NULL;
    }
    sl_buf_init(&out);
    /* the union of both kinds of spans, in text order: overlapping ones
     * become one span */
    for (;;) {
        const struct sl_text_span *one = NULL;
        int nparts = 0;
        if (k < det.n && (!have_v || det.v[k].start <= va)) {
            a = det.v[k].start;
            b = det.v[k].end;
            one = &det.v[k++];
        } else if (have_v) {
            a = va;
            b = vb;
            have_v = sl_fhir_vset_find(x->values, text, len, vb, &va, &vb);
        } else
            break;
        nparts = 1;
        for (;;) {
            if (k < det.n && det.v[k].start < b) {
                if (det.v[k].end > b)
                    b = det.v[k].end;
                k++;
            } else if (have_v && va < b) {
                /* a learned value that is exactly the date found (a birth
                 * date) is still that date */
                int same = one && va == a && vb == b;
                if (vb > b)
                    b = vb;
                have_v = sl_fhir_vset_find(x->values, text, len, vb, &va, &vb);
                if (same)
                    continue;
            } else
                break;
            nparts++;
        }
        sl_buf_add(&out, text + at, a - at);
        replace(x, nparts == 1 ? one : NULL, a, b, &out);
        at = b;
    }
    sl_buf_adds(&out, text + at);
    sl_text_spans_free(&det);
    return sl_buf_steal(&out);
}

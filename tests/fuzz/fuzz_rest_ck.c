/* fuzz_rest_ck.c - fuzz target for the fhir-rest source's checkpoints
 * (src/sources/fhir_rest.c): what it reads back from the state store to
 * resume a killed run (sl_rest_resume_at) and to start an incremental run
 * after the last one (sl_rest_since). The input is the checkpoint's text
 * (cut at a NUL: the store keeps text). Checked: a resume is at a search
 * that exists (at most the number of searches), on page 1 or later, on a
 * page under the base; a refusal names the source and nothing of the
 * checkpoint; an accepted last checkpoint gives the ids seen in key order
 * and a since no earlier than its cut. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "fuzz.h"
#include "sources/fhir_rest_int.h"

static void
init(struct rest_src *s)
{
    memset(s, 0, sizeof(*s));
    s->id = "fuzz";
    s->base = (char *)"http://127.0.0.1:8080/fhir";
    s->nunits = 3;
    s->overlap_ms = 300000;
    s->since_ms = -1;
    s->prev_w = -1;
    s->max_ms = -1;
    s->cut_ms = -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *ck = sl_strndup((const char *)data, size);
    struct rest_src s;
    struct sl_err err = { 0 };
    size_t i;

    init(&s);
    if (sl_rest_resume_at(&s, ck, &err) == SL_OK) {
        FUZZ_ASSERT(s.u <= s.nunits);
        FUZZ_ASSERT(s.pageno >= 1 || s.u == s.nunits);
        FUZZ_ASSERT(s.page_url == NULL ||
                    strncmp(s.page_url, s.base, strlen(s.base)) == 0);
    } else {
        FUZZ_ASSERT(strncmp(err.msg, "source fuzz: ", 13) == 0);
    }
    free(s.page_url);

    init(&s);
    memset(&err, 0, sizeof(err));
    if (sl_rest_since(&s, ck, &err) == SL_OK) {
        for (i = 1; i < s.nprev; i++)
            FUZZ_ASSERT(strcmp(s.prev[i - 1].key, s.prev[i].key) <= 0);
        FUZZ_ASSERT(s.prev_w == -1 || s.since_ms >= s.cut_ms);
    } else {
        FUZZ_ASSERT(strncmp(err.msg, "source fuzz: ", 13) == 0);
    }
    for (i = 0; i < s.nprev; i++)
        free(s.prev[i].key);
    free(s.prev);
    free(ck);
    return 0;
}

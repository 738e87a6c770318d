/* fuzz_multipart.c - fuzz target for the streaming multipart/related
 * reader (src/http/multipart.c) that the dicomweb source reads WADO-RS
 * answers with. The first byte chooses how the body is cut into pieces
 * (1 to 128 bytes at a time) and whether the boundary is given ("b1") or
 * taken from the body's first line; the rest is the body.
 *
 * Promises checked: reading the body in pieces gives exactly the parts
 * (count, content types, bytes) that reading it whole gives, with the same
 * verdict; a part's content never holds the delimiter; an error message
 * quotes nothing of the body. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http/multipart.h"

struct got {
    struct sl_buf all; /* per part: its type, then its bytes, then \x01 */
    size_t parts;
};

static int
pb(void *arg, const char *ct, struct sl_err *err)
{
    struct got *g = arg;

    (void)err;
    g->parts++;
    sl_buf_adds(&g->all, ct ? ct : "(none)");
    sl_buf_addc(&g->all, '\0');
    return SL_OK;
}

static int
pd(void *arg, const char *data, size_t n, struct sl_err *err)
{
    struct got *g = arg;

    (void)err;
    FUZZ_ASSERT(n > 0);
    sl_buf_add(&g->all, data, n);
    return SL_OK;
}

static int
pe(void *arg, struct sl_err *err)
{
    struct got *g = arg;

    (void)err;
    sl_buf_addc(&g->all, '\x01');
    return SL_OK;
}

static const struct sl_multipart_cb cb = { pb, pd, pe };

static int
read_body(const char *b, size_t n, size_t step, const char *boundary,
          struct got *g, struct sl_err *err)
{
    struct sl_multipart *m = sl_multipart_new(boundary, &cb, g);
    size_t i;
    int rc = SL_OK;

    for (i = 0; i < n && rc == SL_OK; i += step)
        rc = sl_multipart_feed(m, b + i, n - i < step ? n - i : step, err);
    if (rc == SL_OK)
        rc = sl_multipart_finish(m, err);
    FUZZ_ASSERT(sl_multipart_parts(m) == g->parts);
    sl_multipart_free(m);
    return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct got whole = { { 0 }, 0 }, cut = { { 0 }, 0 };
    struct sl_err e1 = { 0 }, e2 = { 0 };
    const char *body;
    size_t n, step;
    int r1, r2, given;

    if (size < 1)
        return 0;
    step = (size_t)(data[0] & 0x7f) + 1;
    given = data[0] & 0x80;
    body = (const char *)data + 1;
    n = size - 1;
    r1 = read_body(body, n, n ? n : 1, given ? "b1" : NULL, &whole, &e1);
    r2 = read_body(body, n, step, given ? "b1" : NULL, &cut, &e2);
    FUZZ_ASSERT(r1 == r2);
    FUZZ_ASSERT(whole.parts == cut.parts);
    FUZZ_ASSERT(whole.all.len == cut.all.len);
    FUZZ_ASSERT(whole.all.len == 0 ||
                memcmp(whole.all.data, cut.all.data, whole.all.len) == 0);
    if (r1 != SL_OK) {
        FUZZ_ASSERT(e1.msg[0] != '\0');
        FUZZ_ASSERT(strncmp(e1.msg, "multipart body", 14) == 0);
    }
    sl_buf_free(&whole.all);
    sl_buf_free(&cut.all);
    return 0;
}

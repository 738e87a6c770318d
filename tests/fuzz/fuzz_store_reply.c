/* fuzz_store_reply.c - fuzz target for the fhir-store target's reading of
 * a server's reply (src/sinks/fhir_store_send.c): the batch-response to a
 * batch Bundle (store_batch_reply: each entry's response.status and
 * OperationOutcome) and the OperationOutcome of a refused request
 * (store_diagnostics), whose text goes into a quarantine reason. The
 * first byte gives the number of entries sent (its low three bits, plus
 * one) and which of them are DELETEs (its high bits); the rest is the
 * reply's body, parsed as the target parses it. Checked: a reply with
 * another number of entries writes no verdict; a verdict takes an entry
 * exactly when its status starts with 2 (or is 404/410 for a DELETE), and
 * a refused one has diagnostics; diagnostics are never empty, at most
 * DIAG_MAX bytes and "...", free of control characters, valid UTF-8, and
 * hold only text of the outcome's diagnostics or details.text. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sinks/fhir_store_int.h"

/* Whether s is valid UTF-8 (RFC 3629: no overlong form, no surrogate). */
static int
utf8_ok(const unsigned char *s)
{
    while (*s) {
        size_t n, i;
        unsigned long c;

        if (*s < 0x80) {
            s++;
            continue;
        }
        if ((*s & 0xe0) == 0xc0)
            n = 1, c = *s & 0x1f;
        else if ((*s & 0xf0) == 0xe0)
            n = 2, c = *s & 0x0f;
        else if ((*s & 0xf8) == 0xf0)
            n = 3, c = *s & 0x07;
        else
            return 0;
        for (i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            c = (c << 6) | (s[i] & 0x3f);
        }
        if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) ||
            (n == 3 && (c < 0x10000 || c > 0x10ffff)) ||
            (c >= 0xd800 && c <= 0xdfff))
            return 0;
        s += n + 1;
    }
    return 1;
}

static void
check_diag(const char *d)
{
    size_t i;

    FUZZ_ASSERT(d != NULL && d[0] != '\0');
    FUZZ_ASSERT(strlen(d) <= DIAG_MAX + 3);
    for (i = 0; d[i]; i++)
        FUZZ_ASSERT((unsigned char)d[i] >= 0x20 && d[i] != 0x7f);
    FUZZ_ASSERT(utf8_ok((const unsigned char *)d));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct entry e[8];
    struct store_verdict v[9];
    json_t *reply, *entries;
    char *d;
    size_t n, i, got;

    if (size == 0)
        return 0;
    n = (size_t)(data[0] & 7) + 1;
    memset(e, 0, sizeof(e));
    for (i = 0; i < n; i++)
        e[i].del = (data[0] >> (3 + i % 5)) & 1;
    /* as store_send() reads a reply: parsed when it has a body */
    reply = size > 1 ? json_loadb((const char *)data + 1, size - 1, 0, NULL)
                     : NULL;

    /* the reply as a refusal's OperationOutcome */
    d = store_diagnostics(reply);
    check_diag(d);
    if (strcmp(d, "no diagnostics") != 0) /* the text of some issue */
        FUZZ_ASSERT(json_array_size(json_object_get(reply, "issue")) > 0);
    free(d);

    /* the reply as a batch-response to n entries */
    entries = json_object_get(reply, "entry");
    memset(v, 0xa5, sizeof(v));
    got = store_batch_reply(reply, e, n, v);
    FUZZ_ASSERT(got == json_array_size(entries));
    if (got != n) {
        /* nothing written */
        for (i = 0; i < sizeof(v); i++)
            FUZZ_ASSERT(((unsigned char *)v)[i] == 0xa5);
    } else {
        for (i = 0; i < n; i++) {
            const json_t *r =
                json_object_get(json_array_get(entries, i), "response");
            const char *st = json_string_value(json_object_get(r, "status"));
            int take = st != NULL &&
                       (st[0] == '2' ||
                        (e[i].del && (strncmp(st, "404", 3) == 0 ||
                                      strncmp(st, "410", 3) == 0)));

            FUZZ_ASSERT(v[i].taken == take);
            FUZZ_ASSERT(st != NULL || v[i].status == 0);
            if (take) {
                FUZZ_ASSERT(v[i].diag == NULL);
            } else {
                check_diag(v[i].diag);
                free(v[i].diag);
            }
        }
        /* one more entry than the reply holds: nothing written */
        memset(v, 0xa5, sizeof(v));
        if (n < 8)
            FUZZ_ASSERT(store_batch_reply(reply, e, n + 1, v) == n);
        FUZZ_ASSERT(((unsigned char *)v)[0] == 0xa5);
    }
    json_decref(reply);
    return 0;
}

/* fuzz_retry_after.c - fuzz target for the reader of a server's
 * Retry-After header (src/http/http.c, sl_http_retry_after_ms): delay
 * seconds or an HTTP date, from any server a source or target talks to.
 * The input is the header's value (cut at a NUL, as libcurl hands header
 * lines over as text). Checked: the wait is -1 (not a Retry-After) or
 * between 0 and a year, whatever "now" is; a number of seconds gives
 * exactly that many milliseconds. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http/http.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long long nows[] = { 0, 1700000000LL, 4102444800LL };
    char *v = malloc(size + 1);
    size_t i;

    if (v == NULL)
        abort();
    memcpy(v, data, size);
    v[size] = '\0';
    for (i = 0; i < sizeof(nows) / sizeof(nows[0]); i++) {
        long ms = sl_http_retry_after_ms(v, nows[i]);

        FUZZ_ASSERT(ms == -1 || (ms >= 0 && ms <= 86400L * 365 * 1000));
    }
    {
        /* plain digits: that many seconds */
        char *end;
        long long s = strtoll(v, &end, 10);
        if (size > 0 && size < 9 && *end == '\0' && v[0] >= '0' &&
            v[0] <= '9')
            FUZZ_ASSERT(sl_http_retry_after_ms(v, 0) == (long)(s * 1000));
    }
    FUZZ_ASSERT(sl_http_retry_after_ms(NULL, 0) == -1);
    free(v);
    return 0;
}

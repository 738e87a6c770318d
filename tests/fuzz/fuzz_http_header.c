/* fuzz_http_header.c - fuzz target for the reader of a response header
 * line (src/http/http.c, sl_http_header_value): what the HTTP client
 * keeps of the headers a request asks for (rq->capture: the fhir-bulk
 * source's Content-Location, X-Progress and Location, the dicomweb
 * source's Content-Type, from any server), and the multipart boundary of
 * a Content-Type (src/http/multipart.c, sl_multipart_boundary_of).
 * The input is one header line as libcurl hands it over (its line end
 * included, not NUL-terminated). Checked: a value is found exactly when
 * the line starts with the name (any case) and a colon and is shorter
 * than the bound; it lies inside the line, after the colon, with no blank
 * or line end around it; a boundary is 1 to 70 bytes of the value,
 * only from a multipart type. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "http/http.h"
#include "http/multipart.h"

static int
blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = { "Content-Location", "X-Progress",
                                         "Location",         "Retry-After",
                                         "Content-Type",     "x" };
    /* a copy of its own, so that ASan sees a read past its end */
    char *line = malloc(size > 0 ? size : 1);
    size_t i;

    if (line == NULL)
        abort();
    memcpy(line, data, size);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t len = strlen(names[i]), vn = (size_t)-1;
        const char *v = sl_http_header_value(line, size, names[i], &vn);
        int is = size > len + 1 && size < len + 1 + 1024 &&
                 strncasecmp(line, names[i], len) == 0 && line[len] == ':';

        FUZZ_ASSERT((v != NULL) == is);
        if (v == NULL) {
            FUZZ_ASSERT(vn == (size_t)-1); /* not written */
            continue;
        }
        FUZZ_ASSERT(v >= line + len + 1 && vn <= size &&
                    v + vn <= line + size);
        if (vn > 0) {
            FUZZ_ASSERT(v[0] != ' ' && v[0] != '\t');
            FUZZ_ASSERT(!blank(v[vn - 1]));
        }
        /* nothing but blanks skipped before the value */
        for (const char *p = line + len + 1; p < v; p++)
            FUZZ_ASSERT(*p == ' ' || *p == '\t');
        /* nothing but blanks and the line end dropped after it */
        for (const char *p = v + vn; p < line + size; p++)
            FUZZ_ASSERT(blank(*p));
        if (strcmp(names[i], "Content-Type") == 0) {
            /* the dicomweb source's WADO-RS answer: its boundary */
            char *ct = sl_strndup(v, vn), *b = sl_multipart_boundary_of(ct);
            if (b != NULL) {
                FUZZ_ASSERT(b[0] != '\0' && strlen(b) <= 70);
                /* a part of the value (a quote in an unquoted one, which
                 * RFC 2045 does not allow, is kept: it only fails to
                 * match the body's delimiters) */
                FUZZ_ASSERT(strstr(ct, b) != NULL);
                FUZZ_ASSERT(strncasecmp(ct, "multipart/", 10) == 0);
            }
            free(b);
            free(ct);
        }
    }
    free(line);
    return 0;
}

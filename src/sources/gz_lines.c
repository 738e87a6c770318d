/* gz_lines.c - NDJSON lines from a gzip-aware stream (gz_lines.h). */
#include "config.h"

#include <string.h>

#include "sources/gz_lines.h"

int
sl_gz_lines_next(gzFile gz, struct sl_gz_lines *r, struct sl_buf *line)
{
    sl_buf_reset(line);
    for (;;) {
        const char *p, *nl;
        size_t avail, take;

        if (r->pos == r->len) {
            int n = gzread(gz, r->buf, sizeof(r->buf));
            int zerr;

            if (n < 0)
                return -1;
            if (n == 0) {
                gzerror(gz, &zerr);
                /* Z_BUF_ERROR here: the compressed stream ends early */
                if (zerr != Z_OK)
                    return -1;
                return line->len > 0 ? 1 : 0;
            }
            r->pos = 0;
            r->len = (size_t)n;
        }
        p = r->buf + r->pos;
        avail = r->len - r->pos;
        nl = memchr(p, '\n', avail);
        take = nl ? (size_t)(nl - p) + 1 : avail;
        sl_buf_add(line, p, take);
        r->pos += take;
        if (nl)
            return 1;
    }
}

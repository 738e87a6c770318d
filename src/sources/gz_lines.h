/* gz_lines.h - NDJSON lines from a gzip-aware stream (zlib's gzread reads
 * plain files as they are), for the fhir-files and fhir-bulk sources. */
#ifndef SL_SOURCES_GZ_LINES_H
#define SL_SOURCES_GZ_LINES_H

#include <stddef.h>
#include <zlib.h>

#include "common/common.h"

struct sl_gz_lines {
    char buf[65536];
    size_t pos, len; /* unread bytes of buf: [pos, len) */
};

/* Starts reading a newly opened stream. */
static inline void
sl_gz_lines_reset(struct sl_gz_lines *r)
{
    r->pos = r->len = 0;
}

/* The next line of gz, with its '\n' if it has one, into line (emptied
 * first): 1 a line, 0 the end, -1 a read error or a compressed stream that
 * ends early. Lines are read by length, never as C strings, so a NUL byte
 * does not end one. */
int sl_gz_lines_next(gzFile gz, struct sl_gz_lines *r, struct sl_buf *line);

#endif

/* multipart.h - a streaming reader of multipart/related bodies (RFC 2046
 * section 5.1, RFC 2387), as DICOMweb's WADO-RS answers a retrieve: each
 * part (one DICOM instance) goes to a callback piece by piece as the
 * bytes arrive, so a study never sits in memory. Memory is bounded by one
 * part's header block (16 KiB) and a 64 KiB window, whatever the size of
 * the parts.
 *
 * The delimiter is "--" + the boundary of the body's Content-Type; when it
 * is not known before the body starts (src/http hands a response's
 * headers over only at its end), the reader takes it from the body's
 * first line, which must be a delimiter (no preamble), and the caller
 * compares it with the Content-Type afterwards (sl_multipart_boundary).
 *
 * Errors name the part (from 1) and the byte offset in the body where the
 * reader gave up; never a byte of the content. */
#ifndef SL_HTTP_MULTIPART_H
#define SL_HTTP_MULTIPART_H

#include <stddef.h>

#include "common/common.h"

struct sl_multipart;

/* What the reader calls, each returning 0 to go on or an SL_* status to
 * stop the reading (sl_multipart_feed then returns it, err as the callback
 * set it). content_type: the part's Content-Type value, or NULL when it
 * has none (borrowed for the call). */
struct sl_multipart_cb {
    int (*part_begin)(void *arg, const char *content_type, struct sl_err *err);
    int (*part_data)(void *arg, const char *data, size_t n, struct sl_err *err);
    int (*part_end)(void *arg, struct sl_err *err);
};

/* A reader for a body whose boundary is boundary (copied), or NULL to
 * take it from the body's first line. cb is borrowed, arg is given to
 * every callback. Never NULL (allocation failure aborts). */
struct sl_multipart *sl_multipart_new(const char *boundary,
                                      const struct sl_multipart_cb *cb,
                                      void *arg);
void sl_multipart_free(struct sl_multipart *m); /* NULL-safe */

/* Gives the reader the next n bytes of the body. SL_EPARSE when the body
 * is not multipart as it should be (err names the part and offset), or
 * what a callback returned. After an error the reader takes nothing
 * more. */
int sl_multipart_feed(struct sl_multipart *m, const char *data, size_t n,
                      struct sl_err *err);

/* At the end of the body: SL_OK when the closing delimiter came (the
 * epilogue after it is ignored), else SL_EPARSE naming the part that was
 * cut short. */
int sl_multipart_finish(struct sl_multipart *m, struct sl_err *err);

/* Parts begun so far. */
size_t sl_multipart_parts(const struct sl_multipart *m);

/* The boundary in use (given, or read from the body), or NULL when none
 * is known yet. Borrowed from m. */
const char *sl_multipart_boundary(const struct sl_multipart *m);

/* The boundary parameter of a Content-Type value ("multipart/related;
 * type=...; boundary=X", quoted or not), or NULL when the type is not
 * multipart or has none. Caller frees. */
char *sl_multipart_boundary_of(const char *content_type);

#endif

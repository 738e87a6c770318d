/* pdf.h - the text of a PDF document, for the leak scan of attachments a
 * profile keeps (issue 10, section 4). Only src/pdf/ includes poppler. */
#ifndef SL_PDF_H
#define SL_PDF_H

#include <stddef.h>

#include "common/common.h"

/* The text of every page of the n bytes at data, as UTF-8, pages separated
 * by a form feed, in *out (NUL-terminated; the caller wipes and frees it
 * with sl_freezero(*out, *out_len + 1)). Returns SL_OK, or SL_EPARSE when
 * the bytes are not a PDF poppler can open (damaged, encrypted with a
 * password) and the text cannot be read. Nothing poppler says about the
 * document is printed: its messages can quote the document's bytes.
 * Thread-safe (one document at a time). */
int sl_pdf_text(const void *data, size_t n, char **out, size_t *out_len,
                struct sl_err *err);

#endif

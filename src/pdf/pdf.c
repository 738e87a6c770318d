/* pdf.c - a PDF's text through poppler's GLib API (Debian's
 * libpoppler-glib), the one well-kept C interface to a PDF text
 * extractor. */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include <poppler.h>

#include "pdf/pdf.h"

/* poppler keeps global state (its GlobalParams) that it builds on first
 * use; documents are read one at a time, which also keeps its memory use
 * to one document. PDFs in attachments are rare next to the resources. */
static pthread_mutex_t pdf_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t pdf_once = PTHREAD_ONCE_INIT;

static void
quiet(const gchar *domain, GLogLevelFlags level, const gchar *msg,
      gpointer data)
{
    /* poppler's syntax errors quote the document: never printed */
    (void)domain;
    (void)level;
    (void)msg;
    (void)data;
}

static void
pdf_init(void)
{
    g_log_set_handler("Poppler",
                      G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL |
                          G_LOG_FLAG_RECURSION,
                      quiet, NULL);
}

int
sl_pdf_text(const void *data, size_t n, char **out, size_t *out_len,
            struct sl_err *err)
{
    PopplerDocument *doc = NULL;
    GBytes *bytes = NULL;
    GError *gerr = NULL;
    struct sl_buf b;
    int i, pages, rc = SL_OK;

    sl_buf_init(&b);
    if (n == 0)
        return SL_ERR(err, SL_EPARSE, "not a PDF that can be read (empty)");
    pthread_once(&pdf_once, pdf_init);
    pthread_mutex_lock(&pdf_mu);
    bytes = g_bytes_new(data, n);
    doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
    if (doc == NULL) {
        /* the GError's words may quote the file: not passed on */
        rc = SL_ERR(err, SL_EPARSE, "not a PDF that can be read (damaged, "
                                    "or protected by a password)");
        goto out;
    }
    pages = poppler_document_get_n_pages(doc);
    for (i = 0; i < pages; i++) {
        PopplerPage *page = poppler_document_get_page(doc, i);
        char *t = page ? poppler_page_get_text(page) : NULL;

        if (i > 0)
            sl_buf_add(&b, "\f", 1);
        if (t != NULL) {
            sl_buf_add(&b, t, strlen(t));
            explicit_bzero(t, strlen(t)); /* patient data: wiped */
            g_free(t);
        }
        if (page)
            g_object_unref(page);
    }
    sl_buf_add(&b, "", 1); /* the NUL */
    *out_len = b.len - 1;
    *out = sl_buf_steal(&b);
out:
    if (doc)
        g_object_unref(doc);
    if (bytes)
        g_bytes_unref(bytes);
    if (gerr)
        g_error_free(gerr);
    pthread_mutex_unlock(&pdf_mu);
    if (rc != SL_OK && b.data)
        sl_freezero(b.data, b.cap);
    return rc;
}

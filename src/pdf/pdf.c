/* pdf.c - a PDF's text through poppler's GLib API (Debian's
 * libpoppler-glib), the one well-kept C interface to a PDF text
 * extractor. The library is opened with dlopen the first time a PDF is
 * read (SL_POPPLER_SONAME, found by configure): linked, it and the
 * libraries it needs would be loaded by every sluice command. */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include <poppler.h>

#include "pdf/pdf.h"

/* poppler keeps global state (its GlobalParams) that it builds on first
 * use; documents are read one at a time, which also keeps its memory use
 * to one document. PDFs in attachments are rare next to the resources. */
static pthread_mutex_t pdf_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t pdf_once = PTHREAD_ONCE_INIT;

/* The functions used, as the headers declare them (glib's come with
 * poppler-glib, which needs them). */
#define PDF_FUNCS(X)                                                          \
    X(g_bytes_new)                                                            \
    X(g_bytes_unref)                                                          \
    X(g_error_free)                                                           \
    X(g_free)                                                                 \
    X(g_log_set_handler)                                                      \
    X(g_object_unref)                                                         \
    X(poppler_document_new_from_bytes)                                        \
    X(poppler_document_get_n_pages)                                           \
    X(poppler_document_get_page)                                              \
    X(poppler_page_get_text)
#define PDF_PTR(f) __typeof__(f) *f;
static struct {
    int ok;
    PDF_FUNCS(PDF_PTR)
} pp;

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
    void *h = dlopen(SL_POPPLER_SONAME, RTLD_NOW | RTLD_LOCAL);

    if (h == NULL)
        return;
#define PDF_SYM(f)                                                            \
    if ((*(void **)&pp.f = dlsym(h, #f)) == NULL)                             \
        return;
    PDF_FUNCS(PDF_SYM)
    pp.g_log_set_handler("Poppler",
                         G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL |
                             G_LOG_FLAG_RECURSION,
                         quiet, NULL);
    pp.ok = 1;
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
    if (!pp.ok)
        return SL_ERR(err, SL_EPARSE, "not a PDF that can be read here: "
                                      "cannot load %s (Debian: "
                                      "libpoppler-glib8)",
                      SL_POPPLER_SONAME);
    pthread_mutex_lock(&pdf_mu);
    bytes = pp.g_bytes_new(data, n);
    doc = pp.poppler_document_new_from_bytes(bytes, NULL, &gerr);
    if (doc == NULL) {
        /* the GError's words may quote the file: not passed on */
        rc = SL_ERR(err, SL_EPARSE, "not a PDF that can be read (damaged, "
                                    "or protected by a password)");
        goto out;
    }
    pages = pp.poppler_document_get_n_pages(doc);
    for (i = 0; i < pages; i++) {
        PopplerPage *page = pp.poppler_document_get_page(doc, i);
        char *t = page ? pp.poppler_page_get_text(page) : NULL;

        if (i > 0)
            sl_buf_add(&b, "\f", 1);
        if (t != NULL) {
            sl_buf_add(&b, t, strlen(t));
            explicit_bzero(t, strlen(t)); /* patient data: wiped */
            pp.g_free(t);
        }
        if (page)
            pp.g_object_unref(page);
    }
    sl_buf_add(&b, "", 1); /* the NUL */
    *out_len = b.len - 1;
    *out = sl_buf_steal(&b);
out:
    if (doc)
        pp.g_object_unref(doc);
    if (bytes)
        pp.g_bytes_unref(bytes);
    if (gerr)
        pp.g_error_free(gerr);
    pthread_mutex_unlock(&pdf_mu);
    if (rc != SL_OK && b.data)
        sl_freezero(b.data, b.cap);
    return rc;
}

/* fuzz_pdf.c - fuzz target for the PDF text of attachments a profile keeps
 * (src/pdf/: poppler through its GLib API): any bytes give SL_OK with a
 * NUL-terminated UTF-8 string of the length reported, or SL_EPARSE with a
 * message that quotes nothing of the input. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "pdf/pdf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_err err = {0};
    char *text = NULL;
    size_t n = 0;
    int rc = sl_pdf_text(data, size, &text, &n, &err);

    if (rc == SL_OK) {
        FUZZ_ASSERT(text != NULL);
        FUZZ_ASSERT(strlen(text) == n);
        sl_freezero(text, n + 1);
    } else {
        FUZZ_ASSERT(rc == SL_EPARSE);
        FUZZ_ASSERT(text == NULL);
        FUZZ_ASSERT(strstr(err.msg, "not a PDF") != NULL);
    }
    return 0;
}

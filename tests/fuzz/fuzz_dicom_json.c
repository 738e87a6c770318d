/* fuzz_dicom_json.c - fuzz target for the readers of DICOMweb answers
 * (src/http/dicom_json.c): the low bit of the first byte chooses a QIDO-RS
 * search answer (0: what the dicomweb source and the stow-rs target read)
 * or a STOW-RS store answer (1: the Failed SOP Sequence); the rest is the
 * body as a server sent it.
 *
 * Promises checked: every UID taken is a UID (digits and dots, at most 64:
 * it goes into a URL path), a date 8 digits; a refused answer leaves
 * nothing allocated and its message starts with the reader's own words
 * and quotes none of the body. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http/dicom_json.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const tags[] = { "0020000D", "00080020", "00080030",
                                        "00080018" };
    struct sl_err err = { 0 };
    const char *body;
    size_t n, i;

    if (size < 1)
        return 0;
    body = (const char *)data + 1;
    n = size - 1;
    if ((data[0] & 1) == 0) {
        struct sl_qido_rows r = { 0 };
        if (sl_qido_parse(body, n, tags, 4, &r, &err) == SL_OK) {
            for (i = 0; i < r.n; i++) {
                const char *uid = r.v[i * 4], *date = r.v[i * 4 + 1];
                const char *sop = r.v[i * 4 + 3];
                FUZZ_ASSERT(uid == NULL || sl_qido_is_uid(uid));
                FUZZ_ASSERT(sop == NULL || sl_qido_is_uid(sop));
                FUZZ_ASSERT(date == NULL || (strlen(date) == 8 &&
                                             strspn(date, "0123456789") == 8));
            }
            sl_qido_rows_free(&r);
        } else {
            FUZZ_ASSERT(strncmp(err.msg, "QIDO-RS answer: ", 16) == 0);
        }
    } else {
        struct sl_stow_failed *f = NULL;
        struct sl_strv stored = { 0 };
        size_t nf = 0;
        if (sl_stow_failed_parse(body, n, &f, &nf, &stored, &err) == SL_OK) {
            for (i = 0; i < stored.n; i++)
                FUZZ_ASSERT(sl_qido_is_uid(stored.v[i]));
            for (i = 0; i < nf; i++) {
                FUZZ_ASSERT(sl_qido_is_uid(f[i].sop));
                FUZZ_ASSERT(f[i].reason <= 0xFFFF);
                FUZZ_ASSERT(sl_stow_reason_text(f[i].reason) != NULL);
            }
            sl_stow_failed_free(f, nf);
            sl_strv_free(&stored);
        } else {
            FUZZ_ASSERT(f == NULL && stored.n == 0);
            FUZZ_ASSERT(strncmp(err.msg, "STOW-RS answer: ", 16) == 0);
        }
    }
    return 0;
}

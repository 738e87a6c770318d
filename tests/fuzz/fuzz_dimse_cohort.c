/* fuzz_dimse_cohort.c - fuzz target for the reader of the dimse source's
 * studies file (src/sources/dimse_cohort.c): FHIR ImagingStudy resources
 * as NDJSON. The input is written as a file and read with
 * dimse_cohort_read(), as a run reads it. Checked: every line gives at
 * most one key or one problem; a key is "U" + a UID of digits and dots
 * (at most 64) or "A" + an accession number of at most 16 characters; a
 * problem names its line and quotes nothing of the input. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sources/dimse_cohort.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dimse_cohort c;
    struct sl_err err = { 0 };
    char *path = fuzz_util_write("studies.ndjson", data, size);
    size_t i, lines = 1;

    for (i = 0; i < size; i++)
        lines += data[i] == '\n';
    memset(&c, 0, sizeof(c));
    if (dimse_cohort_read(path, &c, &err) == SL_OK) {
        FUZZ_ASSERT(c.keys.n + c.problems.n + c.other <= lines);
        for (i = 0; i < c.keys.n; i++) {
            const char *k = c.keys.v[i];
            size_t n = strlen(k + 1);
            FUZZ_ASSERT(k[0] == 'U' || k[0] == 'A');
            FUZZ_ASSERT(n > 0);
            if (k[0] == 'U')
                FUZZ_ASSERT(n <= 64 && strspn(k + 1, "0123456789.") == n);
            else
                FUZZ_ASSERT(n <= 16);
        }
        for (i = 0; i < c.problems.n; i++) {
            const char *p = c.problems.v[i];
            FUZZ_ASSERT(strncmp(p, "studies file line ", 18) == 0);
            FUZZ_ASSERT(strlen(p) < 300);
        }
    } else {
        FUZZ_ASSERT(err.msg[0] != '\0');
    }
    dimse_cohort_free(&c);
    free(path);
    return 0;
}

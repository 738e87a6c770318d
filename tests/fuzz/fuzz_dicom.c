/* fuzz_dicom.c - fuzz target for the DICOM reader of the DCMTK shim: the
 * input is written as a file and given to sl_dicom_file_probe() and
 * sl_dicom_summary_read(), as the dicom-folder source does with every file
 * it finds. Seeds need "DICM" at offset 128 to get past the probe. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dicom/dicom.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    struct sl_dicom_summary *sum = NULL;
    struct sl_err err;
    int is_dicom = -1, rc;
    char *path;

    if (!ready) {
        char msg[256];
        if (sl_dicom_init(msg, sizeof(msg)) != 0) {
            fprintf(stderr, "%s\n", msg);
            abort();
        }
        ready = 1;
    }
    path = fuzz_util_write("in.dcm", data, size);
    rc = sl_dicom_file_probe(path, &is_dicom, &err);
    FUZZ_ASSERT(rc == SL_OK && (is_dicom == 0 || is_dicom == 1));
    rc = sl_dicom_summary_read(path, &sum, &err);
    if (rc == SL_OK) {
        /* The promise of dicom.h: the three UIDs are set on success. */
        FUZZ_ASSERT(is_dicom == 1 && sum != NULL);
        FUZZ_ASSERT(sum->study_uid && sum->series_uid && sum->sop_uid);
    } else {
        FUZZ_ASSERT(sum == NULL && err.msg[0] != '\0');
    }
    sl_dicom_summary_free(sum);
    (void)unlink(path);
    free(path);
    return 0;
}

/* fuzz_dicom_dict.c - fuzz target for sluice's reader of DCMTK's text
 * data dictionaries (src/dicom/dicom_dict.cc), which replaces DCMTK's
 * loader at start-up. A differential target: whatever file the reader
 * takes, DCMTK's own loader must take too and make the same entries of
 * (sl_dicom_dict_compare() returns 1 otherwise); refusing is always
 * allowed, since DCMTK then loads the file itself. */
#include "config.h"

#include <stdlib.h>

#include "dicom/dicom.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[512];
    char *path = fuzz_util_write("fuzz.dic", data, size);
    int rc;

    msg[0] = '\0';
    rc = sl_dicom_dict_compare(path, msg, sizeof(msg));
    if (rc == 1)
        fuzz_util_fail(__FILE__, __LINE__, msg);
    FUZZ_ASSERT(rc == 0 || rc == 2);
    free(path);
    return 0;
}

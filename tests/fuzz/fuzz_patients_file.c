/* fuzz_patients_file.c - fuzz target for the patient list file of the
 * fhir-rest source (patients="file:..."; src/sources/fhir_rest_list.c,
 * sl_rest_patients_file): one Patient id or "Patient/id" a line, blank
 * lines and # comments skipped. The input is the file. Checked: on
 * success every id taken is a FHIR id (1 to 64 of [A-Za-z0-9-.]), is a
 * line of the file (blanks around it and a "Patient/" before it removed),
 * and every such line is taken, in order: nothing is dropped silently; on
 * failure the message names the file and a line. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "fuzz.h"
#include "sources/fhir_rest_int.h"

static int
is_id(const char *s, size_t n)
{
    size_t i;

    if (n < 1 || n > 64)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.'))
            return 0;
    return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rest_src s;
    struct sl_err err = { 0 };
    char *path = fuzz_util_write("patients.txt", data, size);
    const char *p = (const char *)data, *end = p + size;
    size_t k = 0;
    int rc;

    memset(&s, 0, sizeof(s));
    s.id = "fuzz";
    rc = sl_rest_patients_file(&s, path, &err);
    if (rc == SL_OK) {
        /* each line, as the reader reads it, against the list */
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *b = p, *e = nl ? nl : end;

            p = nl ? nl + 1 : end;
            while (b < e && (*b == ' ' || *b == '\t'))
                b++;
            while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                e--;
            if (b == e || *b == '#')
                continue;
            if ((size_t)(e - b) >= 8 && strncmp(b, "Patient/", 8) == 0)
                b += 8;
            FUZZ_ASSERT(is_id(b, (size_t)(e - b)));
            FUZZ_ASSERT(k < s.patients.n);
            FUZZ_ASSERT(strlen(s.patients.v[k]) == (size_t)(e - b) &&
                        memcmp(s.patients.v[k], b, (size_t)(e - b)) == 0);
            k++;
        }
        FUZZ_ASSERT(k == s.patients.n);
    } else {
        /* (what was taken before the bad line is not used: the source
         * does not open) */
        FUZZ_ASSERT(strncmp(err.msg, path, strlen(path)) == 0);
        FUZZ_ASSERT(err.msg[strlen(path)] == ':');
    }
    sl_strv_free(&s.patients);
    free(path);
    return 0;
}

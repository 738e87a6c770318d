/* fuzz_sink_journal.c - fuzz target for the journal of the dicom-folder
 * sink's layouts with manifests (src/sinks/dicom_media.c): each line of
 * the input goes through dicom_media_journal_parse(), as the sink reads
 * STATEDIR/sinks/ID/journal.tsv when it opens. A resume deletes the files
 * the journal names, so a parsed path must stay inside the folder. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sinks/sinks_int.h"

/* The promise: relative, no "." or ".." component, no hidden name, only
 * [A-Za-z0-9._/-]. */
static int
path_safe(const char *s)
{
    const char *p;

    if (s == NULL || *s == '\0' || *s == '/')
        return 0;
    for (p = s; *p != '\0'; p++) {
        if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                   "0123456789._/-",
                   *p) == NULL)
            return 0;
        if ((p == s || p[-1] == '/') && *p == '.')
            return 0;
    }
    return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *line, *nl;
    size_t i;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    for (line = text; line != NULL; line = nl) {
        struct sl_export_inst x;
        nl = strchr(line, '\n');
        if (nl != NULL)
            *nl++ = '\0';
        if (dicom_media_journal_parse(line, &x) != 0) {
            FUZZ_ASSERT(x.rel == NULL && x.sop == NULL && x.run == NULL);
            continue;
        }
        FUZZ_ASSERT(path_safe(x.rel) && path_safe(x.run));
        FUZZ_ASSERT(x.study && *x.study && x.series && *x.series && x.sop &&
                    *x.sop);
        FUZZ_ASSERT(strlen(x.sha256) == 64);
        for (i = 0; i < 64; i++)
            FUZZ_ASSERT(strchr("0123456789abcdef", x.sha256[i]) != NULL);
        sl_export_inst_clear(&x);
    }
    free(text);
    return 0;
}

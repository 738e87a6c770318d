/* fuzz_bulk_manifest.c - fuzz target for what the fhir-bulk source reads
 * from outside (src/sources/fhir_bulk_manifest.c): the input is parsed as
 * a Bulk Data complete-status manifest (from a server), as the
 * OperationOutcome of an error reply or error-file line, and each of its
 * lines as the source's checkpoint (from the state store). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sources/fhir_bulk.h"

/* The promises of fhir_bulk.h about a parsed manifest. */
static void
check_manifest(const struct bulk_manifest *m)
{
    size_t i;

    FUZZ_ASSERT(bulk_instant_ok(m->transaction_time));
    FUZZ_ASSERT(m->noutputs <= m->n);
    for (i = 0; i < m->n; i++) {
        const char *u = m->files[i].url;
        FUZZ_ASSERT(strncmp(u, "http://", 7) == 0 ||
                    strncmp(u, "https://", 8) == 0);
        FUZZ_ASSERT(strpbrk(u, " \t\r\n") == NULL);
        FUZZ_ASSERT(m->files[i].type[0] >= 'A' && m->files[i].type[0] <= 'Z');
        FUZZ_ASSERT(m->files[i].error == (i >= m->noutputs));
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bulk_manifest m;
    struct sl_err err = { 0 };
    char *text = malloc(size + 1), *line, *nl, *why;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (bulk_manifest_parse(text, size, &m, &err) == SL_OK) {
        check_manifest(&m);
        bulk_manifest_clear(&m);
    } else {
        FUZZ_ASSERT(m.n == 0 && m.files == NULL && m.transaction_time == NULL);
        FUZZ_ASSERT(err.msg[0] != '\0');
    }
    why = bulk_outcome_text(text, size);
    if (why != NULL) {
        size_t i;
        FUZZ_ASSERT(strlen(why) <= 400);
        for (i = 0; why[i]; i++)
            FUZZ_ASSERT((unsigned char)why[i] >= 0x20 && why[i] != 0x7f);
        free(why);
    }
    for (line = text; line != NULL; line = nl) {
        struct bulk_ck ck;
        nl = strchr(line, '\n');
        if (nl != NULL)
            *nl++ = '\0';
        if (bulk_ck_parse(line, &ck) == SL_OK) {
            /* what was parsed formats to a checkpoint that parses the
             * same */
            char *again = bulk_ck_format(&ck);
            struct bulk_ck ck2;
            FUZZ_ASSERT(ck.since == NULL || bulk_instant_ok(ck.since));
            FUZZ_ASSERT(ck.tt == NULL || bulk_instant_ok(ck.tt));
            FUZZ_ASSERT(bulk_ck_parse(again, &ck2) == SL_OK);
            FUZZ_ASSERT(ck2.file == ck.file && ck2.lines == ck.lines);
            FUZZ_ASSERT((ck.status_url == NULL) == (ck2.status_url == NULL));
            FUZZ_ASSERT(ck.status_url == NULL ||
                        strcmp(ck.status_url, ck2.status_url) == 0);
            bulk_ck_clear(&ck2);
            free(again);
        }
        bulk_ck_clear(&ck);
    }
    free(text);
    return 0;
}

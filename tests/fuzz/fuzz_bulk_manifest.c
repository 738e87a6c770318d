/* fuzz_bulk_manifest.c - fuzz target for what the fhir-bulk source reads
 * from outside (src/sources/fhir_bulk_manifest.c): the input is parsed as
 * a Bulk Data complete-status manifest (from a server), as the
 * OperationOutcome of an error reply or error-file line, as a status
 * reply's X-Progress header (up to its first NUL: shown on the progress
 * bar and in the log), and each of its lines as the source's checkpoint
 * (from the state store). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sources/fhir_bulk.h"

/* Whether s is UTF-8 without control characters (C0, DEL, C1). */
static int
shown_ok(const unsigned char *s)
{
    while (*s) {
        size_t k = *s < 0x80 ? 1 : (*s & 0xE0) == 0xC0 ? 2
                                  : (*s & 0xF0) == 0xE0 ? 3
                                  : (*s & 0xF8) == 0xF0 ? 4 : 0;
        size_t i;
        unsigned long c;
        if (k == 0)
            return 0;
        c = k == 1 ? *s : (unsigned long)(*s & (0x7F >> k));
        for (i = 1; i < k; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return 0;
            c = c << 6 | (s[i] & 0x3F);
        }
        if (c < 0x20 || (c >= 0x7F && c < 0xA0) || c > 0x10FFFF ||
            (c >= 0xD800 && c <= 0xDFFF) ||
            (k == 2 && c < 0x80) || (k == 3 && c < 0x800) ||
            (k == 4 && c < 0x10000))
            return 0;
        s += k;
    }
    return 1;
}

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
    {
        char prog[64], small[8];
        size_t n = strlen(text);
        bulk_progress_text(text, prog, sizeof(prog));
        FUZZ_ASSERT(strlen(prog) <= 60 && shown_ok((unsigned char *)prog));
        /* printable ASCII that fits is shown as it is */
        if (n <= 60 && strspn(text, " !\"#$%&'()*+,-./0123456789:;<=>?@"
                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
                              "abcdefghijklmnopqrstuvwxyz{|}~") == n)
            FUZZ_ASSERT(strcmp(prog, text) == 0);
        bulk_progress_text(text, small, sizeof(small));
        FUZZ_ASSERT(strlen(small) <= 7 && shown_ok((unsigned char *)small));
        bulk_progress_text(NULL, small, sizeof(small));
        FUZZ_ASSERT(small[0] == '\0');
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

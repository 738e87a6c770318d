/* fuzz_dimse_cohort.c - fuzz target for the reader of the dimse source's
 * studies file (src/sources/dimse_cohort.c): FHIR ImagingStudy resources
 * as NDJSON. The input is written as a file and read with
 * dimse_cohort_read(), as a run reads it. Checked: every line gives at
 * most one key or one problem; a key is "U" + a UID of digits and dots
 * (at most 64) or "A" + an accession number of at most 16 characters; a
 * problem names its line and quotes nothing of the input.
 *
 * The same input is also given, whole and line by line, as FHIR items of
 * a cohort source (pacs_cohort_add: studies="source:ID" and
 * patient-ids="source:ID", with and without patient-id-system), as the
 * run hands a PACS source the items of the job's FHIR source: a Bundle's
 * entries are read too; a patient key is "P" + a DICOM LO value (1 to 64
 * characters, no control character or backslash); problems name the
 * cohort source and the item's position, nothing of the input.
 *
 * And the same input as a patient-ids and as an accession-numbers list
 * file (dimse_list_parse): accepted, every value is 1 to 64 (16)
 * characters of UTF-8 with no control character, backslash or space at
 * either end, at most one a line; refused, nothing is left and the
 * reason names a line and quotes nothing of the input.
 *
 * And each line as the source's checkpoint from the state store: the
 * watermark part (dimse_since_parse: 14 digits, the taken studies as
 * YYYYMMDD.HASH) and the resume point (sl_pacs_resume_at: a study of
 * those listed, or the first). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "fuzz.h"
#include "sources/dimse_cohort.h"
#include "sources/dimse_since.h"
#include "sources/pacs_work.h"

static void
check_keys(const struct sl_strv *keys)
{
    size_t i;

    for (i = 0; i < keys->n; i++) {
        const char *k = keys->v[i];
        size_t n = strlen(k + 1), j;
        FUZZ_ASSERT(k[0] == 'U' || k[0] == 'A' || k[0] == 'P');
        FUZZ_ASSERT(n > 0);
        if (k[0] == 'U')
            FUZZ_ASSERT(n <= 64 && strspn(k + 1, "0123456789.") == n);
        else if (k[0] == 'A')
            FUZZ_ASSERT(n <= 16);
        else {
            FUZZ_ASSERT(n <= 64);
            for (j = 1; j <= n; j++)
                FUZZ_ASSERT((unsigned char)k[j] >= 0x20 && k[j] != '\\');
        }
    }
}

/* data as items of a cohort source: whole, then each line */
static void
as_items(const uint8_t *data, size_t size, int patients, const char *system)
{
    struct pacs_cohort pc;
    struct sl_strv keys = { 0 }, problems = { 0 };
    struct sl_item it;
    struct sl_err err = { 0 };
    const char *p = (const char *)data, *end = p + size, *nl;
    size_t i, items = 1;

    memset(&pc, 0, sizeof(pc));
    pc.from = "fz";
    pc.co.patients = patients;
    pc.co.patient_system = system;
    memset(&it, 0, sizeof(it));
    it.kind = SL_ITEM_FHIR;
    it.pos = (char *)"line 1";
    it.text = (char *)data;
    it.text_len = size;
    FUZZ_ASSERT(pacs_cohort_add(&pc, &it, &err) == SL_OK);
    for (; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            nl = end;
        it.text = (char *)p;
        it.text_len = (size_t)(nl - p);
        items++;
        FUZZ_ASSERT(pacs_cohort_add(&pc, &it, &err) == SL_OK);
    }
    pc.fed = 1;
    FUZZ_ASSERT(pacs_cohort_take(&pc, "pacs", &keys, &problems, &err) ==
                SL_OK);
    if (!patients)
        check_keys(&keys);
    for (i = 0; i < problems.n; i++) {
        FUZZ_ASSERT(strncmp(problems.v[i], "cohort source fz item line 1: ",
                            30) == 0);
        FUZZ_ASSERT(strlen(problems.v[i]) < 300);
    }
    for (i = 0; i < keys.n; i++)
        explicit_bzero(keys.v[i], strlen(keys.v[i]));
    sl_strv_free(&keys);
    sl_strv_free(&problems);
    pacs_cohort_free(&pc);
}

/* The promises of dimse_list_parse on text[0, size). */
static void
check_list(const uint8_t *data, size_t size, int accession, size_t lines)
{
    struct sl_strv ids = { 0 };
    char why[160];
    size_t i, j;

    why[0] = '\0';
    if (dimse_list_parse((const char *)data, size, accession, &ids, why,
                         sizeof(why)) != SL_OK) {
        FUZZ_ASSERT(ids.n == 0 && strncmp(why, "line ", 5) == 0);
        FUZZ_ASSERT(strlen(why) < 80); /* the line's number and a reason */
        return;
    }
    FUZZ_ASSERT(ids.n <= lines);
    for (i = 0; i < ids.n; i++) {
        const unsigned char *v = (const unsigned char *)ids.v[i];
        size_t n = strlen(ids.v[i]), chars = 0;
        FUZZ_ASSERT(n > 0 && v[0] != ' ' && v[0] != '\t' &&
                    v[n - 1] != ' ' && v[n - 1] != '\t');
        for (j = 0; j < n; j++) {
            FUZZ_ASSERT(v[j] >= 0x20 && v[j] != 0x7F && v[j] != '\\');
            chars += (v[j] & 0xC0) != 0x80;
        }
        FUZZ_ASSERT(chars <= (accession ? 16u : 64u));
    }
    sl_strv_free(&ids);
}

/* One line of the input as a checkpoint. */
static void
check_ck(const char *ck)
{
    static char u1[] = "1.2.3", u2[] = "1.2.4", d1[] = "20230105",
                d2[] = "20230106", t1[] = "101010", t2[] = "";
    struct sl_dicom_study st[2] = { { u1, d1, t1 }, { u2, d2, t2 } };
    struct dimse_since ds;
    size_t next = 0, skip = 0, i;

    memset(&ds, 0, sizeof(ds));
    ds.overlap_days = 2;
    if (dimse_since_parse(ck, &ds)) {
        char *r = dimse_since_range(&ds, NULL), *r2, *suf;
        FUZZ_ASSERT(strlen(ds.wm) == 14 &&
                    strspn(ds.wm, "0123456789") == 14);
        for (i = 0; i < ds.taken.n; i++)
            FUZZ_ASSERT(strlen(ds.taken.v[i]) == 25 &&
                        ds.taken.v[i][8] == '.');
        FUZZ_ASSERT(r != NULL && strlen(r) >= 9 && r[8] == '-');
        r2 = dimse_since_range(&ds, "20200101-20301231");
        FUZZ_ASSERT(r2 != NULL);
        suf = dimse_since_suffix(&ds, st, 2, NULL, sl_fnv1a64);
        FUZZ_ASSERT(suf != NULL);
        free(r);
        free(r2);
        free(suf);
    }
    dimse_since_free(&ds);
    sl_pacs_resume_at("pacs", st, 2, ck, &next, &skip);
    FUZZ_ASSERT(next < 2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dimse_cohort c;
    struct sl_err err = { 0 };
    char *path = fuzz_util_write("studies.ndjson", data, size);
    size_t i, lines = 1;

    sl_log_setup(SL_LOG_WARN, SL_LOGFMT_TEXT); /* not the counts */
    for (i = 0; i < size; i++)
        lines += data[i] == '\n';
    check_list(data, size, 0, lines);
    check_list(data, size, 1, lines);
    {
        char *text = malloc(size + 1), *line, *nl;
        if (text == NULL)
            abort();
        memcpy(text, data, size);
        text[size] = '\0';
        for (line = text; line != NULL; line = nl) {
            if ((nl = strchr(line, '\n')) != NULL)
                *nl++ = '\0';
            check_ck(line);
        }
        free(text);
    }
    memset(&c, 0, sizeof(c));
    if (dimse_cohort_read(path, &c, &err) == SL_OK) {
        FUZZ_ASSERT(c.keys.n + c.problems.n + c.other <= lines);
        check_keys(&c.keys);
        for (i = 0; i < c.keys.n; i++)
            FUZZ_ASSERT(c.keys.v[i][0] != 'P');
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
    as_items(data, size, 0, NULL);
    as_items(data, size, 1, NULL);
    as_items(data, size, 1, "urn:oid:1.2.36.146.595.217.0.1");
    return 0;
}

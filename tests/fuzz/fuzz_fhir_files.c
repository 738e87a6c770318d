/* fuzz_fhir_files.c - fuzz target for the fhir-files source (FHIR JSON,
 * Bundles, NDJSON, gzip): the input becomes the one file of an otherwise
 * empty folder, and the source is drained through its vtable as the
 * pipeline drains it, every item checked and freed.
 *
 * The low three bits of the first byte pick how the rest is stored:
 *   0 .ndjson          1 .json
 *   2 .ndjson.gz       3 .json.gz     the bytes as given: gzip streams, cut
 *                                     or corrupt (zlib passes plain bytes)
 *   4 .ndjson.gz       5 .json.gz     the bytes gzip-compressed here, so
 *                                     fuzzed JSON reaches the gzip reader
 *   6 .ndjson          7 .json        (as 0 and 1)
 * Readable seeds start with '0' to '5' (0x30 to 0x35).
 *
 * Then the source is opened again from the checkpoints of a few items, as
 * after a crash: it must give exactly the items that followed, no more, no
 * fewer (exactly-once delivery rests on it). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "config/config.h"
#include "sources/sources.h"
#include "fuzz.h"

static const char *const names[8] = {
    "in.ndjson",    "in.json",    "in.ndjson.gz", "in.json.gz",
    "in.ndjson.gz", "in.json.gz", "in.ndjson",    "in.json",
};

static void
write_gzip(const char *name, const uint8_t *data, size_t size)
{
    char *path = sl_path_join(fuzz_util_dir(), name);
    gzFile gz = gzopen(path, "wb");

    if (gz == NULL || (size > 0 && gzwrite(gz, data, (unsigned)size) == 0) ||
        gzclose(gz) != Z_OK) {
        fprintf(stderr, "sluice fuzz: cannot write %s\n", path);
        abort();
    }
    free(path);
}

/* What the pipeline relies on in every item the source returns. */
static void
check_item(const struct sl_item *it)
{
    FUZZ_ASSERT(it->pos != NULL && it->checkpoint != NULL);
    FUZZ_ASSERT(it->origin != NULL && it->rtype != NULL);
    if (it->kind == SL_ITEM_FHIR) {
        json_t *rt = json_object_get(it->resource, "resourceType");
        FUZZ_ASSERT(json_is_object(it->resource));
        FUZZ_ASSERT(json_is_string(rt));
        FUZZ_ASSERT(strcmp(json_string_value(rt), it->rtype) == 0);
    } else {
        FUZZ_ASSERT(it->kind == SL_ITEM_BAD);
        FUZZ_ASSERT(it->reason != NULL && it->resource == NULL);
        FUZZ_ASSERT(it->raw == NULL || it->raw_len > 0);
    }
}

/* The items an NDJSON file must give: one for each line that is not blank
 * (only spaces, tabs and line ends), be it a resource or a bad line. No
 * line may vanish unseen, whatever bytes it holds. */
static size_t
ndjson_units(const uint8_t *data, size_t size)
{
    size_t i = 0, units = 0;

    while (i < size) {
        int blank = 1;
        for (; i < size && data[i] != '\n'; i++)
            if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r')
                blank = 0;
        units += !blank;
        i++; /* the newline */
    }
    return units;
}

/* Drains the source opened on node from checkpoint (NULL: the start),
 * checking each item; appends "POSITION KIND" of each to seen and, when
 * cks is not NULL, its checkpoint to cks. Returns the last next() status. */
static int
drain(const struct sl_conf_node *node, const char *checkpoint,
      struct sl_strv *seen, struct sl_strv *cks)
{
    struct sl_err err;
    void *ctx = NULL;
    int rc;

    rc = sl_source_fhir_files.open(NULL, node, checkpoint, &ctx, &err);
    FUZZ_ASSERT(rc == SL_OK);
    for (;;) {
        struct sl_item *it = NULL;

        rc = sl_source_fhir_files.next(ctx, &it, &err);
        if (rc != SL_OK || it == NULL) {
            FUZZ_ASSERT(it == NULL);
            break;
        }
        sl_item_parse(it); /* as a pipeline worker does */
        check_item(it);
        sl_strv_push_owned(seen, sl_asprintf("%s %d", it->pos, (int)it->kind));
        if (cks != NULL)
            sl_strv_push(cks, it->checkpoint);
        sl_item_free(it);
    }
    sl_source_fhir_files.close(ctx);
    return rc;
}

/* Resuming from the checkpoint of item k gives items k+1 and on. */
static void
check_resume(const struct sl_conf_node *node, const struct sl_strv *seen,
             const struct sl_strv *cks, size_t k)
{
    struct sl_strv again = { 0 };
    size_t i;

    (void)drain(node, cks->v[k], &again, NULL);
    FUZZ_ASSERT(again.n == seen->n - k - 1);
    for (i = 0; i < again.n; i++)
        FUZZ_ASSERT(strcmp(again.v[i], seen->v[k + 1 + i]) == 0);
    sl_strv_free(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char k_path[] = "path", k_dir[] = "in";
    char *keys[] = { k_path }, *vals[1];
    struct sl_conf_node node = { 0 };
    const char *name;
    struct sl_err err;
    char *dir, *file, *full;
    struct sl_strv seen = { 0 }, cks = { 0 };
    unsigned kind;
    int rc;

    if (size == 0)
        return 0;
    kind = data[0] & 7u;
    data++;
    size--;
    dir = sl_path_join(fuzz_util_dir(), k_dir);
    if (!sl_path_is_dir(dir) && sl_mkdir_p(dir, &err) != SL_OK) {
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
    name = names[kind];
    file = sl_path_join(k_dir, name);
    if (kind == 4 || kind == 5)
        write_gzip(file, data, size);
    else
        free(fuzz_util_write(file, data, size));

    vals[0] = dir;
    node.element = k_dir;
    node.id = k_dir;
    node.nattr = 1;
    node.names = keys;
    node.values = vals;
    rc = drain(&node, NULL, &seen, &cks);
    /* Plain NDJSON (zlib reads it through unless it starts like gzip) and
     * NDJSON compressed here: the count of items is known. */
    if (rc == SL_OK && (kind == 0 || kind == 6 || kind == 4) &&
        !(kind != 4 && size >= 2 && data[0] == 0x1f && data[1] == 0x8b))
        FUZZ_ASSERT(seen.n == ndjson_units(data, size));
    if (rc == SL_OK && seen.n > 0) {
        check_resume(&node, &seen, &cks, 0);
        check_resume(&node, &seen, &cks, seen.n / 2);
        check_resume(&node, &seen, &cks, seen.n - 1);
    }
    sl_strv_free(&seen);
    sl_strv_free(&cks);

    /* The next input may pick another name: the folder holds one file. */
    full = sl_path_join(fuzz_util_dir(), file);
    (void)unlink(full);
    free(full);
    free(file);
    free(dir);
    return 0;
}

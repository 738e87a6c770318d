/* fuzz_rest_page.c - fuzz target of the fhir-rest source's page reader
 * (src/sources/fhir_rest_page.c): one input is the body of one search
 * reply, as a server (or anything between it and sluice) sent it. Its
 * first line is also tried as a FHIR instant, and the whole input as the
 * body of the two other replies the source reads: the server's
 * CapabilityStatement (GET /metadata, everything="auto") and a Group
 * (group="..."). See docs/fuzzing.md. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "fuzz.h"
#include "sources/fhir_rest_int.h"

/* The reader's messages start with one of these and quote nothing of the
 * input but a resource type name (letters only) or a Bundle type. */
static int
known_why(const char *why)
{
    static const char *const starts[] = {
        "malformed JSON at line ",     "not a Bundle (",
        "a Bundle of type ",           "Bundle.entry is not an array",
        "Bundle.link is not an array", "the next link has no url",
    };
    size_t i;

    for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++)
        if (strncmp(why, starts[i], strlen(starts[i])) == 0)
            return 1;
    return 0;
}

static void
instant(const uint8_t *data, size_t size)
{
    size_t n = 0;
    char line[64], out[40];
    int64_t ms, again;

    while (n < size && n < sizeof(line) - 1 && data[n] != '\n')
        n++;
    memcpy(line, data, n);
    line[n] = '\0';
    if (sl_rest_instant_ms(line, &ms) != 0)
        return;
    /* what is accepted can be written and read back to the same time */
    sl_rest_instant_format(ms, out, sizeof(out));
    FUZZ_ASSERT(sl_rest_instant_ms(out, &again) == 0);
    FUZZ_ASSERT(again == ms);
}

/* Each entry read as one of a type's history (deletes="history"): a
 * deletion, something else, or a reason among the reader's own; the ref
 * it gives is "Patient/" and a FHIR id, and an entry whose resource was
 * seen before is never a deletion. */
static void
history(const struct sl_rest_page *page)
{
    struct rest_src s;
    size_t i;
    json_t *e;

    memset(&s, 0, sizeof(s));
    s.id = "fuzz";
    json_array_foreach(page->entries, i, e)
    {
        char why[128], *ref = NULL;
        int64_t ms;
        int r;
        why[0] = '\0';
        r = sl_rest_history_entry(&s, e, "Patient", &ref, &ms, why,
                                  sizeof(why));
        if (r < 0) {
            FUZZ_ASSERT(ref == NULL);
            FUZZ_ASSERT(strncmp(why, "a history entry ", 16) == 0);
            continue;
        }
        FUZZ_ASSERT(r == 0 || r == 1);
        FUZZ_ASSERT(ref != NULL && strncmp(ref, "Patient/", 8) == 0);
        FUZZ_ASSERT(strlen(ref + 8) >= 1 && strlen(ref + 8) <= 64 &&
                    strspn(ref + 8, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmno"
                                    "pqrstuvwxyz0123456789-.") ==
                        strlen(ref + 8));
        /* seen now: the same entry again is never a deletion */
        {
            char *again = NULL;
            FUZZ_ASSERT(sl_rest_history_entry(&s, e, "Patient", &again, &ms,
                                              why, sizeof(why)) == 0);
            FUZZ_ASSERT(again != NULL && strcmp(again, ref) == 0);
            free(again);
        }
        free(ref);
    }
    sl_rest_set_clear(&s.hist_seen);
}

/* The fast reading accepts only pages jansson reads too, with the same
 * entries (each resource's text, read by jansson, is the resource jansson
 * found in the page, and made compact it is still that resource on one
 * line), the same modes and the same next link. */
static void
fast(const uint8_t *data, size_t size)
{
    struct sl_rest_page f, j;
    char *buf = sl_malloc(size + 1), why[200];
    size_t i;

    memcpy(buf, data, size);
    if (!sl_rest_page_parse_fast(buf, size, &f)) {
        free(buf); /* untouched, still ours */
        return;
    }
    FUZZ_ASSERT(sl_rest_page_parse((const char *)data, size, &j, why,
                                   sizeof(why)) == 0);
    FUZZ_ASSERT(sl_rest_page_count(&f) == sl_rest_page_count(&j));
    FUZZ_ASSERT((f.next == NULL) == (j.next == NULL));
    FUZZ_ASSERT(f.next == NULL || strcmp(f.next, j.next) == 0);
    for (i = 0; i < sl_rest_page_count(&f); i++) {
        struct sl_rest_entry a, b;
        json_t *v, *w;
        char *c;
        size_t cl;
        FUZZ_ASSERT(sl_rest_page_at(&f, i, &a, why, sizeof(why)) == 0);
        FUZZ_ASSERT(sl_rest_page_at(&j, i, &b, why, sizeof(why)) == 0);
        FUZZ_ASSERT(a.res == NULL && a.text != NULL && b.res != NULL);
        FUZZ_ASSERT(a.mode == b.mode);
        FUZZ_ASSERT(strcmp(a.rtype, b.rtype) == 0);
        FUZZ_ASSERT((a.id == NULL) == (b.id == NULL));
        FUZZ_ASSERT((a.last_updated == NULL) == (b.last_updated == NULL));
        FUZZ_ASSERT((a.version_id == NULL) == (b.version_id == NULL));
        v = json_loadb(a.text, a.text_len, JSON_REJECT_DUPLICATES, NULL);
        FUZZ_ASSERT(v != NULL && json_equal(v, b.res));
        c = sl_rest_compact(a.text, a.text_len, &cl);
        FUZZ_ASSERT(memchr(c, '\n', cl) == NULL);
        w = json_loadb(c, cl, JSON_REJECT_DUPLICATES, NULL);
        FUZZ_ASSERT(w != NULL && json_equal(w, v));
        json_decref(v);
        json_decref(w);
        free(c);
    }
    sl_rest_page_clear(&f);
    sl_rest_page_clear(&j);
}

/* GET /metadata: a CapabilityStatement (as jansson reads it) or not one,
 * and $everything said yes or no, nothing else. */
static void
capability(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, 0, NULL);
    const char *rt = json_string_value(json_object_get(doc, "resourceType"));
    int is_cs = json_is_object(doc) && rt != NULL &&
                strcmp(rt, "CapabilityStatement") == 0;
    int yes = -1, r;

    r = sl_rest_capability_everything((const char *)data, size, &yes);
    FUZZ_ASSERT(r == (is_cs ? 0 : -1));
    FUZZ_ASSERT(yes == 0 || yes == 1);
    FUZZ_ASSERT(r == 0 || yes == 0);
    /* the same answer with no body at all: not a statement */
    FUZZ_ASSERT(sl_rest_capability_everything(NULL, 0, &yes) == -1 && yes == 0);
    json_decref(doc);
}

/* GET Group/ID: each patient taken is a FHIR id (it goes into a URL
 * path), no more of them than members; a refused reply adds none. */
static void
group(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, 0, NULL);
    struct rest_src s;
    size_t i;
    int r;

    sl_log_setup(SL_LOG_ERROR, SL_LOGFMT_TEXT); /* its skips are warnings */
    memset(&s, 0, sizeof(s));
    s.id = "fuzz";
    r = sl_rest_group_members(&s, (const char *)data, size,
                              "http://127.0.0.1/Group/g");
    FUZZ_ASSERT(r == (json_is_array(json_object_get(doc, "member")) ? 0 : -1));
    FUZZ_ASSERT(r == 0 || s.patients.n == 0);
    FUZZ_ASSERT(s.patients.n <= json_array_size(json_object_get(doc, "member")));
    for (i = 0; i < s.patients.n; i++) {
        const char *id = s.patients.v[i];
        FUZZ_ASSERT(strlen(id) >= 1 && strlen(id) <= 64);
        FUZZ_ASSERT(strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                               "vwxyz0123456789-.") == strlen(id));
    }
    sl_strv_free(&s.patients);
    json_decref(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_rest_page page;
    char why[200];
    size_t i;
    json_t *e;

    instant(data, size);
    capability(data, size);
    group(data, size);
    {
        /* the quick look for the next link never reads past the input */
        char *nx = sl_rest_page_next_scan((const char *)data, size);
        FUZZ_ASSERT(nx == NULL || nx[0] != '\0');
        free(nx);
    }
    why[0] = '\0';
    if (sl_rest_page_parse((const char *)data, size, &page, why, sizeof(why)) !=
        0) {
        FUZZ_ASSERT(page.doc == NULL && page.next == NULL);
        FUZZ_ASSERT(known_why(why));
        return 0;
    }
    FUZZ_ASSERT(json_is_object(page.doc));
    FUZZ_ASSERT(page.entries == NULL || json_is_array(page.entries));
    FUZZ_ASSERT(page.next == NULL || page.next[0] != '\0');
    json_array_foreach(page.entries, i, e)
    {
        json_t *res = NULL;
        char mode = 0, ewhy[128];
        ewhy[0] = '\0';
        if (sl_rest_page_entry(e, &res, &mode, ewhy, sizeof(ewhy)) == 0) {
            FUZZ_ASSERT(json_is_object(res));
            FUZZ_ASSERT(
                json_string_length(json_object_get(res, "resourceType")) > 0);
            FUZZ_ASSERT(mode == 'm' || mode == 'i' || mode == 'o');
        } else {
            FUZZ_ASSERT(strcmp(ewhy, "the entry has no resource") == 0 ||
                        strcmp(ewhy, "not a FHIR resource: no resourceType") ==
                            0);
        }
    }
    history(&page);
    sl_rest_page_clear(&page);
    sl_rest_page_clear(&page); /* reusable, and NULL-safe */
    fast(data, size);
    return 0;
}

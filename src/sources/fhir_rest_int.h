/* fhir_rest_int.h - what the fhir-rest source's files share: the reader
 * of one searchset Bundle page (fhir_rest_page.c, fuzzed by
 * tests/fuzz/fuzz_rest_page.c) and FHIR instants as milliseconds. */
#ifndef SL_SOURCES_FHIR_REST_INT_H
#define SL_SOURCES_FHIR_REST_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/common.h"
#include "fhir/jtape.h"
#include "http/auth.h"
#include "http/http.h"
#include "item/item.h"

/* One page of a search: a Bundle of type searchset (or collection, as
 * some servers answer $everything). */
struct sl_rest_page {
    json_t *doc;     /* the Bundle (owned), or NULL when read fast */
    json_t *entries; /* its entry array (borrowed from doc), or NULL */
    char *next;      /* the URL of link[relation=next], or NULL */
    /* The fast reading (sl_rest_page_parse_fast): no jansson document. */
    char *raw;            /* the page's bytes as they came (owned) */
    size_t raw_len;
    char *copy;           /* a copy the tape decoded in place (owned) */
    struct sl_jtape tape; /* of copy */
    size_t n;             /* entries */
    size_t *at; /* 3 per entry: its tape node, the offset and the length
                   of its resource's text in raw (owned) */
};

/* One entry of a page, as the source uses it. The strings are borrowed
 * from the page (NULL when absent or not strings). */
struct sl_rest_entry {
    char mode; /* 'm' a match, 'i' an _include, 'o' an OperationOutcome */
    const char *rtype, *id, *last_updated, *version_id;
    json_t *res;      /* the resource (borrowed) when read by jansson */
    const char *text; /* else its JSON text in the page, text_len bytes */
    size_t text_len;
};

/* Reads the page in buf[0..len). On success (0) *out holds it (free with
 * sl_rest_page_clear). On failure (-1) why says what is wrong without
 * quoting the data: "malformed JSON at line 3 column 7", "not a Bundle
 * (OperationOutcome)", "a link has no url". */
int sl_rest_page_parse(const char *buf, size_t len, struct sl_rest_page *out,
                       char *why, size_t whylen);
void sl_rest_page_clear(struct sl_rest_page *p); /* NULL-safe, reusable */
/* The fast reading of an ordinary page: the tape reader checks the whole
 * text (jtape.h: what it accepts, jansson accepts with the same value)
 * and reads the Bundle's type, links and entries without building a
 * document; each entry's resource stays text, which a worker parses. 1
 * when it could: *out holds the page and owns buf (malloc'd, len bytes),
 * freed by sl_rest_page_clear. 0 when the page is anything else (not
 * JSON as the tape reads it, not a searchset, an entry without a
 * resource...): buf is untouched and sl_rest_page_parse decides and words
 * what is wrong. */
int sl_rest_page_parse_fast(char *buf, size_t len, struct sl_rest_page *out);
/* The JSON text s[0..n) (one the tape reader accepted) without the
 * whitespace between its tokens: one line, the same value, strings and
 * numbers as they were written. Caller frees; *outlen its length. */
char *sl_rest_compact(const char *s, size_t n, size_t *outlen);
/* Entries of a page, read either way. */
size_t sl_rest_page_count(const struct sl_rest_page *p);
/* Entry i: 0 with *e filled, or -1 with why set as sl_rest_page_entry. */
int sl_rest_page_at(const struct sl_rest_page *p, size_t i,
                    struct sl_rest_entry *e, char *why, size_t whylen);
/* The next link of a page found without reading the whole page (the
 * Bundle's "link" member alone is parsed), so that the next request can
 * leave before the page is read; a guess, checked against what
 * sl_rest_page_parse finds. Caller frees; NULL when none is found. */
char *sl_rest_page_next_scan(const char *buf, size_t len);

/* What one entry of a page holds. Returns 0 with *res the resource
 * (borrowed) and *mode 'm' (a match), 'i' (an _include or _revinclude)
 * or 'o' (an OperationOutcome the server adds: not data), or -1 with why
 * set ("no resource", "no resourceType"). */
int sl_rest_page_entry(const json_t *entry, json_t **res, char *mode, char *why,
                       size_t whylen);

/* A FHIR instant ("2026-12-07T14:03:00.123Z", "+01:00" offsets, seconds
 * fractions of any length) as milliseconds since 1970 UTC: 0, or -1 when
 * s is not one. */
int sl_rest_instant_ms(const char *s, int64_t *out);
/* ms as "YYYY-MM-DDThh:mm:ss.fffZ" (out: at least 32 bytes). */
void sl_rest_instant_format(int64_t ms, char *out, size_t len);

/* ---- the source (fhir_rest.c) ------------------------------------------- */
/* Resources near the watermark remembered for the next run's overlap;
 * beyond it the oldest are dropped and the next run starts after them. */
#define SEEN_MAX 20000

struct seen {
    char *key; /* "Type/id/versionId" */
    int64_t ms;
};

/* A set of strings (open addressing) */
struct sl_rest_set {
    char **v;
    size_t n, cap;
};

struct rest_src {
    const char *id;
    struct sl_http_auth *auth;
    struct sl_http *http;
    char *base;
    long count;
    struct sl_strv types, includes, revincludes, extra, patients;
    int everything;
    int64_t overlap_ms;
    size_t nunits;
    /* deletes="history": units nbase.. read each type's _history since
     * the last run (none when the run reads everything) */
    int deletes;
    size_t nbase;
    struct sl_rest_set hist_seen; /* "Type/id" the current one saw */
    uint64_t ndeleted;
    /* position */
    size_t u;       /* unit */
    long pageno;    /* page of the unit, from 1 */
    char *page_url; /* the current page (NULL: the unit's first) */
    size_t off;     /* entries of the page taken */
    size_t skip;    /* entries to skip when the page comes (resume) */
    int have_page;
    struct sl_rest_page page;
    struct sl_item *ahead; /* the next item, read before its predecessor
                              is handed on: the last one gets the end */
    int primed;
    /* incremental */
    int64_t since_ms;  /* -1: everything */
    int64_t prev_w;    /* the last run's watermark, or -1 */
    int64_t max_ms;    /* highest lastUpdated of a match so far, or -1 */
    int64_t cut_ms;    /* nothing at or before it is remembered */
    struct seen *prev; /* the last run's, sorted by key */
    size_t nprev;
    struct seen *recent; /* this run's */
    size_t nrecent, caprecent;
    uint64_t nskipped; /* the overlap brought again */
    int failed;        /* a unit could not be read to its end */
    /* the page after the current one, fetched while the current one's
     * items are handed on (one request in flight, as without it) */
    struct sl_rest_prefetch *pf;
};

/* ---- its lists (fhir_rest_list.c) ---------------------------------------- */
void sl_rest_seen_free(struct seen *v, size_t n);
/* by key, for qsort and bsearch */
int sl_rest_seen_cmp(const void *a, const void *b);
/* Keeps this run's resources within the overlap of watermark w, at most
 * SEEN_MAX of the newest; what is dropped moves s->cut_ms. */
void sl_rest_recent_prune(struct rest_src *s, int64_t w);
void sl_rest_recent_add(struct rest_src *s, const char *key, int64_t ms);
/* "Type/id/versionId" (else "Type/id/@MS") of a resource, or NULL when
 * type or id is NULL */
char *sl_rest_seen_key(const char *type, const char *id, const char *version,
                       int64_t ms);
/* True when the last run saw key near its watermark. */
int sl_rest_was_seen(const struct rest_src *s, const char *key);
/* Appends the space-separated words of v (NULL: none). */
void sl_rest_split(const char *v, struct sl_strv *out);
/* The patient list from a file (ids or Patient/ids, one a line, '#'
 * comments; errors name the file's line) or from a Group's members. */
int sl_rest_patients_file(struct rest_src *s, const char *path,
                          struct sl_err *err);
int sl_rest_patients_group(struct rest_src *s, const char *group,
                           struct sl_err *err);
/* Reads the body of a Group reply: 0 with the Patient ids of its members
 * added to s->patients (a member that is not a Patient reference with a
 * FHIR id is skipped with a warning naming its number and shown, the URL
 * as logged), -1 when it is not an object with a member array. Fuzzed by
 * tests/fuzz/fuzz_rest_page.c. */
int sl_rest_group_members(struct rest_src *s, const char *buf, size_t len,
                          const char *shown);

/* ---- shared by the source's files (fhir_rest.c) ------------------------- */
/* The checkpoint after the current item (JSON; caller frees). */
char *sl_rest_mid_checkpoint(const struct rest_src *s);
/* Reads a checkpoint ck (from the state store) to resume a run: sets
 * s->u (at most s->nunits), the page, the entries to skip and the
 * watermark so far; a checkpoint that cannot be one, names a search
 * beyond the configured ones or a page outside s->base is SL_ESTATE
 * naming the source. Fuzzed by tests/fuzz/fuzz_rest_ck.c. */
int sl_rest_resume_at(struct rest_src *s, const char *ck, struct sl_err *err);
/* The source's since(): reads the end checkpoint of the last finished run
 * (ctx: the rest_src) into s->prev_w, s->cut_ms, s->since_ms and s->prev
 * (sorted). Fuzzed by tests/fuzz/fuzz_rest_ck.c. */
int sl_rest_since(void *ctx, const char *last, struct sl_err *err);
/* A quarantine item for what could not be read; reason holds no data. */
struct sl_item *sl_rest_bad_item(struct rest_src *s, const char *pos,
                                 const char *origin, const char *raw,
                                 size_t rawlen, const char *reason);
/* ---- units (fhir_rest_url.c) ------------------------------------------- */
/* The resource type unit u searches (or reads the history of). */
const char *sl_rest_unit_type(const struct rest_src *s, size_t u);
/* True when unit u reads a type's history (deletes="history"). */
int sl_rest_unit_hist(const struct rest_src *s, size_t u);
/* Where a history unit starts: the run's own start when incremental;
 * in a run that reads everything, the overlap before the watermark its
 * searches found, whose deletions are only remembered (so that the next
 * run does not pass them on); -1 when there is nothing to read. */
int64_t sl_rest_hist_since(const struct rest_src *s);
/* The first page of unit u, a path under the base (caller frees). */
char *sl_rest_first_url(const struct rest_src *s, size_t u);
/* "Observation page 3", "patient 2 Observation page 1": no data */
void sl_rest_unit_name(const struct rest_src *s, char *out, size_t len);

/* ---- history and capabilities (fhir_rest_hist.c) ------------------------- */
/* Entry i of the current history page (the unit's type): a deletion
 * item, a quarantine item for an entry that is not one of a history, or
 * NULL (a change the searches read, an older entry, a deletion the last
 * run passed on, or one a run reading everything only remembers). */
struct sl_item *sl_rest_history_item(struct rest_src *s, size_t i,
                                     const char *pos);
/* 1 when key was not in h yet (added, copied), 0 when it was. */
int sl_rest_set_add(struct sl_rest_set *h, const char *key);
void sl_rest_set_clear(struct sl_rest_set *h);
/* One entry of a type's history page: 1 when it says the resource was
 * deleted (the newest entry of that resource in this history), 0 when it
 * is anything else or an older entry of a resource already seen, -1 with
 * why set (no data quoted) when it is not a history entry of type. *ref
 * gets "Type/id" (caller frees; NULL on -1), *ms the time of the change
 * or -1. */
int sl_rest_history_entry(struct rest_src *s, const json_t *entry,
                          const char *type, char **ref, int64_t *ms,
                          char *why, size_t whylen);
/* Reads the body of a /metadata reply (buf may be NULL when len is 0):
 * 0 when it is a CapabilityStatement, with *yes 1 when that lists
 * Patient/$everything (by operation name or definition), else 0; -1 when
 * it is not JSON or not a CapabilityStatement (*yes 0). Fuzzed by
 * tests/fuzz/fuzz_rest_page.c. */
int sl_rest_capability_everything(const char *buf, size_t len, int *yes);
/* Reads base/metadata: *yes when its CapabilityStatement lists
 * Patient/$everything. A reply that is not one is logged and taken as
 * no; an error only when the server cannot be reached. */
int sl_rest_offers_everything(struct rest_src *s, int *yes, struct sl_err *err);

#endif

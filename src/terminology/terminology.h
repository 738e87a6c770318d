/* terminology.h - terminology maps (FHIR R4 ConceptMap and a CSV form)
 * and the local $translate operation over them.
 *
 * A map is a set of groups, one per (source system, target system) pair,
 * each holding source codes and their targets with an R4 `equivalence`.
 * Translating a coding (system, version, code) looks in every group of
 * the map whose source is that system (and version, when both carry
 * one): the targets of its code are the matches; a code the group does
 * not list takes the group's `unmapped` mode (provided: the same code in
 * the target system; fixed: one given code; other-map: the same question
 * to another map of the set, by canonical URL).
 *
 * Maps are checked when loaded: errors name the file and the line (CSV)
 * or the element path (ConceptMap), never a value from patient data (maps
 * hold codes, which are not PHI). */
#ifndef SL_TERMINOLOGY_H
#define SL_TERMINOLOGY_H

#include <stddef.h>

#include <jansson.h>

#include "common/common.h"

/* R4 ConceptMapEquivalence, in the order of the specification. */
enum sl_term_rel {
    SL_REL_RELATEDTO,
    SL_REL_EQUIVALENT,
    SL_REL_EQUAL,
    SL_REL_WIDER,
    SL_REL_SUBSUMES,
    SL_REL_NARROWER,
    SL_REL_SPECIALIZES,
    SL_REL_INEXACT,
    SL_REL_UNMATCHED,
    SL_REL_DISJOINT,
};

/* The code of rel ("wider"), or "?" */
const char *sl_term_rel_name(enum sl_term_rel rel);
/* rel of a code; -1 when name is not an R4 equivalence code. */
int sl_term_rel_parse(const char *name);
/* Whether a match of this relationship is a translation (everything but
 * unmatched and disjoint, as $translate's `result`). */
int sl_term_rel_is_match(enum sl_term_rel rel);

/* One match. Strings are borrowed from the map (valid while it lives). */
struct sl_term_match {
    const char *system, *version, *code, *display;
    enum sl_term_rel rel;
    const char *map; /* the name of the map that gave it */
};

/* What a translation found. */
enum sl_term_outcome {
    SL_TERM_OUT_OF_SCOPE, /* no group of the map has the coding's system */
    SL_TERM_MAPPED,       /* at least one match (rel_is_match) */
    SL_TERM_UNMAPPED,     /* in scope, nothing matched */
    SL_TERM_FAILED,       /* in scope of a remote map whose server did
                             not answer: could not translate */
};

#define SL_TERM_MAX_MATCHES 16

struct sl_term_result {
    enum sl_term_outcome outcome;
    size_t n; /* matches, translations first */
    struct sl_term_match m[SL_TERM_MAX_MATCHES];
};

struct sl_term_map;
struct sl_term_set;

/* Loads one map file: ConceptMap JSON (.json) or CSV (.csv). *out owns
 * the map (sl_term_map_free). On a bad map, err names the file and the
 * line (CSV) or element path (JSON). */
int sl_term_map_load(const char *path, struct sl_term_map **out,
                     struct sl_err *err);
/* The same from bytes; name is the file's name in messages and the
 * map's name when it has none. csv: the CSV form, else ConceptMap JSON. */
int sl_term_map_parse(const char *name, const char *data, size_t len, int csv,
                      struct sl_term_map **out, struct sl_err *err);
void sl_term_map_free(struct sl_term_map *m); /* NULL-safe */
/* The map's name (ConceptMap.name, else its file name without
 * extension), canonical url (or NULL) and version (or NULL). */
const char *sl_term_map_name(const struct sl_term_map *m);
const char *sl_term_map_url(const struct sl_term_map *m);
const char *sl_term_map_version(const struct sl_term_map *m);
size_t sl_term_map_ngroups(const struct sl_term_map *m);

/* A set of maps: what a <translate> stage or `sluice translate` applies,
 * in order; other-map references are resolved within the set. */
struct sl_term_set *sl_term_set_new(void);
void sl_term_set_free(struct sl_term_set *s); /* NULL-safe */
/* Adds a map (the set takes it, also on failure). Refuses two maps with
 * the same name. */
int sl_term_set_add(struct sl_term_set *s, struct sl_term_map *m,
                    struct sl_err *err);
/* Loads NAME|FILE: a path (holds '/' or ends in .json or .csv), else a
 * shipped map terminology/NAME.json or NAME.csv. */
int sl_term_set_load(struct sl_term_set *s, const char *name_or_path,
                     struct sl_err *err);
/* Checks that every other-map reference names a map of the set. */
int sl_term_set_check(const struct sl_term_set *s, struct sl_err *err);
size_t sl_term_set_count(const struct sl_term_set *s);
const struct sl_term_map *sl_term_set_map(const struct sl_term_set *s,
                                          size_t i);

/* Whether JSON text len bytes long may hold a coding some map of s has
 * in scope: false only when no group's source system appears in it and
 * it has no escape that could spell one (\/, \u), so that a caller may
 * skip parsing text that cannot change. */
int sl_term_set_may_apply(const struct sl_term_set *s, const char *text,
                          size_t len);
/* Whether JSON text holds an escaped '/' or a \u escape: a system
 * written so is not found by searching for its plain spelling. */
int sl_term_text_escapes(const char *text, size_t len);

/* The folder of shipped maps (caller frees). */
char *sl_term_dir(void);

/* $translate of one coding over map m of set s (s may be NULL: no
 * other-map). target_system: only matches in that system, or NULL.
 * version may be NULL. Fills *r. Thread-safe: maps are read-only. */
void sl_term_translate(const struct sl_term_set *s,
                       const struct sl_term_map *m, const char *system,
                       const char *version, const char *code,
                       const char *target_system, struct sl_term_result *r);

/* ---- applying maps to FHIR resources (term_apply.c) ---- */

enum sl_term_policy {
    SL_TERM_ADD,     /* the target coding beside the original */
    SL_TERM_REPLACE, /* the target coding in place of the original */
};
enum sl_term_unmapped {
    SL_TERM_KEEP,       /* keep the coding, record a finding */
    SL_TERM_QUARANTINE, /* quarantine the resource */
    SL_TERM_DROP,       /* remove the coding */
};

/* Called for every coding in scope of a map: mapped (1), not mapped (0)
 * or could not be translated (-1: the terminology server did not
 * answer), the map's name and the element path
 * ("Observation.code.coding[0]"). */
typedef void (*sl_term_report_fn)(void *arg, const char *map, int mapped,
                                  const char *where);

struct sl_term_apply {
    const struct sl_term_set *set;
    enum sl_term_policy policy;
    enum sl_term_unmapped unmapped;
    const char *target_system;    /* or NULL */
    const char *const *elements;  /* "Type.path" element paths, NULL-ended;
                                     NULL: sl_term_default_elements */
    sl_term_report_fn report;     /* may be NULL */
    void *arg;
    /* A map on a terminology server, asked after the local maps (the set
     * may be empty) for the codings of remote_sources; NULL: none. A
     * coding it could not translate sends the resource to quarantine,
     * whatever `unmapped` says: nothing passes untranslated unseen. */
    struct sl_term_client *client;
    const char *remote_map;              /* its canonical url */
    const char *remote_name;             /* its name in findings */
    const char *const *remote_sources;   /* source systems, NULL-ended */
};

extern const char *const sl_term_default_elements[];

/* Checks an element path ("Observation.code"): a resource type and
 * names. */
int sl_term_element_check(const char *path, struct sl_err *err);

/* Translates the codings of resource res the job selects, in place.
 * *changed is set when the resource changed. Returns SL_EQUARANTINE with
 * err naming the element when a coding did not map and the policy asks
 * for quarantine. */
int sl_term_apply_resource(const struct sl_term_apply *a, json_t *res,
                           int *changed, struct sl_err *err);

/* ---- Quantity units normalised to UCUM (term_units.c) ----
 *
 * A conversion table (CSV: analyte system, analyte code, analyte, from,
 * to, factor; see terminology/units-si.csv): the Quantities of
 * Observations whose code has the analyte's coding and whose unit is
 * `from` get value * factor in exact decimal arithmetic (precision of the
 * original kept, see term_dec.c) and the UCUM unit `to`; rows without an
 * analyte name spellings of units (mg/dl -> mg/dL) for Quantities
 * without a system. */
struct sl_term_units;

/* The extension that keeps a converted Quantity's original. */
#define SL_TERM_ORIGINAL_QUANTITY \
    "urn:sluice:fhir:StructureDefinition:original-quantity"

/* Loads NAME|FILE: a path (holds '/' or ends in .csv), else the shipped
 * table terminology/NAME.csv. Errors name the file and line. */
int sl_term_units_load(const char *name_or_path, struct sl_term_units **out,
                       struct sl_err *err);
int sl_term_units_parse(const char *name, const char *data, size_t len,
                        struct sl_term_units **out, struct sl_err *err);
void sl_term_units_free(struct sl_term_units *u); /* NULL-safe */
/* The table's name: its file name without extension. */
const char *sl_term_units_name(const struct sl_term_units *u);
/* Converts the Quantities of res (an Observation, or a Bundle's) in
 * place; with keep_original each converted Quantity gets an extension
 * SL_TERM_ORIGINAL_QUANTITY holding what it was. report (may be NULL) is
 * called for every Quantity a row matched: converted (1), or not (0: a
 * value too large to convert exactly), with the table's name and the
 * element path. *changed says whether res changed. */
void sl_term_units_apply(const struct sl_term_units *u, json_t *res,
                         int keep_original, sl_term_report_fn report,
                         void *arg, int *changed);

/* ---- dates and times in UTC (term_time.c) ---- */

/* A FHIR dateTime or instant with a time and an offset, in UTC keeping
 * its precision ("2024-03-01T00:30:00.25+01:00" ->
 * "2024-02-29T23:30:00.25Z"): 1 and out written; 0 (out a copy) when it
 * is already in UTC ("Z"); -1 when it is not such a dateTime (a date
 * alone, a time without offset, not a date), out untouched. */
int sl_term_time_utc(const char *in, char *out, size_t outlen);
/* Every string value of res that is a dateTime with an offset, in UTC;
 * *changed says whether one was. */
void sl_term_times_utc(json_t *res, int *changed);

/* ---- the remote terminology client (term_client.c, term_cache.c) ----
 *
 * ConceptMap/$translate, CodeSystem/$lookup and ValueSet/$validate-code
 * against a FHIR R4 terminology server through src/http (its retries,
 * TLS and the connectors' auth module), with a cache of the answers: in
 * memory, and optionally in an SQLite file that outlives the run, each
 * answer kept for a time to live. An answer of the server (mapped, not
 * mapped, found, not found, valid, not valid) is cached; a failure (the
 * server unreachable, a 5xx, an answer that is not Parameters) is not,
 * and is returned as an error the caller must not take for "unmapped".
 * After a network failure the client does not ask the server again for
 * SL_TERM_CLIENT_PAUSE_S seconds (each call fails at once), so that a run
 * whose server went down goes on quickly instead of waiting on retries.
 *
 * Thread-safe: one client serves every thread of a run. */
struct sl_term_client;
struct sl_http_auth;

#define SL_TERM_CLIENT_PAUSE_S 30

struct sl_term_client_opts {
    const char *base;       /* the server's FHIR base URL (copied) */
    struct sl_http_auth *auth; /* borrowed, may be NULL */
    const char *ca_file;    /* or NULL: the system's CAs */
    const char *cache_path; /* SQLite file (made when missing), or NULL:
                               memory only */
    long ttl_s;             /* how long an answer is kept; 0: 86400 */
    int batch;              /* codings per batch Bundle of $translate
                               calls (sl_term_client_prefetch); 0 or 1:
                               one request per coding */
    long timeout_ms;        /* one request; 0: 30 s */
    int max_attempts;       /* tries of one request; 0: 3 */
};

/* Makes a client; opens (or makes) the cache file. *out owns it. */
int sl_term_client_new(const struct sl_term_client_opts *o,
                       struct sl_term_client **out, struct sl_err *err);
void sl_term_client_free(struct sl_term_client *c); /* NULL-safe */

/* ConceptMap/$translate of one coding with the server's map of canonical
 * url map_url (version, target_system may be NULL). On SL_OK *r holds the
 * answer (SL_TERM_MAPPED or SL_TERM_UNMAPPED; match strings are owned by
 * the client and stay valid until it is freed; m[].map is map_name).
 * SL_ENET or SL_EPARSE: no answer; err names the server's host and the
 * operation (never the code). */
int sl_term_client_translate(struct sl_term_client *c, const char *map_url,
                             const char *map_name, const char *system,
                             const char *version, const char *code,
                             const char *target_system,
                             struct sl_term_result *r, struct sl_err *err);

/* A coding to ask about, for sl_term_client_prefetch. */
struct sl_term_coding {
    const char *system, *version, *code;
};
/* Asks the server in batch Bundles (opts.batch at a time) the codings the
 * cache does not hold yet, so that the sl_term_client_translate calls
 * that follow are answered from the cache. A server that refuses batch
 * Bundles (a 4xx) is asked one coding at a time from then on. Failures
 * are left for sl_term_client_translate to report. */
void sl_term_client_prefetch(struct sl_term_client *c, const char *map_url,
                             const struct sl_term_coding *v, size_t n,
                             const char *target_system);

/* CodeSystem/$lookup. On SL_OK *found says whether the server knows the
 * code, and *display (caller frees; NULL when none) its display. */
int sl_term_client_lookup(struct sl_term_client *c, const char *system,
                          const char *version, const char *code, int *found,
                          char **display, struct sl_err *err);

/* ValueSet/$validate-code: whether (system, code) is in the value set of
 * canonical url valueset_url (version and display may be NULL; a display
 * given is checked too). On SL_OK *valid is the server's `result` and
 * *message (caller frees; NULL when none) its `message`. */
int sl_term_client_validate_code(struct sl_term_client *c,
                                 const char *valueset_url, const char *system,
                                 const char *version, const char *code,
                                 const char *display, int *valid,
                                 char **message, struct sl_err *err);

struct sl_term_client_stats {
    unsigned long long asked;    /* calls of the three operations */
    unsigned long long hits;     /* of those, answered by the cache */
    unsigned long long sent;     /* codings sent to the server, alone or
                                    in batches: 1 - sent/asked is the
                                    cache's hit rate (a prefetched coding
                                    is a hit of the call that follows) */
    unsigned long long requests; /* HTTP requests made (a batch is one) */
    unsigned long long failed;   /* calls that got no answer */
};
void sl_term_client_stats(struct sl_term_client *c,
                          struct sl_term_client_stats *st);

#endif

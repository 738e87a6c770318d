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
 * in scope: false only when no group's source system appears in it
 * (written with or without escaped slashes), so that a caller may skip
 * parsing text that cannot change. */
int sl_term_set_may_apply(const struct sl_term_set *s, const char *text,
                          size_t len);

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

/* Called for every coding in scope of a map: mapped or not, the map's
 * name and the element path ("Observation.code.coding[0]"). */
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

#endif

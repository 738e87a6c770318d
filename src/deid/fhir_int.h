/* fhir_int.h - internals of the FHIR de-identification engine shared by
 * its files. Not a public header: the API is fhir.h. The FHIR knowledge
 * it uses (type table, dates, the JSON tape) is src/fhir/. */
#ifndef SL_DEID_FHIR_INT_H
#define SL_DEID_FHIR_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "common/common.h"
#include "common/hash.h"
#include "deid/fhir.h"
#include "fhir/fhir.h"

/* ---- small transforms ---------------------------------------------------- */
/* ZIP code to its first 3 digits, "000" for the prefixes of areas of
 * 20,000 people or fewer (Safe Harbor (B), 2000 census list). out: at
 * least 4 bytes. Returns 0 when zip does not start with 3 digits. */
int sl_fhir_zip3(const char *zip, char *out);
/* A UUID (8-4-4-4-12, version 4 bits set) from a base32 pseudonym.
 * out: at least 37 bytes. */
void sl_fhir_uuid_from_pseudonym(const char *ps, char *out);

/* ---- learned values: a set of normalised strings (fhir_vset.c) ----------
 * Values are trimmed of leading and trailing characters that are not
 * letters or digits, and compared with text in a folded form (Unicode
 * NFKD, case folding, marks dropped, runs of white space as one space:
 * "JOSÉ" = "José" = "Jose"); matches in text start and end at word
 * boundaries, so "Ann" is found in "Ann Lee" but not in "Annual", and
 * inside runs of Han, Kana, Hangul or Thai at any character. */
struct sl_fhir_vset {
    uint64_t *slot; /* hashes of the values (see fhir_util.c), 0: empty */
    size_t cap, n;
    size_t maxlen;
    unsigned char *first; /* bitmap of the first two bytes of values */
    unsigned char *words; /* bitmap of the hashes of their first words */
    uint64_t version;     /* fhir_memo_serial() at the last value added, or 0 */
};
/* minlen: at least 2 (the look-up filters on the first two folded
 * bytes), counted in folded bytes; a value in an unspaced script needs
 * two characters. */
void sl_fhir_vset_add(struct sl_fhir_vset *s, const char *v, size_t minlen);
/* The same for the n bytes at v (no NUL needed). */
void sl_fhir_vset_addn(struct sl_fhir_vset *s, const char *v, size_t n,
                       size_t minlen);
/* A value's form in a set, worked out without the set (so outside the
 * lock that guards it): sl_fhir_vset_key returns 0 when the value is not
 * one to add (too short once trimmed), 1 and *out otherwise;
 * sl_fhir_vset_put adds it. sl_fhir_vset_addn is the two. */
struct sl_fhir_vkey {
    uint64_t k;
    unsigned word, first;
    size_t n;
};
int sl_fhir_vset_key(const char *v, size_t n, size_t minlen,
                     struct sl_fhir_vkey *out);
void sl_fhir_vset_put(struct sl_fhir_vset *s, const struct sl_fhir_vkey *k);
void sl_fhir_vset_free(struct sl_fhir_vset *s);
/* Finds the first match in text at or after from: returns 1 and sets
 * *start, *end (byte offsets) or returns 0. */
int sl_fhir_vset_find(const struct sl_fhir_vset *s, const char *text,
                      size_t len, size_t from, size_t *start, size_t *end);
/* text with every match replaced by repl; caller frees. NULL when there
 * was no match. */
char *sl_fhir_vset_scrub(const struct sl_fhir_vset *s, const char *text,
                         const char *repl);
/* ---- attachments: base64 and content types ---- */

/* base64 (RFC 4648, padded; whitespace between characters is skipped, as
 * FHIR's base64Binary allows) decoded into a NUL-terminated buffer of *n
 * bytes; caller frees (wipe: it holds data). NULL when s is not base64. */
unsigned char *sl_fhir_b64_decode(const char *s, size_t len, size_t *n);
/* p as base64; caller frees. */
char *sl_fhir_b64_encode(const unsigned char *p, size_t n);
/* What a contentType (parameters and case ignored) holds, for scrubbing
 * and for the leak scan: plain text (any other text/ type), RTF (text/rtf,
 * application/rtf), XML or XHTML (application/xhtml+xml, text/html,
 * text/xml, application/xml, anything +xml: CDA documents), or anything
 * else (PDF, images: binary, not read). */
enum {
    SL_FHIR_CT_OTHER,
    SL_FHIR_CT_TEXT,
    SL_FHIR_CT_RTF,
    SL_FHIR_CT_XML,
    SL_FHIR_CT_PDF /* binary, never scrubbed; its text leak-scanned when kept */
};
int sl_fhir_content_kind(const char *ct);
/* 1 when p is UTF-8 without NUL bytes: text the scrubber can read. */
int sl_fhir_utf8_ok(const unsigned char *p, size_t n);
/* 1 when RTF text writes characters as escapes (\'e9, \u233): values
 * could hide behind them, so it is not read as plain text. */
int sl_fhir_rtf_escaped(const char *s);

/* ==== the engine (fhir*.c) ==============================================
 * fhir_compile.c compiles the profile chain into an engine; fhir_map.c is
 * pass 1's string map; fhir_ref.c finds the patient of a resource;
 * fhir_learn.c is pass 1; pass 2 is fhir_walk.c (the tree walk), with
 * fhir_call.c (the state of one call and rule matching) and fhir_method.c
 * (what the methods make of a value); fhir_write.c writes the result with
 * the leak scan; fhir.c is the Provenance and --explain; fhir_util.c
 * holds the transforms and fhir_vset.c the learned-value set declared
 * above. */

enum fd_method {
    FD_KEEP,
    FD_DESCEND,
    FD_REMOVE,
    FD_EMPTY,
    FD_REPLACE,
    FD_PSEUDONYMISE,
    FD_UID,
    FD_DATE_SHIFT,
    FD_GENERALISE,
    FD_PERTURB,
    FD_ENCRYPT,
    FD_SCRUB,
    FD_NMETHODS
};

/* The names of the methods as profiles write them (fhir_method.c). */
extern const char *const fhir_method_names[FD_NMETHODS];

/* SEL_NAME: string and markdown elements of a name, in any resource or
 * data type ("description", "comment") */
enum fd_sel { SEL_EXT, SEL_PATH, SEL_RPATH, SEL_TPATH, SEL_TYPE, SEL_NAME };

struct fd_count {
    char *path;
    uint64_t hash; /* of path: merging compares it first */
    long n;
};

struct fd_rule {
    char *id;
    int method;
    int sel;
    char *target;    /* URL, canonical path, or type */
    char *ctype;     /* a path written with a concrete choice: its type */
    char *value;     /* replace */
    double bound;    /* perturb */
    int bound_pct;   /* bound is a percentage of the value */
    char *system;    /* condition: the object's system (trailing '*': prefix) */
    char *type_code; /* condition: a code of the object's type.coding */
    char *code;      /* condition: the object's code (Quantity.code "a") */
    int doc;         /* index in the chain; -1 for the built-in pseudo rules */
    uint64_t hash;   /* of target, to skip most strcmp calls */
    struct fd_count *counts; /* explain; guarded by the engine's lock */
    size_t ncounts, capcounts;
};

/* Uses per rule when only the totals are counted (no explain) go to one
 * of FD_HIT_SHARDS rows of counters, a thread always to the same row
 * (fhir_call_hits), each row on cache lines of its own: with one shared
 * counter a rule, every resource's few atomic additions took the lines
 * of the rules (which every element's look-up reads) away from the other
 * threads' cores. The total of a rule is the sum of its column. */
#define FD_HIT_SHARDS 8

/* A patient learned in pass 1. */
struct fd_patient {
    char *mrn;        /* the identifier the date shift derives from, or
                       * NULL (in the map's chunks) */
    int32_t mrn_rank; /* the rank of the input it came from */
    int32_t latest;   /* latest full date of the record (packed), 0: none */
    /* pass 2: the date shift of mrn, computed by the first resource that
     * needs it and read with atomics (never 0: shifts are negative), so
     * that one HMAC serves all the patient's resources; 0: not yet */
    int32_t shift;
};

/* A resource others reach their patient through (sl_fhir_is_context_type:
 * an Encounter, an EpisodeOfCare), seen in pass 1 whichever comes first:
 * its patient, or the context resource it reaches its patient through,
 * and until then the latest full date of the resources that named it. */
struct fd_node {
    const char *patient; /* a key of d->patients (stable until freed) */
    const char *via;     /* a key of d->nodes, when patient is NULL */
    int32_t rank;        /* of the input patient or via came from */
    int32_t latest;      /* fhir_day_pack */
};

/* What a reference form names: a Bundle entry's fullUrl (urn:uuid:,
 * urn:oid:, an absolute URL), a contained resource ("ck#id"), or a
 * Patient's identifier as a conditional reference names it
 * ("Patient?identifier=system|value", "Patient?identifier=value").
 * key: the resource's key (see fhir_ref_key); ambiguous: two patients
 * share the identifier, so the conditional reference names neither. */
struct fd_alias {
    char *key;
    long rank;
    int ambiguous;
};

/* Keys and values of a map live in chunks freed with it: one allocation
 * per 64 KiB instead of two per entry (pass 1 keeps an entry per patient
 * and per encounter, and malloc's own overhead was a fifth of that). */
struct fd_chunk {
    struct fd_chunk *next;
    size_t used, cap;
    char data[];
};

/* A string-keyed map (open addressing); values come from fhir_map_alloc, and
 * what they point to is freed by the map's user through free_val. */
struct fd_map {
    char **keys;
    void **vals;
    size_t cap, n;
    struct fd_chunk *chunks;
};

/* The forms a Patient's identifiers are named by in conditional
 * references ("Patient?identifier=system|value", "...=value"): pass 1
 * keeps two 64-bit hashes of each form (seeded at random per engine, so
 * that no input can be written to make two forms collide), never the
 * identifier itself, and the Patient's key (the patients map's copy);
 * ambiguous: two patients share the identifier, so the conditional
 * reference names neither. 32 bytes a slot instead of the form, a copy
 * of the key and a map entry (about 100 bytes a form). */
struct fd_ident {
    uint64_t h1, h2; /* h1 == 0: an empty slot */
    const char *key;
    int ambiguous;
};
struct fd_idents {
    struct fd_ident *slot;
    size_t cap, n;
    uint64_t seed1, seed2;
};

#define FD_REF_BASE_MAX 255

struct sl_fhir_deid {
    const struct sl_keys *keys;
    uint64_t serial; /* fhir_memo_serial(): what fhir_memo.c ties to it */
    char *chain_desc;
    struct sl_strv doc_names; /* "basic 1" per chain document */
    struct fd_rule *rules;    /* nrules, then the two pseudo rules */
    size_t nrules;
    /* rules by the hash of their target: bucket heads and chains of rule
     * indexes, highest index first (-1 ends) */
    int *bucket, *chain;
    size_t nbuckets;
    char *security_code;
    char *pid_system;
    int shift_min, shift_max;
    unsigned char enc_key[32];
    int has_enc_key;
    struct fd_map patients;  /* key ("Patient/id"...) -> struct fd_patient */
    struct fd_map aliases;   /* reference form -> struct fd_alias */
    struct fd_idents idents; /* Patient?identifier= forms (fhir_map.c) */
    struct fd_map nodes;     /* key of an Encounter... -> struct fd_node */
    struct sl_fhir_vset values;
    pthread_mutex_t lock;
    pthread_mutex_t learn_lock; /* pass 1 on several threads */
    /* the base absolute references and fullUrls get instead of the
     * source server's ("" : references relative, fullUrls urn:uuid:) */
    char ref_base[FD_REF_BASE_MAX + 1];
    int no_counts;      /* nobody will ask for --explain: count nothing */
    atomic_ulong *hits; /* FD_HIT_SHARDS rows of hits_row counters */
    size_t hits_row;    /* nrules + 2, rounded up to a cache line */
    int has_name_rules; /* some rule is SEL_NAME */
    /* dates found in free text are shifted (the profile's rule for
     * dateTime is date-shift), else reduced to the year */
    int text_shift;
};

#define R_NORULE(d)  ((int)(d)->nrules)     /* inherited "remove" */
#define R_UNKNOWN(d) ((int)(d)->nrules + 1) /* not defined in R4 */

#define DAR_URL       "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
#define REDACTED_TEXT "[redacted]"
/* what replaces a narrative that cannot be read: R4 wants a div with some
 * text (txt-2) whenever text is present */
#define FHIR_EMPTY_DIV \
    "<div xmlns=\"http://www.w3.org/1999/xhtml\">" REDACTED_TEXT "</div>"
/* what the encrypt method writes (fhir_method.c) */
#define FHIR_ENC_PREFIX "sluice-aes256gcm:"

/* ---- the free-text scrubber (fhir_scrub.c) ---- */

struct call;
struct res;

/* What scrubbing a string needs: the learned values, and the call and
 * resource whose patient's offset shifts the dates found (c NULL: dates
 * are reduced to the year). */
struct fhir_scrub {
    const struct sl_fhir_vset *values;
    struct call *c;
    struct res *r;
};

/* text with every learned value and every identifier the detectors of
 * text_detect.h find replaced: dates by their year or shifted (as the
 * profile treats dates), ages over 89 by "90+", the rest by
 * REDACTED_TEXT. A new string (caller frees, wipes), or NULL when nothing
 * had to change. */
char *fhir_scrub_text(const struct fhir_scrub *x, const char *text);

/* ---- markup (fhir_xhtml.c) ---- */

#define FX_DIV 1 /* a Narrative.div: one <div> element, no declaration */

/* Markup with its text and attribute values scrubbed (fhir_scrub_text),
 * and comments, processing instructions and elements with a data:,
 * mailto:, tel: or sms: URI dropped. SL_OK with *out a new string (caller
 * frees, wipes), or NULL when nothing had to change; SL_EPARSE when text
 * is not well-formed, has a DTD, or (FX_DIV) is not one <div>. */
int fhir_xhtml_scrub(const struct fhir_scrub *x, const char *text,
                     size_t len, int flags, char **out);
/* The leak scan of markup: 1 when a learned value is in its text,
 * attribute values, comments or processing instructions (character
 * references read), 2 when it would have to be parsed and cannot be, 0
 * when clean. Element and attribute names are not values. */
int fhir_xhtml_find(const struct sl_fhir_vset *s, const char *text,
                    size_t len, int flags);

/* ---- what pass 2 remembers per thread (fhir_memo.c) ----
 * Strings of up to FHIR_MEMO_KEY bytes, found by their exact bytes; the
 * table is wiped when its thread ends (fhir_memo_release: now, for the
 * calling thread). */
#define FHIR_MEMO_KEY 118
/* A new number, never 0: engines and versions of value sets. */
uint64_t fhir_memo_serial(void);
void fhir_memo_release(void);
/* sl_keys_pseudonym(d->keys, domain, v) into out; domain: one of keys.h's
 * SL_KD_ constants (compared by address). */
void fhir_memo_pseudonym(const struct sl_fhir_deid *d, const char *domain,
                         const char *v, char *out);
/* sl_keys_date_shift(d->keys, k, d->shift_min, d->shift_max) */
int fhir_memo_date_shift(const struct sl_fhir_deid *d, const char *k);
/* 1 when text (n bytes) was found clean by the leak scan's
 * sl_fhir_vset_find (scan) or by fhir_scrub_text (scrub) with the set s
 * as it is now; the _add functions record that it was. */
int fhir_memo_scan_clean(const struct sl_fhir_vset *s, const char *text,
                         size_t n);
void fhir_memo_scan_clean_add(const struct sl_fhir_vset *s, const char *text,
                              size_t n);
int fhir_memo_scrub_clean(const struct sl_fhir_vset *s, const char *text,
                          size_t n);
void fhir_memo_scrub_clean_add(const struct sl_fhir_vset *s, const char *text,
                               size_t n);

/* ---- small helpers ---- */

/* FNV-1a from the short seed (common/hash.h) */
static inline uint64_t
fhir_hash(const char *s)
{
    return sl_fnv1a64_cont(SL_FNV1A64_OFFSET_SHORT, s);
}

/* fhir_hash of a string that goes on with s, from the hash h of what
 * came before */
static inline uint64_t
fhir_hash_cont(uint64_t h, const char *s)
{
    return sl_fnv1a64_cont(h, s);
}

static inline const char *
fhir_jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* a, b and c joined (no printf: this runs for every reference and id);
 * n: the bytes of a to take. Caller frees. */
static inline char *
fhir_join3(const char *a, size_t n, const char *b, const char *c)
{
    size_t lb = strlen(b), lc = strlen(c);
    char *t = sl_malloc(n + lb + lc + 1);

    memcpy(t, a, n);
    memcpy(t + n, b, lb);
    memcpy(t + n + lb, c, lc + 1);
    return t;
}

#define FHIR_JOIN(a, b, c) fhir_join3((a), strlen(a), (b), (c))

/* "YYYY-MM-DD" (a date that parsed to the day) as YYYYMMDD, "" as 0: in
 * the order of the strings, in 4 bytes instead of 11 per patient and per
 * encounter. */
static inline int32_t
fhir_day_pack(const char *s)
{
    int32_t v = 0;
    int i;

    if (s[0] == '\0')
        return 0;
    for (i = 0; i < 10; i++)
        if (s[i] >= '0' && s[i] <= '9')
            v = v * 10 + (s[i] - '0');
    return v;
}

static inline void
fhir_day_unpack(int32_t v, char out[11])
{
    int i;

    if (v <= 0) {
        out[0] = '\0';
        return;
    }
    for (i = 9; i >= 0; i--) {
        if (i == 4 || i == 7) {
            out[i] = '-';
            continue;
        }
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
    out[10] = '\0';
}

/* ---- the values pass 1 learns (fhir_learn_values.c) ---- */

struct sl_jtape;

/* The values one resource teaches, gathered without the lock and added
 * to the set under it at the end: pointers into the tape, or into own
 * (values made of two, wiped and freed with the list). party: the
 * resource being read is a person or an organisation. */
struct fd_lvals {
    struct {
        const char *s;
        size_t n;
    } *v;
    size_t n, cap;
    char **own;
    size_t nown, capown;
    int party;
};
void fhir_lv_add(struct fd_lvals *l, const char *s, size_t n);
void fhir_lv_free(struct fd_lvals *l);
/* 1 for the resource types whose names, contacts and addresses are
 * learned: Patient, RelatedPerson, Practitioner, PractitionerRole,
 * Person, Organization. */
int fhir_learn_is_party(const char *type);
/* The names, aliases, telecom values, addresses and contacts of o. */
void fhir_learn_party(struct fd_lvals *l, const struct sl_jtape *t, size_t o);
/* What an object of the tape teaches by itself, whatever resource it is
 * in: the display of a Reference to a person or an organisation, and its
 * identifying extensions; key: the member it is the value of, or NULL;
 * party: it is inside a person or an organisation. */
void fhir_learn_object(struct fd_lvals *l, const struct sl_jtape *t, size_t obj,
                       const char *key, int party);
/* What a Parameters.parameter's value[x] names: a HumanName, an Address,
 * a ContactPoint, an Identifier, a Reference's display (its resource is
 * learned as a resource). */
void fhir_learn_parameter(struct fd_lvals *l, const struct sl_jtape *t,
                          size_t p);

/* ---- the map (fhir_map.c) ---- */

/* The value of k, or NULL. */
void *fhir_map_get(const struct fd_map *m, const char *k);
/* size zeroed bytes that live as long as m (8-byte aligned). */
void *fhir_map_alloc(struct fd_map *m, size_t size);
/* Returns the slot's value pointer for k, creating an empty slot (the
 * key is copied into the map's chunks). */
void **fhir_map_put(struct fd_map *m, const char *k);
/* Frees the map, free_val (when not NULL) on every value; the chunks are
 * wiped. m is left empty, ready for use again. */
void fhir_map_free(struct fd_map *m, void (*free_val)(void *));
/* Random seeds for m (before any fhir_idents_put). */
void fhir_idents_init(struct fd_idents *m);
/* form names the patient whose key is key (a string that outlives m);
 * a form two keys claim becomes ambiguous. */
void fhir_idents_put(struct fd_idents *m, const char *form, const char *key);
/* The entry of form, or NULL. */
const struct fd_ident *fhir_idents_get(const struct fd_idents *m,
                                       const char *form);
void fhir_idents_free(struct fd_idents *m);

struct call;

/* ---- references (fhir_ref.c) ----
 * A resource's key names it in the maps: "Type/id"; for a resource
 * without id, from its Bundle entry's fullUrl: the "Type/id" an absolute
 * URL names, else "Type/" and the fullUrl ("Patient/urn:uuid:…"); for a
 * contained one, "Type/" and its container's key, '#' and its id. A
 * resource's patient is found through the Patient compartment (fhir.h):
 * the first reference of its elements, in the compartment's order, that
 * names a Patient; else the first Encounter or EpisodeOfCare it names,
 * whose patient is found in turn (as many hops as it takes). */

/* The key of a resource of type with id (or NULL), in the Bundle entry
 * of full_url (or NULL); ck: its container's key when it is contained.
 * NULL when it has none. Caller frees. */
char *fhir_ref_key(const char *type, const char *id, const char *full_url,
                   const char *ck);
/* "Patient?identifier=…" with the query %-decoded, when ref is such a
 * conditional reference of one parameter; else NULL. Caller frees. */
char *fhir_ref_conditional(const char *ref);
/* The key of what ref names, within the resource whose key is ck (for
 * "#id"; may be NULL), or NULL. Caller frees. */
char *fhir_ref_resolve(const struct sl_fhir_deid *d, const char *ref,
                       const char *ck);

/* A resource as pass 1 (a tape node) or pass 2 (a jansson object) has it */
struct fd_src {
    const struct sl_jtape *t;
    size_t node;
    const json_t *j;
};

#define FD_MAXREFS 32
struct fd_refs {
    const char *v[FD_MAXREFS];
    size_t n;
};

struct fd_found {
    char *patient;        /* the patient's key (caller frees), or NULL */
    char *hop;            /* else the context resource's key, or NULL */
    const char *hop_path; /* the element that named it */
    const char *bad_path; /* an element whose reference named nothing */
    int member;           /* type is in the Patient compartment */
    int any;              /* some element had a reference */
};
/* The patient of src, a resource of type (not a Patient), within the
 * container whose key is ck (for "#id"), as far as its own references
 * tell: f->patient, or f->hop to follow. */
void fhir_ref_find(const struct sl_fhir_deid *d, const char *type,
                   const struct fd_src *src, const char *ck,
                   struct fd_found *f);
/* The patient (a key of d->patients) that the context resource hop leads
 * to, or NULL; *end: the last one reached. */
const char *fhir_ref_follow(const struct sl_fhir_deid *d, const char *hop,
                            const char **end);
/* Pass 2: the patient's key of the jansson resource res of type (caller
 * frees); or NULL, and why (when type is in the Patient compartment) says
 * which element failed, without values. */
char *fhir_ref_patient_json(const struct sl_fhir_deid *d, const json_t *res,
                            const char *type, const char *ck, char *why,
                            size_t whylen);
/* Pass 2 of a Bundle: the fullUrls of its entries, kept before the walk
 * rewrites them (fhir_walk_resource pops them after the Bundle). */
void fhir_ref_bundle_push(struct call *c, const json_t *bundle);
void fhir_ref_bundle_pop(struct call *c, size_t mark);
/* The fullUrl of the entry whose resource is obj, or NULL. */
const char *fhir_ref_bundle_url(struct call *c, const json_t *obj);
/* What a pseudonymised reference is: where its base is rewritten. */
enum fd_ref_kind {
    FD_RK_REFERENCE, /* Reference.reference, request.url, location */
    FD_RK_FULLURL    /* Bundle.entry.fullUrl */
};
/* t, the reference s already pseudonymised, without the base of the
 * server it came from (issue 10, section 5): an absolute "[base/]Type/id
 * [/...]" becomes d->ref_base + "/Type/id[/...]", or without a configured
 * base "Type/id[/...]" (a fullUrl: "urn:uuid:" and a UUID made of the
 * pseudonymous id). In a split entry (c->split) a reference to a fullUrl
 * ("urn:uuid:", "urn:oid:") becomes "Type/newid" of the resource it
 * names (see fhir_ref_urn_id), or fails the call: it would resolve to
 * nothing. Other forms are returned as they are. t is consumed (NULL
 * passes through); the result is a new string (caller frees). */
char *fhir_ref_rebase(struct call *c, const char *s, char *t,
                      enum fd_ref_kind kind);
/* The id a resource without one gets when its Bundle entry, whose fullUrl
 * is urn ("urn:uuid:..." or "urn:oid:..."), is split out of the Bundle:
 * what the de-identified fullUrl holds after "urn:uuid:" or "urn:oid:".
 * NULL for another form. Caller frees. */
char *fhir_ref_urn_id(const struct sl_fhir_deid *d, const char *urn);

/* ==== pass 2 ============================================================ */

#define PATHLEN 1024 /* the paths of pass 2 */

struct lcount {
    int rule;
    uint64_t hash; /* of path */
    char *path;
    long n;
};

/* One call of sl_fhir_deid_resource. */
struct call {
    /* the fullUrls of the Bundle entries being walked (fhir_ref.c) */
    struct {
        const json_t *res;
        char *url;
    } *urls;
    size_t nurls, capurls, urlnext;
    /* the resource is an entry taken out of its Bundle: no fullUrl will
     * be delivered with it (sl_fhir_deid_entry_json) */
    int split;
    struct sl_fhir_deid *d;
    struct lcount *lc;
    size_t nlc, caplc;
    /* uses per rule in this call, without paths (no explain): added to
     * the thread's row of d->hits at its end, a few atomics a call, not
     * one a use */
    struct {
        int rule;
        unsigned long n;
    } rh[16];
    size_t nrh;
    /* 1 + the slot of rh a rule was last put in, by rule % 64: found
     * without a scan when it is still that rule's (zeroed with the call) */
    unsigned char rh_at[64];
    int rc;    /* first failure (quarantine, key error) */
    int depth; /* resources within resources (Bundle, contained) */
    struct sl_err *err;
    char path[PATHLEN];  /* concrete resource path, for explain */
    char cpath[PATHLEN]; /* canonical resource path */
    char tpath[PATHLEN]; /* canonical path inside the data type, or "" */
    /* hashes of cpath, of its part from the first '.' (has_rel: there is
     * one) and of tpath, kept as they change: rules are found by them */
    struct phash {
        uint64_t hc, hrel, ht;
        int has_rel;
    } ph;
    /* pseudonyms already computed in this call (a Bundle names its
     * patient and encounter many times): hash of domain and value */
    struct {
        uint64_t h;
        char *v;
        const char *domain;
        char ps[SL_PSEUDONYM_LEN + 1];
    } memo[64];
};

/* The resource being walked. */
struct res {
    const char *type;
    char *self; /* "Type/id", or NULL */
    char *key;  /* its key (fhir_ref_key), or NULL */
    char *ck;   /* the key "#id" resolves within: its container's or its own */
    char why[256]; /* its patient cannot be found, and why; or "" */
    int contained;
    const struct fd_patient *pat;
    char *pat_ref; /* "Patient/id" */
    int shift, have_shift;
    /* the digits of pat->mrn, for fhir_digits_leak (once a resource, not
     * once a value); have_mrn_digits: computed */
    char mrn_digits[40];
    size_t mrn_ndigits;
    int have_mrn_digits;
};

/* The element being judged. */
struct el {
    const char *key;
    char type[64];
    char base[320];  /* table path of its children */
    char canon[320]; /* table path of the element */
    int cref;        /* a contentReference: its children are base's */
    int root;        /* a direct child of the resource */
    json_t *parent;
};

enum { ACT_KEEP, ACT_REMOVE };

/* ---- one call (fhir_call.c) ---- */

/* Counts one use of rule at c->path, for --explain (nothing when rule < 0
 * or nobody will ask). */
void fhir_call_count(struct call *c, int rule);

/* 1 when the element being judged (c->cpath) is a part of an extension:
 * an "extension" inside an "extension" or a "modifierExtension". */
int fhir_call_ext_part(const struct call *c);
/* Adds the call's counts to the engine's, under its lock. */
void fhir_call_merge_counts(struct call *c);
/* Adds the call's uses per rule (counted without paths) to the engine's. */
void fhir_call_merge_hits(struct call *c);
/* The calling thread's row of d->hits (see FD_HIT_SHARDS). */
atomic_ulong *fhir_call_hits(const struct sl_fhir_deid *d);
/* c->ph from the paths as they are. */
void fhir_call_hash_paths(struct call *c);
/* Appends sep and s to the path buf (PATHLEN bytes); returns the old
 * length, to cut back to, or -1 when it does not fit (buf unchanged).
 * Inline: it runs for every member of every resource (twice or three
 * times), and the callers' constant sep then costs one store. */
static inline int
fhir_call_push(char *buf, const char *sep, const char *s)
{
    size_t n = strlen(buf), a = strlen(sep), b = strlen(s);
    if (n + a + b + 1 > PATHLEN)
        return -1;
    memcpy(buf + n, sep, a);
    memcpy(buf + n + a, s, b + 1);
    return (int)n;
}
/* fhir_call_push(buf, ".", s) when strlen(buf) is known to be n. */
static inline int
fhir_call_push_dot(char *buf, size_t n, const char *s)
{
    size_t b = strlen(s);
    if (n + 1 + b + 1 > PATHLEN)
        return -1;
    buf[n] = '.';
    memcpy(buf + n + 1, s, b + 1);
    return (int)n;
}
/* The index of the rule for element e of value v at the call's paths, or
 * -1 (see fhir.c for the order). */
int fhir_call_match(const struct call *c, const struct el *e, const json_t *v);
/* Records the call's first failure (later ones are dropped) and returns
 * the code of the first. The message must hold no patient data. */
int fhir_call_fail(struct call *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- methods (fhir_method.c) ----
 * Each returns the new value (a new reference), or NULL: the element goes
 * (or, after fhir_call_fail, the resource is quarantined). */

json_t *fhir_method_pseudonymise(struct call *c, struct res *r,
                                 const struct el *e, const char *s);
json_t *fhir_method_date_shift(struct call *c, struct res *r,
                               const struct el *e, const char *s);
json_t *fhir_method_generalise(struct call *c, struct res *r,
                               const struct el *e, json_t *v);
json_t *fhir_method_perturb(struct call *c, const struct res *r,
                            const struct fd_rule *rule, json_t *v);
json_t *fhir_method_encrypt(struct call *c, const char *s);
/* The date shift of r's patient, in days (quarantines, through
 * fhir_call_fail, a resource of the Patient compartment whose patient
 * cannot be found). */
int fhir_method_shift(struct call *c, struct res *r);
/* Narrative.div: markup scrubbed (fhir_xhtml.c); a div that cannot be
 * parsed is replaced by FHIR_EMPTY_DIV and the narrative's status set to
 * "empty". */
json_t *fhir_method_scrub_narrative(struct call *c, struct res *r,
                                    const struct el *e, const char *s);
/* Attachment.data and Binary.data under "scrub": text decoded, scrubbed
 * and encoded again (size and hash updated when the Attachment has them);
 * NULL (the data goes) for anything else or what cannot be read. */
json_t *fhir_method_scrub_data(struct call *c, struct res *r,
                               const struct el *e, const char *b64);
/* Before an Attachment is walked: its size and hash set to describe its
 * data (bytes, base64 SHA-1), so that they stay true whether the data is
 * kept or removed; each is then judged by its own rule. */
void fhir_method_describe_attachment(json_t *att);
/* {"extension": [data-absent-reason "masked"]} */
json_t *fhir_method_dar_masked(void);

/* ---- the walk (fhir_walk.c) ---- */

/* De-identifies one resource (top level, Bundle entry or contained).
 * Returns 1 when it stays, 0 when it must go. */
int fhir_walk_resource(struct call *c, struct res *parent, json_t *obj,
                       int contained);

/* ---- numbers and digits in the leak scan (fhir_digits.c) ---- */

/* Checks a primitive value v of element e that the profile keeps or
 * scrubs, in resource r: the digits of r's patient's MRN as a number or
 * in a string, or an integral decimal of six digits or more that was
 * learned. Returns 1 and fails the call (quarantine, the path named)
 * on a hit, else 0. */
int fhir_digits_leak(struct call *c, struct res *r, const struct el *e,
                     const json_t *v);

#endif

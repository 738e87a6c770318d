/* fhir.h - FHIR R4 de-identification engine (issue: FHIR de-identification
 * by configurable profiles). Rules come from the <fhir> sections of a
 * profile chain (profile.h); pseudonyms, UIDs and date shifts from keys.h,
 * so they agree with the DICOM engine. */
#ifndef SL_DEID_FHIR_H
#define SL_DEID_FHIR_H

#include <stdio.h>

#include <jansson.h>

#include "common/common.h"
#include "deid/profile.h"
#include "keys/keys.h"

struct sl_fhir_deid;
struct sl_jtape;

/* Compiles the chain's <fhir> rules. keys is borrowed and must outlive
 * the engine. On success *out owns the engine (sl_fhir_deid_free). */
int sl_fhir_deid_new(const struct sl_profile_chain *chain,
                     const struct sl_keys *keys, struct sl_fhir_deid **out,
                     struct sl_err *err);
void sl_fhir_deid_free(struct sl_fhir_deid *d);

/* Pass 1, over every input resource (Bundles included) before any is
 * de-identified: learns patients (their identifier for the date shift,
 * names, identifiers, contact details, for scrubbing free text and for the
 * leak scan) and which patient each resource belongs to, across files.
 * Call from one thread. */
int sl_fhir_deid_learn(struct sl_fhir_deid *d, const json_t *resource,
                       struct sl_err *err);

/* The same, safe from several threads: rank is the number of the input
 * (file) the resource comes from, resources of one rank learned in their
 * order on one thread. What is learned is what learning the inputs one
 * after the other in rank order gives: the first input's identifier of a
 * patient, the last input's target of a Bundle fullUrl. */
int sl_fhir_deid_learn_at(struct sl_fhir_deid *d, const json_t *resource,
                          long rank, struct sl_err *err);

/* The same for a resource read by sl_jtape_parse (fhir/jtape.h): what
 * learning its jansson document would learn, without building it. */
int sl_fhir_deid_learn_tape(struct sl_fhir_deid *d, const struct sl_jtape *t,
                            long rank, struct sl_err *err);
/* The same, with the parts of the learning that take the engine's lock
 * (the patients, references and aliases it tells, the values it adds to
 * the set) kept in b until sl_fhir_deid_learn_flush, which takes the lock
 * once for all of them, in the order they were learned: the learning
 * pass's threads then take the lock once a chunk, not twice a resource.
 * t must stay as it is until the flush. b is one thread's (b NULL: the
 * lock is taken now, as sl_fhir_deid_learn_tape does). */
struct sl_fhir_learn_batch;
struct sl_fhir_learn_batch *sl_fhir_learn_batch_new(void);
int sl_fhir_deid_learn_tape_batch(struct sl_fhir_deid *d,
                                  const struct sl_jtape *t, long rank,
                                  struct sl_fhir_learn_batch *b,
                                  struct sl_err *err);
void sl_fhir_deid_learn_flush(struct sl_fhir_deid *d,
                              struct sl_fhir_learn_batch *b);
/* Frees b; what it still held is dropped, not learned (NULL-safe). */
void sl_fhir_learn_batch_free(struct sl_fhir_learn_batch *b);

/* Pass 2: de-identifies resource (or Bundle) in place. SL_OK; or
 * SL_EQUARANTINE with a reason in err that holds no patient data (element
 * paths, rule ids); other codes are failures. After the rules, the result
 * is scanned for every identifier value learned in pass 1: a hit is
 * SL_EQUARANTINE. Safe from several threads once learning is done. */
int sl_fhir_deid_resource(struct sl_fhir_deid *d, json_t *resource,
                          struct sl_err *err);

/* sl_fhir_deid_resource, and on SL_OK the result appended to out as
 * json_dumps(resource, JSON_COMPACT) writes it (byte for byte), the leak
 * scan done while writing: one walk instead of two. On other codes out is
 * as it was. */
int sl_fhir_deid_resource_json(struct sl_fhir_deid *d, json_t *resource,
                               struct sl_buf *out, struct sl_err *err);

/* sl_fhir_deid_resource_json for an entry a job took out of its Bundle
 * (full_url: the entry's fullUrl, or NULL), which is delivered without
 * its fullUrl (issue 10): references to fullUrls ("urn:uuid:...",
 * "urn:oid:...") become "Type/id" with the de-identified id of the
 * resource they name, and a resource without id gets one made of its
 * pseudonymised fullUrl (what follows "urn:uuid:" in the fullUrl the
 * de-identification of the whole Bundle writes), so that nothing in the
 * output resolves to nothing. A fullUrl reference that names no entry of
 * the input, or an entry without id whose fullUrl is no urn:, is
 * SL_EQUARANTINE. Pass 1 must have learned the entry with its fullUrl
 * (in a one-entry Bundle, for instance). */
int sl_fhir_deid_entry_json(struct sl_fhir_deid *d, json_t *resource,
                            const char *full_url, struct sl_buf *out,
                            struct sl_err *err);

/* Sets the 32-byte AES-256-GCM key of the `encrypt` method (copied; wiped
 * by sl_fhir_deid_free), overriding the profile's encrypt-key="file:…" or
 * "env:…". Call before pass 2. Encrypted values are "sluice-aes256gcm:"
 * and the base64 of a 12-byte random nonce, the ciphertext and the 16-byte
 * tag. SL_EKEY when len is not 32. */
int sl_fhir_deid_set_encrypt_key(struct sl_fhir_deid *d, const void *key,
                                 size_t len, struct sl_err *err);

/* The base that absolute references ("https://ehr.example.org/fhir/
 * Patient/123") and absolute Bundle fullUrls get in place of the server's
 * they came from, whose name is not kept: an absolute http:// or https://
 * URL without query or fragment (trailing '/' dropped). NULL or "": the
 * default, references made relative ("Patient/<pseudonym>") and such
 * fullUrls "urn:uuid:" and a UUID made of the resource's pseudonymous id.
 * SL_EUSAGE for another base. Call before pass 2. */
int sl_fhir_deid_set_reference_base(struct sl_fhir_deid *d, const char *base,
                                    struct sl_err *err);

/* A FHIR Provenance for de-identified resources (the optional
 * Provenance): target is a JSON array of their references ("Type/id" or
 * "urn:uuid:…" as in the output; borrowed), recorded the time of the run
 * (an instant, e.g. from sl_time_iso). It names the profile chain (policy
 * "urn:sluice:deid:profile:NAME:VERSION", one per document) and sluice
 * as the agent; nothing in it comes from patient data. Returns a new
 * reference (caller decrefs), or NULL when target is empty. */
json_t *sl_fhir_deid_provenance(const struct sl_fhir_deid *d,
                                const json_t *target, const char *recorded);

/* --explain: the profile chain, then for each rule the element paths it
 * touched and how many times (never values). */
void sl_fhir_deid_explain(const struct sl_fhir_deid *d, FILE *f);

/* Whether sl_fhir_deid_explain will be asked for (the default: yes). With
 * 0 the engine does not count rules per element path, which every call
 * otherwise merges under the engine's lock: threads then wait less.
 * Call before pass 2; the explain output then has no rule lines. */
void sl_fhir_deid_set_explain(struct sl_fhir_deid *d, int on);

/* For the run's report: each rule that acted, as "ID (method)", and how
 * many times (the explain counts summed over element paths, or without
 * explain, the totals the engine counts per rule). */
void sl_fhir_deid_rule_counts(const struct sl_fhir_deid *d,
                              void (*fn)(void *arg, const char *rule,
                                         uint64_t n),
                              void *arg);

#endif

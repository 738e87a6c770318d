/* keys.h - everything derived from the pseudonym key: pseudonyms, new
 * DICOM UIDs and per-patient date shifts. One module for FHIR and DICOM,
 * so that the same key gives the same patient the same pseudonym and the
 * same date shift in both, across runs and machines, with no lookup table.
 *
 * Derivation (a contract: changing it changes every pseudonym):
 *   mac(domain, value) = HMAC-SHA256(key, domain || 0x00 || value)
 *   pseudonym          = first 130 bits of mac, base32 (a-z, 2-7),
 *                        26 characters: fixed length, so prefix-free, and
 *                        valid as a FHIR id and a DICOM LO/SH value
 *   UID                = "2.25." + decimal of a 128-bit number from
 *                        mac("uid", original UID): see sl_keys_uid
 *   date shift         = -(min + (first 32 bits of mac("date-shift",
 *                        patient identifier) mod (max - min + 1))) days
 */
#ifndef SL_KEYS_H
#define SL_KEYS_H

#include <stddef.h>

#include "common/common.h"

/* Domains: the kind of value being pseudonymised. The same in FHIR and
 * DICOM: an MRN in Patient.identifier and in DICOM PatientID use
 * SL_KD_IDENTIFIER, so the two agree. */
#define SL_KD_IDENTIFIER "identifier"   /* identifier values: MRN, accession */
#define SL_KD_RESOURCE_ID "resource-id" /* FHIR logical ids (with type) */
#define SL_KD_UID "uid"                 /* DICOM UIDs */
#define SL_KD_NAME "name"               /* names derived from a patient id */
#define SL_KD_DATE_SHIFT "date-shift"   /* per-patient date offset */
#define SL_KD_TEXT "text"               /* other strings (replace by hash) */

#define SL_KEY_MIN_BYTES 32
#define SL_PSEUDONYM_LEN 26 /* characters, without the NUL */
#define SL_UID_MAX 64       /* DICOM UI maximum, with the NUL: 65 bytes */

struct sl_keys;

/* Loads the key from a file: its bytes, one trailing newline (LF or CRLF)
 * removed, at least 32 bytes. Errors name the file, never its content.
 * On success *out owns the key; free with sl_keys_free (wipes it). */
int sl_keys_load_file(const char *path, struct sl_keys **out,
                      struct sl_err *err);
/* The same from bytes already in memory (copied). */
int sl_keys_from_bytes(const void *key, size_t len, struct sl_keys **out,
                       struct sl_err *err);
/* SL_OK when the key file at path can be read and written by its owner
 * only; else SL_EKEY with advice (sl_keys_load_file checks it too). */
int sl_keys_check_private(const char *path, struct sl_err *err);
void sl_keys_free(struct sl_keys *k);

/* A short, non-secret fingerprint of the key (first 8 hex characters of
 * SHA-256 of "sluice-key-id" and the key): tells in a report which key was
 * used without revealing it. out: at least 9 bytes. */
void sl_keys_fingerprint(const struct sl_keys *k, char *out, size_t len);

/* out receives the 26-character pseudonym and a NUL (at least 27 bytes). */
void sl_keys_pseudonym(const struct sl_keys *k, const char *domain,
                       const char *value, size_t len, char *out);

/* The new UID for an original UID: "2.25." and the decimal (no leading
 * zero) of the first 128 bits of the MAC, as PS3.5 B.2 does for UUIDs:
 * at most 44 characters.
 * out: at least SL_UID_MAX + 1 bytes. Well-known UIDs (SOP classes,
 * transfer syntaxes) are the caller's to leave alone. */
void sl_keys_uid(const struct sl_keys *k, const char *uid, char *out);

/* A patient's date shift in days: negative (back in time), between
 * -max_days and -min_days, never 0. min_days >= 1, max_days >= min_days. */
int sl_keys_date_shift(const struct sl_keys *k, const char *patient_id,
                       int min_days, int max_days);

/* True when a and b hold the same key bytes (constant time). */
int sl_keys_equal(const struct sl_keys *a, const struct sl_keys *b);

/* HKDF-SHA256 of the key with salt and the label as info: len bytes
 * into out (the caller wipes them). SL_OK or SL_EKEY. */
int sl_keys_derive(const struct sl_keys *k, const unsigned char *salt,
                   size_t salt_len, const char *label, unsigned char *out,
                   size_t len, struct sl_err *err);

/* Re-identification map (reid.c): original -> pseudonym pairs, each
 * record sealed with AES-256-GCM under a key derived from a second key
 * (never the pseudonym key). File format, all integers big endian:
 *
 *   header  "SLREIDMP" | version (1 byte, 1) | 3 zero bytes |
 *           salt (16 random bytes) | key check (16 bytes: HKDF of the key
 *           with the salt, label "sluice reid-map v1 check")
 *   record  length L (4 bytes) | nonce (12 random bytes) |
 *           ciphertext (L bytes) | GCM tag (16 bytes)
 *
 * The record key is HKDF(key, salt, "sluice reid-map v1 aes-256-gcm");
 * the additional data of record n (from 1) is the 44-byte header and n
 * as 8 bytes, so a changed header, a changed, moved or dropped record
 * fails. The plaintext is KIND NUL ORIGINAL NUL PSEUDONYM. Records are
 * appended: a later run with the same key adds to the same file. */
#define SL_REID_MAGIC "SLREIDMP"
#define SL_REID_VERSION 1

struct sl_reid_writer;

/* Opens path for appending (created 0600 with a new salt when missing or
 * empty; else its header is checked against key). key is borrowed for
 * the call. On success *out owns the writer; sl_reid_close it. */
int sl_reid_open(const char *path, const struct sl_keys *key,
                 struct sl_reid_writer **out, struct sl_err *err);
/* Appends one pair, unless the same kind and original were added before
 * by this writer. Safe from several threads. The values are PHI: they
 * are never logged and copies are wiped. */
int sl_reid_add(struct sl_reid_writer *w, const char *kind,
                const char *original, const char *pseudonym,
                struct sl_err *err);
/* Flushes, closes and frees (NULL-safe); the key material is wiped. */
int sl_reid_close(struct sl_reid_writer *w, struct sl_err *err);

/* Called per record, in order; a non-zero return stops the read (and is
 * returned). The strings are valid during the call only. */
typedef int (*sl_reid_fn)(void *arg, unsigned long long record,
                          const char *kind, const char *original,
                          const char *pseudonym);
/* Reads and authenticates every record of path with key. SL_EKEY when
 * the key is not the map's; SL_EPARSE naming the record number when a
 * record fails authentication or is truncated. */
int sl_reid_read(const char *path, const struct sl_keys *key, sl_reid_fn fn,
                 void *arg, struct sl_err *err);

#endif

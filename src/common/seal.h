/* seal.h - data at rest sealed with AES-256-GCM under a key from a secret
 * (env:/file:), for what still holds patient data: the quarantine's items,
 * their input paths and DICOM copies. The same primitives as the
 * re-identification map (keys.h): HKDF-SHA256 with a random salt, a key
 * check, GCM with the header as additional data.
 *
 * A sealed blob or file, all of it binary:
 *   "SLSEAL01" | salt (16) | key check (16) | nonce (12) | ciphertext |
 *   tag (16)
 * The encryption key is HKDF(key, salt, "sluice seal v1 aes-256-gcm"), the
 * key check the first 16 bytes of HKDF(key, salt, "sluice seal v1 check")
 * (so that a wrong key is told apart from damaged data), and the additional
 * data the 52-byte header followed by a context string the caller gives
 * (say "quarantine data"), so that a blob cannot be moved to another use. */
#ifndef SL_COMMON_SEAL_H
#define SL_COMMON_SEAL_H

#include <stddef.h>

#include "common/common.h"

#define SL_SEAL_MAGIC "SLSEAL01"
#define SL_SEAL_HEADER 52 /* magic, salt, check, nonce */
#define SL_SEAL_OVERHEAD (SL_SEAL_HEADER + 16)
#define SL_SEAL_KEY_MIN 32

/* What each sealed part of a quarantined item is sealed for, the same in
 * the state store and in a `sluice deid` quarantine folder. */
#define SL_SEAL_CTX_QDATA "sluice quarantine data"
#define SL_SEAL_CTX_QORIGIN "sluice quarantine origin"
#define SL_SEAL_CTX_QDICOM "sluice quarantine dicom"

/* True when data (len bytes) starts like a sealed blob. */
int sl_sealed(const void *data, size_t len);

/* Seals len bytes of in under key (at least 32 bytes) for context: *out
 * (malloc'd) gets len + SL_SEAL_OVERHEAD bytes. */
int sl_seal(const void *key, size_t keylen, const char *context,
            const void *in, size_t len, unsigned char **out, size_t *outlen,
            struct sl_err *err);
/* Opens a sealed blob: *out (malloc'd, NUL-terminated beyond *outlen, to
 * be freed with sl_freezero) gets the plaintext. SL_EKEY when the key is
 * not the one it was sealed with; SL_EPARSE when it is damaged or was
 * changed. */
int sl_unseal(const void *key, size_t keylen, const char *context,
              const void *in, size_t len, unsigned char **out,
              size_t *outlen, struct sl_err *err);

/* The same for files, streamed (constant memory whatever the size): dst
 * is created 0600 (O_EXCL; it must not exist). sl_unseal_file removes dst
 * again when the data fails its check. Errors name the files, never their
 * content. */
int sl_seal_file(const void *key, size_t keylen, const char *context,
                 const char *src, const char *dst, struct sl_err *err);
int sl_unseal_file(const void *key, size_t keylen, const char *context,
                   const char *src, const char *dst, struct sl_err *err);
/* True when the file at path starts like a sealed file. */
int sl_sealed_file(const char *path);

/* Text as "sealed:" and base64 of the sealed bytes (for text columns), and
 * back. sl_unseal_text returns SL_OK with *out a copy when s is not sealed
 * text. */
int sl_seal_text(const void *key, size_t keylen, const char *context,
                 const char *s, char **out, struct sl_err *err);
int sl_unseal_text(const void *key, size_t keylen, const char *context,
                   const char *s, char **out, struct sl_err *err);
int sl_sealed_text(const char *s);

#endif

/* keys.c - key loading and keyed derivations (see keys.h). */
#include "config.h"

#include <errno.h>
#include <sys/stat.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* SHA256_Init and the SHA256_CTX they fill are deprecated in OpenSSL 3,
 * but still built by Debian's: the only way to copy a hash state without
 * an allocation (EVP_MD_CTX_copy_ex allocates, every MAC, see mac()). */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/kdf.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include "keys/keys.h"

struct sl_keys {
    unsigned char *key;
    size_t len;
    /* HMAC-SHA256 with the key's inner and outer pads already hashed, so
     * that a MAC is two copies and two short updates (RFC 2104), not a
     * digest fetch and a key schedule each time; shared by threads, which
     * only copy them (plain structs: a copy allocates nothing) */
    EVP_MD *sha256;
    SHA256_CTX inner, outer;
};

/* The two pad states of k->key. 0 on an OpenSSL failure. */
static int
hmac_pads(struct sl_keys *k)
{
    unsigned char block[64], ipad[64], opad[64];
    unsigned int n = 0;
    size_t i;
    int ok;

    memset(block, 0, sizeof(block));
    if (k->len > sizeof(block)) { /* RFC 2104: a long key is hashed first */
        if (!EVP_Digest(k->key, k->len, block, &n, k->sha256, NULL))
            return 0;
    } else {
        memcpy(block, k->key, k->len);
    }
    for (i = 0; i < sizeof(block); i++) {
        ipad[i] = block[i] ^ 0x36;
        opad[i] = block[i] ^ 0x5c;
    }
    ok = SHA256_Init(&k->inner) &&
         SHA256_Update(&k->inner, ipad, sizeof(ipad)) &&
         SHA256_Init(&k->outer) &&
         SHA256_Update(&k->outer, opad, sizeof(opad));
    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(ipad, sizeof(ipad));
    OPENSSL_cleanse(opad, sizeof(opad));
    return ok;
}

int
sl_keys_from_bytes(const void *key, size_t len, struct sl_keys **out,
                   struct sl_err *err)
{
    struct sl_keys *k;

    if (len < SL_KEY_MIN_BYTES)
        return SL_ERR(err, SL_EKEY, "key too short: %zu bytes, at least %d "
                      "needed (make one with 'sluice keygen')", len,
                      SL_KEY_MIN_BYTES);
    k = sl_calloc(1, sizeof(*k));
    k->key = sl_malloc(len);
    memcpy(k->key, key, len);
    k->len = len;
    k->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (k->sha256 == NULL || !hmac_pads(k)) {
        sl_keys_free(k);
        return SL_ERR(err, SL_EKEY, "OpenSSL has no SHA-256");
    }
    *out = k;
    return SL_OK;
}

int
sl_keys_load_file(const char *path, struct sl_keys **out, struct sl_err *err)
{
    char *buf = NULL;
    size_t len = 0, cap;
    int rc;

    if ((rc = sl_file_read(path, &buf, &len, err)) != SL_OK)
        return SL_ERR(err, SL_EKEY, "%s: cannot read the key file", path);
    cap = len;
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    rc = sl_keys_from_bytes(buf, len, out, err);
    if (rc != SL_OK)
        sl_err_prefix(err, "%s", path);
    else if ((rc = sl_keys_check_private(path, err)) != SL_OK) {
        sl_keys_free(*out);
        *out = NULL;
    }
    sl_freezero(buf, cap);
    return rc;
}

int
sl_keys_check_private(const char *path, struct sl_err *err)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return SL_ERR(err, SL_EKEY, "%s: cannot read the key file: %s", path,
                      strerror(errno));
    /* as OpenSSH refuses a private key others can read: whoever can read
     * the key can undo every pseudonym made with it */
    if ((st.st_mode & 077) != 0)
        return SL_ERR(err, SL_EKEY,
                      "%s: the key file can be read or written by others "
                      "(mode %04o): make it the owner's alone (chmod 600)",
                      path, (unsigned)(st.st_mode & 07777));
    return SL_OK;
}

void
sl_keys_free(struct sl_keys *k)
{
    if (k == NULL)
        return;
    sl_freezero(k->key, k->len);
    EVP_MD_free(k->sha256);
    sl_freezero(k, sizeof(*k)); /* with the pad states */
}

static void
mac(const struct sl_keys *k, const char *domain, const char *value,
    size_t len, unsigned char md[32])
{
    SHA256_CTX c = k->inner; /* a copy of the pad state: no allocation */
    unsigned char ih[32];

    /* HMAC(key, domain || 0x00 || value) */
    if (!SHA256_Update(&c, domain, strlen(domain)) ||
        !SHA256_Update(&c, "", 1) || !SHA256_Update(&c, value, len) ||
        !SHA256_Final(ih, &c))
        abort(); /* only on a broken OpenSSL: never go on without a MAC */
    c = k->outer;
    if (!SHA256_Update(&c, ih, sizeof(ih)) || !SHA256_Final(md, &c))
        abort();
    OPENSSL_cleanse(ih, sizeof(ih));
    OPENSSL_cleanse(&c, sizeof(c));
}

void
sl_keys_fingerprint(const struct sl_keys *k, char *out, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0, i;
    EVP_MD_CTX *c = EVP_MD_CTX_new();

    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, "sluice-key-id", 13);
    EVP_DigestUpdate(c, k->key, k->len);
    EVP_DigestFinal_ex(c, md, &mdlen);
    EVP_MD_CTX_free(c);
    if (len == 0)
        return;
    for (i = 0; i < 4 && 2 * i + 2 < len; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[2 * i < len ? 2 * i : len - 1] = '\0';
    OPENSSL_cleanse(md, sizeof(md));
}

void
sl_keys_pseudonym(const struct sl_keys *k, const char *domain,
                  const char *value, size_t len, char *out)
{
    static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
    unsigned char md[32];
    unsigned int bits = 0, acc = 0;
    size_t i = 0, o = 0;

    mac(k, domain, value, len, md);
    while (o < SL_PSEUDONYM_LEN) {
        if (bits < 5) {
            acc = (acc << 8) | md[i++];
            bits += 8;
        }
        out[o++] = b32[(acc >> (bits - 5)) & 31];
        bits -= 5;
    }
    out[o] = '\0';
    OPENSSL_cleanse(md, sizeof(md));
}

void
sl_keys_uid(const struct sl_keys *k, const char *uid, char *out)
{
    unsigned char md[32];
    /* the 128-bit number as four 32-bit limbs, most significant first */
    uint32_t n[4];
    char digits[48] = {0};
    int nd = 0, i;

    mac(k, SL_KD_UID, uid, strlen(uid), md);
    for (i = 0; i < 4; i++)
        n[i] = (uint32_t)md[4 * i] << 24 | (uint32_t)md[4 * i + 1] << 16 |
               (uint32_t)md[4 * i + 2] << 8 | md[4 * i + 3];
    if ((n[0] | n[1] | n[2] | n[3]) == 0)
        n[3] = 1; /* "2.25.0" is not a UID anyone should get */
    while (n[0] | n[1] | n[2] | n[3]) {
        uint64_t rem = 0;
        for (i = 0; i < 4; i++) {
            uint64_t cur = (rem << 32) | n[i];
            n[i] = (uint32_t)(cur / 10);
            rem = cur % 10;
        }
        digits[nd++] = (char)('0' + rem);
    }
    memcpy(out, "2.25.", 5);
    for (i = 0; i < nd; i++)
        out[5 + i] = digits[nd - 1 - i];
    out[5 + nd] = '\0';
    OPENSSL_cleanse(md, sizeof(md));
}

int
sl_keys_date_shift(const struct sl_keys *k, const char *patient_id,
                   int min_days, int max_days)
{
    unsigned char md[32];
    uint32_t v;
    int span;

    if (min_days < 1)
        min_days = 1;
    if (max_days < min_days)
        max_days = min_days;
    span = max_days - min_days + 1;
    mac(k, SL_KD_DATE_SHIFT, patient_id, strlen(patient_id), md);
    v = (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 | (uint32_t)md[2] << 8 |
        md[3];
    OPENSSL_cleanse(md, sizeof(md));
    return -(min_days + (int)(v % (uint32_t)span));
}

int
sl_keys_equal(const struct sl_keys *a, const struct sl_keys *b)
{
    return a->len == b->len && CRYPTO_memcmp(a->key, b->key, a->len) == 0;
}

int
sl_keys_derive(const struct sl_keys *k, const unsigned char *salt,
               size_t salt_len, const char *label, unsigned char *out,
               size_t len, struct sl_err *err)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM p[5];
    int rc = SL_OK;

    p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                            (char *)"SHA256", 0);
    p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, k->key,
                                             k->len);
    p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                             (void *)salt, salt_len);
    p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                             (void *)label, strlen(label));
    p[4] = OSSL_PARAM_construct_end();
    if (ctx == NULL || EVP_KDF_derive(ctx, out, len, p) != 1)
        rc = SL_ERR(err, SL_EKEY, "OpenSSL: HKDF-SHA256 failed");
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return rc;
}

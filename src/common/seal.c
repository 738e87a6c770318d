/* seal.c - AES-256-GCM sealing of data at rest (see seal.h). */
#include "config.h"

#include "common/seal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#define MAGIC_LEN 8
#define SALT_OFF 8
#define SALT_LEN 16
#define CHECK_OFF 24
#define CHECK_LEN 16
#define NONCE_OFF 40
#define NONCE_LEN 12
#define TAG_LEN 16
#define LABEL_KEY "sluice seal v1 aes-256-gcm"
#define LABEL_CHECK "sluice seal v1 check"

static int
hkdf(const void *key, size_t keylen, const unsigned char *salt,
     const char *label, unsigned char *out, size_t len, struct sl_err *err)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM p[5];
    int rc = SL_OK;

    p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                            (char *)"SHA256", 0);
    p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key,
                                             keylen);
    p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                             (void *)salt, SALT_LEN);
    p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                             (void *)label, strlen(label));
    p[4] = OSSL_PARAM_construct_end();
    if (ctx == NULL || EVP_KDF_derive(ctx, out, len, p) != 1)
        rc = SL_ERR(err, SL_EKEY, "OpenSSL: HKDF-SHA256 failed");
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return rc;
}

/* A new header (random salt and nonce) and the cipher set up to encrypt
 * with the header and context as additional data. */
static int
seal_begin(const void *key, size_t keylen, const char *context,
           unsigned char hdr[SL_SEAL_HEADER], EVP_CIPHER_CTX **out,
           struct sl_err *err)
{
    unsigned char k[32];
    EVP_CIPHER_CTX *c = NULL;
    int n, rc;

    if (keylen < SL_SEAL_KEY_MIN)
        return SL_ERR(err, SL_EKEY, "the key has %zu bytes; it needs at "
                      "least %d", keylen, SL_SEAL_KEY_MIN);
    memcpy(hdr, SL_SEAL_MAGIC, MAGIC_LEN);
    if (RAND_bytes(hdr + SALT_OFF, SALT_LEN) != 1 ||
        RAND_bytes(hdr + NONCE_OFF, NONCE_LEN) != 1)
        return SL_ERR(err, SL_EKEY, "no random bytes");
    if ((rc = hkdf(key, keylen, hdr + SALT_OFF, LABEL_CHECK, hdr + CHECK_OFF,
                   CHECK_LEN, err)) != SL_OK ||
        (rc = hkdf(key, keylen, hdr + SALT_OFF, LABEL_KEY, k, sizeof(k),
                   err)) != SL_OK)
        return rc;
    if ((c = EVP_CIPHER_CTX_new()) == NULL ||
        EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, k, hdr + NONCE_OFF) !=
            1 ||
        EVP_EncryptUpdate(c, NULL, &n, hdr, SL_SEAL_HEADER) != 1 ||
        EVP_EncryptUpdate(c, NULL, &n, (const unsigned char *)context,
                          (int)strlen(context)) != 1) {
        OPENSSL_cleanse(k, sizeof(k));
        EVP_CIPHER_CTX_free(c);
        return SL_ERR(err, SL_EKEY, "OpenSSL: AES-256-GCM failed");
    }
    OPENSSL_cleanse(k, sizeof(k));
    *out = c;
    return SL_OK;
}

/* Checks hdr against key and sets the cipher up to decrypt. */
static int
unseal_begin(const void *key, size_t keylen, const char *context,
             const unsigned char *hdr, EVP_CIPHER_CTX **out,
             struct sl_err *err)
{
    unsigned char k[32], check[CHECK_LEN];
    EVP_CIPHER_CTX *c = NULL;
    int n, rc;

    if (memcmp(hdr, SL_SEAL_MAGIC, MAGIC_LEN) != 0)
        return SL_ERR(err, SL_EPARSE, "not sealed data");
    if (keylen < SL_SEAL_KEY_MIN)
        return SL_ERR(err, SL_EKEY, "the key has %zu bytes; it needs at "
                      "least %d", keylen, SL_SEAL_KEY_MIN);
    if ((rc = hkdf(key, keylen, hdr + SALT_OFF, LABEL_CHECK, check,
                   CHECK_LEN, err)) != SL_OK)
        return rc;
    if (CRYPTO_memcmp(check, hdr + CHECK_OFF, CHECK_LEN) != 0)
        return SL_ERR(err, SL_EKEY,
                      "sealed with another key than the one given");
    if ((rc = hkdf(key, keylen, hdr + SALT_OFF, LABEL_KEY, k, sizeof(k),
                   err)) != SL_OK)
        return rc;
    if ((c = EVP_CIPHER_CTX_new()) == NULL ||
        EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, k, hdr + NONCE_OFF) !=
            1 ||
        EVP_DecryptUpdate(c, NULL, &n, hdr, SL_SEAL_HEADER) != 1 ||
        EVP_DecryptUpdate(c, NULL, &n, (const unsigned char *)context,
                          (int)strlen(context)) != 1) {
        OPENSSL_cleanse(k, sizeof(k));
        EVP_CIPHER_CTX_free(c);
        return SL_ERR(err, SL_EKEY, "OpenSSL: AES-256-GCM failed");
    }
    OPENSSL_cleanse(k, sizeof(k));
    *out = c;
    return SL_OK;
}

int
sl_sealed(const void *data, size_t len)
{
    return data && len >= SL_SEAL_OVERHEAD &&
           memcmp(data, SL_SEAL_MAGIC, MAGIC_LEN) == 0;
}

int
sl_seal(const void *key, size_t keylen, const char *context, const void *in,
        size_t len, unsigned char **out, size_t *outlen, struct sl_err *err)
{
    EVP_CIPHER_CTX *c = NULL;
    unsigned char *b;
    int n = 0, m = 0, rc;

    if (len > (size_t)1 << 30)
        return SL_ERR(err, SL_EIO, "too large to seal in memory");
    b = sl_malloc(len + SL_SEAL_OVERHEAD);
    if ((rc = seal_begin(key, keylen, context, b, &c, err)) != SL_OK) {
        free(b);
        return rc;
    }
    if ((len && EVP_EncryptUpdate(c, b + SL_SEAL_HEADER, &n, in, (int)len) !=
                    1) ||
        EVP_EncryptFinal_ex(c, b + SL_SEAL_HEADER + n, &m) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
                            b + SL_SEAL_HEADER + len) != 1) {
        EVP_CIPHER_CTX_free(c);
        free(b);
        return SL_ERR(err, SL_EKEY, "OpenSSL: AES-256-GCM failed");
    }
    EVP_CIPHER_CTX_free(c);
    *out = b;
    *outlen = len + SL_SEAL_OVERHEAD;
    return SL_OK;
}

int
sl_unseal(const void *key, size_t keylen, const char *context, const void *in,
          size_t len, unsigned char **out, size_t *outlen, struct sl_err *err)
{
    const unsigned char *p = in;
    EVP_CIPHER_CTX *c = NULL;
    size_t clen;
    unsigned char *b;
    int n = 0, m = 0, rc;

    if (!sl_sealed(in, len))
        return SL_ERR(err, SL_EPARSE, "not sealed data, or truncated");
    if ((rc = unseal_begin(key, keylen, context, p, &c, err)) != SL_OK)
        return rc;
    clen = len - SL_SEAL_OVERHEAD;
    b = sl_malloc(clen + 1);
    if ((clen && EVP_DecryptUpdate(c, b, &n, p + SL_SEAL_HEADER, (int)clen) !=
                     1) ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
                            (void *)(p + len - TAG_LEN)) != 1 ||
        EVP_DecryptFinal_ex(c, b + n, &m) != 1) {
        EVP_CIPHER_CTX_free(c);
        sl_freezero(b, clen + 1);
        return SL_ERR(err, SL_EPARSE,
                      "sealed data fails its check: damaged or changed");
    }
    EVP_CIPHER_CTX_free(c);
    b[clen] = '\0';
    *out = b;
    *outlen = clen;
    return SL_OK;
}

/* ---- files --------------------------------------------------------------- */

static int
write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static ssize_t
read_full(int fd, unsigned char *p, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

int
sl_sealed_file(const char *path)
{
    unsigned char hdr[MAGIC_LEN];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    ssize_t n;

    if (fd < 0)
        return 0;
    n = read_full(fd, hdr, sizeof(hdr));
    close(fd);
    return n == MAGIC_LEN && memcmp(hdr, SL_SEAL_MAGIC, MAGIC_LEN) == 0;
}

#define CHUNK 65536

int
sl_seal_file(const void *key, size_t keylen, const char *context,
             const char *src, const char *dst, struct sl_err *err)
{
    unsigned char hdr[SL_SEAL_HEADER], tag[TAG_LEN];
    unsigned char *in = NULL, *ob = NULL;
    EVP_CIPHER_CTX *c = NULL;
    int fi = -1, fo = -1, rc, n;
    ssize_t r;

    if ((fi = open(src, O_RDONLY | O_CLOEXEC)) < 0)
        return SL_ERR(err, SL_EIO, "%s: cannot read", src);
    if ((fo = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                   0600)) < 0) {
        close(fi);
        return SL_ERR(err, SL_EIO, "%s: cannot create", dst);
    }
    if ((rc = seal_begin(key, keylen, context, hdr, &c, err)) != SL_OK)
        goto out;
    in = sl_malloc(CHUNK);
    ob = sl_malloc(CHUNK + 32);
    if (write_all(fo, hdr, sizeof(hdr)) != 0)
        goto io;
    while ((r = read_full(fi, in, CHUNK)) > 0) {
        if (EVP_EncryptUpdate(c, ob, &n, in, (int)r) != 1)
            goto ssl;
        if (write_all(fo, ob, (size_t)n) != 0)
            goto io;
    }
    if (r < 0) {
        rc = SL_ERR(err, SL_EIO, "%s: cannot read", src);
        goto out;
    }
    if (EVP_EncryptFinal_ex(c, ob, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1)
        goto ssl;
    if ((n > 0 && write_all(fo, ob, (size_t)n) != 0) ||
        write_all(fo, tag, TAG_LEN) != 0 || fsync(fo) != 0)
        goto io;
    rc = SL_OK;
    goto out;
ssl:
    rc = SL_ERR(err, SL_EKEY, "OpenSSL: AES-256-GCM failed");
    goto out;
io:
    rc = SL_ERR(err, SL_EIO, "%s: cannot write", dst);
out:
    if (in)
        OPENSSL_cleanse(in, CHUNK);
    free(in);
    free(ob);
    EVP_CIPHER_CTX_free(c);
    close(fi);
    if (close(fo) != 0 && rc == SL_OK)
        rc = SL_ERR(err, SL_EIO, "%s: cannot write", dst);
    if (rc != SL_OK)
        unlink(dst);
    return rc;
}

int
sl_unseal_file(const void *key, size_t keylen, const char *context,
               const char *src, const char *dst, struct sl_err *err)
{
    unsigned char hdr[SL_SEAL_HEADER], *in = NULL, *ob = NULL;
    unsigned char keep[TAG_LEN];
    size_t have = 0; /* bytes held back in keep: the tag is the last 16 */
    EVP_CIPHER_CTX *c = NULL;
    int fi = -1, fo = -1, rc, n;
    ssize_t r;

    if ((fi = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return SL_ERR(err, SL_EIO, "%s: cannot read", src);
    if (read_full(fi, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr)) {
        close(fi);
        return SL_ERR(err, SL_EPARSE, "%s: not a sealed file, or truncated",
                      src);
    }
    if ((rc = unseal_begin(key, keylen, context, hdr, &c, err)) != SL_OK) {
        close(fi);
        sl_err_prefix(err, "%s", src);
        return rc;
    }
    if ((fo = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                   0600)) < 0) {
        close(fi);
        EVP_CIPHER_CTX_free(c);
        return SL_ERR(err, SL_EIO, "%s: cannot create", dst);
    }
    in = sl_malloc(CHUNK + TAG_LEN);
    ob = sl_malloc(CHUNK + TAG_LEN + 32);
    while ((r = read_full(fi, in + have, CHUNK)) > 0) {
        size_t tot = have + (size_t)r, body;
        /* everything but the last 16 bytes seen so far is ciphertext */
        body = tot > TAG_LEN ? tot - TAG_LEN : 0;
        if (body && (EVP_DecryptUpdate(c, ob, &n, in, (int)body) != 1 ||
                     write_all(fo, ob, (size_t)n) != 0)) {
            rc = SL_ERR(err, SL_EIO, "%s: cannot write", dst);
            goto out;
        }
        memmove(keep, in + body, tot - body);
        have = tot - body;
        memcpy(in, keep, have);
    }
    if (r < 0 || have != TAG_LEN ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, in) != 1 ||
        EVP_DecryptFinal_ex(c, ob, &n) != 1) {
        rc = SL_ERR(err, SL_EPARSE,
                    "%s: sealed file fails its check: damaged or changed",
                    src);
        goto out;
    }
    rc = fsync(fo) == 0 ? SL_OK : SL_ERR(err, SL_EIO, "%s: cannot write", dst);
out:
    if (ob)
        OPENSSL_cleanse(ob, CHUNK + TAG_LEN + 32);
    free(in);
    free(ob);
    EVP_CIPHER_CTX_free(c);
    close(fi);
    if (close(fo) != 0 && rc == SL_OK)
        rc = SL_ERR(err, SL_EIO, "%s: cannot write", dst);
    if (rc != SL_OK)
        unlink(dst);
    return rc;
}

/* ---- text ---------------------------------------------------------------- */

#define TEXT_PREFIX "sealed:"

int
sl_sealed_text(const char *s)
{
    return s && strncmp(s, TEXT_PREFIX, strlen(TEXT_PREFIX)) == 0;
}

int
sl_seal_text(const void *key, size_t keylen, const char *context,
             const char *s, char **out, struct sl_err *err)
{
    unsigned char *b = NULL;
    size_t n = 0, plen = strlen(TEXT_PREFIX);
    char *t;
    int rc;

    if ((rc = sl_seal(key, keylen, context, s, strlen(s), &b, &n, err)) !=
        SL_OK)
        return rc;
    t = sl_malloc(plen + 4 * ((n + 2) / 3) + 1);
    memcpy(t, TEXT_PREFIX, plen);
    EVP_EncodeBlock((unsigned char *)t + plen, b, (int)n);
    free(b);
    *out = t;
    return SL_OK;
}

int
sl_unseal_text(const void *key, size_t keylen, const char *context,
               const char *s, char **out, struct sl_err *err)
{
    const char *b64;
    unsigned char *raw, *plain = NULL;
    size_t len, plen = 0;
    int n, rc;

    if (!sl_sealed_text(s)) {
        *out = s ? sl_strdup(s) : NULL;
        return SL_OK;
    }
    b64 = s + strlen(TEXT_PREFIX);
    len = strlen(b64);
    if (len % 4 != 0)
        return SL_ERR(err, SL_EPARSE, "sealed text is damaged");
    raw = sl_malloc(len / 4 * 3 + 1);
    n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len);
    if (n < 0) {
        free(raw);
        return SL_ERR(err, SL_EPARSE, "sealed text is damaged");
    }
    /* EVP_DecodeBlock counts the padding as data: take it off */
    if (len >= 1 && b64[len - 1] == '=')
        n--;
    if (len >= 2 && b64[len - 2] == '=')
        n--;
    rc = sl_unseal(key, keylen, context, raw, (size_t)n, &plain, &plen, err);
    free(raw);
    if (rc != SL_OK)
        return rc;
    *out = (char *)plain;
    return SL_OK;
}

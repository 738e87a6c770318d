/* reid.c - the re-identification map: original -> pseudonym pairs sealed
 * with AES-256-GCM, one record per pair, appended as they come (see the
 * format in keys.h). Nothing here logs a value. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "keys/keys.h"

#define HDR_LEN     44
#define SALT_OFF    12
#define SALT_LEN    16
#define CHECK_OFF   28
#define CHECK_LEN   16
#define NONCE_LEN   12
#define TAG_LEN     16
#define AAD_LEN     (HDR_LEN + 8)
#define REC_MAX     65536 /* a pair is short: anything longer is damage */

#define LABEL_CHECK "sluice reid-map v1 check"
#define LABEL_ENC   "sluice reid-map v1 aes-256-gcm"

struct sl_reid_writer {
    FILE *f;
    pthread_mutex_t mu;
    unsigned char hdr[HDR_LEN];
    unsigned char key[32];
    unsigned long long nrec; /* records in the file */
    /* SHA-256 of KIND NUL ORIGINAL for each pair written by this writer,
     * so that the StudyInstanceUID of 500 instances is one record. */
    unsigned char (*seen)[32];
    size_t nseen, capseen;
};

static void
put_be(unsigned char *p, uint64_t v, int n)
{
    int i;

    for (i = n - 1; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xFF);
        v >>= 8;
    }
}

static uint64_t
get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* From a header's salt: the record key and the check value to compare. */
static int
derive(const struct sl_keys *key, const unsigned char *hdr,
       unsigned char enc[32], unsigned char check[CHECK_LEN],
       struct sl_err *err)
{
    int rc;

    if ((rc = sl_keys_derive(key, hdr + SALT_OFF, SALT_LEN, LABEL_CHECK, check,
                             CHECK_LEN, err)) != SL_OK)
        return rc;
    return sl_keys_derive(key, hdr + SALT_OFF, SALT_LEN, LABEL_ENC, enc, 32,
                          err);
}

/* Reads and checks the header of an open map. */
static int
read_header(FILE *f, const char *path, const struct sl_keys *key,
            unsigned char hdr[HDR_LEN], unsigned char enc[32],
            struct sl_err *err)
{
    unsigned char check[CHECK_LEN];
    int rc;

    if (fread(hdr, 1, HDR_LEN, f) != HDR_LEN ||
        memcmp(hdr, SL_REID_MAGIC, 8) != 0)
        return SL_ERR(err, SL_EPARSE, "%s: not a sluice re-identification map",
                      path);
    if (hdr[8] != SL_REID_VERSION)
        return SL_ERR(err, SL_EPARSE,
                      "%s: re-identification map version %u, this sluice "
                      "reads version %d",
                      path, hdr[8], SL_REID_VERSION);
    if ((rc = derive(key, hdr, enc, check, err)) != SL_OK)
        return rc;
    rc = CRYPTO_memcmp(check, hdr + CHECK_OFF, CHECK_LEN) == 0
             ? SL_OK
             : SL_ERR(err, SL_EKEY,
                      "%s: wrong key: this re-identification map was "
                      "written with another key (or its header was changed)",
                      path);
    OPENSSL_cleanse(check, sizeof(check));
    return rc;
}

int
sl_reid_open(const char *path, const struct sl_keys *key,
             struct sl_reid_writer **out, struct sl_err *err)
{
    struct sl_reid_writer *w = sl_calloc(1, sizeof(*w));
    unsigned char check[CHECK_LEN], len4[4];
    struct stat st;
    FILE *rf = NULL;
    int fd = -1, rc = SL_OK, fresh = 0;

    pthread_mutex_init(&w->mu, NULL);
    /* 0600: the map re-identifies patients. */
    fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
              0600);
    if (fd < 0) {
        rc = SL_ERR(err, SL_EIO, "%s: cannot open for writing: %s", path,
                    strerror(errno));
        goto out;
    }
    /* One writer at a time: record numbers are part of each record's
     * additional data, so two runs appending at once would break both. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        rc = SL_ERR(err, SL_EIO,
                    "%s: the re-identification map is in use by another "
                    "run",
                    path);
        close(fd);
        goto out;
    }
    if (fstat(fd, &st) != 0 || (w->f = fdopen(fd, "ab")) == NULL) {
        rc = SL_ERR(err, SL_EIO, "%s: %s", path, strerror(errno));
        close(fd);
        goto out;
    }
    if (st.st_size > 0) {
        /* Appending: the same key, and count the records for the
         * additional data of the next one. */
        int rfd = dup(fd);
        if (rfd < 0 || (rf = fdopen(rfd, "rb")) == NULL ||
            fseeko(rf, 0, SEEK_SET) != 0) {
            rc = SL_ERR(err, SL_EIO, "%s: %s", path, strerror(errno));
            if (rf == NULL && rfd >= 0)
                close(rfd);
            goto out;
        }
        if ((rc = read_header(rf, path, key, w->hdr, w->key, err)) != SL_OK)
            goto out;
        while (fread(len4, 1, 4, rf) == 4) {
            uint64_t l = get_be(len4, 4);
            if (l > REC_MAX ||
                fseeko(rf, (off_t)(NONCE_LEN + l + TAG_LEN), SEEK_CUR) != 0) {
                rc = SL_ERR(err, SL_EPARSE, "%s: record %llu is damaged", path,
                            w->nrec + 1);
                goto out;
            }
            w->nrec++;
        }
        if (ftello(rf) != st.st_size) {
            rc = SL_ERR(err, SL_EPARSE, "%s: record %llu is truncated", path,
                        w->nrec);
            goto out;
        }
    } else {
        fresh = 1;
        memcpy(w->hdr, SL_REID_MAGIC, 8);
        w->hdr[8] = SL_REID_VERSION;
        if (RAND_bytes(w->hdr + SALT_OFF, SALT_LEN) != 1) {
            rc = SL_ERR(err, SL_EKEY, "OpenSSL: no random bytes");
            goto out;
        }
        if ((rc = derive(key, w->hdr, w->key, check, err)) != SL_OK)
            goto out;
        memcpy(w->hdr + CHECK_OFF, check, CHECK_LEN);
    }
    if (fresh && fwrite(w->hdr, 1, HDR_LEN, w->f) != HDR_LEN) {
        rc = SL_ERR(err, SL_EIO, "%s: write error", path);
        goto out;
    }
    *out = w;
    w = NULL;
out:
    OPENSSL_cleanse(check, sizeof(check));
    if (rf != NULL)
        fclose(rf);
    if (w != NULL)
        sl_reid_close(w, NULL);
    return rc;
}

int
sl_reid_add(struct sl_reid_writer *w, const char *kind, const char *original,
            const char *pseudonym, struct sl_err *err)
{
    size_t lk = strlen(kind), lo = strlen(original), lp = strlen(pseudonym);
    size_t n = lk + 1 + lo + 1 + lp, i;
    unsigned char *pt = NULL, *rec = NULL, aad[AAD_LEN], md[32];
    unsigned int mdlen = 0;
    EVP_CIPHER_CTX *ctx = NULL;
    int outl = 0, fin = 0, rc = SL_OK, locked = 0;

    if (n > REC_MAX)
        return SL_ERR(err, SL_EUSAGE,
                      "re-identification map: a %s value is "
                      "too long",
                      kind);
    pt = sl_malloc(n);
    memcpy(pt, kind, lk + 1);
    memcpy(pt + lk + 1, original, lo + 1);
    memcpy(pt + lk + 1 + lo + 1, pseudonym, lp);
    if (EVP_Digest(pt, lk + 1 + lo, md, &mdlen, EVP_sha256(), NULL) != 1) {
        rc = SL_ERR(err, SL_EKEY, "OpenSSL: SHA-256 failed");
        goto out;
    }
    pthread_mutex_lock(&w->mu);
    locked = 1;
    for (i = 0; i < w->nseen; i++)
        if (memcmp(w->seen[i], md, 32) == 0)
            goto out; /* written before */
    rec = sl_malloc(4 + NONCE_LEN + n + TAG_LEN);
    put_be(rec, n, 4);
    memcpy(aad, w->hdr, HDR_LEN);
    put_be(aad + HDR_LEN, w->nrec + 1, 8);
    if (RAND_bytes(rec + 4, NONCE_LEN) != 1 ||
        (ctx = EVP_CIPHER_CTX_new()) == NULL ||
        EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, w->key, rec + 4) !=
            1 ||
        EVP_EncryptUpdate(ctx, NULL, &outl, aad, AAD_LEN) != 1 ||
        EVP_EncryptUpdate(ctx, rec + 4 + NONCE_LEN, &outl, pt, (int)n) != 1 ||
        EVP_EncryptFinal_ex(ctx, rec + 4 + NONCE_LEN + outl, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
                            rec + 4 + NONCE_LEN + n) != 1) {
        rc = SL_ERR(err, SL_EKEY, "OpenSSL: AES-256-GCM failed");
        goto out;
    }
    if (fwrite(rec, 1, 4 + NONCE_LEN + n + TAG_LEN, w->f) !=
        4 + NONCE_LEN + n + TAG_LEN) {
        rc = SL_ERR(err, SL_EIO, "re-identification map: write error");
        goto out;
    }
    w->nrec++;
    if (w->nseen == w->capseen) {
        w->capseen = w->capseen ? 2 * w->capseen : 256;
        w->seen = sl_realloc(w->seen, w->capseen * sizeof(*w->seen));
    }
    memcpy(w->seen[w->nseen++], md, 32);
out:
    if (locked)
        pthread_mutex_unlock(&w->mu);
    EVP_CIPHER_CTX_free(ctx);
    sl_freezero(pt, n);
    free(rec);
    return rc;
}

int
sl_reid_close(struct sl_reid_writer *w, struct sl_err *err)
{
    int rc = SL_OK;

    if (w == NULL)
        return SL_OK;
    if (w->f != NULL &&
        (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0 || fclose(w->f) != 0))
        rc = SL_ERR(err, SL_EIO, "re-identification map: write error");
    OPENSSL_cleanse(w->key, sizeof(w->key));
    if (w->seen != NULL)
        sl_freezero(w->seen, w->capseen * sizeof(*w->seen));
    pthread_mutex_destroy(&w->mu);
    free(w);
    return rc;
}

int
sl_reid_read(const char *path, const struct sl_keys *key, sl_reid_fn fn,
             void *arg, struct sl_err *err)
{
    unsigned char hdr[HDR_LEN], enc[32], len4[4], nonce[NONCE_LEN];
    unsigned char tag[TAG_LEN], aad[AAD_LEN];
    unsigned char *ct = NULL, *pt = NULL;
    unsigned long long recno = 0;
    EVP_CIPHER_CTX *ctx = NULL;
    FILE *f = fopen(path, "rb");
    size_t r;
    int rc = SL_OK, outl = 0, fin = 0;

    memset(enc, 0, sizeof(enc));
    if (f == NULL)
        return SL_ERR(err, SL_EIO, "%s: %s", path, strerror(errno));
    if ((rc = read_header(f, path, key, hdr, enc, err)) != SL_OK)
        goto out;
    ct = sl_malloc(REC_MAX + 1);
    pt = sl_malloc(REC_MAX + 1);
    while ((r = fread(len4, 1, 4, f)) > 0) {
        uint64_t n = r == 4 ? get_be(len4, 4) : 0;
        const char *kind, *orig, *pseudo;

        recno++;
        if (r != 4 || n > REC_MAX ||
            fread(nonce, 1, NONCE_LEN, f) != NONCE_LEN ||
            fread(ct, 1, n, f) != n || fread(tag, 1, TAG_LEN, f) != TAG_LEN) {
            rc = SL_ERR(err, SL_EPARSE,
                        "%s: record %llu is truncated or "
                        "damaged",
                        path, recno);
            goto out;
        }
        memcpy(aad, hdr, HDR_LEN);
        put_be(aad + HDR_LEN, recno, 8);
        EVP_CIPHER_CTX_free(ctx);
        if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
            EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, enc, nonce) != 1 ||
            EVP_DecryptUpdate(ctx, NULL, &outl, aad, AAD_LEN) != 1 ||
            EVP_DecryptUpdate(ctx, pt, &outl, ct, (int)n) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1 ||
            EVP_DecryptFinal_ex(ctx, pt + outl, &fin) != 1) {
            rc = SL_ERR(err, SL_EPARSE,
                        "%s: record %llu fails authentication: "
                        "the file was changed or damaged",
                        path, recno);
            goto out;
        }
        pt[n] = '\0';
        kind = (const char *)pt;
        orig = memchr(pt, '\0', n) != NULL ? kind + strlen(kind) + 1 : NULL;
        if (orig == NULL || orig > (const char *)pt + n ||
            memchr(orig, '\0', (size_t)((const char *)pt + n - orig)) == NULL) {
            rc = SL_ERR(err, SL_EPARSE, "%s: record %llu is malformed", path,
                        recno);
            goto out;
        }
        pseudo = orig + strlen(orig) + 1;
        if ((rc = fn(arg, recno, kind, orig, pseudo)) != 0)
            goto out;
        OPENSSL_cleanse(pt, n);
    }
    if (ferror(f))
        rc = SL_ERR(err, SL_EIO, "%s: read error", path);
out:
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(enc, sizeof(enc));
    if (pt != NULL)
        sl_freezero(pt, REC_MAX + 1);
    free(ct);
    fclose(f);
    return rc;
}

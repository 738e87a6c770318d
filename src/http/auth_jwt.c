/* auth_jwt.c - the signed client assertion of SMART Backend Services
 * (a JWT, RFC 7519/7523): RS384 from an RSA key, ES384 from an EC P-384
 * key, with OpenSSL 3's EVP interface. JOSE wants an ECDSA signature as
 * r || s, 48 bytes each, not the DER that OpenSSL produces. */
#include <config.h> /* autoconf's, not config/config.h */

#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "http/auth_int.h"

/* SMART asks for exp at most five minutes ahead; a little less leaves
 * room for clocks that disagree. */
#define ASSERTION_LIFETIME_S 240
#define ES384_HALF           48

/* Whether k's private and public parts agree (OpenSSL's pairwise check:
 * for RSA n = p q and the exponents, for EC the point). */
static int
pair_ok(EVP_PKEY *k)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
    int ok = c != NULL && EVP_PKEY_pairwise_check(c) == 1;

    EVP_PKEY_CTX_free(c);
    ERR_clear_error();
    return ok;
}

int
auth_jwt_load_key(struct sl_http_auth *a, const char *pem, size_t len,
                  const char *what, struct sl_err *err)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *k = NULL;
    char group[64] = "";
    int rc = SL_OK;

    if (bio == NULL)
        return SL_ERR(err, SL_ENOMEM, "out of memory");
    /* no passphrase callback: an encrypted key fails here, clearly */
    k = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
    if (k == NULL) {
        rc = SL_ERR(err, SL_EKEY,
                    "attribute '%s': not an unencrypted PEM private key", what);
        goto out;
    }
    if (EVP_PKEY_is_a(k, "RSA")) {
        if (EVP_PKEY_get_bits(k) < 2048) {
            rc = SL_ERR(err, SL_EKEY,
                        "attribute '%s': an RSA key of %d bits; RS384 needs "
                        "at least 2048",
                        what, EVP_PKEY_get_bits(k));
            goto out;
        }
        a->alg = "RS384";
    } else if (EVP_PKEY_is_a(k, "EC") &&
               EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME,
                                              group, sizeof(group),
                                              NULL) == 1 &&
               strcmp(group, "secp384r1") == 0) {
        a->alg = "ES384";
    } else {
        rc = SL_ERR(err, SL_EKEY,
                    "attribute '%s': the key must be RSA (RS384) or EC on "
                    "P-384 (ES384), not %s%s%s",
                    what, EVP_PKEY_get0_type_name(k), group[0] ? " on " : "",
                    group);
        goto out;
    }
    /* a key whose parts do not agree (n is not p q, say) loads but
     * cannot sign: refused now, not at the first token request (found
     * by fuzz_jwt_key, seed regress-rsa-parts-disagree) */
    if (!pair_ok(k)) {
        rc = SL_ERR(err, SL_EKEY,
                    "attribute '%s': a damaged private key (its parts do "
                    "not agree)",
                    what);
        goto out;
    }
    a->key = k;
    k = NULL;
out:
    EVP_PKEY_free(k);
    BIO_free(bio);
    return rc;
}

/* Base64url without padding (RFC 7515 section 2) of n bytes. */
static void
b64url(struct sl_buf *out, const unsigned char *p, size_t n)
{
    size_t cap = 4 * ((n + 2) / 3) + 1, i, m;
    unsigned char *tmp = sl_malloc(cap);
    int len = EVP_EncodeBlock(tmp, p, (int)n);

    m = len > 0 ? (size_t)len : 0;
    while (m > 0 && tmp[m - 1] == '=')
        m--;
    for (i = 0; i < m; i++) {
        if (tmp[i] == '+')
            tmp[i] = '-';
        else if (tmp[i] == '/')
            tmp[i] = '_';
    }
    sl_buf_add(out, tmp, m);
    free(tmp);
}

static void
b64url_json(struct sl_buf *out, json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);

    b64url(out, (const unsigned char *)s, strlen(s));
    free(s);
}

/* DER ECDSA-Sig-Value to JOSE's fixed-size r || s. */
static int
der_to_raw(const unsigned char *der, size_t n, unsigned char *raw)
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)n);
    const BIGNUM *r, *s;
    int ok;

    if (sig == NULL)
        return 0;
    ECDSA_SIG_get0(sig, &r, &s);
    ok = BN_bn2binpad(r, raw, ES384_HALF) == ES384_HALF &&
         BN_bn2binpad(s, raw + ES384_HALF, ES384_HALF) == ES384_HALF;
    ECDSA_SIG_free(sig);
    return ok;
}

static int
sign(const struct sl_http_auth *a, const struct sl_buf *input,
     struct sl_buf *out, struct sl_err *err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char *sig = NULL, raw[2 * ES384_HALF];
    size_t n = 0;
    int rc = SL_OK;

    if (md == NULL)
        return SL_ERR(err, SL_ENOMEM, "out of memory");
    /* RS256 for Google's service accounts, RS384/ES384 for SMART */
    if (EVP_DigestSignInit_ex(
            md, NULL, strcmp(a->alg, "RS256") == 0 ? "SHA256" : "SHA384", NULL,
            NULL, a->key, NULL) != 1 ||
        EVP_DigestSign(md, NULL, &n, (const unsigned char *)input->data,
                       input->len) != 1) {
        rc = SL_ERR(err, SL_EKEY, "cannot sign the client assertion (%s)",
                    a->alg);
        goto out;
    }
    sig = sl_malloc(n);
    if (EVP_DigestSign(md, sig, &n, (const unsigned char *)input->data,
                       input->len) != 1) {
        rc = SL_ERR(err, SL_EKEY, "cannot sign the client assertion (%s)",
                    a->alg);
        goto out;
    }
    if (strcmp(a->alg, "ES384") == 0) {
        if (!der_to_raw(sig, n, raw)) {
            rc =
                SL_ERR(err, SL_EINTERNAL, "an ES384 signature that is not DER");
            goto out;
        }
        b64url(out, raw, sizeof(raw));
    } else {
        b64url(out, sig, n);
    }
out:
    free(sig);
    EVP_MD_CTX_free(md);
    return rc;
}

int
auth_jwt_encode(const struct sl_http_auth *a, json_t *hdr, json_t *claims,
                char **out, struct sl_err *err)
{
    struct sl_buf jwt, sig;
    int rc;

    sl_buf_init(&jwt);
    sl_buf_init(&sig);
    b64url_json(&jwt, hdr);
    sl_buf_addc(&jwt, '.');
    b64url_json(&jwt, claims);
    rc = sign(a, &jwt, &sig, err);
    if (rc == SL_OK) {
        sl_buf_addc(&jwt, '.');
        sl_buf_add(&jwt, sig.data, sig.len);
        *out = sl_buf_steal(&jwt);
    }
    sl_buf_free(&sig);
    if (jwt.data != NULL)
        OPENSSL_cleanse(jwt.data, jwt.len);
    sl_buf_free(&jwt);
    return rc;
}

int
auth_jwt_assertion(const struct sl_http_auth *a, char **out, struct sl_err *err)
{
    unsigned char rnd[16];
    char jti[2 * sizeof(rnd) + 1];
    json_t *hdr = NULL, *claims = NULL;
    time_t now = time(NULL);
    size_t i;
    int rc;

    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return SL_ERR(err, SL_EINTERNAL, "no random bytes for the jti");
    for (i = 0; i < sizeof(rnd); i++)
        snprintf(jti + 2 * i, 3, "%02x", rnd[i]);
    hdr = json_pack("{s:s, s:s, s:s}", "alg", a->alg, "typ", "JWT", "kid",
                    a->kid);
    claims = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "iss", a->client_id,
                       "sub", a->client_id, "aud", a->token_url, "jti", jti,
                       "iat", (json_int_t)now, "exp",
                       (json_int_t)(now + ASSERTION_LIFETIME_S));
    if (hdr == NULL || claims == NULL) {
        rc = SL_ERR(err, SL_EINTERNAL,
                    "the client assertion cannot be built (a client id or "
                    "kid that is not UTF-8?)");
        goto out;
    }
    rc = auth_jwt_encode(a, hdr, claims, out, err);
out:
    json_decref(hdr);
    json_decref(claims);
    return rc;
}

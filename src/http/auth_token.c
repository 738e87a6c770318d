/* auth_token.c - OAuth 2.0 access tokens for client-credentials (RFC 6749
 * 4.4, the client secret sent as HTTP Basic, section 2.3.1) and SMART
 * Backend Services (the same grant with a signed JWT client assertion,
 * RFC 7523) and Google service accounts (a signed JWT as the grant
 * itself, RFC 7523 section 2.1). libcurl is used directly: src/http is the one
 * folder that may. Nothing here logs or quotes the secret, the assertion or a
 * token. */
#include <config.h> /* autoconf's, not config/config.h */

#include <string.h>

#include <jansson.h>

#include "http/auth_int.h"

#define TOKEN_BODY_MAX  (64 * 1024)
#define TOKEN_TIMEOUT_S 30L
/* Without expires_in, a token is used for this long. */
#define TOKEN_DEFAULT_TTL_S 300L
/* A token is used at most this long (a year), whatever expires_in says. */
#define TOKEN_MAX_TTL_S (86400L * 366)
/* A token is refreshed this long before it expires (at most a fifth of
 * its lifetime for short-lived tokens), so that no request leaves with a
 * token that expires on the way. */
#define TOKEN_MARGIN_S   60L

#define JWT_BEARER_GRANT "urn:ietf:params:oauth:grant-type:jwt-bearer"
#define ASSERTION_TYPE   "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

struct body {
    struct sl_buf b;
    int too_big;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
    struct body *bd = arg;

    if (bd->b.len + size * n > TOKEN_BODY_MAX) {
        bd->too_big = 1;
        return 0;
    }
    sl_buf_add(&bd->b, p, size * n);
    return size * n;
}

/* Appends "&name=value" (value URL-encoded) to the form. */
static int
form_add(CURL *h, struct sl_buf *form, const char *name, const char *value,
         size_t len)
{
    char *enc = curl_easy_escape(h, value, (int)len);

    if (enc == NULL)
        return SL_ENOMEM;
    if (form->len > 0)
        sl_buf_addc(form, '&');
    sl_buf_adds(form, name);
    sl_buf_addc(form, '=');
    sl_buf_adds(form, enc);
    OPENSSL_cleanse(enc, strlen(enc));
    curl_free(enc);
    return SL_OK;
}

/* The request body: grant, scope and the client's credentials. */
static int
build_form(struct sl_http_auth *a, CURL *h, struct sl_buf *form,
           struct sl_err *err)
{
    char *jwt = NULL;
    int rc;

    if (a->kind == AUTH_GOOGLE) {
        /* RFC 7523 2.1: the JWT is the grant; the scope is inside it */
        if ((rc = auth_google_assertion(a, &jwt, err)) != SL_OK)
            return rc;
        rc = form_add(h, form, "grant_type", JWT_BEARER_GRANT,
                      strlen(JWT_BEARER_GRANT));
        if (rc == SL_OK)
            rc = form_add(h, form, "assertion", jwt, strlen(jwt));
        sl_freezero(jwt, strlen(jwt));
        if (rc != SL_OK)
            goto oom;
        return SL_OK;
    }
    if ((rc = form_add(h, form, "grant_type", "client_credentials", 18)) !=
        SL_OK)
        goto oom;
    if (a->scope != NULL &&
        (rc = form_add(h, form, "scope", a->scope, strlen(a->scope))) != SL_OK)
        goto oom;
    if (a->kind == AUTH_CLIENT_CREDENTIALS)
        return SL_OK;
    if ((rc = auth_jwt_assertion(a, &jwt, err)) != SL_OK)
        return rc;
    if ((rc = form_add(h, form, "client_assertion_type", ASSERTION_TYPE,
                       strlen(ASSERTION_TYPE))) != SL_OK ||
        (rc = form_add(h, form, "client_assertion", jwt, strlen(jwt))) !=
            SL_OK) {
        sl_freezero(jwt, strlen(jwt));
        goto oom;
    }
    sl_freezero(jwt, strlen(jwt));
    return SL_OK;
oom:
    return SL_ERR(err, SL_ENOMEM, "out of memory");
}

/* HTTP Basic credentials of a client secret: both parts form-encoded
 * first (RFC 6749 2.3.1), so a ':' in the id survives. */
static int
set_client_secret(struct sl_http_auth *a, CURL *h, char **user, char **pass,
                  struct sl_err *err)
{
    *user = curl_easy_escape(h, a->client_id, 0);
    *pass = curl_easy_escape(h, a->client_secret.s, (int)a->client_secret.len);
    if (*user == NULL || *pass == NULL)
        return SL_ERR(err, SL_ENOMEM, "out of memory");
    if (curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) !=
            CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_USERNAME, *user) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_PASSWORD, *pass) != CURLE_OK)
        return SL_ERR(err, SL_EINTERNAL,
                      "libcurl refused the client secret options");
    return SL_OK;
}

int
auth_token_parse(struct sl_http_auth *a, long status, const char *data,
                 size_t len, struct sl_err *err)
{
    json_t *doc = json_loadb(data, len, 0, NULL);
    const char *tok = NULL, *type = NULL, *oerr = NULL;
    json_t *exp;
    long ttl = TOKEN_DEFAULT_TTL_S, margin;
    int rc = SL_OK;

    if (doc != NULL && json_is_object(doc)) {
        tok = json_string_value(json_object_get(doc, "access_token"));
        type = json_string_value(json_object_get(doc, "token_type"));
        oerr = json_string_value(json_object_get(doc, "error"));
    }
    if (status != 200) {
        /* error is a registered ASCII code, safe to quote when short */
        if (oerr != NULL && strlen(oerr) < 64 &&
            strspn(oerr, "abcdefghijklmnopqrstuvwxyz_") == strlen(oerr))
            rc = SL_ERR(err, SL_ENET,
                        "token endpoint %s: HTTP %ld, OAuth error %s",
                        a->token_host, status, oerr);
        else
            rc = SL_ERR(err, SL_ENET,
                        "token endpoint %s: HTTP %ld, no OAuth error code",
                        a->token_host, status);
        goto out;
    }
    if (tok == NULL || tok[0] == '\0') {
        rc = SL_ERR(err, SL_ENET,
                    "token endpoint %s: HTTP 200 without an access_token",
                    a->token_host);
        goto out;
    }
    if (type != NULL && strcasecmp(type, "bearer") != 0) {
        rc = SL_ERR(err, SL_ENET, "token endpoint %s: token_type is not Bearer",
                    a->token_host);
        goto out;
    }
    if (strpbrk(tok, "\r\n") != NULL) {
        rc = SL_ERR(err, SL_ENET,
                    "token endpoint %s: the access_token holds a line break",
                    a->token_host);
        goto out;
    }
    exp = json_object_get(doc, "expires_in");
    /* at most TOKEN_MAX_TTL_S: expires_in 9223372036854775807 overflowed
     * the refresh time and 1e300 did not fit a long (undefined; it gave
     * a time in the past), both found by fuzz_token_reply (seeds
     * regress-expires-huge-*) */
    if (json_is_integer(exp) && json_integer_value(exp) > 0)
        ttl = json_integer_value(exp) < TOKEN_MAX_TTL_S
                  ? (long)json_integer_value(exp)
                  : TOKEN_MAX_TTL_S;
    else if (json_is_real(exp) && json_real_value(exp) >= 1)
        ttl = json_real_value(exp) < (double)TOKEN_MAX_TTL_S
                  ? (long)json_real_value(exp)
                  : TOKEN_MAX_TTL_S;
    margin = ttl / 5 < TOKEN_MARGIN_S ? ttl / 5 : TOKEN_MARGIN_S;
    auth_secret_clear(&a->token);
    a->token.len = strlen(tok);
    a->token.s = sl_strndup(tok, a->token.len);
    clock_gettime(CLOCK_MONOTONIC, &a->token_until);
    a->token_until.tv_sec += ttl - margin;
out:
    if (doc != NULL) {
        /* the token's copy inside the document is wiped before it goes */
        json_t *t = json_object_get(doc, "access_token");
        if (json_is_string(t))
            OPENSSL_cleanse((char *)json_string_value(t),
                            json_string_length(t));
        json_decref(doc);
    }
    return rc;
}

int
auth_token_fetch(struct sl_http_auth *a, struct sl_err *err)
{
    CURL *h = curl_easy_init();
    struct sl_buf form;
    struct body bd;
    struct curl_slist *hdr = NULL;
    char *user = NULL, *pass = NULL;
    char ebuf[CURL_ERROR_SIZE] = "";
    long status = 0;
    CURLcode cc;
    int rc;

    sl_buf_init(&form);
    sl_buf_init(&bd.b);
    bd.too_big = 0;
    auth_secret_clear(&a->token);
    if (h == NULL) {
        rc = SL_ERR(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = build_form(a, h, &form, err)) != SL_OK)
        goto out;
    if (a->kind == AUTH_CLIENT_CREDENTIALS &&
        (rc = set_client_secret(a, h, &user, &pass, err)) != SL_OK)
        goto out;
    if ((rc = auth_set_tls(a, h, err)) != SL_OK)
        goto out;
    if (a->ca_file != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, a->ca_file);
    hdr = curl_slist_append(hdr, "Accept: application/json");
    curl_easy_setopt(h, CURLOPT_URL, a->token_url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, form.data);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)form.len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &bd);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, TOKEN_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "sluice/" PACKAGE_VERSION);
    cc = curl_easy_perform(h);
    if (cc != CURLE_OK && !bd.too_big) {
        rc = SL_ERR(err, SL_ENET, "token endpoint %s: %s", a->token_host,
                    ebuf[0] ? ebuf : curl_easy_strerror(cc));
        goto out;
    }
    if (bd.too_big) {
        rc = SL_ERR(err, SL_ENET,
                    "token endpoint %s: response larger than %d bytes",
                    a->token_host, TOKEN_BODY_MAX);
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    rc = auth_token_parse(a, status, bd.b.data, bd.b.len, err);
out:
    if (form.data != NULL)
        OPENSSL_cleanse(form.data, form.len);
    sl_buf_free(&form);
    if (bd.b.data != NULL)
        OPENSSL_cleanse(bd.b.data, bd.b.len);
    sl_buf_free(&bd.b);
    if (user != NULL)
        curl_free(user);
    if (pass != NULL) {
        OPENSSL_cleanse(pass, strlen(pass));
        curl_free(pass);
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return rc;
}

/* auth_int.h - what the auth*.c files share; not for other modules. */
#ifndef SL_HTTP_AUTH_INT_H
#define SL_HTTP_AUTH_INT_H

#include <pthread.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "http/auth.h"

enum auth_kind {
    AUTH_BASIC,
    AUTH_BEARER,
    AUTH_CLIENT_CREDENTIALS,
    AUTH_SMART_BACKEND,
    AUTH_AWS_SIGV4,
    AUTH_MTLS,
    AUTH_GOOGLE, /* a Google service account's key: JWT bearer grant */
};

/* A secret read from env:/file:, wiped when freed. */
struct auth_secret {
    char *s;
    size_t len;
};

struct sl_http_auth {
    enum auth_kind kind;
    pthread_mutex_t lock; /* guards the cached token */
    char *user;           /* basic */
    struct auth_secret password;
    struct auth_secret token;    /* bearer: fixed; OAuth: the cached one */
    struct timespec token_until; /* CLOCK_MONOTONIC; OAuth only */
    char *client_id, *token_url, *token_host, *scope, *kid;
    char *ca_file; /* the token endpoint's CA, or NULL: the system's */
    struct auth_secret client_secret;
    EVP_PKEY *key;   /* smart-backend */
    const char *alg; /* "RS384" or "ES384", from the key's type */
    char *sigv4;     /* "aws:amz:REGION:SERVICE" */
    struct auth_secret akid, sak, session_token;
    char *cert, *cert_key; /* mutual TLS, paths */
    struct auth_secret cert_key_password;
};

void auth_secret_clear(struct auth_secret *s);

/* Sets the client certificate options of a on h (nothing without one). */
int auth_set_tls(const struct sl_http_auth *a, CURL *h, struct sl_err *err);

/* Loads the PEM private key in pem (RSA of at least 2048 bits, or EC on
 * P-384) into a->key and a->alg. Errors name what (the attribute), never
 * key bytes. */
int auth_jwt_load_key(struct sl_http_auth *a, const char *pem, size_t len,
                      const char *what, struct sl_err *err);

/* A signed client assertion for a's token endpoint (SMART Backend
 * Services). On success *out is owned by the caller and freed with
 * sl_freezero(*out, strlen(*out)). */
int auth_jwt_assertion(const struct sl_http_auth *a, char **out,
                       struct sl_err *err);

/* The JWT of header hdr and claims claims signed with a->key (a->alg:
 * RS256, RS384 or ES384). *out as for auth_jwt_assertion. */
int auth_jwt_encode(const struct sl_http_auth *a, json_t *hdr, json_t *claims,
                    char **out, struct sl_err *err);

/* google-service-account: reads the key file's JSON (pem: its bytes) into
 * a->client_id (client_email), a->kid (private_key_id), a->key (RS256)
 * and a->token_url when the <auth> names none (auth_google.c). */
int auth_google_load(struct sl_http_auth *a, const char *json, size_t len,
                     struct sl_err *err);

/* The signed JWT that Google's token endpoint exchanges for a token
 * (RFC 7523 section 2.1: iss the service account, scope, aud the token
 * URL, an hour at most). *out as for auth_jwt_assertion. */
int auth_google_assertion(const struct sl_http_auth *a, char **out,
                          struct sl_err *err);

/* Fetches a new access token from a's token endpoint into a->token and
 * a->token_until. Called with a->lock held. */
int auth_token_fetch(struct sl_http_auth *a, struct sl_err *err);

/* Reads a token endpoint's reply (RFC 6749 5.1) or its error (5.2):
 * status is the HTTP status, data the body's len bytes (not
 * NUL-terminated; NULL when len is 0). On success a->token holds a copy of
 * access_token (no line break) and a->token_until the time to refresh it:
 * expires_in (default 300 s) less a margin of a fifth of it, at most 60 s.
 * On failure a->token is left as it was and err names a->token_host, the
 * status and, when it is a short registered code, the OAuth error; never
 * the token or the error_description. The token's bytes in the parsed
 * document are wiped; data is the caller's to wipe. */
int auth_token_parse(struct sl_http_auth *a, long status, const char *data,
                     size_t len, struct sl_err *err);

/* url with its query in SigV4's canonical form (auth_sigv4.c); caller
 * frees. */
char *auth_sigv4_canonical_url(const char *url);

#endif

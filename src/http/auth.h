/* auth.h - how sluice authenticates to a FHIR server: one <auth> element
 * of a fhir-rest source or fhir-store target (types in conf/sluice.xsd and
 * src/config/config_opts.c: basic, bearer, client-credentials,
 * smart-backend, aws-sigv4, mtls; a client certificate for mutual TLS with
 * any of them). Secrets come from env:/file: through the config's secret
 * reader and are never logged. Thread-safe: one sl_http_auth serves every
 * connection of a source or target. */
#ifndef SL_HTTP_AUTH_H
#define SL_HTTP_AUTH_H

#include <curl/curl.h>

#include "common/common.h"
#include "config/config.h"

struct sl_http_auth;

/* node: the <source> or <target> holding the <auth> child (its attributes
 * are "auth.type", "auth.user", ... in the node; NULL or a node without
 * "auth.type": no auth, *out is set to NULL and SL_OK returned). cfg
 * resolves file: paths. Secrets and the signing key are read here, once:
 * a missing secret or a bad key is an error now, not at the first
 * request. On success *out is owned by the caller, freed with
 * sl_http_auth_free(). */
int sl_http_auth_new(const struct sl_config *cfg,
                     const struct sl_conf_node *node, struct sl_http_auth **out,
                     struct sl_err *err);

/* Prepares a libcurl easy handle for one request: adds an Authorization
 * header to *headers (fetching or refreshing a token when needed, cached
 * until shortly before it expires), or sets curl options (basic auth,
 * CURLOPT_AWS_SIGV4 + credentials, client certificate and key). The
 * caller sets CURLOPT_HTTPHEADER to *headers afterwards and frees the
 * list. A token endpoint's refusal is SL_ENET with its host, HTTP status
 * and OAuth error code; never the secret, the assertion or the token. */
int sl_http_auth_apply(struct sl_http_auth *a, CURL *h,
                       struct curl_slist **headers, struct sl_err *err);

/* The URL to request instead of url, or NULL when url is fine as it is:
 * for aws-sigv4, url with its query in SigV4's canonical order and
 * encoding (libcurl 7.88 signs the query as written). Caller frees. */
char *sl_http_auth_url(const struct sl_http_auth *a, const char *url);

/* Whether a signs the request's headers (aws-sigv4): then no header may
 * be listed empty to remove it. NULL-safe (0). */
int sl_http_auth_signs_headers(const struct sl_http_auth *a);

/* For OAuth kinds without a configured scope: asks tokens for the scope
 * prefix + suffix (flavour="azure": BASE + "/.default"). NULL-safe. */
void sl_http_auth_scope_default(struct sl_http_auth *a, const char *prefix,
                                const char *suffix);

/* After a 401: the cached token is dropped, the next apply fetches one.
 * NULL-safe; nothing happens for kinds without a token. */
void sl_http_auth_invalidate(struct sl_http_auth *a);

/* Wipes the secrets and frees a. NULL-safe. */
void sl_http_auth_free(struct sl_http_auth *a);

#endif

/* auth.c - the <auth> of a FHIR source or target: reading its options and
 * secrets once, and preparing each request (auth.h). Tokens are fetched
 * in auth_token.c, client assertions signed in auth_jwt.c. */
#include <config.h> /* autoconf's, not config/config.h */

#include <string.h>

#include "http/auth_int.h"

void
auth_secret_clear(struct auth_secret *s)
{
    if (s->s != NULL)
        sl_freezero(s->s, s->len);
    s->s = NULL;
    s->len = 0;
}

/* Reads the secret attribute name of the <auth> (absent and optional:
 * left empty). Errors say which attribute and line, never the value. */
static int
read_secret(const struct sl_config *cfg, const struct sl_conf_node *node,
            const char *name, int required, struct auth_secret *out,
            struct sl_err *err)
{
    char attr[64];
    const char *ref;
    int rc;

    snprintf(attr, sizeof(attr), "auth.%s", name);
    ref = sl_conf_get(node, attr);
    if (ref == NULL) {
        if (!required)
            return SL_OK;
        return SL_ERR(err, SL_ECONFIG, "<auth> needs attribute '%s'", name);
    }
    rc = sl_secret_read(ref, cfg != NULL ? cfg->base_dir : ".", &out->s,
                        &out->len, err);
    if (rc != SL_OK)
        sl_err_prefix(err, "<auth> attribute '%s'", name);
    return rc;
}

/* A secret that goes into a header line must be one line of printable
 * text: a newline in a token file would otherwise start a header of its
 * own. */
static int
header_safe(const struct auth_secret *s, const char *name, struct sl_err *err)
{
    size_t i;

    for (i = 0; i < s->len; i++)
        if ((unsigned char)s->s[i] < 0x20 || s->s[i] == 0x7f)
            return SL_ERR(err, SL_EKEY,
                          "<auth> attribute '%s': the secret holds a control "
                          "character or a line break (byte %zu)",
                          name, i + 1);
    return SL_OK;
}

static int
need(const struct sl_conf_node *node, const char *name, char **out,
     struct sl_err *err)
{
    char attr[64];
    const char *v;

    snprintf(attr, sizeof(attr), "auth.%s", name);
    v = sl_conf_get(node, attr);
    if (v == NULL || v[0] == '\0')
        return SL_ERR(err, SL_ECONFIG, "<auth> needs attribute '%s'", name);
    *out = sl_strdup(v);
    return SL_OK;
}

static char *
opt_dup(const struct sl_conf_node *node, const char *attr)
{
    const char *v = sl_conf_get(node, attr);

    return v != NULL ? sl_strdup(v) : NULL;
}

/* The host of a token URL, for error messages; the URL must be http(s). */
static int
token_url_host(const char *url, char **out, struct sl_err *err)
{
    CURLU *u = curl_url();
    char *host = NULL, *scheme = NULL;
    int rc = SL_OK;

    if (u == NULL)
        return SL_ERR(err, SL_ENOMEM, "out of memory");
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = SL_ERR(err, SL_ECONFIG,
                    "<auth> attribute 'token-url' is not an http or https "
                    "URL");
        goto out;
    }
    *out = sl_strdup(host);
out:
    curl_free(host);
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

static int
load_oauth(const struct sl_config *cfg, const struct sl_conf_node *node,
           struct sl_http_auth *a, struct sl_err *err)
{
    struct auth_secret pem = { 0 };
    int rc;

    if ((rc = need(node, "client-id", &a->client_id, err)) != SL_OK ||
        (rc = need(node, "token-url", &a->token_url, err)) != SL_OK ||
        (rc = token_url_host(a->token_url, &a->token_host, err)) != SL_OK)
        return rc;
    a->scope = opt_dup(node, "auth.scope");
    if (sl_conf_get(node, "auth.ca-file") != NULL) {
        a->ca_file = sl_path_resolve(cfg != NULL ? cfg->base_dir : ".",
                                     sl_conf_get(node, "auth.ca-file"));
        if (!sl_path_exists(a->ca_file))
            return SL_ERR(err, SL_ECONFIG,
                          "<auth> attribute 'ca-file': %s: no such file",
                          a->ca_file);
    }
    if (a->kind == AUTH_CLIENT_CREDENTIALS)
        return read_secret(cfg, node, "client-secret", 1, &a->client_secret,
                           err);
    if ((rc = need(node, "kid", &a->kid, err)) != SL_OK ||
        (rc = read_secret(cfg, node, "key", 1, &pem, err)) != SL_OK)
        return rc;
    rc = auth_jwt_load_key(a, pem.s, pem.len, "key", err);
    if (rc != SL_OK)
        sl_err_prefix(err, "<auth>");
    auth_secret_clear(&pem);
    return rc;
}

/* google-service-account: the key file (a secret) names the account, its
 * key and usually the token endpoint; token-url and ca-file override. */
static int
load_google(const struct sl_config *cfg, const struct sl_conf_node *node,
            struct sl_http_auth *a, struct sl_err *err)
{
    struct auth_secret js = { 0 };
    const char *url = sl_conf_get(node, "auth.token-url");
    int rc;

    if (url != NULL)
        a->token_url = sl_strdup(url);
    a->scope = opt_dup(node, "auth.scope");
    if (a->scope == NULL)
        a->scope =
            sl_strdup("https://www.googleapis.com/auth/cloud-healthcare");
    if (sl_conf_get(node, "auth.ca-file") != NULL) {
        a->ca_file = sl_path_resolve(cfg != NULL ? cfg->base_dir : ".",
                                     sl_conf_get(node, "auth.ca-file"));
        if (!sl_path_exists(a->ca_file))
            return SL_ERR(err, SL_ECONFIG,
                          "<auth> attribute 'ca-file': %s: no such file",
                          a->ca_file);
    }
    if ((rc = read_secret(cfg, node, "key", 1, &js, err)) != SL_OK)
        return rc;
    rc = auth_google_load(a, js.s, js.len, err);
    auth_secret_clear(&js);
    if (rc != SL_OK) {
        sl_err_prefix(err, "<auth>");
        return rc;
    }
    return token_url_host(a->token_url, &a->token_host, err);
}

static int
load_sigv4(const struct sl_config *cfg, const struct sl_conf_node *node,
           struct sl_http_auth *a, struct sl_err *err)
{
    const char *region = sl_conf_get(node, "auth.region");
    const char *service = sl_conf_get(node, "auth.service");
    int rc;

    if (region == NULL || region[0] == '\0' || strchr(region, ':') != NULL)
        return SL_ERR(err, SL_ECONFIG,
                      "<auth> needs attribute 'region' (a region name such "
                      "as us-east-1)");
    if (service == NULL)
        service = "healthlake";
    if (service[0] == '\0' || strchr(service, ':') != NULL)
        return SL_ERR(err, SL_ECONFIG,
                      "<auth> attribute 'service' must be a service name "
                      "such as healthlake");
    a->sigv4 = sl_asprintf("aws:amz:%s:%s", region, service);
    if ((rc = read_secret(cfg, node, "access-key-id", 1, &a->akid, err)) !=
            SL_OK ||
        (rc = read_secret(cfg, node, "secret-access-key", 1, &a->sak, err)) !=
            SL_OK)
        return rc;
    if ((rc = read_secret(cfg, node, "session-token", 0, &a->session_token,
                          err)) != SL_OK)
        return rc;
    return header_safe(&a->session_token, "session-token", err);
}

static int
load_tls(const struct sl_config *cfg, const struct sl_conf_node *node,
         struct sl_http_auth *a, struct sl_err *err)
{
    int has_cert = sl_conf_get(node, "auth.client-cert") != NULL;
    int has_key = sl_conf_get(node, "auth.client-key") != NULL;
    const char *base = cfg != NULL ? cfg->base_dir : ".";

    if (a->kind == AUTH_MTLS && !has_cert)
        return SL_ERR(err, SL_ECONFIG,
                      "<auth type=\"mtls\"> needs attribute 'client-cert'");
    if (has_cert != has_key)
        return SL_ERR(err, SL_ECONFIG,
                      "<auth> needs both 'client-cert' and 'client-key'");
    if (!has_cert)
        return SL_OK;
    a->cert = sl_path_resolve(base, sl_conf_get(node, "auth.client-cert"));
    a->cert_key = sl_path_resolve(base, sl_conf_get(node, "auth.client-key"));
    if (!sl_path_exists(a->cert) || !sl_path_exists(a->cert_key))
        return SL_ERR(err, SL_ECONFIG, "<auth> %s: no such file",
                      !sl_path_exists(a->cert) ? a->cert : a->cert_key);
    return read_secret(cfg, node, "client-key-password", 0,
                       &a->cert_key_password, err);
}

int
sl_http_auth_new(const struct sl_config *cfg, const struct sl_conf_node *node,
                 struct sl_http_auth **out, struct sl_err *err)
{
    static const struct {
        const char *name;
        enum auth_kind kind;
    } kinds[] = {
        { "basic", AUTH_BASIC },
        { "bearer", AUTH_BEARER },
        { "client-credentials", AUTH_CLIENT_CREDENTIALS },
        { "smart-backend", AUTH_SMART_BACKEND },
        { "aws-sigv4", AUTH_AWS_SIGV4 },
        { "mtls", AUTH_MTLS },
        { "google-service-account", AUTH_GOOGLE },
    };
    struct sl_http_auth *a = NULL;
    const char *type = node != NULL ? sl_conf_get(node, "auth.type") : NULL;
    size_t i;
    int rc = SL_OK;

    if (type == NULL) {
        *out = NULL;
        return SL_OK;
    }
    a = sl_calloc(1, sizeof(*a));
    pthread_mutex_init(&a->lock, NULL);
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(type, kinds[i].name) == 0)
            break;
    if (i == sizeof(kinds) / sizeof(kinds[0])) {
        rc = SL_ERR(err, SL_ECONFIG, "unknown <auth> type '%s'", type);
        goto out;
    }
    a->kind = kinds[i].kind;
    switch (a->kind) {
    case AUTH_BASIC:
        if ((rc = need(node, "user", &a->user, err)) == SL_OK)
            rc = read_secret(cfg, node, "password", 1, &a->password, err);
        break;
    case AUTH_BEARER:
        if ((rc = read_secret(cfg, node, "token", 1, &a->token, err)) == SL_OK)
            rc = header_safe(&a->token, "token", err);
        break;
    case AUTH_CLIENT_CREDENTIALS:
    case AUTH_SMART_BACKEND:
        rc = load_oauth(cfg, node, a, err);
        break;
    case AUTH_AWS_SIGV4:
        rc = load_sigv4(cfg, node, a, err);
        break;
    case AUTH_GOOGLE:
        rc = load_google(cfg, node, a, err);
        break;
    case AUTH_MTLS:
        break;
    }
    if (rc == SL_OK)
        rc = load_tls(cfg, node, a, err);
    if (rc != SL_OK)
        goto out;
    *out = a;
    a = NULL;
out:
    if (rc != SL_OK) {
        /* where: the <source> or <target> holding the <auth> */
        if (cfg != NULL && cfg->path != NULL)
            sl_err_prefix(err, "%s:%d", cfg->path, node->line);
        else
            sl_err_prefix(err, "line %d", node->line);
    }
    sl_http_auth_free(a);
    return rc;
}

int
auth_set_tls(const struct sl_http_auth *a, CURL *h, struct sl_err *err)
{
    if (a->cert == NULL)
        return SL_OK;
    if (curl_easy_setopt(h, CURLOPT_SSLCERT, a->cert) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_SSLKEY, a->cert_key) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM") != CURLE_OK ||
        (a->cert_key_password.s != NULL &&
         curl_easy_setopt(h, CURLOPT_KEYPASSWD, a->cert_key_password.s) !=
             CURLE_OK))
        return SL_ERR(err, SL_EINTERNAL,
                      "libcurl refused the client certificate options");
    return SL_OK;
}

/* Whether the cached token is still good (a->lock held). */
static int
token_fresh(const struct sl_http_auth *a)
{
    struct timespec now;

    if (a->token.s == NULL)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec < a->token_until.tv_sec;
}

/* Appends "Authorization: Bearer TOKEN"; the temporary copy is wiped. */
static int
add_bearer(const struct auth_secret *tok, struct curl_slist **headers,
           struct sl_err *err)
{
    static const char prefix[] = "Authorization: Bearer ";
    size_t n = sizeof(prefix) - 1 + tok->len + 1;
    char *line = sl_malloc(n);
    struct curl_slist *l;

    memcpy(line, prefix, sizeof(prefix) - 1);
    memcpy(line + sizeof(prefix) - 1, tok->s, tok->len);
    line[n - 1] = '\0';
    l = curl_slist_append(*headers, line);
    sl_freezero(line, n);
    if (l == NULL)
        return SL_ERR(err, SL_ENOMEM, "out of memory");
    *headers = l;
    return SL_OK;
}

int
sl_http_auth_apply(struct sl_http_auth *a, CURL *h, struct curl_slist **headers,
                   struct sl_err *err)
{
    int rc = SL_OK;

    if (a == NULL)
        return SL_OK;
    if ((rc = auth_set_tls(a, h, err)) != SL_OK)
        return rc;
    switch (a->kind) {
    case AUTH_BASIC:
        if (curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) !=
                CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_USERNAME, a->user) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_PASSWORD, a->password.s) != CURLE_OK)
            rc = SL_ERR(err, SL_EINTERNAL,
                        "libcurl refused the basic auth options");
        break;
    case AUTH_BEARER:
        rc = add_bearer(&a->token, headers, err);
        break;
    case AUTH_CLIENT_CREDENTIALS:
    case AUTH_SMART_BACKEND:
    case AUTH_GOOGLE:
        pthread_mutex_lock(&a->lock);
        if (!token_fresh(a))
            rc = auth_token_fetch(a, err);
        if (rc == SL_OK)
            rc = add_bearer(&a->token, headers, err);
        pthread_mutex_unlock(&a->lock);
        break;
    case AUTH_AWS_SIGV4:
        if (curl_easy_setopt(h, CURLOPT_AWS_SIGV4, a->sigv4) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_USERNAME, a->akid.s) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_PASSWORD, a->sak.s) != CURLE_OK) {
            rc = SL_ERR(err, SL_EINTERNAL,
                        "libcurl refused CURLOPT_AWS_SIGV4 (libcurl %s)",
                        curl_version_info(CURLVERSION_NOW)->version);
            break;
        }
        if (a->session_token.s != NULL) {
            char *line =
                sl_asprintf("x-amz-security-token: %s", a->session_token.s);
            struct curl_slist *l = curl_slist_append(*headers, line);

            sl_freezero(line, strlen(line));
            if (l == NULL)
                rc = SL_ERR(err, SL_ENOMEM, "out of memory");
            else
                *headers = l;
        }
        break;
    case AUTH_MTLS:
        break;
    }
    return rc;
}

void
sl_http_auth_scope_default(struct sl_http_auth *a, const char *prefix,
                           const char *suffix)
{
    if (a == NULL || a->scope != NULL ||
        (a->kind != AUTH_CLIENT_CREDENTIALS && a->kind != AUTH_SMART_BACKEND))
        return;
    a->scope = sl_asprintf("%s%s", prefix, suffix);
}

void
sl_http_auth_invalidate(struct sl_http_auth *a)
{
    if (a == NULL || (a->kind != AUTH_CLIENT_CREDENTIALS &&
                      a->kind != AUTH_SMART_BACKEND && a->kind != AUTH_GOOGLE))
        return;
    pthread_mutex_lock(&a->lock);
    auth_secret_clear(&a->token);
    pthread_mutex_unlock(&a->lock);
}

void
sl_http_auth_free(struct sl_http_auth *a)
{
    if (a == NULL)
        return;
    free(a->user);
    auth_secret_clear(&a->password);
    auth_secret_clear(&a->token);
    free(a->client_id);
    free(a->token_url);
    free(a->token_host);
    free(a->scope);
    free(a->kid);
    free(a->ca_file);
    auth_secret_clear(&a->client_secret);
    EVP_PKEY_free(a->key);
    free(a->sigv4);
    auth_secret_clear(&a->akid);
    auth_secret_clear(&a->sak);
    auth_secret_clear(&a->session_token);
    free(a->cert);
    free(a->cert_key);
    auth_secret_clear(&a->cert_key_password);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

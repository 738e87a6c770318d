/* auth_google.c - a Google Cloud service account as the credentials of a
 * fhir-store target (flavour="google"): the account's JSON key file
 * (fields type, client_email, private_key_id, private_key, token_uri)
 * gives a JWT signed RS256, which the token endpoint exchanges for an
 * access token (RFC 7523 section 2.1, grant type jwt-bearer). The key
 * file is a secret: nothing here quotes a value of it. */
#include <config.h> /* autoconf's, not config/config.h */

#include <string.h>
#include <time.h>

#include "http/auth_int.h"

/* Google accepts an assertion of at most an hour. */
#define GOOGLE_ASSERTION_LIFETIME_S 3600
#define GOOGLE_DEFAULT_TOKEN_URL    "https://oauth2.googleapis.com/token"

static int
field(const json_t *doc, const char *name, const char **out, struct sl_err *err)
{
    const char *v = json_string_value(json_object_get(doc, name));

    if (v == NULL || v[0] == '\0')
        return SL_ERR(err, SL_EKEY,
                      "attribute 'key': the service account key has no "
                      "string field '%s'",
                      name);
    *out = v;
    return SL_OK;
}

int
auth_google_load(struct sl_http_auth *a, const char *json, size_t len,
                 struct sl_err *err)
{
    json_error_t je;
    json_t *doc = json_loadb(json, len, 0, &je);
    const char *type = NULL, *email = NULL, *kid = NULL, *pem = NULL;
    const char *uri = NULL;
    int rc;

    if (doc == NULL || !json_is_object(doc)) {
        /* je.text may quote the key: only the place is given */
        rc = doc == NULL ? SL_ERR(err, SL_EKEY,
                                  "attribute 'key': the service account "
                                  "key is not JSON (line %d, column %d)",
                                  je.line, je.column)
                         : SL_ERR(err, SL_EKEY,
                                  "attribute 'key': the service account "
                                  "key is not a JSON object");
        goto out;
    }
    if ((rc = field(doc, "type", &type, err)) != SL_OK)
        goto out;
    if (strcmp(type, "service_account") != 0) {
        rc = SL_ERR(err, SL_EKEY,
                    "attribute 'key': the key's type is not "
                    "\"service_account\"");
        goto out;
    }
    if ((rc = field(doc, "client_email", &email, err)) != SL_OK ||
        (rc = field(doc, "private_key_id", &kid, err)) != SL_OK ||
        (rc = field(doc, "private_key", &pem, err)) != SL_OK)
        goto out;
    if (json_object_get(doc, "token_uri") != NULL &&
        (rc = field(doc, "token_uri", &uri, err)) != SL_OK)
        goto out;
    if ((rc = auth_jwt_load_key(a, pem, strlen(pem), "key", err)) != SL_OK)
        goto out;
    if (strcmp(a->alg, "RS384") != 0) {
        rc = SL_ERR(err, SL_EKEY,
                    "attribute 'key': a service account's private_key must "
                    "be RSA");
        goto out;
    }
    a->alg = "RS256";
    a->client_id = sl_strdup(email);
    a->kid = sl_strdup(kid);
    if (a->token_url == NULL)
        a->token_url = sl_strdup(uri != NULL ? uri : GOOGLE_DEFAULT_TOKEN_URL);
out:
    if (doc != NULL) {
        /* the private key's copy in the document is wiped before it goes */
        json_t *k = json_object_get(doc, "private_key");
        if (json_is_string(k))
            OPENSSL_cleanse((char *)json_string_value(k),
                            json_string_length(k));
        json_decref(doc);
    }
    return rc;
}

int
auth_google_assertion(const struct sl_http_auth *a, char **out,
                      struct sl_err *err)
{
    json_t *hdr, *claims;
    time_t now = time(NULL);
    int rc;

    hdr = json_pack("{s:s, s:s, s:s}", "alg", a->alg, "typ", "JWT", "kid",
                    a->kid);
    claims =
        json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", a->client_id, "scope",
                  a->scope, "aud", a->token_url, "iat", (json_int_t)now, "exp",
                  (json_int_t)(now + GOOGLE_ASSERTION_LIFETIME_S));
    if (hdr == NULL || claims == NULL)
        rc = SL_ERR(err, SL_EKEY,
                    "attribute 'key': the service account's client_email or "
                    "private_key_id is not UTF-8");
    else
        rc = auth_jwt_encode(a, hdr, claims, out, err);
    json_decref(hdr);
    json_decref(claims);
    return rc;
}

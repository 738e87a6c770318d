/* fuzz_token_reply.c - fuzz target for the reader of an OAuth 2.0 token
 * endpoint's reply (src/http/auth_token.c, auth_token_parse): what
 * client-credentials, smart-backend and google-service-account auth read
 * from the token endpoint of a source or target. The first byte chooses
 * the HTTP status (mostly 200, else an error status); the rest is the
 * body. Checked: a token is taken only from a 200 reply, it is the
 * reply's access_token exactly, not empty and without a line break, and
 * it is to be refreshed in the future but at most expires_in (a year at
 * most) from now; a
 * refusal leaves no token, names the endpoint's host and quotes neither
 * the token nor the error_description (they can hold secrets or data),
 * and the OAuth error code only when it is a short registered-looking
 * code. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "fuzz.h"
#include "http/auth_int.h"

/* whether the error message holds s (8 bytes or more, a possible quote)
 * other than as a part of the reader's own words */
static int
quotes(const char *msg, const char *s)
{
    static const char own[] =
        "token endpoint auth.example.org: HTTP 200 without an access_token"
        " token_type is not Bearer the access_token holds a line break, no"
        " OAuth error code";

    return s != NULL && strlen(s) >= 8 && strstr(own, s) == NULL &&
           strstr(msg, s) != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = { 200, 200, 200, 200,
                                     400, 401, 403, 500 };
    struct sl_http_auth a;
    struct sl_err err;
    struct timespec before;
    json_t *doc = NULL, *exp;
    const char *tok = NULL, *oerr = NULL, *desc = NULL;
    long status, ttl = 300;
    char *body;
    int rc;

    if (size == 0)
        return 0;
    status = statuses[data[0] & 7];
    size--;
    /* a copy of its own, so that ASan sees a read past its end */
    body = malloc(size > 0 ? size : 1);
    if (body == NULL)
        abort();
    memcpy(body, data + 1, size);
    /* what the reply says, read independently */
    doc = json_loadb(body, size, 0, NULL);
    if (json_is_object(doc)) {
        tok = json_string_value(json_object_get(doc, "access_token"));
        oerr = json_string_value(json_object_get(doc, "error"));
        desc = json_string_value(json_object_get(doc, "error_description"));
        exp = json_object_get(doc, "expires_in");
        if (json_is_integer(exp) && json_integer_value(exp) > 0)
            ttl = json_integer_value(exp) < 86400L * 366
                      ? (long)json_integer_value(exp)
                      : 86400L * 366;
        else if (json_is_real(exp) && json_real_value(exp) >= 1)
            ttl = json_real_value(exp) < 86400.0 * 366
                      ? (long)json_real_value(exp)
                      : 86400L * 366;
    }
    memset(&a, 0, sizeof(a));
    memset(&err, 0, sizeof(err));
    a.kind = AUTH_CLIENT_CREDENTIALS;
    a.token_host = (char *)"auth.example.org";
    clock_gettime(CLOCK_MONOTONIC, &before);
    rc = auth_token_parse(&a, status, size > 0 ? body : NULL, size, &err);
    if (rc == SL_OK) {
        FUZZ_ASSERT(status == 200);
        FUZZ_ASSERT(a.token.s != NULL && a.token.len > 0);
        FUZZ_ASSERT(a.token.len == strlen(a.token.s));
        FUZZ_ASSERT(strpbrk(a.token.s, "\r\n") == NULL);
        FUZZ_ASSERT(tok != NULL && strcmp(tok, a.token.s) == 0);
        /* refreshed after now, and no later than expires_in from now */
        FUZZ_ASSERT(a.token_until.tv_sec >= before.tv_sec);
        FUZZ_ASSERT(a.token_until.tv_sec <= before.tv_sec + ttl + 1);
    } else {
        FUZZ_ASSERT(rc == SL_ENET);
        FUZZ_ASSERT(a.token.s == NULL);
        FUZZ_ASSERT(strstr(err.msg, "auth.example.org") != NULL);
        FUZZ_ASSERT(!quotes(err.msg, tok));
        FUZZ_ASSERT(!quotes(err.msg, desc));
        if (status != 200 && oerr != NULL && strlen(oerr) < 64 &&
            strspn(oerr, "abcdefghijklmnopqrstuvwxyz_") == strlen(oerr)) {
            /* a registered-looking code is named */
            const char *e = strstr(err.msg, "OAuth error ");
            FUZZ_ASSERT(e != NULL && strcmp(e + 12, oerr) == 0);
        } else {
            FUZZ_ASSERT(!quotes(err.msg, oerr));
        }
    }
    /* the reader wiped the token in its own document; ours goes too */
    json_decref(doc);
    auth_secret_clear(&a.token);
    free(body);
    return 0;
}

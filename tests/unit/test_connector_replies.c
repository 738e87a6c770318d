/* test_connector_replies.c - the readers of what a FHIR connector's
 * servers answer, extracted so that a fuzz target can call them:
 * auth_token_parse() (src/http/auth_token.c, a token endpoint's reply)
 * and store_batch_reply() / store_diagnostics()
 * (src/sinks/fhir_store_send.c, the fhir-store target's batch-response and
 * OperationOutcome). Each case reads a seed of the fuzz corpora
 * (tests/fuzz/corpus/token_reply, store_reply: replies captured from
 * oidc-provider and @medplum/fhir-router, and written ones), skipping the
 * first byte, which is the fuzz target's own, and checks what the reader
 * gave before its extraction: the token and its lifetime, the refusal's
 * words (no secret), each entry's status and diagnostics. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "http/auth_int.h"
#include "sinks/fhir_store_int.h"

/* The seed's body (after its first byte); *len its length. */
static char *
seed(const char *corpus, const char *name, size_t *len)
{
    char *rel = sl_asprintf("tests/fuzz/corpus/%s/%s", corpus, name);
    char *path = sl_path_join(SL_SRCDIR, rel), *text = NULL;
    size_t n = 0;

    assert_int_equal(sl_file_read(path, &text, &n, NULL), SL_OK);
    assert_true(n >= 1);
    memmove(text, text + 1, n - 1);
    *len = n - 1;
    free(rel);
    free(path);
    return text;
}

/* auth_token_parse() on a seed: the status, *token (the token or NULL),
 * *life (seconds from now to the refresh time) and err. */
static int
token(const char *name, long status, char **tok, long *life,
      struct sl_err *err)
{
    struct sl_http_auth a;
    struct timespec now;
    size_t len;
    char *body = seed("token_reply", name, &len);
    int rc;

    memset(&a, 0, sizeof(a));
    memset(err, 0, sizeof(*err));
    a.kind = AUTH_SMART_BACKEND;
    a.token_host = (char *)"auth.example.org";
    clock_gettime(CLOCK_MONOTONIC, &now);
    rc = auth_token_parse(&a, status, body, len, err);
    *tok = a.token.s != NULL ? sl_strdup(a.token.s) : NULL;
    *life = a.token.s != NULL ? (long)(a.token_until.tv_sec - now.tv_sec) : 0;
    auth_secret_clear(&a.token);
    free(body);
    return rc;
}

/* the lifetime less its margin: a fifth of it, at most 60 s */
#define LIFE(ttl) ((ttl) - ((ttl) / 5 < 60 ? (ttl) / 5 : 60))

static void
test_token_taken(void **st)
{
    struct sl_err err;
    char *tok;
    long life;

    (void)st;
    assert_int_equal(token("0oidc-provider-client-credentials", 200, &tok,
                           &life, &err),
                     SL_OK);
    assert_string_equal(tok, "2qy-YzeX8Pyzbxj5blwIgbf0roIPU2xWFxkHEhmh0dl");
    assert_in_range(life, LIFE(600L), LIFE(600L) + 1);
    free(tok);
    assert_int_equal(token("0google-shape", 200, &tok, &life, &err), SL_OK);
    assert_string_equal(tok,
                        "ya29.c.b0AXv0zTExampleTokenForTheCorpusOnly0123456789");
    assert_in_range(life, LIFE(3599L), LIFE(3599L) + 1);
    free(tok);
    assert_int_equal(token("0entra-v2-shape", 200, &tok, &life, &err), SL_OK);
    assert_int_equal(strncmp(tok, "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.", 37),
                     0);
    assert_in_range(life, LIFE(3599L), LIFE(3599L) + 1);
    free(tok);
    /* expires_in as a string (Entra v1.0), zero or negative: the default
     * of 300 s */
    assert_int_equal(
        token("0entra-v1-expires-as-string", 200, &tok, &life, &err), SL_OK);
    assert_in_range(life, LIFE(300L), LIFE(300L) + 1);
    free(tok);
    assert_int_equal(token("0expires-zero", 200, &tok, &life, &err), SL_OK);
    assert_in_range(life, LIFE(300L), LIFE(300L) + 1);
    free(tok);
    assert_int_equal(token("0expires-negative", 200, &tok, &life, &err),
                     SL_OK);
    assert_in_range(life, LIFE(300L), LIFE(300L) + 1);
    free(tok);
    /* 59.9 s: 59, less a fifth; "bearer" in any case */
    assert_int_equal(token("0expires-real", 200, &tok, &life, &err), SL_OK);
    assert_string_equal(tok, "tok-real");
    assert_in_range(life, LIFE(59L), LIFE(59L) + 1);
    free(tok);
    assert_int_equal(token("0expires-one", 200, &tok, &life, &err), SL_OK);
    assert_in_range(life, 1, 2);
    free(tok);
    /* a lifetime beyond a year is a year */
    assert_int_equal(
        token("regress-expires-huge-integer", 200, &tok, &life, &err), SL_OK);
    assert_in_range(life, LIFE(86400L * 366), LIFE(86400L * 366) + 1);
    free(tok);
    assert_int_equal(
        token("regress-expires-huge-real", 200, &tok, &life, &err), SL_OK);
    assert_in_range(life, LIFE(86400L * 366), LIFE(86400L * 366) + 1);
    free(tok);
}

static void
test_token_refused(void **st)
{
    static const struct {
        const char *seed;
        long status;
        const char *msg;
    } cases[] = {
        { "5oidc-provider-invalid-client", 401,
          "token endpoint auth.example.org: HTTP 401, OAuth error "
          "invalid_client" },
        { "4oidc-provider-unsupported-grant", 400,
          "token endpoint auth.example.org: HTTP 400, OAuth error "
          "unsupported_grant_type" },
        { "4entra-error", 400,
          "token endpoint auth.example.org: HTTP 400, OAuth error "
          "invalid_client" },
        { "6error-upper-case", 403,
          "token endpoint auth.example.org: HTTP 403, no OAuth error code" },
        { "4error-long", 400,
          "token endpoint auth.example.org: HTTP 400, no OAuth error code" },
        { "5error-not-string", 401,
          "token endpoint auth.example.org: HTTP 401, no OAuth error code" },
        { "4error-with-token", 400,
          "token endpoint auth.example.org: HTTP 400, OAuth error "
          "invalid_scope" },
        { "7html-500", 500,
          "token endpoint auth.example.org: HTTP 500, no OAuth error code" },
        { "0token-type-mac", 200,
          "token endpoint auth.example.org: token_type is not Bearer" },
        { "0no-access-token", 200,
          "token endpoint auth.example.org: HTTP 200 without an "
          "access_token" },
        { "0empty-access-token", 200,
          "token endpoint auth.example.org: HTTP 200 without an "
          "access_token" },
        { "0access-token-number", 200,
          "token endpoint auth.example.org: HTTP 200 without an "
          "access_token" },
        { "0empty-body", 200,
          "token endpoint auth.example.org: HTTP 200 without an "
          "access_token" },
        { "0not-json", 200,
          "token endpoint auth.example.org: HTTP 200 without an "
          "access_token" },
        { "0cut", 200,
          "token endpoint auth.example.org: HTTP 200 without an "
          "access_token" },
        /* jansson refuses \u0000 in a string without JSON_ALLOW_NUL */
        { "0token-with-nul", 200,
          "token endpoint auth.example.org: HTTP 200 without an "
          "access_token" },
        { "0token-with-line-break", 200,
          "token endpoint auth.example.org: the access_token holds a line "
          "break" },
        /* a good token, but not with a 200 */
        { "0oidc-provider-client-credentials", 401,
          "token endpoint auth.example.org: HTTP 401, no OAuth error code" },
    };
    size_t i;

    (void)st;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sl_err err;
        char *tok;
        long life;

        assert_int_equal(token(cases[i].seed, cases[i].status, &tok, &life,
                               &err),
                         SL_ENET);
        assert_null(tok);
        assert_string_equal(err.msg, cases[i].msg);
    }
}

/* store_batch_reply() on a seed sent as n entries, those of del DELETEs */
static size_t
batch(const char *name, size_t n, unsigned del, struct store_verdict *v)
{
    struct entry e[8];
    size_t len, i, got;
    char *body = seed("store_reply", name, &len);
    json_t *reply = json_loadb(body, len, 0, NULL);

    memset(e, 0, sizeof(e));
    for (i = 0; i < n; i++)
        e[i].del = (del >> i) & 1;
    got = store_batch_reply(reply, e, n, v);
    json_decref(reply);
    free(body);
    return got;
}

static void
verdicts_free(struct store_verdict *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(v[i].diag);
}

static void
test_batch_reply(void **st)
{
    struct store_verdict v[8];

    (void)st;
    /* @medplum/fhir-router: two PUTs taken, a PUT of the wrong type
     * (400), an If-Match that fails (412), a DELETE of what is not there
     * (404: done) */
    assert_int_equal(
        batch("medplum-batch-200-400-412-404-delete", 5, 1u << 4, v), 5);
    assert_true(v[0].taken && v[1].taken && v[4].taken);
    assert_null(v[0].diag);
    assert_int_equal(v[0].status, 200);
    assert_false(v[2].taken);
    assert_int_equal(v[2].status, 400);
    assert_string_equal(v[2].diag, "Incorrect resource type");
    assert_false(v[3].taken);
    assert_int_equal(v[3].status, 412);
    assert_string_equal(v[3].diag, "Precondition Failed");
    assert_int_equal(v[4].status, 404);
    verdicts_free(v, 5);
    /* the same reply when the last entry was not a DELETE: refused */
    assert_int_equal(
        batch("medplum-batch-200-400-412-404-delete", 5, 0, v), 5);
    assert_false(v[4].taken);
    assert_string_equal(v[4].diag, "Not found");
    verdicts_free(v, 5);
    /* creates and a conditional create that matched */
    assert_int_equal(batch("medplum-batch-201-conditional", 3, 0, v), 3);
    assert_true(v[0].taken && v[1].taken && v[2].taken);
    assert_int_equal(v[0].status, 201);
    assert_int_equal(v[2].status, 200);
    verdicts_free(v, 3);
    /* a reply of 4 entries to a Bundle of 5: nothing written */
    memset(v, 0x5a, sizeof(v));
    assert_int_equal(batch("batch-fewer-entries", 5, 0, v), 4);
    assert_int_equal(((unsigned char *)v)[0], 0x5a);
    /* "201 Created"; no status; a status that is a number, not a string:
     * no status, and the diagnostics of two issues with their control
     * characters blanked */
    assert_int_equal(batch("batch-status-text-missing-number", 3, 0, v), 3);
    assert_true(v[0].taken);
    assert_int_equal(v[0].status, 201);
    assert_false(v[1].taken);
    assert_int_equal(v[1].status, 0);
    assert_string_equal(v[1].diag, "no diagnostics");
    assert_false(v[2].taken);
    assert_int_equal(v[2].status, 0);
    assert_string_equal(v[2].diag, "Observation.status: minimum required = "
                                   "1 line two tab; second issue");
    verdicts_free(v, 3);
    /* entries that are not objects; a DELETE answered 410: done */
    assert_int_equal(batch("entries-malformed-delete-410", 3, 1u << 2, v), 3);
    assert_false(v[0].taken);
    assert_false(v[1].taken);
    assert_true(v[2].taken);
    assert_int_equal(v[2].status, 410);
    verdicts_free(v, 3);
    /* not a Bundle, cut, empty: no entries */
    assert_int_equal(batch("not-an-object", 3, 0, v), 0);
    assert_int_equal(batch("broken-cut", 2, 0, v), 0);
    assert_int_equal(batch("empty-body", 1, 0, v), 0);
}

static void
test_diagnostics(void **st)
{
    size_t len;
    char *body, *d;
    json_t *oo;

    (void)st;
    /* a refused transaction: its OperationOutcome's details.text */
    body = seed("store_reply", "medplum-transaction-400-outcome", &len);
    oo = json_loadb(body, len, 0, NULL);
    d = store_diagnostics(oo);
    assert_string_equal(d, "Duplicate resource identity found in Bundle");
    free(d);
    json_decref(oo);
    free(body);
    /* issue[].diagnostics */
    body = seed("store_reply", "medplum-500-diagnostics", &len);
    oo = json_loadb(body, len, 0, NULL);
    d = store_diagnostics(oo);
    assert_string_equal(d,
                        "Unexpected token 'o', \"not json\" is not valid JSON");
    free(d);
    json_decref(oo);
    free(body);
    /* no reply */
    d = store_diagnostics(NULL);
    assert_string_equal(d, "no diagnostics");
    free(d);
    /* longer than DIAG_MAX: cut at a character's start, then "..." */
    body = seed("store_reply", "regress-diag-cut-in-utf8", &len);
    oo = json_loadb(body, len, 0, NULL);
    d = store_diagnostics(
        json_object_get(json_object_get(json_array_get(
                                            json_object_get(oo, "entry"), 0),
                                        "response"),
                        "outcome"));
    /* "x" and 149 "é" (299 bytes): the 150th would end past 300 */
    assert_int_equal(strlen(d), 299 + 3);
    assert_int_equal(d[0], 'x');
    assert_string_equal(d + 299, "...");
    assert_int_equal(memcmp(d + 297, "\xc3\xa9", 2), 0);
    free(d);
    /* the Bundle's own issue (not an entry's): "ab" and 99 "€" (299) */
    d = store_diagnostics(oo);
    assert_int_equal(strlen(d), 299 + 3);
    assert_int_equal(memcmp(d, "ab\xe2\x82\xac", 5), 0);
    free(d);
    json_decref(oo);
    free(body);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_taken),
        cmocka_unit_test(test_token_refused),
        cmocka_unit_test(test_batch_reply),
        cmocka_unit_test(test_diagnostics),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

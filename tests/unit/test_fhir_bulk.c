/* test_fhir_bulk.c - what the fhir-bulk source reads from outside
 * (src/sources/fhir_bulk_manifest.c): a manifest that breaks the IG is
 * refused with the element named and no value quoted; a checkpoint comes
 * back as it was written; an OperationOutcome's words are bounded and
 * printable. The protocol itself is tested against the Bulk Data harness
 * by tests/integration/fhir_bulk.sh. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sources/fhir_bulk.h"

static int
parse(const char *json, struct bulk_manifest *m, struct sl_err *err)
{
    memset(err, 0, sizeof(*err));
    return bulk_manifest_parse(json, strlen(json), m, err);
}

static void
test_manifest_ok(void **st)
{
    struct bulk_manifest m;
    struct sl_err err;

    (void)st;
    assert_int_equal(
        parse("{\"transactionTime\":\"2026-12-07T14:09:08.713Z\","
              "\"request\":\"x\",\"requiresAccessToken\":true,"
              "\"output\":[{\"type\":\"Patient\",\"url\":\"http://h/1\"},"
              "{\"type\":\"Observation\",\"url\":\"https://h/2\","
              "\"count\":3}],\"error\":[{\"type\":\"OperationOutcome\","
              "\"url\":\"http://h/3\"}]}",
              &m, &err),
        SL_OK);
    assert_string_equal(m.transaction_time, "2026-12-07T14:09:08.713Z");
    assert_true(m.requires_token);
    assert_int_equal(m.n, 3);
    assert_int_equal(m.noutputs, 2);
    assert_string_equal(m.files[1].type, "Observation");
    assert_false(m.files[1].error);
    assert_true(m.files[2].error);
    bulk_manifest_clear(&m);
    /* no error array, an offset: still the IG */
    assert_int_equal(parse("{\"transactionTime\":\"2026-01-31T00:00:00+01:00\","
                           "\"requiresAccessToken\":false,\"output\":[]}",
                           &m, &err),
                     SL_OK);
    assert_int_equal(m.n, 0);
    assert_false(m.requires_token);
    bulk_manifest_clear(&m);
}

static void
test_manifest_refused(void **st)
{
    static const struct {
        const char *json, *says;
    } bad[] = {
        { "[1]", "manifest: not a JSON object" },
        { "{\"transactionTime\":", "manifest: not JSON" },
        { "{\"requiresAccessToken\":true,\"output\":[]}",
          "manifest: transactionTime: missing" },
        { "{\"transactionTime\":\"2026-01-31 00:00&_type=Secret\","
          "\"requiresAccessToken\":true,\"output\":[]}",
          "manifest: transactionTime: not a FHIR instant" },
        { "{\"transactionTime\":\"2026-01-31T00:00:00Z\",\"output\":[]}",
          "manifest: requiresAccessToken: missing" },
        { "{\"transactionTime\":\"2026-01-31T00:00:00Z\","
          "\"requiresAccessToken\":true}",
          "manifest: output: missing" },
        { "{\"transactionTime\":\"2026-01-31T00:00:00Z\","
          "\"requiresAccessToken\":true,\"output\":[{\"type\":\"Patient\","
          "\"url\":\"http://h/1\"},{\"type\":\"Patient\","
          "\"url\":\"file:///etc/Secret\"}]}",
          "manifest: output[1].url: not an absolute http(s) URL" },
        { "{\"transactionTime\":\"2026-01-31T00:00:00Z\","
          "\"requiresAccessToken\":true,\"output\":[],\"error\":[{\"type\":"
          "\"../Secret\",\"url\":\"http://h/1\"}]}",
          "manifest: error[0].type: not a resource type" },
    };
    size_t i;

    (void)st;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct bulk_manifest m;
        struct sl_err err;
        assert_int_not_equal(parse(bad[i].json, &m, &err), SL_OK);
        assert_non_null(strstr(err.msg, bad[i].says));
        assert_null(strstr(err.msg, "Secret")); /* no value quoted */
        assert_null(m.files);
        assert_null(m.transaction_time);
    }
}

static void
test_checkpoint(void **st)
{
    struct bulk_ck ck = { 0 }, back;
    char *s;
    char since[] = "2026-01-31T00:00:00Z", tt[] = "2026-12-07T14:09:08.713Z",
         url[] = "http://127.0.0.1:9/_bulk/status/ab-12";

    (void)st;
    ck.since = since;
    ck.tt = tt;
    ck.status_url = url;
    ck.file = 3;
    ck.lines = 17;
    s = bulk_ck_format(&ck);
    assert_int_equal(bulk_ck_parse(s, &back), SL_OK);
    assert_string_equal(back.since, ck.since);
    assert_string_equal(back.tt, ck.tt);
    assert_string_equal(back.status_url, ck.status_url);
    assert_int_equal(back.file, 3);
    assert_int_equal(back.lines, 17);
    bulk_ck_clear(&back);
    free(s);
    /* before the manifest: no transactionTime, no _since */
    assert_int_equal(bulk_ck_parse("bulk1\t-\t-\t1\t0\thttp://h/s", &back),
                     SL_OK);
    assert_null(back.since);
    assert_null(back.tt);
    bulk_ck_clear(&back);
    assert_int_not_equal(bulk_ck_parse("bulk1\t-\t-\t1\t0", &back), SL_OK);
    assert_int_not_equal(bulk_ck_parse("1\t0\tfile.ndjson", &back), SL_OK);
    assert_int_not_equal(
        bulk_ck_parse("bulk1\tyesterday\t-\t1\t0\thttp://h/s", &back), SL_OK);
}

static void
test_outcome_text(void **st)
{
    static const char oo[] = "{\"resourceType\":\"OperationOutcome\",\"issue\":"
                             "[{\"diagnostics\":\"bad\\nfilter\"},{\"details\":"
                             "{\"text\":\"more\"}}]}";
    char *t;

    (void)st;
    t = bulk_outcome_text(oo, sizeof(oo) - 1);
    assert_non_null(t);
    assert_string_equal(t, "bad filter; more");
    free(t);
    assert_null(bulk_outcome_text("not json", 8));
    assert_null(bulk_outcome_text("{\"issue\":[{}]}", 14));
}

/* X-Progress as shown: whole UTF-8 characters, controls as spaces, what
 * is not UTF-8 as '?', at most 60 bytes. */
static void
test_progress_text(void **state)
{
    char out[64], small[6];

    (void)state;
    bulk_progress_text("42% of Patient", out, sizeof(out));
    assert_string_equal(out, "42% of Patient");
    bulk_progress_text("\xc3\xa9t\xc3\xa9\x1b[2J\xc2\x9b" "1m\tend", out,
                       sizeof(out));
    assert_string_equal(out, "\xc3\xa9t\xc3\xa9 [2J 1m end");
    bulk_progress_text("a\xff\xc0\xaf\xed\xa0\x80z", out, sizeof(out));
    assert_string_equal(out, "a??????z");
    /* a 4-byte character that does not fit is left out whole */
    bulk_progress_text("abc\xf0\x9f\x98\x80", small, sizeof(small));
    assert_string_equal(small, "abc");
    bulk_progress_text("0123456789012345678901234567890123456789"
                       "0123456789012345678901234567890123456789",
                       out, sizeof(out));
    assert_int_equal(strlen(out), 60);
    bulk_progress_text(NULL, out, sizeof(out));
    assert_string_equal(out, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_ok),
        cmocka_unit_test(test_manifest_refused),
        cmocka_unit_test(test_checkpoint),
        cmocka_unit_test(test_outcome_text),
        cmocka_unit_test(test_progress_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

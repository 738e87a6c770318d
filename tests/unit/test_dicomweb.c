/* test_dicomweb.c - the pieces of the DICOMweb connectors that need no
 * server: the streaming multipart/related reader (src/http/multipart.c)
 * and the readers of QIDO-RS and STOW-RS answers (src/http/dicom_json.c).
 * The connectors themselves are tested against Orthanc by
 * tests/integration/dicomweb.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/dicom_json.h"
#include "http/multipart.h"

struct got {
    struct sl_strv types;
    struct sl_strv bodies;
    struct sl_buf cur;
};

static int
pb(void *arg, const char *ct, struct sl_err *err)
{
    struct got *g = arg;

    (void)err;
    sl_strv_push(&g->types, ct ? ct : "-");
    sl_buf_reset(&g->cur);
    return SL_OK;
}

static int
pd(void *arg, const char *d, size_t n, struct sl_err *err)
{
    struct got *g = arg;

    (void)err;
    sl_buf_add(&g->cur, d, n);
    return SL_OK;
}

static int
pe(void *arg, struct sl_err *err)
{
    struct got *g = arg;

    (void)err;
    sl_buf_addc(&g->cur, '\0');
    sl_strv_push(&g->bodies, g->cur.data);
    return SL_OK;
}

static const struct sl_multipart_cb cb = { pb, pd, pe };

/* Reads body (bytes at a time), returns the status; g gets the parts. */
static int
read_in(const char *body, size_t step, const char *boundary, struct got *g,
        struct sl_err *err)
{
    struct sl_multipart *m = sl_multipart_new(boundary, &cb, g);
    size_t n = strlen(body), i;
    int rc = SL_OK;

    for (i = 0; i < n && rc == SL_OK; i += step)
        rc = sl_multipart_feed(m, body + i, n - i < step ? n - i : step, err);
    if (rc == SL_OK)
        rc = sl_multipart_finish(m, err);
    sl_multipart_free(m);
    return rc;
}

static void
got_free(struct got *g)
{
    sl_strv_free(&g->types);
    sl_strv_free(&g->bodies);
    sl_buf_free(&g->cur);
}

static const char two[] =
    "--sep\r\nContent-Type: application/dicom\r\n\r\n"
    "first\r\n--se not yet\r\n-sep\n--sep"
    "\r\n--sep\r\ncontent-type:  application/dicom; transfer-syntax=1.2 \r\n"
    "Content-Length: 6\r\n\r\nsecond"
    "\r\n--sep--\r\nepilogue";

static void
test_multipart_parts(void **st)
{
    size_t step;

    (void)st;
    /* the same parts whatever the pieces, boundary given or learned */
    for (step = 1; step <= sizeof(two); step++) {
        struct got g = { 0 };
        struct sl_err err = { 0 };
        if (read_in(two, step, step % 2 ? "sep" : NULL, &g, &err) != SL_OK)
            fail_msg("step %zu: %s", step, err.msg);
        assert_int_equal(g.types.n, 2);
        assert_string_equal(g.types.v[0], "application/dicom");
        assert_string_equal(g.types.v[1],
                            "application/dicom; transfer-syntax=1.2");
        assert_int_equal(g.bodies.n, 2);
        assert_string_equal(g.bodies.v[0],
                            "first\r\n--se not yet\r\n-sep\n--sep");
        assert_string_equal(g.bodies.v[1], "second");
        got_free(&g);
    }
}

static void
test_multipart_errors(void **st)
{
    struct got g = { 0 };
    struct sl_err err = { 0 };

    (void)st;
    /* cut inside the second part's content */
    assert_int_equal(
        read_in("--b\r\n\r\none\r\n--b\r\n\r\ntw", 3, NULL, &g, &err),
        SL_EPARSE);
    assert_non_null(strstr(err.msg, "part 2"));
    assert_non_null(strstr(err.msg, "truncated"));
    assert_null(strstr(err.msg, "tw"));
    got_free(&g);
    memset(&g, 0, sizeof(g));
    /* without its closing delimiter */
    assert_int_equal(read_in("--b\r\n\r\none\r\n--b\r\n", 4, "b", &g, &err),
                     SL_EPARSE);
    assert_non_null(strstr(err.msg, "closing delimiter"));
    got_free(&g);
    memset(&g, 0, sizeof(g));
    /* not multipart at all (a JSON error body) */
    assert_int_equal(read_in("{\"error\":1}", 5, NULL, &g, &err), SL_EPARSE);
    assert_non_null(strstr(err.msg, "does not begin with a boundary"));
    got_free(&g);
    memset(&g, 0, sizeof(g));
    /* a delimiter followed by garbage: content may not hold CRLF--B */
    assert_int_equal(
        read_in("--b\r\n\r\nx\r\n--bz\r\n--b--", 64, "b", &g, &err), SL_EPARSE);
    got_free(&g);
    memset(&g, 0, sizeof(g));
    assert_int_equal(read_in("--b\r\n\r\nx\r\n--b zz\r\n", 64, "b", &g, &err),
                     SL_EPARSE);
    assert_non_null(strstr(err.msg, "neither CRLF"));
    got_free(&g);
}

static void
test_boundary_of(void **st)
{
    char *b;

    (void)st;
    b = sl_multipart_boundary_of("multipart/related; type=\"application/"
                                 "dicom\"; boundary=abc-123");
    assert_string_equal(b, "abc-123");
    free(b);
    b = sl_multipart_boundary_of("Multipart/Related;boundary=\"q u\";x=1");
    assert_string_equal(b, "q u");
    free(b);
    assert_null(sl_multipart_boundary_of("application/dicom+json"));
    assert_null(sl_multipart_boundary_of("multipart/related"));
    assert_null(sl_multipart_boundary_of(NULL));
}

static void
test_qido(void **st)
{
    static const char *const tags[] = { "0020000D", "00080020" };
    static const char ok[] =
        "[{\"0020000D\":{\"vr\":\"UI\",\"Value\":[\"1.2.3\"]},"
        "\"00080020\":{\"vr\":\"DA\",\"Value\":[\"20240131\"]}},"
        "{\"0020000D\":{\"vr\":\"UI\",\"Value\":[\"2.25.9\"]},"
        "\"00080020\":{\"vr\":\"DA\"}}]";
    static const char bad[] =
        "[{\"0020000D\":{\"vr\":\"UI\",\"Value\":[\"1.2.3\"]}},"
        "{\"0020000D\":{\"vr\":\"UI\",\"Value\":[\"../../../etc\"]}}]";
    struct sl_qido_rows r = { 0 };
    struct sl_err err = { 0 };

    (void)st;
    assert_int_equal(sl_qido_parse(ok, strlen(ok), tags, 2, &r, &err), SL_OK);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.v[0], "1.2.3");
    assert_string_equal(r.v[1], "20240131");
    assert_string_equal(r.v[2], "2.25.9");
    assert_null(r.v[3]);
    sl_qido_rows_free(&r);
    assert_int_equal(sl_qido_parse(bad, strlen(bad), tags, 2, &r, &err),
                     SL_EPARSE);
    assert_string_equal(err.msg, "QIDO-RS answer: result 2, (0020,000D): the "
                                 "value is not a valid UI");
    /* found by fuzz_dicom_json: a path the server calls text is no UID */
    assert_int_equal(sl_qido_parse("[{\"0020000D\":{\"vr\":\"TI\",\"Value\":"
                                   "[\"../x\"]}}]",
                                   43, tags, 2, &r, &err),
                     SL_EPARSE);
    assert_string_equal(err.msg, "QIDO-RS answer: result 1, (0020,000D): its "
                                 "VR is not UI");
    assert_int_equal(sl_qido_parse("[{", 2, tags, 2, &r, &err), SL_EPARSE);
    assert_non_null(strstr(err.msg, "not JSON (line 1"));
    assert_int_equal(sl_qido_parse("", 0, tags, 2, &r, &err), SL_OK);
    assert_int_equal(r.n, 0);
    sl_qido_rows_free(&r);
}

static void
test_stow_answer(void **st)
{
    static const char ans[] =
        "{\"00081198\":{\"vr\":\"SQ\",\"Value\":[{\"00081155\":{\"vr\":\"UI\","
        "\"Value\":[\"1.2.3.4\"]},\"00081197\":{\"vr\":\"US\",\"Value\":"
        "[42752]}}]},\"00081199\":{\"vr\":\"SQ\",\"Value\":[{\"00081155\":"
        "{\"vr\":\"UI\",\"Value\":[\"1.2.3.5\"]}}]}}";
    struct sl_strv stored = { 0 };
    struct sl_stow_failed *f = NULL;
    struct sl_err err = { 0 };
    size_t n = 0;

    (void)st;
    assert_int_equal(
        sl_stow_failed_parse(ans, strlen(ans), &f, &n, &stored, &err), SL_OK);
    assert_int_equal(stored.n, 1);
    assert_string_equal(stored.v[0], "1.2.3.5");
    sl_strv_free(&stored);
    assert_int_equal(n, 1);
    assert_string_equal(f[0].sop, "1.2.3.4");
    assert_int_equal(f[0].reason, 0xA700);
    assert_string_equal(sl_stow_reason_text(f[0].reason),
                        "refused: out of resources");
    sl_stow_failed_free(f, n);
    assert_int_equal(sl_stow_failed_parse("{\"00081199\":{\"vr\":\"SQ\"}}",
                                          strlen("{\"00081199\":{\"vr\":"
                                                 "\"SQ\"}}"),
                                          &f, &n, NULL, &err),
                     SL_OK);
    assert_int_equal(n, 0);
    sl_stow_failed_free(f, n);
    assert_int_equal(sl_stow_failed_parse("<html>", 6, &f, &n, NULL, &err),
                     SL_EPARSE);
}

static void
test_scrub(void **st)
{
    struct sl_err err = { 0 };

    (void)st;
    SL_ERR(&err, SL_ENET, "GET h/studies/1.2.840.99/instances: HTTP 503");
    sl_dicomweb_scrub(&err, "1.2.840.99");
    assert_string_equal(err.msg, "GET h/studies/{study}/instances: HTTP 503");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multipart_parts),
        cmocka_unit_test(test_multipart_errors),
        cmocka_unit_test(test_boundary_of),
        cmocka_unit_test(test_qido),
        cmocka_unit_test(test_stow_answer),
        cmocka_unit_test(test_scrub),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

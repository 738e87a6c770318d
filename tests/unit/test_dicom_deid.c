/* test_dicom_deid.c - the DICOM de-identification engine: value
 * transforms (date shifts with their precision, identifier tokens, the
 * scrub), options by name changing actions, profile errors with line
 * numbers, and sl_dicom_deid_file from several threads at once. */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/parser.h>

#include "common/common.h"
#include "deid/dicom_deid.h"
#include "deid/dicom_deid_int.h"
#include "dicom/dicom.h"

static const char key[] = "unit-test-key-0123456789abcdef-0123456789";
static char scratch[] = "/tmp/sluice-test-dicom-deid.XXXXXX";

static char *
shift(const char *v, const char *vr, int days)
{
    struct sl_buf b;

    sl_buf_init(&b);
    if (sl_dd_shift_dates(v, vr, days, &b) != 0) {
        sl_buf_free(&b);
        return NULL;
    }
    return sl_buf_steal(&b);
}

static void
expect_shift(const char *v, const char *vr, int days, const char *want)
{
    char *got = shift(v, vr, days);

    if (want == NULL) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void
test_date_shift(void **state)
{
    (void)state;
    expect_shift("20240301", "DA", -1, "20240229"); /* leap day */
    expect_shift("20240101", "DA", -365, "20230101");
    expect_shift("20240102\\20240103", "DA", -2, "20231231\\20240101");
    expect_shift("20240101-20240201", "DA", -1, "20231231-20240131");
    expect_shift("", "DA", -5, "");
    expect_shift("2024.01.01", "DA", -1, NULL); /* ACR-NEMA form */
    expect_shift("garbage", "DA", -1, NULL);
    /* DT keeps its precision, time and offset. */
    expect_shift("20240102101112.123456+0100", "DT", -2,
                 "20231231101112.123456+0100");
    expect_shift("202401021011", "DT", -2, "202312311011");
    expect_shift("202403", "DT", -20, "202402"); /* from the 15th */
    expect_shift("2024", "DT", -100, "2024");    /* from 2 July */
    expect_shift("2024", "DT", -200, "2023");
    expect_shift("20240230", "DA", -1, "20240229"); /* lenient, as DCMTK */
}

static void
test_tokens_and_scrub(void **state)
{
    struct sl_strv t = { 0 };
    struct sl_buf b;

    (void)state;
    sl_dd_tokens("Doe^Jane^Q=DOE^JANE", "PN", &t);
    assert_true(t.n >= 3);
    sl_dd_tokens("MRN-42", "LO", &t);
    assert_true(sl_dd_contains_word("scan of jane doe", "Doe"));
    assert_false(sl_dd_contains_word("Doetown", "Doe")); /* whole words */
    assert_true(sl_dd_contains_word("id MRN-42 here", "MRN-42"));
    sl_buf_init(&b);
    assert_true(sl_dd_scrub("Jane Doe, MRN-42", &t, &b) >= 3);
    assert_string_equal(b.data, "XXXX XXX, XXXXXX");
    /* Short components (Q) are not looked for; the whole value is. */
    assert_int_equal(sl_dd_scrub("Q", &t, &b), 0);
    sl_buf_free(&b);
    sl_strv_free(&t);
}

static void
test_actions(void **state)
{
    (void)state;
    assert_int_equal(sl_dd_action_parse("X/Z/U*"), SL_DDA_XZU);
    assert_int_equal(sl_dd_action_parse("Z/D"), SL_DDA_ZD);
    assert_int_equal(sl_dd_action_parse("pseudonym"), SL_DDA_PSEUDONYM);
    assert_int_equal(sl_dd_action_parse("scrub"), SL_DDA_SCRUB);
    assert_int_equal(sl_dd_action_parse("Q"), SL_DDA_NONE);
    assert_string_equal(sl_dd_action_name(SL_DDA_XZD), "X/Z/D");
    assert_string_equal(sl_dd_dummy("DA"), "19000101");
    assert_null(sl_dd_dummy("OB"));
}

/* A one-document chain from XML text (the <dicom> of a <profile>). */
static void
chain_from(struct sl_profile_chain *c, const char *xml)
{
    xmlNode *root, *n;

    memset(c, 0, sizeof(*c));
    c->n = 1;
    c->docs[0].doc =
        xmlReadMemory(xml, (int)strlen(xml), "site.xml", NULL, XML_PARSE_NONET);
    assert_non_null(c->docs[0].doc);
    c->docs[0].path = sl_strdup("site.xml");
    c->docs[0].name = sl_strdup("site");
    c->docs[0].version = sl_strdup("7");
    root = xmlDocGetRootElement(c->docs[0].doc);
    for (n = root->children; n != NULL; n = n->next)
        if (n->type == XML_ELEMENT_NODE &&
            strcmp((const char *)n->name, "dicom") == 0)
            c->docs[0].dicom = n;
}

static void
chain_clear(struct sl_profile_chain *c)
{
    free(c->docs[0].path);
    free(c->docs[0].name);
    free(c->docs[0].version);
    xmlFreeDoc(c->docs[0].doc);
}

static void
test_profile_errors(void **state)
{
    static const char *bad[] = {
        "<profile xmlns='urn:sluice:deid:1'>\n<dicom base='dicom-basic.xml'>"
        "\n<rule tag='(0010,0010)' action='Q'/></dicom></profile>",
        "<profile xmlns='urn:sluice:deid:1'>\n<dicom base='dicom-basic.xml'"
        " options='retain-everything'/></profile>",
        "<profile xmlns='urn:sluice:deid:1'>\n<dicom base='dicom-basic.xml'>"
        "\n<rule tag='(0009,xx10)' action='K'/></dicom></profile>",
        /* in= names one sequence, on a rule for one standard tag */
        "<profile xmlns='urn:sluice:deid:1'>\n<dicom base='dicom-basic.xml'>"
        "\n<rule vr='ST' in='(0070,0008)' action='K'/></dicom></profile>",
        "<profile xmlns='urn:sluice:deid:1'>\n<dicom base='dicom-basic.xml'>"
        "\n<rule tag='(0070,0006)' in='(0070,xx08)' action='K'/></dicom>"
        "</profile>",
        "<profile xmlns='urn:sluice:deid:1'>\n<dicom base='dicom-basic.xml'>"
        "\n<unused-pixel-bits action='maybe'/></dicom></profile>",
        "<profile xmlns='urn:sluice:deid:1'>\n<dicom base='no-such.xml'/>"
        "</profile>",
        "<profile xmlns='urn:sluice:deid:1'>\n<dicom/></profile>",
    };
    struct sl_keys *k = NULL;
    struct sl_err err = { 0 };
    size_t i;

    (void)state;
    assert_int_equal(sl_keys_from_bytes(key, sizeof(key) - 1, &k, &err), SL_OK);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sl_profile_chain c;
        struct sl_dicom_deid *d = NULL;
        chain_from(&c, bad[i]);
        assert_int_equal(sl_dicom_deid_new(&c, k, &d, &err), SL_ECONFIG);
        assert_null(d);
        /* Errors name the file (and the line, for rules). */
        assert_non_null(strstr(err.msg, ".xml"));
        if (i < 6)
            assert_non_null(strstr(err.msg, "site.xml:"));
        chain_clear(&c);
    }
    sl_keys_free(k);
}

/* Writes a CT through the shim's builder. */
static void
write_ct(const char *path, const char *patient, const char *sop)
{
    struct sl_dicom_builder *b = sl_dicom_builder_new();
    struct sl_err err = { 0 };
    uint16_t px[16];
    size_t i;

    for (i = 0; i < 16; i++)
        px[i] = (uint16_t)i;
    assert_int_equal(sl_dicom_builder_set_string(
                         b, 0x0008, 0x0016, "1.2.840.10008.5.1.4.1.1.2", &err),
                     SL_OK);
    assert_int_equal(sl_dicom_builder_set_string(b, 0x0008, 0x0018, sop, &err),
                     SL_OK);
    assert_int_equal(
        sl_dicom_builder_set_string(b, 0x0020, 0x000D, "1.2.3.4.5", &err),
        SL_OK);
    assert_int_equal(
        sl_dicom_builder_set_string(b, 0x0020, 0x000E, "1.2.3.4.5.6", &err),
        SL_OK);
    assert_int_equal(
        sl_dicom_builder_set_string(b, 0x0010, 0x0020, patient, &err), SL_OK);
    assert_int_equal(
        sl_dicom_builder_set_string(b, 0x0010, 0x0010, "Doe^Jane", &err),
        SL_OK);
    assert_int_equal(
        sl_dicom_builder_set_string(b, 0x0008, 0x0020, "20240131", &err),
        SL_OK);
    assert_int_equal(sl_dicom_builder_set_string(b, 0x0008, 0x0060, "CT", &err),
                     SL_OK);
    assert_int_equal(sl_dicom_builder_set_u16(b, 0x0028, 0x0010, 4, &err),
                     SL_OK);
    assert_int_equal(sl_dicom_builder_set_u16(b, 0x0028, 0x0011, 4, &err),
                     SL_OK);
    assert_int_equal(sl_dicom_builder_set_u16(b, 0x0028, 0x0100, 16, &err),
                     SL_OK);
    assert_int_equal(sl_dicom_builder_set_pixels16(b, px, 16, &err), SL_OK);
    assert_int_equal(sl_dicom_builder_save(b, path, &err), SL_OK);
    sl_dicom_builder_free(b);
}

static char *
get_attr(const char *path, uint16_t g, uint16_t e)
{
    struct sl_dicom_file *f = NULL;
    char *v = NULL;

    assert_int_equal(sl_dicom_file_open(path, &f, NULL, NULL), SL_OK);
    sl_dicom_file_get(f, g, e, &v);
    sl_dicom_file_free(f);
    return v;
}

static struct sl_dicom_deid *
engine(const char *options, struct sl_keys **k)
{
    struct sl_profile_chain c;
    struct sl_dicom_deid *d = NULL;
    struct sl_err err = { 0 };
    char *xml = sl_asprintf("<profile xmlns='urn:sluice:deid:1'><dicom "
                            "base='dicom-basic.xml' options='%s'/></profile>",
                            options);

    assert_int_equal(sl_keys_from_bytes(key, sizeof(key) - 1, k, &err), SL_OK);
    chain_from(&c, xml);
    if (sl_dicom_deid_new(&c, *k, &d, &err) != SL_OK)
        fail_msg("%s", err.msg);
    chain_clear(&c);
    free(xml);
    return d;
}

static void
test_options_change_actions(void **state)
{
    struct sl_keys *k = NULL;
    struct sl_dicom_deid *d;
    struct sl_err err = { 0 };
    char *in = sl_path_join(scratch, "opt-in.dcm");
    char *out = sl_path_join(scratch, "opt-out.dcm");
    char *v;
    char want[SL_PSEUDONYM_LEN + 1];

    (void)state;
    write_ct(in, "MRN-1", "1.2.3.4.5.6.7");
    /* Basic: Study Date emptied (Z), UIDs replaced, Patient ID the same
     * pseudonym FHIR gives the MRN. */
    d = engine("", &k);
    assert_int_equal(sl_dicom_deid_file(d, in, out, NULL, &err), SL_OK);
    v = get_attr(out, 0x0008, 0x0020);
    assert_true(v == NULL || v[0] == '\0');
    free(v);
    v = get_attr(out, 0x0008, 0x0018);
    assert_non_null(v);
    assert_true(strncmp(v, "2.25.", 5) == 0);
    free(v);
    v = get_attr(out, 0x0010, 0x0020);
    sl_keys_pseudonym(k, SL_KD_IDENTIFIER, "MRN-1", 5, want);
    assert_string_equal(v, want);
    free(v);
    sl_dicom_deid_free(d);
    sl_keys_free(k);
    /* Full dates and UIDs retained: the same attributes kept. */
    d = engine("retain-longitudinal-full-dates retain-uids", &k);
    assert_int_equal(sl_dicom_deid_file(d, in, out, NULL, &err), SL_OK);
    v = get_attr(out, 0x0008, 0x0020);
    assert_string_equal(v, "20240131");
    free(v);
    v = get_attr(out, 0x0008, 0x0018);
    assert_string_equal(v, "1.2.3.4.5.6.7");
    free(v);
    sl_dicom_deid_free(d);
    sl_keys_free(k);
    /* Modified dates: shifted by the patient's offset, marked. */
    d = engine("retain-longitudinal-modified-dates", &k);
    assert_int_equal(sl_dicom_deid_file(d, in, out, NULL, &err), SL_OK);
    v = get_attr(out, 0x0008, 0x0020);
    {
        char *exp =
            shift("20240131", "DA", sl_keys_date_shift(k, "MRN-1", 1, 365));
        assert_string_equal(v, exp);
        free(exp);
    }
    free(v);
    v = get_attr(out, 0x0028, 0x0303);
    assert_string_equal(v, "MODIFIED");
    free(v);
    sl_dicom_deid_free(d);
    sl_keys_free(k);
    free(in);
    free(out);
}

#define NTHREADS   4
#define PER_THREAD 8

struct worker {
    struct sl_dicom_deid *d;
    int id;
    int failures;
};

static void *
work(void *arg)
{
    struct worker *w = arg;
    int i;

    for (i = 0; i < PER_THREAD; i++) {
        struct sl_dicom_deid_info info = { 0 };
        struct sl_err err = { 0 };
        char *in = sl_asprintf("%s/mt-in-%d.dcm", scratch, i);
        char *out = sl_asprintf("%s/mt-out-%d-%d.dcm", scratch, w->id, i);
        if (sl_dicom_deid_file(w->d, in, out, &info, &err) != SL_OK)
            w->failures++;
        sl_dicom_deid_info_clear(&info);
        free(in);
        free(out);
    }
    return NULL;
}

static void
test_threads(void **state)
{
    struct sl_keys *k = NULL;
    struct sl_dicom_deid *d = engine("", &k);
    pthread_t t[NTHREADS];
    struct worker w[NTHREADS];
    int i, j;

    (void)state;
    for (i = 0; i < PER_THREAD; i++) {
        char *in = sl_asprintf("%s/mt-in-%d.dcm", scratch, i);
        char *sop = sl_asprintf("1.2.3.4.5.6.%d", i + 100);
        write_ct(in, i % 2 ? "MRN-A" : "MRN-B", sop);
        free(in);
        free(sop);
    }
    for (i = 0; i < NTHREADS; i++) {
        w[i].d = d;
        w[i].id = i;
        w[i].failures = 0;
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    /* Every thread wrote the same bytes for the same input. */
    for (j = 0; j < PER_THREAD; j++) {
        char *a = sl_asprintf("cmp -s %s/mt-out-0-%d.dcm %s/mt-out-%d-%d.dcm",
                              scratch, j, scratch, NTHREADS - 1, j);
        assert_int_equal(system(a), 0);
        free(a);
    }
    sl_dicom_deid_free(d);
    sl_keys_free(k);
}

static int
setup(void **state)
{
    char msg[256];

    (void)state;
    if (mkdtemp(scratch) == NULL)
        return -1;
    /* The base table from the source tree. */
    if (getenv("top_srcdir") != NULL) {
        char *dir = sl_asprintf("%s/profiles/deid", getenv("top_srcdir"));
        setenv("SLUICE_PROFILE_DIR", dir, 1);
        free(dir);
    }
    return sl_dicom_init(msg, sizeof(msg));
}

static int
teardown(void **state)
{
    char *cmd = sl_asprintf("rm -rf '%s'", scratch);
    int rc;

    (void)state;
    rc = system(cmd);
    free(cmd);
    return rc == 0 ? 0 : -1;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_shift),
        cmocka_unit_test(test_tokens_and_scrub),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_profile_errors),
        cmocka_unit_test(test_options_change_actions),
        cmocka_unit_test(test_threads),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}

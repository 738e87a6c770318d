/* test_deid_fhir.c - the FHIR de-identification engine.
 *
 * Data-driven cases, as jq does: each folder under tests/data/deid/fhir/
 * holds input.json (a resource or a Bundle; input.ndjson: several, learned
 * together), profile.xml (usually `extends` a built-in profile) and either
 * expected.json (the output; expected.ndjson for several) or
 * quarantine.txt (the output is quarantined and the reason contains this
 * text). The key is 32 bytes of 'k'. Each case is one TAP line.
 *
 * Then unit cases for the helpers; synthetic data end to end (PHI gone,
 * what must survive survived, pseudonyms agree with keys.h) and the other
 * end-to-end cases are in test_deid_fhir_e2e.c.
 *
 * `test_deid_fhir --run PROFILE INPUT` prints what the engine makes of
 * INPUT (to write an expected file, after reading it line by line). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <pthread.h>

#include "deid/fhir.h"
#include "deid/fhir_int.h"
#include "fhir/fhir.h"
#include "synth/synth.h"
#include "test_deid_fhir.h"

char srcdir[1024];

struct sl_keys *
key32(void)
{
    struct sl_keys *k = NULL;
    assert_int_equal(
        sl_keys_from_bytes("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", 32, &k, NULL),
        SL_OK);
    return k;
}

/* Reads a .json (one value) or .ndjson (one a line) file into an array. */
json_t *
read_items(const char *path)
{
    json_t *arr = json_array();
    json_error_t je;

    if (sl_str_has_suffix(path, ".ndjson")) {
        FILE *f = fopen(path, "r");
        char line[1 << 16];
        if (f == NULL)
            return NULL;
        while (fgets(line, sizeof(line), f)) {
            json_t *v;
            if (line[0] == '\n')
                continue;
            v = json_loads(line, 0, &je);
            if (v == NULL) {
                fclose(f);
                json_decref(arr);
                return NULL;
            }
            json_array_append_new(arr, v);
        }
        fclose(f);
    } else {
        json_t *v = json_load_file(path, 0, &je);
        if (v == NULL) {
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, v);
    }
    return arr;
}

int
run_engine(const char *profile, json_t *items, struct sl_keys *k,
           struct outcome *o, FILE *explain)
{
    struct sl_profile_chain *chain = NULL;
    struct sl_fhir_deid *d = NULL;
    struct sl_err err = { 0 };
    size_t i;
    int rc;

    memset(o, 0, sizeof(*o));
    if ((rc = sl_profile_chain_load(profile, &chain, &err)) != SL_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return rc;
    }
    if ((rc = sl_fhir_deid_new(chain, k, &d, &err)) != SL_OK) {
        fprintf(stderr, "%s\n", err.msg);
        sl_profile_chain_free(chain);
        return rc;
    }
    for (i = 0; i < json_array_size(items); i++)
        assert_int_equal(sl_fhir_deid_learn(d, json_array_get(items, i), &err),
                         SL_OK);
    o->out = json_deep_copy(items);
    for (i = 0; i < json_array_size(o->out); i++) {
        rc = sl_fhir_deid_resource(d, json_array_get(o->out, i), &err);
        if (rc != SL_OK && o->rc == SL_OK) {
            o->rc = rc;
            snprintf(o->reason, sizeof(o->reason), "%s", err.msg);
        }
    }
    if (explain)
        sl_fhir_deid_explain(d, explain);
    sl_fhir_deid_free(d);
    sl_profile_chain_free(chain);
    return SL_OK;
}

static char *
case_file(const char *dir, const char *name)
{
    char *p = sl_path_join(dir, name);
    if (sl_path_exists(p))
        return p;
    free(p);
    return NULL;
}

static void
test_case(void **state)
{
    const char *dir = *state;
    char *in = case_file(dir, "input.json"), *prof, *exp, *q;
    struct sl_keys *k = key32();
    struct outcome o;
    json_t *items, *want;

    if (in == NULL)
        in = case_file(dir, "input.ndjson");
    prof = case_file(dir, "profile.xml");
    exp = case_file(dir, "expected.json");
    if (exp == NULL)
        exp = case_file(dir, "expected.ndjson");
    q = case_file(dir, "quarantine.txt");
    assert_non_null(in);
    assert_non_null(prof);
    assert_true(exp != NULL || q != NULL);
    items = read_items(in);
    assert_non_null(items);
    assert_int_equal(run_engine(prof, items, k, &o, NULL), SL_OK);
    if (q) {
        char *want_reason = NULL;
        size_t len;
        assert_int_equal(sl_file_read(q, &want_reason, &len, NULL), SL_OK);
        while (len > 0 && want_reason[len - 1] == '\n')
            want_reason[--len] = '\0';
        assert_int_equal(o.rc, SL_EQUARANTINE);
        if (strstr(o.reason, want_reason) == NULL)
            fail_msg("reason \"%s\" lacks \"%s\"", o.reason, want_reason);
        free(want_reason);
    } else {
        if (o.rc != SL_OK)
            fail_msg("status %s: %s", sl_status_name(o.rc), o.reason);
        want = read_items(exp);
        assert_non_null(want);
        if (!json_equal(want, o.out) && getenv("REGEN") != NULL) {
            /* REGEN=1: the case's expected output becomes what the
             * engine writes now (review the diff before committing) */
            if (sl_str_has_suffix(exp, ".ndjson")) {
                FILE *f = fopen(exp, "w");
                size_t i;
                assert_non_null(f);
                for (i = 0; i < json_array_size(o.out); i++) {
                    assert_int_equal(json_dumpf(json_array_get(o.out, i), f,
                                                JSON_COMPACT),
                                     0);
                    fputc('\n', f);
                }
                fclose(f);
            } else {
                /* a .json case holds its one output */
                assert_int_equal(json_array_size(o.out), 1);
                assert_int_equal(json_dump_file(json_array_get(o.out, 0), exp,
                                                JSON_INDENT(1)),
                                 0);
            }
        } else if (!json_equal(want, o.out)) {
            char *got = json_dumps(o.out, JSON_INDENT(1) | JSON_SORT_KEYS);
            fail_msg("output differs from %s:\n%s", exp, got);
        }
        json_decref(want);
    }
    json_decref(o.out);
    json_decref(items);
    sl_keys_free(k);
    free(in);
    free(prof);
    free(exp);
    free(q);
}

/* ---- helpers ----------------------------------------------------------------
 */

static void
test_type_table(void **state)
{
    char canon[320], type[64];
    (void)state;
    assert_true(sl_fhir_type_is_resource("Patient"));
    assert_true(sl_fhir_type_is_complex("HumanName"));
    assert_false(sl_fhir_type_is_resource("HumanName"));
    assert_true(sl_fhir_elem_resolve("Observation", "valueQuantity", canon,
                                     sizeof(canon), type, sizeof(type)));
    assert_string_equal(canon, "Observation.value[x]");
    assert_string_equal(type, "Quantity");
    assert_true(sl_fhir_elem_resolve("Observation", "valueString", canon,
                                     sizeof(canon), type, sizeof(type)));
    assert_string_equal(type, "string");
    assert_false(sl_fhir_elem_resolve("Observation", "valueHumanName", canon,
                                      sizeof(canon), type, sizeof(type)));
    assert_false(sl_fhir_elem_resolve("Observation", "ssn", canon,
                                      sizeof(canon), type, sizeof(type)));
    assert_true(sl_fhir_elem_resolve("Questionnaire.item", "item", canon,
                                     sizeof(canon), type, sizeof(type)));
    assert_string_equal(type, "@Questionnaire.item");
    assert_true(sl_fhir_elem_resolve("Condition", "onsetAge", canon,
                                     sizeof(canon), type, sizeof(type)));
    assert_string_equal(type, "Age");
}

static void
shift(const char *in, int days, const char *want)
{
    struct sl_fhir_date dt;
    char out[64];
    assert_true(sl_fhir_date_parse(in, &dt) != SL_FD_BAD);
    sl_fhir_date_shift(&dt, days);
    sl_fhir_date_format(&dt, out, sizeof(out));
    assert_string_equal(out, want);
}

static void
test_dates(void **state)
{
    struct sl_fhir_date dt, b;
    (void)state;
    shift("2021-03-01", -1, "2021-02-28");
    shift("2020-03-01", -1, "2020-02-29");
    shift("2021-01-05T10:20:30.123+05:30", -10,
          "2020-12-26T10:20:30.123+05:30");
    shift("2021-01-05T23:59:59Z", -365, "2020-01-06T23:59:59Z");
    shift("2021-03", -30, "2021-02");
    shift("2021", -100, "2021");
    shift("2021", -200, "2020");
    assert_int_equal(sl_fhir_date_parse("2021-13", &dt), SL_FD_BAD);
    assert_int_equal(sl_fhir_date_parse("21-01-01", &dt), SL_FD_BAD);
    assert_int_equal(sl_fhir_date_parse("2021-01-01X", &dt), SL_FD_BAD);
    assert_int_equal(sl_fhir_date_parse("2021-02-03", &b), SL_FD_DAY);
    assert_int_equal(sl_fhir_date_parse("2111-02-02", &dt), SL_FD_DAY);
    assert_int_equal(sl_fhir_date_age_at(&b, &dt), 89);
    assert_int_equal(sl_fhir_date_parse("2111-02-03", &dt), SL_FD_DAY);
    assert_int_equal(sl_fhir_date_age_at(&b, &dt), 90);
}

static void
test_zip3(void **state)
{
    char out[4];
    (void)state;
    assert_true(sl_fhir_zip3("30303", out));
    assert_string_equal(out, "303");
    assert_true(sl_fhir_zip3("03601-1234", out));
    assert_string_equal(out, "000");
    assert_true(sl_fhir_zip3("89301", out));
    assert_string_equal(out, "000");
    assert_true(sl_fhir_zip3("82201", out));
    assert_string_equal(out, "822");
    assert_false(sl_fhir_zip3("SW1A 1AA", out));
}

static void
test_vset(void **state)
{
    struct sl_fhir_vset s = { 0 };
    struct fhir_scrub x = { &s, NULL, NULL };
    char *t;
    size_t a, b;
    (void)state;
    sl_fhir_vset_add(&s, "Ann", 3);
    sl_fhir_vset_add(&s, "(263) 555-0153", 3);
    sl_fhir_vset_add(&s, "Jo", 3); /* too short to be looked for */
    assert_false(sl_fhir_vset_find(&s, "Annual review", 13, 0, &a, &b));
    assert_false(sl_fhir_vset_find(&s, "Jo came", 7, 0, &a, &b));
    t = sl_fhir_vset_scrub(&s, "Call ANN at (263) 555-0153.", "[x]");
    assert_string_equal(t, "Call [x] at ([x].");
    free(t);
    assert_null(sl_fhir_vset_scrub(&s, "nothing here", "[x]"));
    /* markup: text and attribute values scrubbed, names of elements and
     * attributes are not values */
    assert_int_equal(fhir_xhtml_scrub(&x, "<ann>Annual</ann>", 17, 0, &t),
                     SL_OK);
    assert_null(t);
    assert_int_equal(fhir_xhtml_find(&s, "<ann>Annual</ann>", 17, 0), 0);
    assert_int_equal(fhir_xhtml_find(&s, "<p>A&#78;N</p>", 14, 0), 1);
    assert_int_equal(fhir_xhtml_find(&s, "<p>ANN<p>", 9, 0), 2);
    assert_int_equal(fhir_xhtml_find(&s, "<p>Jo</p>", 9, 0), 0);
    {
        static const char m[] = "<p class=\"ann\">Ann<!-- ann --></p>";
        assert_int_equal(fhir_xhtml_scrub(&x, m, strlen(m), 0, &t), SL_OK);
    }
    assert_string_equal(t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                           "<p class=\"[redacted]\">[redacted]</p>\n");
    free(t);
    assert_int_equal(fhir_xhtml_scrub(&x, "<p>ann", 6, 0, &t), SL_EPARSE);
    assert_int_equal(fhir_xhtml_scrub(&x, "<p>ann</p>", 10, FX_DIV, &t),
                     SL_EPARSE);
    sl_fhir_vset_free(&s);
}

/* 1 when text holds a learned value, which is then text[*a, *b). */
static int
vfind(const struct sl_fhir_vset *s, const char *text, size_t *a, size_t *b)
{
    return sl_fhir_vset_find(s, text, strlen(text), 0, a, b);
}

/* Unicode: values and text are compared normalised and case-folded, and
 * names in scripts without spaces are found inside words. */
static void
test_vset_unicode(void **state)
{
    struct sl_fhir_vset s = { 0 };
    size_t a, b;
    char *t;
    (void)state;
    sl_fhir_vset_add(&s, "JOS\xc3\x89", 3);   /* JOSÉ, NFC */
    sl_fhir_vset_add(&s, "M\xc3\xbcller", 3); /* Müller */
    sl_fhir_vset_add(&s, "\xe5\xb1\xb1\xe7\x94\xb0\xe5\xa4\xaa\xe9\x83\x8e",
                     3);                     /* 山田太郎 */
    sl_fhir_vset_add(&s, "\xe7\x8e\x8b", 3); /* 王: one */
    sl_fhir_vset_add(&s, "\xea\xb9\x80\xeb\xaf\xbc\xec\x88\x98",
                     3); /* 김민수 */
    sl_fhir_vset_add(&s, "Mary Ann", 3);
    /* José in NFC, NFD, upper case and without the accent */
    assert_true(vfind(&s, "seen with jos\xc3\xa9 today", &a, &b));
    assert_int_equal(a, 10);
    assert_int_equal(b, 15);
    assert_true(vfind(&s, "seen with Jose\xcc\x81 today", &a, &b));
    assert_int_equal(b, 16); /* the combining accent goes with the name */
    assert_true(vfind(&s, "JOSE", &a, &b));
    /* Müller, MÜLLER, Mu + combining diaeresis + ller, full width */
    assert_true(vfind(&s, "Dr M\xc3\x9cLLER said", &a, &b));
    assert_true(vfind(&s, "Dr Mu\xcc\x88ller said", &a, &b));
    assert_true(vfind(&s,
                      "\xef\xbc\xad\xef\xbd\x95\xef\xbd\x8c\xef\xbd\x8c\xef\xbd"
                      "\x85\xef\xbd\x92",
                      &a, &b));
    /* still whole words in spaced scripts */
    assert_false(vfind(&s,
                       "M\xc3\xbcllerstra\xc3\x9f"
                       "e 4",
                       &a, &b));
    assert_false(vfind(&s, "Josefine", &a, &b));
    /* white space: any run of it, no-break spaces too */
    assert_true(vfind(&s, "MARY\xc2\xa0 \n ANN came", &a, &b));
    assert_int_equal(b, 12);
    /* Han and Kana without spaces: 患者山田太郎さんは */
    t = sl_fhir_vset_scrub(&s,
                           "\xe6\x82\xa3\xe8\x80\x85\xe5\xb1\xb1\xe7\x94\xb0"
                           "\xe5\xa4\xaa\xe9\x83\x8e\xe3\x81\x95\xe3\x82\x93"
                           "\xe3\x81\xaf",
                           "[x]");
    assert_non_null(t);
    assert_string_equal(t, "\xe6\x82\xa3\xe8\x80\x85[x]\xe3\x81\x95\xe3\x82"
                           "\x93\xe3\x81\xaf");
    free(t);
    /* a single ideograph is not looked for: 王 is in too many words */
    assert_false(vfind(&s, "\xe7\x8e\x8b\xe5\x85\x88\xe7\x94\x9f", &a, &b));
    /* Hangul with a particle attached: 김민수는 */
    assert_true(
        vfind(&s, "\xea\xb9\x80\xeb\xaf\xbc\xec\x88\x98\xeb\x8a\x94", &a, &b));
    assert_int_equal(a, 0);
    assert_int_equal(b, 9);
    sl_fhir_vset_free(&s);
}

static void
test_uuid(void **state)
{
    char out[40];
    (void)state;
    sl_fhir_uuid_from_pseudonym("dzjkv2uhr4esursnopyxrkl7l7", out);
    assert_int_equal(strlen(out), 36);
    assert_int_equal(out[14], '4');
    assert_true(strchr("89ab", out[19]) != NULL);
}

static int
dump(const char *profile, const char *input)
{
    struct sl_keys *k = key32();
    json_t *items = read_items(input);
    struct outcome o;
    size_t i;

    if (items == NULL || run_engine(profile, items, k, &o, stderr) != SL_OK)
        return 1;
    if (o.rc != SL_OK)
        printf("quarantine: %s\n", o.reason);
    for (i = 0; i < json_array_size(o.out); i++) {
        char *s =
            json_dumps(json_array_get(o.out, i),
                       sl_str_has_suffix(input, ".ndjson") ? JSON_COMPACT
                                                           : JSON_INDENT(2));
        printf("%s\n", s);
        free(s);
    }
    json_decref(o.out);
    json_decref(items);
    sl_keys_free(k);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *top = getenv("top_srcdir");
    struct sl_strv files = { 0 };
    struct CMUnitTest *tests;
    char *data, *prof_dir;
    size_t i, n = 0;
    int rc;
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_type_table),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_zip3),
        cmocka_unit_test(test_vset),
        cmocka_unit_test(test_vset_unicode),
        cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_profile_errors),
        cmocka_unit_test(test_leak_quarantined),
        cmocka_unit_test(test_narrative_phi_gone),
        cmocka_unit_test(test_attachment_phi_gone),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_synth_basic),
        cmocka_unit_test(test_synth_longitudinal),
        cmocka_unit_test(test_synth_safe_harbor),
        cmocka_unit_test(test_encrypt),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_provenance),
    };

    snprintf(srcdir, sizeof(srcdir), "%s", top ? top : ".");
    prof_dir = sl_asprintf("%s/profiles/deid", srcdir);
    setenv("SLUICE_PROFILE_DIR", prof_dir, 1);
    free(prof_dir);
    if (argc == 4 && strcmp(argv[1], "--run") == 0)
        return dump(argv[2], argv[3]);
    data = sl_asprintf("%s/tests/data/deid/fhir", srcdir);
    assert_int_equal(sl_dir_walk(data, &files, NULL), SL_OK);
    tests =
        sl_calloc(files.n + sizeof(fixed) / sizeof(fixed[0]), sizeof(*tests));
    for (i = 0; i < files.n; i++) {
        char *slash = strrchr(files.v[i], '/');
        if (slash == NULL || strcmp(slash, "/profile.xml") != 0)
            continue;
        *slash = '\0';
        tests[n].name = files.v[i];
        tests[n].test_func = test_case;
        tests[n].initial_state = sl_path_join(data, files.v[i]);
        n++;
    }
    for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        tests[n++] = fixed[i];
    rc = _cmocka_run_group_tests("deid-fhir", tests, n, NULL, NULL);
    for (i = 0; i < n; i++)
        if (tests[i].test_func == test_case)
            free(tests[i].initial_state);
    free(tests);
    free(data);
    sl_strv_free(&files);
    return rc;
}

/* test_deid_fhir_refs.c - one patient, one shift, everywhere (issue 10,
 * section 1): whatever form a reference takes (Type/id, an absolute URL
 * with any base, a urn:uuid: fullUrl of a resource without id, #contained,
 * Patient?identifier=...), and however many hops through Encounters it
 * takes, every resource of one patient is shifted under `longitudinal` by
 * the number of days the DICOM side gives the same MRN; a resource of the
 * Patient compartment whose patient cannot be found is quarantined with a
 * reason that names the element and no value; Practitioner, Organization
 * and Medication are not. Fixtures: tests/data/deid/refs/ (see its
 * README). The FHIR R4 Patient compartment table (src/fhir/
 * fhir_compartment.c, generated) is checked against the type table. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deid/fhir.h"
#include "fhir/fhir.h"
#include "fhir/jtape.h"

#define MRN "12345"

static char srcdir[1024];

static struct sl_keys *
key32(void)
{
    struct sl_keys *k = NULL;
    assert_int_equal(
        sl_keys_from_bytes("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", 32, &k, NULL),
        SL_OK);
    return k;
}

/* The lines (or the one value) of a fixture, as text. */
static struct sl_strv
read_texts(const char *name)
{
    struct sl_strv v = { 0 };
    char *path = sl_asprintf("%s/tests/data/deid/refs/%s", srcdir, name);
    char *buf = NULL, *p, *nl;
    size_t len;

    assert_int_equal(sl_file_read(path, &buf, &len, NULL), SL_OK);
    if (sl_str_has_suffix(name, ".ndjson")) {
        for (p = buf; *p; p = nl + 1) {
            nl = strchr(p, '\n');
            if (nl == NULL)
                nl = p + strlen(p);
            if (nl > p)
                sl_strv_push_owned(&v, sl_strndup(p, (size_t)(nl - p)));
            if (*nl == '\0')
                break;
        }
    } else
        sl_strv_push(&v, buf);
    free(buf);
    free(path);
    return v;
}

struct run {
    json_t *in, *out; /* arrays: the inputs, what became of them */
    int rc[16];
    char why[16][512];
};

/* Learns every text (through the tape reader when tape, else through
 * jansson), then de-identifies each under profile. */
static void
run(const char *profile, const struct sl_strv *texts, int tape, struct run *r)
{
    struct sl_keys *k = key32();
    struct sl_profile_chain *chain = NULL;
    struct sl_fhir_deid *d = NULL;
    struct sl_err err = { 0 };
    size_t i;

    memset(r, 0, sizeof(*r));
    assert_true(texts->n <= 16);
    assert_int_equal(sl_profile_chain_load(profile, &chain, &err), SL_OK);
    assert_int_equal(sl_fhir_deid_new(chain, k, &d, &err), SL_OK);
    r->in = json_array();
    for (i = 0; i < texts->n; i++) {
        json_t *v = json_loads(texts->v[i], 0, NULL);
        assert_non_null(v);
        json_array_append_new(r->in, v);
        if (tape) {
            struct sl_jtape t = { 0 };
            char *copy = sl_strdup(texts->v[i]);
            assert_true(sl_jtape_parse(&t, copy, strlen(copy)));
            assert_int_equal(sl_fhir_deid_learn_tape(d, &t, (long)i, &err),
                             SL_OK);
            sl_jtape_free(&t);
            free(copy);
        } else
            assert_int_equal(sl_fhir_deid_learn_at(d, v, (long)i, &err), SL_OK);
    }
    r->out = json_deep_copy(r->in);
    for (i = 0; i < texts->n; i++) {
        err.msg[0] = '\0';
        r->rc[i] = sl_fhir_deid_resource(d, json_array_get(r->out, i), &err);
        snprintf(r->why[i], sizeof(r->why[i]), "%s", err.msg);
    }
    sl_fhir_deid_free(d);
    sl_profile_chain_free(chain);
    sl_keys_free(k);
}

static void
run_free(struct run *r)
{
    json_decref(r->in);
    json_decref(r->out);
}

static int
is_day_date(const char *s)
{
    struct sl_fhir_date dt;
    return s && sl_fhir_date_parse(s, &dt) >= SL_FD_DAY;
}

/* Every full date of in, found again at the same place in out, moved by
 * days (as the DICOM engine moves a date). Returns how many were checked. */
static int
same_shift(const json_t *in, const json_t *out, int days, const char *where)
{
    int n = 0;

    if (json_is_object(in) && json_is_object(out)) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)in, key, v)
        {
            n += same_shift(v, json_object_get(out, key), days, where);
        }
    } else if (json_is_array(in) && json_is_array(out) &&
               json_array_size(in) == json_array_size(out)) {
        size_t i;
        for (i = 0; i < json_array_size(in); i++)
            n += same_shift(json_array_get(in, i), json_array_get(out, i), days,
                            where);
    } else if (is_day_date(json_string_value(in)) &&
               is_day_date(json_string_value(out))) {
        struct sl_fhir_date dt;
        char want[64];
        sl_fhir_date_parse(json_string_value(in), &dt);
        sl_fhir_date_shift(&dt, days);
        sl_fhir_date_format(&dt, want, sizeof(want));
        if (strcmp(want, json_string_value(out)) != 0)
            fail_msg("%s: %s became %s, not %s (%d days)", where,
                     json_string_value(in), json_string_value(out), want, days);
        n++;
    }
    return n;
}

static int
outside_compartment(const char *type)
{
    return strcmp(type, "Practitioner") == 0 ||
           strcmp(type, "Organization") == 0 || strcmp(type, "Medication") == 0;
}

/* Each entry of the Bundle in, as out has it: the patient's resources by
 * the DICOM shift of the MRN (want: how many dates they hold). */
static void
check_bundle_shift(const json_t *in, const json_t *out, int want)
{
    struct sl_keys *k = key32();
    int days = sl_keys_date_shift(k, MRN, 1, 365), checked = 0;
    const json_t *ein = json_object_get(in, "entry"),
                 *eout = json_object_get(out, "entry");
    size_t i;

    assert_int_equal(json_array_size(ein), json_array_size(eout));
    for (i = 0; i < json_array_size(ein); i++) {
        const json_t *a = json_object_get(json_array_get(ein, i), "resource"),
                     *b = json_object_get(json_array_get(eout, i), "resource");
        const char *type =
            json_string_value(json_object_get(a, "resourceType"));
        char where[128];
        snprintf(where, sizeof(where), "entry %zu (%s)", i, type);
        if (outside_compartment(type))
            continue; /* a shift of their own (test_orphans_quarantined) */
        checked += same_shift(a, b, days, where);
    }
    assert_int_equal(checked, want); /* every date of the patient's */
    sl_keys_free(k);
}

static void
no_value(const char *text, const char *const *values)
{
    for (; *values; values++)
        if (strstr(text, *values))
            fail_msg("\"%s\" is still in the output", *values);
}

static void
test_transaction_one_shift(void **state)
{
    struct sl_strv t = read_texts("transaction.json");
    static const char *const phi[] = {
        "Quillfeather",  "Ottilie",       "999-41-7731", "555-0142",
        "Larkspur",      "Fernhollow",    "|" MRN,       "\"" MRN "\"",
        "6f1a3e52-8d3c", "c4d6e8f0-3a5b", NULL
    };
    struct run r;
    char *s;
    (void)state;

    run("longitudinal", &t, 0, &r);
    if (r.rc[0] != SL_OK)
        fail_msg("quarantined: %s", r.why[0]);
    check_bundle_shift(json_array_get(r.in, 0), json_array_get(r.out, 0), 13);
    s = json_dumps(json_array_get(r.out, 0), JSON_COMPACT);
    no_value(s, phi);
    /* what must survive */
    assert_non_null(strstr(s, "\"8867-4\""));
    assert_non_null(strstr(s, "\"value\":72"));
    assert_non_null(strstr(s, "\"http://hospital/mrn\""));
    assert_non_null(strstr(s, "\"code\":\"MR\""));
    assert_int_equal(
        json_array_size(json_object_get(json_array_get(r.out, 0), "entry")),
        13);
    free(s);
    run_free(&r);
    sl_strv_free(&t);
}

static void
test_collection_one_shift(void **state)
{
    struct sl_strv t = read_texts("collection.json");
    static const char *const phi[] = { "Quillfeather",
                                       "Ottilie",
                                       "\"" MRN "\"",
                                       "Patient/123",
                                       "ehr.example.org/fhir/Patient/123\"",
                                       NULL };
    struct run r;
    char *s;
    (void)state;

    run("longitudinal", &t, 0, &r);
    if (r.rc[0] != SL_OK)
        fail_msg("quarantined: %s", r.why[0]);
    check_bundle_shift(json_array_get(r.in, 0), json_array_get(r.out, 0), 7);
    s = json_dumps(json_array_get(r.out, 0), JSON_COMPACT);
    no_value(s, phi);
    assert_non_null(strstr(s, "\"718-7\""));
    assert_non_null(strstr(s, "\"value\":13.1"));
    free(s);
    run_free(&r);
    sl_strv_free(&t);
}

/* Both learning paths learn the same: the outputs are the same. */
static void
test_tape_and_jansson_agree(void **state)
{
    static const char *const names[] = { "transaction.json", "collection.json",
                                         "orphans.ndjson" };
    size_t i, j;
    (void)state;

    for (i = 0; i < 3; i++) {
        struct sl_strv t = read_texts(names[i]);
        struct run a, b;
        run("longitudinal", &t, 0, &a);
        run("longitudinal", &t, 1, &b);
        for (j = 0; j < t.n; j++) {
            assert_int_equal(a.rc[j], b.rc[j]);
            assert_string_equal(a.why[j], b.why[j]);
        }
        assert_true(json_equal(a.out, b.out));
        run_free(&a);
        run_free(&b);
        sl_strv_free(&t);
    }
}

static void
test_orphans_quarantined(void **state)
{
    struct sl_strv t = read_texts("orphans.ndjson");
    static const char *const want[] = { "Observation.subject", "Condition",
                                        "Observation.encounter",
                                        "Observation.subject" };
    static const char *const values[] = { "dead", "nowhere", "99999",
                                          "hospital", "lost-" };
    struct run r;
    size_t i, v;
    (void)state;

    run("longitudinal", &t, 0, &r);
    assert_int_equal(t.n, 7);
    for (i = 0; i < 4; i++) {
        assert_int_equal(r.rc[i], SL_EQUARANTINE);
        if (strstr(r.why[i], want[i]) == NULL ||
            strstr(r.why[i], "patient") == NULL)
            fail_msg("line %zu: reason \"%s\" lacks %s", i + 1, r.why[i],
                     want[i]);
        for (v = 0; v < sizeof(values) / sizeof(values[0]); v++)
            if (strstr(r.why[i], values[v]))
                fail_msg("line %zu: reason \"%s\" holds a value", i + 1,
                         r.why[i]);
    }
    /* outside the compartment: a shift of their own, not quarantined */
    for (i = 4; i < 7; i++)
        if (r.rc[i] != SL_OK)
            fail_msg("line %zu: %s", i + 1, r.why[i]);
    assert_string_not_equal(
        json_string_value(
            json_object_get(json_object_get(json_array_get(r.out, 6), "batch"),
                            "expirationDate")),
        "2022-12-31");
    run_free(&r);

    /* without a date shift, nothing needs the patient */
    run("basic", &t, 0, &r);
    for (i = 0; i < 7; i++)
        if (r.rc[i] != SL_OK)
            fail_msg("basic, line %zu: %s", i + 1, r.why[i]);
    run_free(&r);
    sl_strv_free(&t);
}

/* The generated Patient compartment: every path is a Reference element of
 * R4, and the rows the engine depends on are there. */
static void
test_compartment_table(void **state)
{
    const struct sl_fhir_link *l;
    size_t i, n;
    (void)state;

    assert_true(sl_fhir_compartment_nlinks > 100);
    for (i = 0; i < sl_fhir_compartment_nlinks; i++) {
        const struct sl_fhir_link *x = &sl_fhir_compartment_links[i];
        char path[320];
        const char *types;
        assert_true(sl_fhir_type_is_resource(x->type));
        snprintf(path, sizeof(path), "%s.%s", x->type, x->path);
        types = sl_fhir_type_lookup(path);
        if (types == NULL || strstr(types, "Reference") == NULL)
            fail_msg("%s: not a Reference element of R4", path);
        if (i > 0)
            assert_true(
                strcmp(sl_fhir_compartment_links[i - 1].type, x->type) <= 0);
    }
    l = sl_fhir_compartment_links_of("Observation", &n);
    assert_int_equal(n, 3);
    assert_string_equal(l[0].path, "subject");
    assert_string_equal(l[1].path, "performer");
    assert_string_equal(l[2].path, "encounter");
    assert_int_equal(l[2].kind, SL_FL_CONTEXT);
    l = sl_fhir_compartment_links_of("Coverage", &n);
    assert_string_equal(l[0].path, "beneficiary"); /* only ever a Patient */
    assert_int_equal(l[0].kind, SL_FL_PATIENT);
    l = sl_fhir_compartment_links_of("Encounter", &n);
    assert_string_equal(l[0].path, "subject");
    assert_non_null(sl_fhir_compartment_links_of("Patient", &n));
    assert_null(sl_fhir_compartment_links_of("Practitioner", &n));
    assert_int_equal(n, 0);
    assert_null(sl_fhir_compartment_links_of("Organization", &n));
    assert_null(sl_fhir_compartment_links_of("Medication", &n));
    assert_true(sl_fhir_is_context_type("Encounter"));
    assert_true(sl_fhir_is_context_type("EpisodeOfCare"));
    assert_false(sl_fhir_is_context_type("Observation"));
}

/* A job takes Bundle entries out of their Bundle (issue 10): learned
 * with their fullUrls, each is de-identified alone with
 * sl_fhir_deid_entry_json; references to fullUrls must come out as
 * Type/id of what they name, a resource without id must get one, and the
 * hospital server's base must go. */
static void
test_split_entries(void **state)
{
    static const char *const entries[][2] = {
        { "urn:uuid:0b1e3c52-7d0a-4c1f-9a7e-1d2c3b4a5f60",
          "{\"resourceType\":\"Patient\",\"birthDate\":\"1970-02-03\","
          "\"identifier\":[{\"system\":\"urn:x\",\"value\":\"" MRN "\"}]}" },
        { "https://ehr.example-hospital.org/fhir/Encounter/e1",
          "{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"status\":"
          "\"finished\",\"class\":{\"code\":\"AMB\"},\"subject\":"
          "{\"reference\":\"urn:uuid:0b1e3c52-7d0a-4c1f-9a7e-1d2c3b4a5f60\"}}" },
        { "urn:uuid:6a1f0f4e-2b9c-4d7e-8f10-3c2b1a0d9e8f",
          "{\"resourceType\":\"Observation\",\"status\":\"final\","
          "\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":"
          "\"urn:uuid:0b1e3c52-7d0a-4c1f-9a7e-1d2c3b4a5f60\"},\"encounter\":"
          "{\"reference\":\"https://ehr.example-hospital.org/fhir/Encounter/"
          "e1\"}}" },
        /* names a fullUrl no entry has */
        { NULL,
          "{\"resourceType\":\"Observation\",\"id\":\"o2\",\"status\":"
          "\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":"
          "\"urn:uuid:99999999-0000-4000-8000-000000000000\"}}" },
    };
    struct sl_keys *k = key32();
    struct sl_profile_chain *chain = NULL;
    struct sl_fhir_deid *d = NULL;
    struct sl_err err = { 0 };
    json_t *res[4], *out[4];
    char *pat_ref;
    size_t i;

    (void)state;
    assert_int_equal(sl_profile_chain_load("basic", &chain, &err), SL_OK);
    assert_int_equal(sl_fhir_deid_new(chain, k, &d, &err), SL_OK);
    for (i = 0; i < 4; i++) {
        json_t *b;
        res[i] = json_loads(entries[i][1], 0, NULL);
        assert_non_null(res[i]);
        /* as the job learns an entry: in a one-entry Bundle ("O" keeps) */
        b = entries[i][0]
                ? json_pack("{s:s, s:s, s:[{s:s, s:O}]}", "resourceType",
                            "Bundle", "type", "collection", "entry",
                            "fullUrl", entries[i][0], "resource", res[i])
                : json_incref(res[i]);
        assert_int_equal(sl_fhir_deid_learn_at(d, b, (long)i, &err), SL_OK);
        json_decref(b);
    }
    for (i = 0; i < 4; i++) {
        struct sl_buf buf;
        int rc;
        sl_buf_init(&buf);
        err.msg[0] = '\0';
        rc = sl_fhir_deid_entry_json(d, res[i], entries[i][0], &buf, &err);
        if (i < 3) {
            if (rc != SL_OK)
                fail_msg("entry %zu: %s", i, err.msg);
            out[i] = json_loads(buf.data, 0, NULL);
            assert_non_null(out[i]);
            assert_null(strstr(buf.data, "urn:uuid:"));
            assert_null(strstr(buf.data, "example-hospital"));
            assert_non_null(json_object_get(out[i], "id"));
        } else {
            /* quarantined, the element named, the value not */
            assert_int_equal(rc, SL_EQUARANTINE);
            assert_non_null(strstr(err.msg, "Observation.subject"));
            assert_null(strstr(err.msg, "99999999"));
        }
        sl_buf_free(&buf);
    }
    /* the Patient had no id: the references name the one it got */
    pat_ref = sl_asprintf("Patient/%s",
                          json_string_value(json_object_get(out[0], "id")));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(out[1], "subject"), "reference")),
                        pat_ref);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(out[2], "subject"), "reference")),
                        pat_ref);
    free(pat_ref);
    pat_ref = sl_asprintf("Encounter/%s",
                          json_string_value(json_object_get(out[1], "id")));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(out[2], "encounter"), "reference")),
                        pat_ref);
    free(pat_ref);
    for (i = 0; i < 4; i++) {
        json_decref(res[i]);
        if (i < 3)
            json_decref(out[i]);
    }
    sl_fhir_deid_free(d);
    sl_profile_chain_free(chain);
    sl_keys_free(k);
}

int
main(void)
{
    const char *top = getenv("top_srcdir");
    char *prof_dir;
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compartment_table),
        cmocka_unit_test(test_transaction_one_shift),
        cmocka_unit_test(test_collection_one_shift),
        cmocka_unit_test(test_orphans_quarantined),
        cmocka_unit_test(test_tape_and_jansson_agree),
        cmocka_unit_test(test_split_entries),
    };

    snprintf(srcdir, sizeof(srcdir), "%s", top ? top : ".");
    prof_dir = sl_asprintf("%s/profiles/deid", srcdir);
    setenv("SLUICE_PROFILE_DIR", prof_dir, 1);
    free(prof_dir);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

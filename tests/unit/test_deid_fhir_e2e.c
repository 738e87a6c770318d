/* test_deid_fhir_e2e.c - the FHIR de-identification engine end to end:
 * synthetic data under the three profiles (PHI gone, what must survive
 * survived, pseudonyms agree with keys.h), narratives and attachments
 * read as a reader would, the leak scan, --explain, encryption,
 * Provenance, threads and profile errors. Part of test_deid_fhir. */
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

/* ---- synthetic data end to end
 * ----------------------------------------------- */

static char *
chain_path(const char *name)
{
    return sl_asprintf("%s/profiles/deid/%s.xml", srcdir, name);
}

/* Every string of v, concatenated, for "is this value anywhere" checks. */
static void
all_strings(const json_t *v, struct sl_buf *b)
{
    const char *k;
    json_t *x;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x) all_strings(x, b);
    } else if (json_is_array(v)) {
        for (i = 0; i < json_array_size(v); i++)
            all_strings(json_array_get(v, i), b);
    } else if (json_is_string(v)) {
        sl_buf_adds(b, json_string_value(v));
        sl_buf_addc(b, '\n');
    }
}

static json_t *
synth_bundles(long n)
{
    char dir[] = "/tmp/sluice-deid-fhir.XXXXXX";
    struct sl_synth_opts o;
    struct sl_strv files = { 0 };
    json_t *arr = json_array();
    size_t i;
    char *cmd;

    assert_non_null(mkdtemp(dir));
    sl_synth_opts_init(&o);
    o.patients = n;
    o.write_dicom = 0;
    o.quiet = 1;
    assert_int_equal(sl_synth_run(dir, &o, NULL, NULL), SL_OK);
    cmd = sl_path_join(dir, "fhir");
    assert_int_equal(sl_dir_walk(cmd, &files, NULL), SL_OK);
    for (i = 0; i < files.n; i++) {
        char *p = sl_path_join(cmd, files.v[i]);
        json_t *b = json_load_file(p, 0, NULL);
        assert_non_null(b);
        json_array_append_new(arr, b);
        free(p);
    }
    free(cmd);
    sl_strv_free(&files);
    cmd = sl_asprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    return arr;
}

static const json_t *
entry_of(const json_t *bundle, const char *type, size_t nth)
{
    const json_t *e = json_object_get(bundle, "entry");
    size_t i;
    for (i = 0; i < json_array_size(e); i++) {
        const json_t *r = json_object_get(json_array_get(e, i), "resource");
        const char *t = json_string_value(json_object_get(r, "resourceType"));
        if (t && strcmp(t, type) == 0 && nth-- == 0)
            return r;
    }
    return NULL;
}

/* The value at "a.b[0].c" in v, or NULL. */
static const json_t *
at(const json_t *v, const char *path)
{
    char key[128];
    const char *p = path;

    while (v && *p) {
        size_t n = strcspn(p, ".[");
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        p += n;
        if (n)
            v = json_object_get(v, key);
        while (v && *p == '[') {
            v = json_array_get(v, strtoul(p + 1, NULL, 10));
            p = strchr(p, ']') + 1;
        }
        if (*p == '.')
            p++;
    }
    return v;
}

static const char *
str_at(const json_t *v, const char *path)
{
    return json_string_value(at(v, path));
}

/* Every reference in v resolves to an entry of the bundle (urls). */
static void
check_refs(const json_t *v, const struct sl_strv *urls, size_t *nrefs)
{
    const char *k;
    json_t *x;
    size_t i;

    if (json_is_array(v)) {
        for (i = 0; i < json_array_size(v); i++)
            check_refs(json_array_get(v, i), urls, nrefs);
        return;
    }
    if (!json_is_object(v))
        return;
    json_object_foreach((json_t *)v, k, x)
    {
        if (strcmp(k, "reference") == 0 && json_is_string(x)) {
            const char *ref = json_string_value(x);
            int found = 0;
            for (i = 0; i < urls->n && !found; i++)
                found =
                    strcmp(urls->v[i], ref) == 0 ||
                    (sl_str_has_suffix(urls->v[i], ref) &&
                     urls->v[i][strlen(urls->v[i]) - strlen(ref) - 1] == '/');
            if (!found)
                fail_msg("a reference does not resolve in its Bundle");
            (*nrefs)++;
        } else
            check_refs(x, urls, nrefs);
    }
}

static void
check_synth(const char *profile)
{
    struct sl_keys *k = key32();
    json_t *in = synth_bundles(12);
    char *prof = chain_path(profile);
    struct outcome o;
    size_t b, i, j;
    char ps[SL_PSEUDONYM_LEN + 1], uid[SL_UID_MAX + 1];
    int safe = strcmp(profile, "safe-harbor") == 0;

    assert_int_equal(run_engine(prof, in, k, &o, NULL), SL_OK);
    if (o.rc != SL_OK)
        fail_msg("%s: %s", sl_status_name(o.rc), o.reason);
    for (b = 0; b < json_array_size(in); b++) {
        const json_t *ib = json_array_get(in, b),
                     *ob = json_array_get(o.out, b);
        const json_t *ip = entry_of(ib, "Patient", 0),
                     *op = entry_of(ob, "Patient", 0);
        const json_t *ids = json_object_get(ip, "identifier");
        struct sl_buf all;
        char *t;

        sl_buf_init(&all);
        all_strings(ob, &all);
        {
            struct sl_strv urls = { 0 };
            const json_t *oes = json_object_get(ob, "entry");
            size_t nrefs = 0;
            /* an entry is named by its fullUrl or, the fullUrls being
             * urn:uuid: now, by the Type/id of its resource */
            for (i = 0; i < json_array_size(oes); i++) {
                const json_t *oe = json_array_get(oes, i);
                char *tid = sl_asprintf("%s/%s",
                                        str_at(oe, "resource.resourceType"),
                                        str_at(oe, "resource.id"));
                sl_strv_push(&urls, str_at(oe, "fullUrl"));
                sl_strv_push(&urls, tid);
                free(tid);
            }
            check_refs(oes, &urls, &nrefs);
            assert_true(nrefs >= json_array_size(oes));
            sl_strv_free(&urls);
        }
        /* PHI gone: names, identifiers, contact, address, report text */
        for (i = 0; i < json_array_size(ids); i++)
            assert_null(
                strstr(all.data, json_string_value(json_object_get(
                                     json_array_get(ids, i), "value"))));
        assert_null(strstr(all.data, str_at(ip, "name[0].family")));
        assert_null(strstr(all.data, str_at(ip, "telecom[0].value")));
        assert_null(strstr(all.data, str_at(ip, "telecom[1].value")));
        assert_null(strstr(all.data, str_at(ip, "address[0].line[0]")));
        assert_null(strstr(all.data, str_at(ip, "address[0].city")));
        assert_null(strstr(all.data, "Dr. "));
        assert_null(strstr(all.data, str_at(ip, "birthDate")));
        assert_null(json_object_get(op, "name"));
        assert_null(json_object_get(op, "telecom"));
        /* the MRN pseudonym is keys.h's; the SSN is gone */
        if (!safe) {
            const char *mrn = str_at(ip, "identifier[0].value");
            sl_keys_pseudonym(k, SL_KD_IDENTIFIER, mrn, strlen(mrn), ps);
            assert_string_equal(str_at(op, "identifier[0].value"), ps);
            assert_string_equal(str_at(op, "identifier[0].system"),
                                SL_SYNTH_MRN_SYSTEM);
            assert_int_equal(json_array_size(json_object_get(op, "identifier")),
                             1);
        } else
            assert_null(json_object_get(op, "identifier"));
        /* what must survive */
        assert_string_equal(str_at(op, "gender"), str_at(ip, "gender"));
        assert_int_equal(strlen(str_at(op, "address[0].postalCode")), 3);
        assert_string_equal(str_at(op, "address[0].state"),
                            str_at(ip, "address[0].state"));
        assert_string_equal(str_at(op, "meta.security[0].code"),
                            safe ? "REDACTED" : "PSEUDED");
        assert_int_equal(json_array_size(json_object_get(ob, "entry")),
                         json_array_size(json_object_get(ib, "entry")));
        for (i = 0; i < json_array_size(json_object_get(ib, "entry")); i++) {
            const json_t *ie = json_array_get(json_object_get(ib, "entry"), i),
                         *oe = json_array_get(json_object_get(ob, "entry"), i);
            const json_t *ir = json_object_get(ie, "resource"),
                         * or = json_object_get(oe, "resource");
            const char *type = str_at(ir, "resourceType");
            char *tid = sl_asprintf("%s/%s", type, str_at(ir, "id"));
            sl_keys_pseudonym(k, SL_KD_RESOURCE_ID, tid, strlen(tid), ps);
            assert_string_equal(str_at(or, "id"), ps);
            /* the server's name goes (issue 10, section 5): an absolute
             * fullUrl becomes urn:uuid: of the pseudonymous id */
            {
                char uuid[40];
                sl_fhir_uuid_from_pseudonym(ps, uuid);
                t = sl_asprintf("urn:uuid:%s", uuid);
                assert_string_equal(str_at(oe, "fullUrl"), t);
                assert_null(strstr(all.data, "ehr.example.org"));
                free(t);
            }
            free(tid);
            if (str_at(ir, "status"))
                assert_string_equal(str_at(or, "status"), str_at(ir, "status"));
            if (json_object_get(ir, "code"))
                assert_true(json_equal(json_object_get(ir, "code"),
                                       json_object_get(or, "code")));
            if (json_object_get(ir, "valueQuantity"))
                assert_true(json_equal(json_object_get(ir, "valueQuantity"),
                                       json_object_get(or, "valueQuantity")));
            if (str_at(ir, "subject.reference")) {
                t = sl_asprintf("Patient/%s", str_at(op, "id"));
                assert_string_equal(str_at(or, "subject.reference"), t);
                free(t);
            }
            if (strcmp(type, "ImagingStudy") == 0 && !safe) {
                const json_t *is = json_object_get(ir, "series"),
                             *os = json_object_get(or, "series");
                const char *sid = str_at(ir, "identifier[0].value");
                sl_keys_uid(k, sid + 8, uid);
                t = sl_asprintf("urn:oid:%s", uid);
                assert_string_equal(str_at(or, "identifier[0].value"), t);
                free(t);
                for (j = 0; j < json_array_size(is); j++) {
                    sl_keys_uid(k, str_at(json_array_get(is, j), "uid"), uid);
                    assert_string_equal(str_at(json_array_get(os, j), "uid"),
                                        uid);
                    sl_keys_uid(
                        k, str_at(json_array_get(is, j), "instance[0].uid"),
                        uid);
                    assert_string_equal(
                        str_at(json_array_get(os, j), "instance[0].uid"), uid);
                }
            }
            if (strcmp(type, "DiagnosticReport") == 0 && !safe) {
                const char *c = str_at(or, "conclusion"),
                           *ic = strstr(str_at(ir, "conclusion"), "): ");
                assert_non_null(c);
                assert_non_null(ic);
                assert_non_null(strstr(c, "[redacted]"));
                assert_non_null(strstr(c, ic)); /* the finding stays */
            }
        }
        sl_buf_free(&all);
    }
    json_decref(o.out);
    json_decref(in);
    free(prof);
    sl_keys_free(k);
}

void
test_synth_basic(void **state)
{
    (void)state;
    check_synth("basic");
}

void
test_synth_longitudinal(void **state)
{
    (void)state;
    check_synth("longitudinal");
}

void
test_synth_safe_harbor(void **state)
{
    (void)state;
    check_synth("safe-harbor");
}

/* Every string of v, with attachment and Binary data decoded: what a
 * reader of the output could see. */
static void
all_text(const json_t *v, struct sl_buf *b)
{
    const char *k;
    json_t *x;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x)
        {
            if (strcmp(k, "data") == 0 && json_is_string(x) &&
                json_object_get(v, "contentType")) {
                const char *s = json_string_value(x);
                size_t n = strlen(s);
                unsigned char *dec = sl_malloc(n / 4 * 3 + 1);
                int w = EVP_DecodeBlock(dec, (const unsigned char *)s, (int)n);
                assert_true(w >= 0);
                while (w > 0 && n > 0 && s[--n] == '=') /* padding */
                    w--;
                sl_buf_add(b, dec, (size_t)w);
                sl_buf_addc(b, '\n');
                free(dec);
            }
            all_text(x, b);
        }
    } else if (json_is_array(v)) {
        for (i = 0; i < json_array_size(v); i++)
            all_text(json_array_get(v, i), b);
    } else if (json_is_string(v)) {
        sl_buf_adds(b, json_string_value(v));
        sl_buf_addc(b, '\n');
    }
}

/* Runs a case folder and returns its output as text (all_text). */
static char *
case_text(const char *name, json_t **out)
{
    struct sl_keys *k = key32();
    char *dir = sl_asprintf("%s/tests/data/deid/fhir/%s", srcdir, name);
    char *in = sl_path_join(dir, "input.ndjson"),
         *prof = sl_path_join(dir, "profile.xml");
    json_t *items = read_items(in);
    struct outcome o;
    struct sl_buf b;

    assert_non_null(items);
    assert_int_equal(run_engine(prof, items, k, &o, NULL), SL_OK);
    if (o.rc != SL_OK)
        fail_msg("%s: %s", name, o.reason);
    sl_buf_init(&b);
    all_text(o.out, &b);
    *out = o.out;
    json_decref(items);
    sl_keys_free(k);
    free(in);
    free(prof);
    free(dir);
    return sl_buf_steal(&b);
}

static void
assert_absent(const char *text, const char *what)
{
    if (strcasestr(text, what) != NULL)
        fail_msg("\"%s\" is still in the output", what);
}

/* Narrative XHTML: names, contacts and identifiers in attributes,
 * comments, processing instructions, mailto:/tel: links and data: images
 * are gone; the clinical text and the markup around it stay. */
void
test_narrative_phi_gone(void **state)
{
    json_t *out;
    char *t = case_text("narrative-markup", &out);
    const char *div = str_at(json_array_get(out, 0), "text.div");
    (void)state;
    assert_absent(t, "Lovelace");
    assert_absent(t, "Augusta");
    assert_absent(t, "447122");
    assert_absent(t, "mailto:");
    assert_absent(t, "tel:");
    assert_absent(t, "data:image");
    assert_absent(t, "<!--");
    assert_absent(t, "<?sluice");
    assert_non_null(div);
    assert_non_null(strstr(div, "Asthma review, <b>no</b> change."));
    assert_non_null(strstr(div, "Peak flow 410 L/min &amp; stable."));
    assert_non_null(strstr(div, "<img alt=\"photo of [redacted]\""));
    assert_non_null(strstr(div, "<div xmlns=\"http://www.w3.org/1999/xhtml\">"));
    assert_string_equal(str_at(json_array_get(out, 0), "text.status"),
                        "generated");
    json_decref(out);
    free(t);
}

/* size and hash of an attachment describe data: bytes and base64 SHA-1 */
static void
assert_describes(const json_t *att, const unsigned char *data, size_t n)
{
    unsigned char md[20], b64[32];
    assert_int_equal(json_integer_value(json_object_get(att, "size")),
                     (json_int_t)n);
    EVP_Digest(data, n, md, NULL, EVP_sha1(), NULL);
    EVP_EncodeBlock(b64, md, 20);
    assert_string_equal(str_at(att, "hash"), (const char *)b64);
}

/* Attachments: under basic the data goes, described by size and hash;
 * a site that keeps text gets it scrubbed, with size and hash of what it
 * keeps. Nothing of the patient is left, even base64-encoded. */
void
test_attachment_phi_gone(void **state)
{
    static const char note[] = "Augusta Lovelace, born 1961-04-12, seen at "
                               "St Mary's Hospital on 2023-05-02.";
    /* the name is found whole by the detectors (text_detect.c), so one
     * [redacted] replaces both its parts */
    static const char kept[] = "[redacted] called about her results.";
    json_t *out;
    char *t = case_text("attachment-removed", &out);
    const json_t *form = at(json_array_get(out, 1), "presentedForm[0]");
    (void)state;
    assert_absent(t, "Lovelace");
    assert_absent(t, "1961-04-12");
    assert_absent(t, "St Mary");
    assert_null(json_object_get(form, "data"));
    assert_null(json_object_get(form, "url"));
    assert_string_equal(str_at(form, "contentType"),
                        "text/plain; charset=utf-8");
    assert_describes(form, (const unsigned char *)note, strlen(note));
    assert_describes(at(json_array_get(out, 2), "content[0].attachment"),
                     (const unsigned char *)note, strlen(note));
    assert_string_equal(str_at(json_array_get(out, 3), "contentType"),
                        "text/plain");
    assert_null(at(json_array_get(out, 3), "data"));
    json_decref(out);
    free(t);

    t = case_text("attachment-text", &out);
    assert_absent(t, "Lovelace");
    assert_absent(t, "Miller");
    assert_absent(t, "Elizabeth");
    assert_absent(t, "447122");
    assert_non_null(strstr(t, kept));
    assert_non_null(strstr(t, "Plan: inhaler."));
    assert_describes(at(json_array_get(out, 1), "content[0].attachment"),
                     (const unsigned char *)kept, strlen(kept));
    assert_non_null(strstr(t, "Letter to [redacted]."));
    json_decref(out);
    free(t);
}

/* A leak the rules miss is quarantined, and the reason has no value. */
void
test_leak_quarantined(void **state)
{
    struct sl_keys *k = key32();
    char *prof = sl_asprintf("%s/tests/data/deid/fhir/keep-text.xml", srcdir);
    json_t *items =
        json_pack("[{s:s, s:s, s:[{s:s, s:[s]}]}, {s:s, s:s, s:{s:s}, s:s}]",
                  "resourceType", "Patient", "id", "p1", "name", "family",
                  "Quixote", "given", "Alonso", "resourceType", "Observation",
                  "id", "o1", "subject", "reference", "Patient/p1",
                  "valueString", "seen with alonso QUIXOTE today");
    struct outcome o;
    (void)state;
    assert_int_equal(run_engine(prof, items, k, &o, NULL), SL_OK);
    assert_int_equal(o.rc, SL_EQUARANTINE);
    assert_non_null(strstr(o.reason, "Observation.valueString"));
    assert_null(strstr(o.reason, "Quixote"));
    assert_null(strstr(o.reason, "quixote"));
    json_decref(o.out);
    json_decref(items);
    free(prof);
    sl_keys_free(k);
}

/* --explain names rules, paths and counts, never values. */
void
test_explain(void **state)
{
    struct sl_keys *k = key32();
    json_t *in = synth_bundles(2);
    char *prof = chain_path("basic"), *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    struct outcome o;
    (void)state;
    assert_int_equal(run_engine(prof, in, k, &o, f), SL_OK);
    fclose(f);
    assert_int_equal(o.rc, SL_OK);
    assert_non_null(strstr(text, "FHIR profile chain: basic 1"));
    assert_non_null(strstr(text, "rule hipaa-a-names (remove, basic 1):\n"
                                 "  Patient.name 2\n"));
    assert_non_null(strstr(text, "Patient.identifier.value"));
    assert_null(
        strstr(text, str_at(entry_of(json_array_get(in, 0), "Patient", 0),
                            "name[0].family")));
    free(text);
    json_decref(o.out);
    json_decref(in);
    free(prof);
    sl_keys_free(k);
}

/* encrypt: AES-256-GCM that the key holder can reverse. */
void
test_encrypt(void **state)
{
    static const char *doc =
        "<profile xmlns=\"urn:sluice:deid:1\" name=\"e\" version=\"1\">"
        "<fhir><rule path=\"Patient.id\" method=\"pseudonymise\"/>"
        "<rule path=\"Patient.identifier\" method=\"keep\"/>"
        "<rule path=\"Identifier.value\" method=\"encrypt\"/>"
        "</fhir></profile>";
    unsigned char key[32], raw[256], pt[64], tag[16];
    struct sl_keys *k = key32();
    struct sl_profile_chain c = { 0 };
    struct sl_fhir_deid *d = NULL;
    struct sl_err err = { 0 };
    json_t *p = json_pack("{s:s, s:s, s:[{s:s}]}", "resourceType", "Patient",
                          "id", "p1", "identifier", "value", "MRN-0001");
    const char *enc;
    EVP_CIPHER_CTX *x;
    int n, len, fin;
    (void)state;

    memset(key, 7, sizeof(key));
    c.n = 1;
    c.docs[0].doc = xmlReadMemory(doc, (int)strlen(doc), "e.xml", NULL, 0);
    c.docs[0].fhir = xmlDocGetRootElement(c.docs[0].doc)->children;
    assert_int_equal(sl_fhir_deid_new(&c, k, &d, &err), SL_OK);
    /* no key yet: an error, not a silent copy */
    assert_int_equal(sl_fhir_deid_resource(d, p, &err), SL_EKEY);
    assert_int_equal(sl_fhir_deid_set_encrypt_key(d, key, 31, &err), SL_EKEY);
    assert_int_equal(sl_fhir_deid_set_encrypt_key(d, key, 32, &err), SL_OK);
    json_decref(p);
    p = json_pack("{s:s, s:s, s:[{s:s}]}", "resourceType", "Patient", "id",
                  "p1", "identifier", "value", "MRN-0001");
    assert_int_equal(sl_fhir_deid_learn(d, p, &err), SL_OK);
    assert_int_equal(sl_fhir_deid_resource(d, p, &err), SL_OK);
    enc = str_at(p, "identifier[0].value");
    assert_non_null(enc);
    assert_int_equal(strncmp(enc, "sluice-aes256gcm:", 17), 0);
    len = (int)strlen(enc + 17);
    n = EVP_DecodeBlock(raw, (const unsigned char *)enc + 17, len);
    n -= (enc[17 + len - 1] == '=') + (enc[17 + len - 2] == '='); /* padding */
    len = n - 12 - 16;
    assert_int_equal(len, 8);
    memcpy(tag, raw + 12 + len, 16);
    x = EVP_CIPHER_CTX_new();
    assert_int_equal(EVP_DecryptInit_ex(x, EVP_aes_256_gcm(), NULL, key, raw),
                     1);
    assert_int_equal(EVP_DecryptUpdate(x, pt, &fin, raw + 12, len), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, 16, tag), 1);
    assert_int_equal(EVP_DecryptFinal_ex(x, pt + fin, &n), 1);
    EVP_CIPHER_CTX_free(x);
    assert_memory_equal(pt, "MRN-0001", 8);
    json_decref(p);
    sl_fhir_deid_free(d);
    xmlFreeDoc(c.docs[0].doc);
    sl_keys_free(k);
}

/* The Provenance names the chain and the targets, and is valid FHIR
 * shape (checked by the real server in the integration test too). */
void
test_provenance(void **state)
{
    struct sl_keys *k = key32();
    struct sl_profile_chain *chain = NULL;
    struct sl_fhir_deid *d = NULL;
    char *prof = chain_path("longitudinal");
    json_t *t = json_pack("[s, s]", "Patient/abc", "Observation/def"), *p;
    (void)state;
    assert_int_equal(sl_profile_chain_load(prof, &chain, NULL), SL_OK);
    assert_int_equal(sl_fhir_deid_new(chain, k, &d, NULL), SL_OK);
    p = sl_fhir_deid_provenance(d, t, "2026-01-01T00:00:00Z");
    assert_non_null(p);
    assert_string_equal(str_at(p, "resourceType"), "Provenance");
    assert_string_equal(str_at(p, "target[1].reference"), "Observation/def");
    assert_string_equal(str_at(p, "policy[0]"),
                        "urn:sluice:deid:profile:basic:1");
    assert_string_equal(str_at(p, "policy[1]"),
                        "urn:sluice:deid:profile:longitudinal:1");
    assert_string_equal(str_at(p, "recorded"), "2026-01-01T00:00:00Z");
    json_decref(p);
    json_array_clear(t);
    assert_null(sl_fhir_deid_provenance(d, t, "2026-01-01T00:00:00Z"));
    json_decref(t);
    sl_fhir_deid_free(d);
    sl_profile_chain_free(chain);
    free(prof);
    sl_keys_free(k);
}

/* Pass 2 from several threads gives what one thread gives. */
struct worker {
    struct sl_fhir_deid *d;
    json_t *items; /* de-identified in place */
    int rc;
};

static void *
work(void *arg)
{
    struct worker *w = arg;
    struct sl_err err;
    size_t i;
    for (i = 0; i < json_array_size(w->items); i++) {
        int rc = sl_fhir_deid_resource(w->d, json_array_get(w->items, i), &err);
        if (rc != SL_OK)
            w->rc = rc;
    }
    return NULL;
}

void
test_threads(void **state)
{
    struct sl_keys *k = key32();
    json_t *in = synth_bundles(8);
    char *prof = chain_path("longitudinal");
    struct sl_profile_chain *chain = NULL;
    struct sl_fhir_deid *d = NULL;
    struct worker w[4];
    pthread_t t[4];
    struct outcome o;
    size_t i;
    (void)state;

    assert_int_equal(run_engine(prof, in, k, &o, NULL), SL_OK);
    assert_int_equal(o.rc, SL_OK);
    assert_int_equal(sl_profile_chain_load(prof, &chain, NULL), SL_OK);
    assert_int_equal(sl_fhir_deid_new(chain, k, &d, NULL), SL_OK);
    for (i = 0; i < json_array_size(in); i++)
        assert_int_equal(sl_fhir_deid_learn(d, json_array_get(in, i), NULL),
                         SL_OK);
    for (i = 0; i < 4; i++) {
        w[i].d = d;
        w[i].items = json_deep_copy(in);
        w[i].rc = SL_OK;
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].rc, SL_OK);
        assert_true(json_equal(w[i].items, o.out));
        json_decref(w[i].items);
    }
    sl_fhir_deid_free(d);
    sl_profile_chain_free(chain);
    json_decref(o.out);
    json_decref(in);
    free(prof);
    sl_keys_free(k);
}

/* A profile with an unknown path or method is refused with its line. */
void
test_profile_errors(void **state)
{
    static const char *const bad[] = {
        "<rule path=\"Patient.nmae\" method=\"remove\"/>",
        "<rule type=\"HumanNam\" method=\"remove\"/>",
        "<rule path=\"Patient.name\" type=\"HumanName\" method=\"remove\"/>",
        "<rule path=\"Patient.name\" method=\"replace\"/>",
        "<rule path=\"Observation.valueQuantity.value\" method=\"perturb\"/>"
    };
    struct sl_keys *k = key32();
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *doc = sl_asprintf(
            "<profile xmlns=\"urn:sluice:deid:1\" name=\"t\" version=\"1\">\n"
            "<fhir>\n%s\n</fhir></profile>\n",
            bad[i]);
        struct sl_profile_chain c = { 0 };
        struct sl_fhir_deid *d = NULL;
        struct sl_err err = { 0 };
        xmlNode *n;
        c.n = 1;
        c.docs[0].path = sl_strdup("t.xml");
        c.docs[0].name = sl_strdup("t");
        c.docs[0].version = sl_strdup("1");
        c.docs[0].doc = xmlReadMemory(doc, (int)strlen(doc), "t.xml", NULL, 0);
        assert_non_null(c.docs[0].doc);
        for (n = xmlDocGetRootElement(c.docs[0].doc)->children; n; n = n->next)
            if (n->type == XML_ELEMENT_NODE)
                c.docs[0].fhir = n;
        assert_int_equal(sl_fhir_deid_new(&c, k, &d, &err), SL_ECONFIG);
        assert_non_null(strstr(err.msg, "t.xml:3:"));
        xmlFreeDoc(c.docs[0].doc);
        free(c.docs[0].path);
        free(c.docs[0].name);
        free(c.docs[0].version);
        free(doc);
    }
    sl_keys_free(k);
}

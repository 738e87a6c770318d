/* test_registry.c - the registry (src/pipeline/registry.c) is the one list
 * of source, stage and target types: the option table, the schema, the
 * config loader's idea of what a target takes and docs/configuration.md
 * must name the same types. A type added in one place and not the others
 * fails here. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "pipeline/pipeline.h"

static int
word_in(const char *w, const char *words)
{
    size_t n = strlen(w);
    const char *p = words;

    while ((p = strstr(p, w)) != NULL) {
        if ((p == words || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
        p += n;
    }
    return 0;
}

static size_t
count_words(const char *s)
{
    size_t n = 0;
    int in = 0;

    for (; *s; s++) {
        if (*s != ' ' && !in)
            n++;
        in = *s != ' ';
    }
    return n;
}

static char *
slurp(const char *rel)
{
    char *path = sl_path_join(SL_SRCDIR, rel), *text = NULL;
    size_t len = 0;

    assert_int_equal(sl_file_read(path, &text, &len, NULL), SL_OK);
    free(path);
    return text;
}

/* The XSD's enumeration of simpleType name, as "a b c". */
static char *
xsd_enum(const char *xsd, const char *name)
{
    char *head = sl_asprintf("<xs:simpleType name=\"%s\">", name);
    const char *p = strstr(xsd, head), *end;
    struct sl_buf b;

    free(head);
    assert_non_null(p);
    end = strstr(p, "</xs:simpleType>");
    sl_buf_init(&b);
    while ((p = strstr(p, "<xs:enumeration value=\"")) != NULL && p < end) {
        const char *q;
        p += strlen("<xs:enumeration value=\"");
        q = strchr(p, '"');
        sl_buf_addf(&b, "%s%.*s", b.len ? " " : "", (int)(q - p), p);
    }
    return sl_buf_steal(&b);
}

static void
test_sources_agree(void **state)
{
    const struct sl_opt *o = sl_opt_find("source", NULL, "type");
    char *xsd = slurp("conf/sluice.xsd"), *xe = xsd_enum(xsd, "sourceType");
    char *doc = slurp("docs/configuration.md");
    const struct sl_source_type *t;
    size_t n = 0;

    (void)state;
    assert_non_null(o);
    for (t = sl_source_types; t->type; t++, n++) {
        assert_true(word_in(t->type, o->choices));
        assert_true(word_in(t->type, xe));
        assert_non_null(strstr(doc, t->type));
        assert_true(t->yields != 0);
    }
    assert_int_equal(n, count_words(o->choices));
    assert_int_equal(n, count_words(xe));
    free(xe);
    free(xsd);
    free(doc);
}

static void
test_targets_agree(void **state)
{
    const struct sl_opt *o = sl_opt_find("target", NULL, "type");
    char *xsd = slurp("conf/sluice.xsd"), *xe = xsd_enum(xsd, "targetType");
    char *doc = slurp("docs/configuration.md");
    const struct sl_target_type *t;
    size_t n = 0;

    (void)state;
    assert_non_null(o);
    for (t = sl_target_types; t->type; t++, n++) {
        assert_true(word_in(t->type, o->choices));
        assert_true(word_in(t->type, xe));
        assert_non_null(strstr(doc, t->type));
        /* what the config loader checks <push fhir/dicom> against */
        assert_int_equal(sl_config_target_takes(t->type), t->takes);
        assert_true(t->takes != 0);
    }
    assert_int_equal(n, count_words(o->choices));
    assert_int_equal(n, count_words(xe));
    assert_int_equal(sl_config_target_takes("no-such-type"), 0);
    free(xe);
    free(xsd);
    free(doc);
}

static void
test_stages_agree(void **state)
{
    char *xsd = slurp("conf/sluice.xsd");
    size_t i;

    (void)state;
    for (i = 0; sl_stage_types[i]; i++) {
        char *el = sl_asprintf("<xs:element name=\"%s\"",
                               sl_stage_types[i]->name);
        /* a stage is a step of a job in the schema and has options */
        assert_non_null(strstr(xsd, el));
        assert_true(sl_opt_find(sl_stage_types[i]->name, NULL, "profile") ||
                    sl_opt_find(sl_stage_types[i]->name, NULL, "maps") ||
                    sl_opt_find(sl_stage_types[i]->name, NULL, "profiles"));
        assert_ptr_equal(sl_stage_find(sl_stage_types[i]->name),
                         sl_stage_types[i]);
        assert_non_null(sl_stage_types[i]->create);
        assert_non_null(sl_stage_types[i]->process);
        assert_non_null(sl_stage_types[i]->free);
        free(el);
    }
    assert_null(sl_stage_find("no-such-stage"));
    free(xsd);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sources_agree),
        cmocka_unit_test(test_targets_agree),
        cmocka_unit_test(test_stages_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

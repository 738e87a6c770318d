/* test_text_detect.c - the free-text detectors (src/deid/text_detect.c,
 * text_date.c, text_names.c) and the scrubber that merges them with the
 * learned values (src/deid/fhir_scrub.c): each shape found whole, words
 * that are also names or look like numbers left alone, dates written
 * again moved or reduced to the year in the form they were written in.
 * The end-to-end effect through sluice deid and the measurement on the
 * free-text set are tests/integration/deid_freetext.sh. All values are
 * made up here. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deid/fhir_int.h"
#include "deid/text_detect.h"

/* The spans of text as "kind:text|kind:text…" (empty: none). */
static char *
spans(const char *text)
{
    struct sl_text_spans sp = { 0 };
    struct sl_buf b;
    size_t k;

    sl_buf_init(&b);
    sl_buf_adds(&b, "");
    sl_text_detect(text, strlen(text), &sp);
    for (k = 0; k < sp.n; k++)
        sl_buf_addf(&b, "%s%s:%.*s", k ? "|" : "",
                    sl_text_kind_names[sp.v[k].kind],
                    (int)(sp.v[k].end - sp.v[k].start), text + sp.v[k].start);
    sl_text_spans_free(&sp);
    return sl_buf_steal(&b);
}

#define FINDS(text, want)                                                      \
    do {                                                                       \
        char *got_ = spans(text);                                              \
        if (strcmp(got_, (want)) != 0)                                         \
            fail_msg("\"%s\": found \"%s\", wanted \"%s\"", (text), got_,      \
                     (want));                                                  \
        free(got_);                                                            \
    } while (0)

static void
test_numbers(void **state)
{
    (void)state;
    FINDS("Call 555-123-4567 or (555) 987-6543.",
          "phone:555-123-4567|phone:(555) 987-6543");
    FINDS("Fax +44 20 7946 0958, 1-800-555-0199",
          "phone:+44 20 7946 0958|phone:1-800-555-0199");
    FINDS("SSN 123-45-6789", "natid:123-45-6789");
    FINDS("passport 533380006", "natid:533380006");
    FINDS("MRN: 12345678; Acct #A998877; account number 4455",
          "id:12345678|id:A998877|id:4455");
    FINDS("chart 9876543 reviewed, ref XK1234567", "id:9876543|id:XK1234567");
    FINDS("Boston, MA 02115-1234; ZIP 02116; London SW1A 1AA",
          "zip:02115-1234|zip:02116|zip:SW1A 1AA");
    FINDS("lives at 12 Elm Street", "address:12 Elm Street");
    FINDS("from 192.0.2.14", "ip:192.0.2.14");
    FINDS("a 92-year-old, aged 95, 101 y/o, 93 years old",
          "age:92|age:95|age:101|age:93");
}

static void
test_web(void **state)
{
    (void)state;
    FINDS("mail ann.lee+x@mail.example.org.",
          "email:ann.lee+x@mail.example.org");
    FINDS("see https://portal.example.org/p?id=3, or www.example.net/x).",
          "url:https://portal.example.org/p?id=3|url:www.example.net/x");
}

static void
test_dates(void **state)
{
    (void)state;
    FINDS("DOB 1950-03-04, seen 03/04/2021 and 4.3.2021",
          "date:1950-03-04|date:03/04/2021|date:4.3.2021");
    FINDS("on March 4, 1950; 4th of Mar, 1950; Sept 1999; 4 March",
          "date:March 4, 1950|date:4th of Mar, 1950|date:Sept 1999|"
          "date:4 March");
}

/* Numbers that are measurements, codes and doses are not identifiers */
static void
test_numbers_kept(void **state)
{
    (void)state;
    FINDS("BP 120/80, HbA1c 7.2%, B12, COVID-19, ICD-10 E11.9", "");
    FINDS("LOINC 2345-7, platelets 250,000, take 1/2 tablet", "");
    FINDS("metformin 500 mg, a 45-year-old, aged 67, version 2.4.1", "");
    FINDS("Vitamin D 2000 IU, 12.345678 mL, 10 mg/kg", "");
}

static void
test_names(void **state)
{
    (void)state;
    FINDS("Seen by Dr. Smith and Mrs. O'Brien's son.",
          "name:Smith|name:O'Brien");
    FINDS("Patient John Smith and Mark Brown came.",
          "name:John Smith|name:Mark Brown");
    FINDS("J. Smith, Mary Ann Lopez and Walker, Daniel called.",
          "name:J. Smith|name:Mary Ann Lopez|name:Walker, Daniel");
    FINDS("daughter Maria and Jennifer; Patricia Okafor",
          "name:Maria|name:Jennifer|name:Patricia Okafor");
    FINDS("Maria, Jennifer", "name:Maria, Jennifer");
    FINDS("JOHN SMITH", "name:JOHN SMITH");
}

/* Names that are English words or eponyms stay when they do not stand
 * as names */
static void
test_names_kept(void **state)
{
    (void)state;
    FINDS("Parkinson disease, Hodgkin lymphoma, Babinski sign negative.", "");
    FINDS("Will return. Mark the site. Brown sputum. Young adult.", "");
    FINDS("Graves disease, Crohn flare, Foley catheter, Glasgow 15.", "");
    FINDS("ED visit, CT HEAD, MRI BRAIN, Grace period in May.", "");
    FINDS("MR Brain, MS Flare, DR Screening, SR Tablets", "");
    FINDS("DR. JONES", "name:JONES");
    FINDS("no capitals or digits here at all", "");
}

/* A date span written again */
static char *
rewrite(const char *text, int days, int year_only)
{
    struct sl_text_spans sp = { 0 };
    struct sl_buf b;

    sl_buf_init(&b);
    sl_buf_adds(&b, "");
    sl_text_detect(text, strlen(text), &sp);
    assert_int_equal(sp.n, 1);
    assert_int_equal(sp.v[0].kind, SL_TEXT_DATE);
    if (!sl_text_date_write(&sp.v[0], days, year_only, &b))
        sl_buf_adds(&b, "(none)");
    sl_text_spans_free(&sp);
    return sl_buf_steal(&b);
}

#define WRITES(text, days, yo, want)                                           \
    do {                                                                       \
        char *got_ = rewrite((text), (days), (yo));                            \
        assert_string_equal(got_, (want));                                     \
        free(got_);                                                            \
    } while (0)

static void
test_date_write(void **state)
{
    (void)state;
    WRITES("1950-03-04", -10, 0, "1950-02-22");
    WRITES("1950-03-04", -10, 1, "1950");
    WRITES("03/04/2021", -4, 0, "02/28/2021");
    WRITES("3/4/2020", -4, 0, "2/29/2020");
    WRITES("04.03.1950", 30, 0, "03.04.1950");
    WRITES("March 4, 1950", -10, 0, "February 22, 1950");
    WRITES("4th Mar 1950", -3, 0, "1st Mar 1950");
    WRITES("March 1950", -20, 0, "February 1950"); /* as its 15th */
    WRITES("March 1950", -20, 1, "1950");
    WRITES("03/04/50", -1, 1, "(none)"); /* a two-digit year */
    WRITES("March 4", -1, 0, "(none)");
}

/* The scrubber: learned values and detected spans merged; a date that
 * is a learned value (a birth date) is still written as a date */
static void
test_scrub_merge(void **state)
{
    struct sl_fhir_vset v = { 0 };
    struct fhir_scrub x = { &v, NULL, NULL };
    char *t;
    (void)state;

    sl_fhir_vset_add(&v, "Zyxwq", 3);
    sl_fhir_vset_add(&v, "1950-03-04", 3);
    sl_fhir_vset_add(&v, "Anna Zyxwq", 3);
    t = fhir_scrub_text(&x, "Anna Zyxwq, DOB 1950-03-04, called "
                            "555-123-4567 about Dr. Smith; Zyxwq Lee.");
    assert_non_null(t);
    /* "Lee" is a common word: a learned name beside it does not make
     * it a name (the detectors do not see what was learned) */
    assert_string_equal(t, "[redacted], DOB 1950, called [redacted] about "
                           "Dr. [redacted]; [redacted] Lee.");
    free(t);
    t = fhir_scrub_text(&x, "A 93-year-old with Parkinson disease.");
    assert_string_equal(t, "A 90+-year-old with Parkinson disease.");
    free(t);
    assert_null(fhir_scrub_text(&x, "Parkinson disease, metformin 500 mg."));
    sl_fhir_vset_free(&v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),     cmocka_unit_test(test_web),
        cmocka_unit_test(test_dates),       cmocka_unit_test(test_numbers_kept),
        cmocka_unit_test(test_names),       cmocka_unit_test(test_names_kept),
        cmocka_unit_test(test_date_write),  cmocka_unit_test(test_scrub_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

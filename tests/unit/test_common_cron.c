/* test_common_cron.c - cron schedules and their next run, on a fake clock:
 * every case gives the "now" and checks the instant the schedule names,
 * in UTC and in zones with daylight-saving changes (Europe/Berlin and
 * America/New_York, from the system's tzdata). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/cron.h"

static time_t
utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return timegm(&tm);
}

/* The next run of expr in tz after `after`, which must exist. */
static time_t
next_of(const char *expr, const char *tz, time_t after)
{
    struct sl_cron c;
    struct sl_err err = { 0 };
    time_t t = 0;

    assert_int_equal(sl_cron_parse(expr, &c, &err), SL_OK);
    assert_int_equal(sl_cron_next(&c, tz, after, &t), SL_OK);
    return t;
}

static void
expect_next(const char *expr, const char *tz, time_t after, time_t want)
{
    time_t got = next_of(expr, tz, after);

    if (got != want) {
        char a[32], b[32];
        struct tm tm;

        gmtime_r(&got, &tm);
        strftime(a, sizeof(a), "%Y-%m-%dT%H:%MZ", &tm);
        gmtime_r(&want, &tm);
        strftime(b, sizeof(b), "%Y-%m-%dT%H:%MZ", &tm);
        fail_msg("'%s' in %s: got %s, want %s", expr, tz ? tz : "local", a,
                 b);
    }
}

static void
test_fields(void **state)
{
    (void)state;
    expect_next("*/15 * * * *", "UTC", utc(2026, 1, 1, 0, 7) + 30,
                utc(2026, 1, 1, 0, 15));
    /* exactly on a due minute: the next one, never the same */
    expect_next("*/15 * * * *", "UTC", utc(2026, 1, 1, 0, 15),
                utc(2026, 1, 1, 0, 30));
    expect_next("5/20 3 * * *", "UTC", utc(2026, 1, 1, 3, 26),
                utc(2026, 1, 1, 3, 45));
    expect_next("0 9 * * mon-fri", "UTC", utc(2026, 1, 3, 12, 0),
                utc(2026, 1, 5, 9, 0));
    expect_next("0 0 * JAN,jul 7", "UTC", utc(2026, 1, 31, 0, 0),
                utc(2026, 7, 5, 0, 0));
    /* both day fields restricted: either matches (the 13th or a Friday) */
    expect_next("0 12 13 * fri", "UTC", utc(2026, 2, 1, 0, 0),
                utc(2026, 2, 6, 12, 0));
    expect_next("0 12 13 * 1", "UTC", utc(2026, 2, 10, 0, 0),
                utc(2026, 2, 13, 12, 0));
    expect_next("@daily", "UTC", utc(2026, 12, 31, 23, 59),
                utc(2027, 1, 1, 0, 0));
    expect_next("@weekly", "UTC", utc(2026, 12, 7, 10, 0),
                utc(2026, 12, 13, 0, 0));
    expect_next("@monthly", "UTC", utc(2026, 12, 7, 10, 0),
                utc(2027, 1, 1, 0, 0));
}

static void
test_leap_day(void **state)
{
    struct sl_cron c;
    time_t t;

    (void)state;
    expect_next("0 0 29 2 *", "UTC", utc(2026, 3, 1, 0, 0),
                utc(2028, 2, 29, 0, 0));
    expect_next("30 6 29 2 *", "Europe/Berlin", utc(2028, 2, 29, 5, 30),
                utc(2032, 2, 29, 5, 30));
    /* a day that never comes */
    assert_int_equal(sl_cron_parse("0 0 30 2 *", &c, NULL), SL_OK);
    assert_int_equal(sl_cron_next(&c, "UTC", utc(2026, 1, 1, 0, 0), &t),
                     SL_ENOTFOUND);
}

/* Europe/Berlin goes from 02:00 CET to 03:00 CEST on 2026-03-29 (01:00Z)
 * and back from 03:00 CEST to 02:00 CET on 2026-10-25 (01:00Z). */
static void
test_dst_forward(void **state)
{
    (void)state;
    /* a fixed time in the skipped hour runs at the change */
    expect_next("30 2 * * *", "Europe/Berlin", utc(2026, 3, 28, 23, 0),
                utc(2026, 3, 29, 1, 0));
    /* and the next day as usual, in summer time */
    expect_next("30 2 * * *", "Europe/Berlin", utc(2026, 3, 29, 1, 0),
                utc(2026, 3, 30, 0, 30));
    /* a fixed time outside the gap is not moved */
    expect_next("30 3 * * *", "Europe/Berlin", utc(2026, 3, 28, 23, 0),
                utc(2026, 3, 29, 1, 30));
    /* wildcard hours follow the wall clock: 02:30 does not exist */
    expect_next("30 * * * *", "Europe/Berlin", utc(2026, 3, 29, 0, 45),
                utc(2026, 3, 29, 1, 30));
    expect_next("@hourly", "Europe/Berlin", utc(2026, 3, 29, 0, 30),
                utc(2026, 3, 29, 1, 0));
    /* New York: 02:00 EST to 03:00 EDT on 2026-03-08 (07:00Z) */
    expect_next("15 2 * * *", "America/New_York", utc(2026, 3, 8, 6, 0),
                utc(2026, 3, 8, 7, 0));
    expect_next("15 2 * * *", "America/New_York", utc(2026, 3, 8, 7, 0),
                utc(2026, 3, 9, 6, 15));
}

static void
test_dst_back(void **state)
{
    (void)state;
    /* 02:30 comes twice: a fixed time runs in the first pass only */
    expect_next("30 2 * * *", "Europe/Berlin", utc(2026, 10, 24, 23, 0),
                utc(2026, 10, 25, 0, 30));
    expect_next("30 2 * * *", "Europe/Berlin", utc(2026, 10, 25, 0, 30),
                utc(2026, 10, 26, 1, 30));
    /* wildcard hours run in both passes */
    expect_next("30 * * * *", "Europe/Berlin", utc(2026, 10, 25, 0, 30),
                utc(2026, 10, 25, 1, 30));
    expect_next("0 * * * *", "Europe/Berlin", utc(2026, 10, 25, 0, 30),
                utc(2026, 10, 25, 1, 0));
    expect_next("*/20 * * * *", "Europe/Berlin", utc(2026, 10, 25, 0, 50),
                utc(2026, 10, 25, 1, 0));
}

static void
test_errors(void **state)
{
    static const char *const bad[] = {
        "61 * * * *", "* * * *",   "* * * * * *", "@reboot",
        "* 24 * * *", "* * 0 * *", "* * * 13 *",  "* * * * 8",
        "*/0 * * * *", "5-1 * * * *", "* * * foo *", "@daily x",
        "1,,2 * * * *", "",
    };
    struct sl_cron c;
    struct sl_err err = { 0 };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (sl_cron_parse(bad[i], &c, &err) != SL_ECONFIG)
            fail_msg("'%s' was accepted", bad[i]);
        assert_true(err.msg[0] != '\0');
    }
    assert_int_equal(sl_cron_parse("61 * * * *", &c, &err), SL_ECONFIG);
    assert_non_null(strstr(err.msg, "field 1 (minute)"));
    assert_int_equal(sl_cron_tz_check("Europe/Berlin", &err), SL_OK);
    assert_int_equal(sl_cron_tz_check("UTC", &err), SL_OK);
    assert_int_equal(sl_cron_tz_check(NULL, &err), SL_OK);
    assert_int_equal(sl_cron_tz_check("Mars/Olympus_Mons", &err),
                     SL_ECONFIG);
    assert_non_null(strstr(err.msg, "Mars/Olympus_Mons"));
    assert_int_equal(sl_cron_tz_check("../../etc/passwd", &err), SL_ECONFIG);
}

static void
test_fixed(void **state)
{
    struct sl_cron c;

    (void)state;
    assert_int_equal(sl_cron_parse("@hourly", &c, NULL), SL_OK);
    assert_false(c.fixed);
    assert_int_equal(sl_cron_parse("@daily", &c, NULL), SL_OK);
    assert_true(c.fixed);
    assert_int_equal(sl_cron_parse("*/5 2 * * *", &c, NULL), SL_OK);
    assert_false(c.fixed);
    assert_int_equal(sl_cron_parse("5 2,14 * * 1-5", &c, NULL), SL_OK);
    assert_true(c.fixed);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),    cmocka_unit_test(test_leap_day),
        cmocka_unit_test(test_dst_forward), cmocka_unit_test(test_dst_back),
        cmocka_unit_test(test_errors),    cmocka_unit_test(test_fixed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_common_date.c - civil calendar arithmetic (common/date.h): known
 * days, leap years and centuries, years before 1970 and before year 0,
 * agreement with the C library, and the two functions as inverses. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <time.h>

#include <cmocka.h>

#include "common/date.h"

static void
test_days_known(void **state)
{
    (void)state;
    assert_int_equal(sl_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(sl_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(sl_days_from_civil(2000, 2, 29), 11016);
    assert_int_equal(sl_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(sl_days_from_civil(1900, 3, 1) -
                         sl_days_from_civil(1900, 2, 28),
                     1); /* not leap */
    assert_int_equal(sl_days_from_civil(2024, 3, 1) -
                         sl_days_from_civil(2024, 2, 28),
                     2); /* leap */
    assert_int_equal(sl_days_from_civil(0, 3, 1), -719468);
    /* a day past the end of the month goes on into the next */
    assert_int_equal(sl_days_from_civil(2021, 2, 31),
                     sl_days_from_civil(2021, 3, 3));
}

static void
test_civil_known(void **state)
{
    long y;
    int m, d;
    (void)state;
    sl_civil_from_days(0, &y, &m, &d);
    assert_true(y == 1970 && m == 1 && d == 1);
    sl_civil_from_days(11016, &y, &m, &d);
    assert_true(y == 2000 && m == 2 && d == 29);
    sl_civil_from_days(-1, &y, &m, &d);
    assert_true(y == 1969 && m == 12 && d == 31);
    sl_civil_from_days(-719469, &y, &m, &d); /* the day before 0000-03-01 */
    assert_true(y == 0 && m == 2 && d == 29);
    sl_civil_from_days(sl_days_from_civil(-1, 12, 31) + 1, &y, &m, &d);
    assert_true(y == 0 && m == 1 && d == 1);
}

/* agrees with timegm() (glibc), one day in every 37 from 1900 to 2100 */
static void
test_days_match_libc(void **state)
{
    long z;
    (void)state;
    for (z = sl_days_from_civil(1900, 1, 1); z < sl_days_from_civil(2100, 1, 1);
         z += 37) {
        struct tm tm = { 0 };
        long y;
        int m, d;
        sl_civil_from_days(z, &y, &m, &d);
        tm.tm_year = (int)y - 1900;
        tm.tm_mon = m - 1;
        tm.tm_mday = d;
        assert_int_equal((long)(timegm(&tm) / 86400), z);
    }
}

/* consecutive days give consecutive dates, and back */
static void
test_round_trip(void **state)
{
    long z, y, py;
    int m, d, pm, pd;
    (void)state;
    sl_civil_from_days(-800000 - 1, &py, &pm, &pd);
    for (z = -800000; z <= 800000; z++) {
        sl_civil_from_days(z, &y, &m, &d);
        assert_true(m >= 1 && m <= 12 && d >= 1 && d <= 31);
        assert_int_equal(sl_days_from_civil(y, m, d), z);
        if (d != 1)
            assert_true(y == py && m == pm && d == pd + 1);
        else if (m != 1)
            assert_true(y == py && m == pm + 1);
        else
            assert_true(y == py + 1 && pm == 12 && pd == 31);
        py = y;
        pm = m;
        pd = d;
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days_known),
        cmocka_unit_test(test_civil_known),
        cmocka_unit_test(test_days_match_libc),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests_name("common_date", tests, NULL, NULL);
}

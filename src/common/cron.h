/* cron.h - job schedules: cron's five fields and its @names, and the next
 * time a schedule is due in a time zone, with daylight-saving changes
 * handled the way Debian's cron handles them (see docs/operations.md).
 *
 * A schedule is "minute hour day-of-month month day-of-week": numbers,
 * '*', ranges a-b, lists a,b, steps (a '/n' after '*', after a-b, or after
 * a alone meaning a to the end: every n), month names jan-dec and day names sun-sat (any case), 0 or 7 for
 * Sunday; or one of @yearly @annually @monthly @weekly @daily @midnight
 * @hourly. When both day fields are restricted (neither starts with '*'),
 * a day matches either, as in cron. */
#ifndef SL_COMMON_CRON_H
#define SL_COMMON_CRON_H

#include <stdint.h>
#include <time.h>

#include "common/common.h"

struct sl_cron {
    uint64_t minute; /* bit n: minute n */
    uint32_t hour;
    uint32_t mday; /* bit 1 to 31 */
    uint16_t month; /* bit 1 to 12 */
    uint8_t wday; /* bit 0 (Sunday) to 6 */
    unsigned mday_star : 1, wday_star : 1;
    /* Runs at a particular time: neither minute nor hour holds '*' and it
     * is not @hourly. Such a schedule runs once in a repeated hour (clocks
     * going back) and soon after the change for a skipped one (clocks going
     * forward); the others follow the wall clock. */
    unsigned fixed : 1;
};

/* Compiles expr; on error returns SL_ECONFIG with a message naming the
 * field. */
int sl_cron_parse(const char *expr, struct sl_cron *out, struct sl_err *err);

/* Checks that tz names a time zone of the system's database (such as
 * "Europe/Berlin" or "UTC"); NULL or "" mean the local zone. */
int sl_cron_tz_check(const char *tz, struct sl_err *err);

/* The first time after `after` (seconds since the epoch) at which the
 * schedule is due in zone tz (NULL: the local zone). Returns SL_OK, or
 * SL_ENOTFOUND when it is never due within eight years (say "0 0 30 2 *"). */
int sl_cron_next(const struct sl_cron *c, const char *tz, time_t after,
                 time_t *next);

/* t as ISO 8601 wall time of zone tz with its offset, to the minute:
 * "2026-12-08T02:00+01:00" ("...Z" in UTC). */
void sl_cron_format(time_t t, const char *tz, char *buf, size_t len);

#endif

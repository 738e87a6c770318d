/* cron.c - cron schedules and the next time one is due (see cron.h).
 *
 * The walk is over wall-clock minutes of the zone, counted as whole
 * minutes since 1970-01-01 00:00 of the wall clock (no zone), so that the
 * fields can be matched with arithmetic alone; each matching wall minute
 * is then turned into the instants it names in the zone: none (clocks
 * went forward over it), one, or two (clocks went back over it). */
#include "config.h"

#include "common/cron.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/date.h"

/* ---- parsing ----------------------------------------------------------- */

static const char *const month_names[] = { "jan", "feb", "mar", "apr",
                                           "may", "jun", "jul", "aug",
                                           "sep", "oct", "nov", "dec" };
static const char *const day_names[] = { "sun", "mon", "tue", "wed",
                                         "thu", "fri", "sat" };

struct field {
    const char *name;
    long lo, hi;
    const char *const *names; /* names[i] is lo + i */
    size_t nnames;
};

static const struct field fields[5] = {
    { "minute", 0, 59, NULL, 0 },
    { "hour", 0, 23, NULL, 0 },
    { "day of month", 1, 31, NULL, 0 },
    { "month", 1, 12, month_names, 12 },
    { "day of week", 0, 7, day_names, 7 },
};

/* A number in [lo,hi] or a name at *pp. */
static int
read_value(const char **pp, const struct field *f, long *out)
{
    const char *p = *pp;
    long v = 0;
    size_t i;

    if (isdigit((unsigned char)*p)) {
        while (isdigit((unsigned char)*p)) {
            v = v * 10 + (*p - '0');
            if (v > f->hi)
                return -1;
            p++;
        }
    } else {
        for (i = 0; i < f->nnames; i++)
            if (strncasecmp(p, f->names[i], 3) == 0 &&
                !isalpha((unsigned char)p[3]))
                break;
        if (i == f->nnames)
            return -1;
        v = f->lo + (long)i;
        p += 3;
    }
    if (v < f->lo)
        return -1;
    *pp = p;
    *out = v;
    return 0;
}

/* One field: items ( '*' | V | V-V ) [ '/' N ] separated by ','. Sets the
 * bits of the values it names in *bits. */
static int
parse_field(const char *s, const struct field *f, uint64_t *bits)
{
    const char *p = s;
    long a, b, step, v;
    int single;

    *bits = 0;
    for (;;) {
        step = 1;
        single = 0;
        if (*p == '*') {
            a = f->lo;
            b = f->hi;
            p++;
        } else {
            if (read_value(&p, f, &a) != 0)
                return -1;
            b = a;
            single = *p != '-';
            if (*p == '-') {
                p++;
                if (read_value(&p, f, &b) != 0 || b < a)
                    return -1;
            }
        }
        if (*p == '/') {
            const struct field num = { f->name, 1, f->hi > 0 ? f->hi : 1,
                                       NULL, 0 };
            p++;
            if (!isdigit((unsigned char)*p) || read_value(&p, &num, &step))
                return -1;
            if (single)
                b = f->hi; /* a/n: from a to the end */
        }
        for (v = a; v <= b; v += step)
            *bits |= (uint64_t)1 << v;
        if (*p == '\0')
            return 0;
        if (*p != ',')
            return -1;
        p++;
    }
}

static const struct {
    const char *name, *expr;
} macros[] = {
    { "@yearly", "0 0 1 1 *" },   { "@annually", "0 0 1 1 *" },
    { "@monthly", "0 0 1 * *" },  { "@weekly", "0 0 * * 0" },
    { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
    { "@hourly", "0 * * * *" },
};

int
sl_cron_parse(const char *expr, struct sl_cron *out, struct sl_err *err)
{
    char tok[5][64];
    const char *p = expr;
    uint64_t bits[5];
    size_t i, n;
    int hourly = 0;

    memset(out, 0, sizeof(*out));
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '@') {
        for (i = 0; i < sizeof(macros) / sizeof(macros[0]); i++) {
            n = strlen(macros[i].name);
            if (strncasecmp(p, macros[i].name, n) == 0 &&
                (p[n] == '\0' || p[n] == ' ' || p[n] == '\t'))
                break;
        }
        if (i == sizeof(macros) / sizeof(macros[0]))
            return SL_ERR(err, SL_ECONFIG,
                          "unknown name; a schedule's names are @yearly "
                          "@annually @monthly @weekly @daily @midnight "
                          "@hourly");
        for (p += strlen(macros[i].name); *p == ' ' || *p == '\t'; p++)
            ;
        if (*p != '\0')
            return SL_ERR(err, SL_ECONFIG,
                          "has something after %s", macros[i].name);
        hourly = strcmp(macros[i].name, "@hourly") == 0;
        p = macros[i].expr;
    }
    for (i = 0; i < 5; i++) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            return SL_ERR(err, SL_ECONFIG,
                          "has %zu field%s; a schedule has five: minute hour "
                          "day-of-month month day-of-week",
                          i, i == 1 ? "" : "s");
        for (n = 0; *p && *p != ' ' && *p != '\t'; p++, n++)
            if (n + 1 < sizeof(tok[i]))
                tok[i][n] = *p;
        if (n + 1 >= sizeof(tok[i]) ||
            parse_field((tok[i][n] = '\0', tok[i]), &fields[i], &bits[i]))
            return SL_ERR(err, SL_ECONFIG,
                          "field %zu (%s) wants %s%ld-%ld, '*', ranges (a-b), "
                          "lists (a,b) or steps (/n)",
                          i + 1, fields[i].name,
                          fields[i].names ? "names or numbers " : "numbers ",
                          fields[i].lo, fields[i].hi);
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '\0')
        return SL_ERR(err, SL_ECONFIG,
                      "has more than five fields (minute hour day-of-month "
                      "month day-of-week)");
    out->minute = bits[0];
    out->hour = (uint32_t)bits[1];
    out->mday = (uint32_t)bits[2];
    out->month = (uint16_t)bits[3];
    out->wday = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f); /* 7 is 0 */
    out->mday_star = tok[2][0] == '*';
    out->wday_star = tok[4][0] == '*';
    out->fixed = !hourly && !strchr(tok[0], '*') && !strchr(tok[1], '*');
    return SL_OK;
}

/* ---- time zones -------------------------------------------------------- */

/* glibc has no call that takes a zone, so the zone is switched through TZ
 * around each conversion, under one lock; schedules are worked out a few
 * times a minute at most. */
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

struct tz_scope {
    char *old;
    int set;
};

static void
tz_enter(const char *tz, struct tz_scope *s)
{
    const char *cur;

    pthread_mutex_lock(&tz_lock);
    s->set = tz && *tz;
    s->old = NULL;
    if (s->set) {
        cur = getenv("TZ");
        s->old = cur ? sl_strdup(cur) : NULL;
        setenv("TZ", tz, 1);
    }
    tzset();
}

static void
tz_leave(struct tz_scope *s)
{
    if (s->set) {
        if (s->old)
            setenv("TZ", s->old, 1);
        else
            unsetenv("TZ");
        free(s->old);
        tzset();
    }
    pthread_mutex_unlock(&tz_lock);
}

int
sl_cron_tz_check(const char *tz, struct sl_err *err)
{
    const char *dir = getenv("TZDIR");
    char path[4096];
    struct stat st;

    if (!tz || !*tz || strcmp(tz, "UTC") == 0)
        return SL_OK;
    if (tz[0] == '/' || strstr(tz, "..") || strlen(tz) > 200)
        return SL_ERR(err, SL_ECONFIG,
                      "'%s' is not a time zone name (such as Europe/Berlin)",
                      tz);
    snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir
                                                       : "/usr/share/zoneinfo",
             tz);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return SL_ERR(err, SL_ECONFIG,
                      "time zone '%s' is not in the system's time zone "
                      "database (%s; Debian package tzdata)",
                      tz, dir && *dir ? dir : "/usr/share/zoneinfo");
    return SL_OK;
}

/* ---- wall-clock minutes -------------------------------------------------- */

/* Minutes since 1970-01-01 00:00 of the wall clock of tm. */
static int64_t
wall_of_tm(const struct tm *tm)
{
    long days = sl_days_from_civil((long)tm->tm_year + 1900, tm->tm_mon + 1,
                                   tm->tm_mday);

    return (int64_t)days * 1440 + tm->tm_hour * 60 + tm->tm_min;
}

static void
tm_of_wall(int64_t w, struct tm *tm)
{
    int64_t days = w >= 0 ? w / 1440 : -((-w + 1439) / 1440);
    int64_t m = w - days * 1440;
    long y;
    int mo, d;

    sl_civil_from_days((long)days, &y, &mo, &d);
    memset(tm, 0, sizeof(*tm));
    tm->tm_year = (int)(y - 1900);
    tm->tm_mon = mo - 1;
    tm->tm_mday = d;
    tm->tm_hour = (int)(m / 60);
    tm->tm_min = (int)(m % 60);
}

/* Called with the zone entered. */
static int64_t
wall_at(time_t t)
{
    struct tm tm;

    localtime_r(&t, &tm);
    return wall_of_tm(&tm);
}

static int
day_matches(const struct sl_cron *c, int64_t days, int mday)
{
    int wd = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
    int dm = (c->mday >> mday) & 1, ww = (c->wday >> wd) & 1;

    if (c->mday_star || c->wday_star)
        return dm && ww;
    return dm || ww;
}

/* The first wall minute >= w that the schedule names, or -1 past limit. */
static int64_t
next_wall(const struct sl_cron *c, int64_t w, int64_t limit)
{
    struct tm tm;
    int64_t days;

    while (w <= limit) {
        tm_of_wall(w, &tm);
        days = (w >= 0 ? w / 1440 : -((-w + 1439) / 1440));
        if (!((c->month >> (tm.tm_mon + 1)) & 1)) {
            /* first minute of the next month */
            tm.tm_mon++;
            if (tm.tm_mon == 12) {
                tm.tm_mon = 0;
                tm.tm_year++;
            }
            w = (int64_t)sl_days_from_civil((long)tm.tm_year + 1900,
                                            tm.tm_mon + 1, 1) *
                1440;
            continue;
        }
        if (!day_matches(c, days, tm.tm_mday)) {
            w = (days + 1) * 1440;
            continue;
        }
        if (!((c->hour >> tm.tm_hour) & 1)) {
            w = days * 1440 + (tm.tm_hour + 1) * 60;
            continue;
        }
        if (!((c->minute >> tm.tm_min) & 1)) {
            w++;
            continue;
        }
        return w;
    }
    return -1;
}

/* The instants whose wall clock is the minute w: 0, 1 or 2 of them, in
 * order. Called with the zone entered. */
static int
instants_of(int64_t w, time_t out[2])
{
    struct tm tm;
    time_t t;
    int isdst, n = 0;

    for (isdst = 0; isdst <= 1; isdst++) {
        tm_of_wall(w, &tm);
        tm.tm_isdst = isdst;
        t = mktime(&tm);
        if (t == (time_t)-1 || wall_at(t) != w)
            continue;
        if (n == 1 && out[0] == t)
            continue;
        out[n++] = t;
    }
    if (n == 2 && out[1] < out[0]) {
        t = out[0];
        out[0] = out[1];
        out[1] = t;
    }
    return n;
}

/* The first instant whose wall clock is past the minute w, which clocks
 * skipped: the moment they went forward. Called with the zone entered. */
static time_t
after_gap(int64_t w)
{
    struct tm tm;
    time_t lo, hi, mid;

    tm_of_wall(w, &tm);
    tm.tm_isdst = 0;
    lo = mktime(&tm) - 6 * 3600; /* wall clock before w */
    hi = lo + 12 * 3600; /* wall clock after w */
    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;
        if (wall_at(mid) > w)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

int
sl_cron_next(const struct sl_cron *c, const char *tz, time_t after,
             time_t *next)
{
    struct tz_scope scope;
    time_t best = (time_t)-1, ts[2];
    int64_t w, limit, stop = INT64_MAX;
    int n, i;

    tz_enter(tz, &scope);
    /* Start three hours of wall clock back: the second pass of a repeated
     * hour comes after `after` but reads earlier on the wall. */
    w = wall_at(after) - 180;
    limit = w + (int64_t)8 * 366 * 1440;
    while ((w = next_wall(c, w, limit)) >= 0 && w <= stop) {
        n = instants_of(w, ts);
        if (n == 0 && c->fixed) {
            ts[0] = after_gap(w);
            n = 1;
        }
        if (n == 2 && c->fixed)
            n = 1; /* once, in the first pass */
        for (i = 0; i < n; i++)
            if (ts[i] > after && (best == (time_t)-1 || ts[i] < best)) {
                best = ts[i];
                stop = wall_at(best) + 180;
            }
        w++;
    }
    tz_leave(&scope);
    if (best == (time_t)-1)
        return SL_ENOTFOUND;
    *next = best;
    return SL_OK;
}

void
sl_cron_format(time_t t, const char *tz, char *buf, size_t len)
{
    struct tz_scope scope;
    struct tm tm;
    long off;

    tz_enter(tz, &scope);
    localtime_r(&t, &tm);
    tz_leave(&scope);
    off = tm.tm_gmtoff / 60;
    if (off == 0)
        snprintf(buf, len, "%04d-%02d-%02dT%02d:%02dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
    else
        snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d%c%02ld:%02ld",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, off < 0 ? '-' : '+', labs(off) / 60,
                 labs(off) % 60);
}

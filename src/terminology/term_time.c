/* term_time.c - FHIR dates and times normalised to UTC: a dateTime or
 * instant with a time and an offset ("2024-03-01T00:30:00.250+01:00")
 * becomes the same instant in UTC with the same precision
 * ("2024-02-29T23:30:00.250Z"); the fraction of a second is copied as
 * written, never rounded. Dates without a time, and times without an
 * offset (local times of unknown zone), are left as they are: nothing
 * is guessed. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "common/date.h"
#include "terminology/terminology.h"

static int
num(const char *s, int n, int *out)
{
    int i, v = 0;

    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int
sl_term_time_utc(const char *in, char *out, size_t outlen)
{
    int y, mo, d, h, mi, s = 0, oh, om, sign, has_sec = 0;
    const char *p = in, *frac = NULL;
    size_t nfrac = 0, len = strlen(in);
    long days, mins;
    long yy;
    int m2, d2;

    /* YYYY-MM-DDThh:mm[:ss[.f+]](Z|+hh:mm|-hh:mm) */
    if (len < 17 || num(p, 4, &y) || p[4] != '-' || num(p + 5, 2, &mo) ||
        p[7] != '-' || num(p + 8, 2, &d) || p[10] != 'T' ||
        num(p + 11, 2, &h) || p[13] != ':' || num(p + 14, 2, &mi))
        return -1;
    p += 16;
    if (*p == ':') {
        if (num(p + 1, 2, &s))
            return -1;
        has_sec = 1;
        p += 3;
        if (*p == '.') {
            frac = p + 1;
            while (isdigit((unsigned char)frac[nfrac]))
                nfrac++;
            if (nfrac == 0)
                return -1;
            p = frac + nfrac;
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        s > 60)
        return -1;
    if (*p == 'Z' && p[1] == '\0') {
        if ((size_t)snprintf(out, outlen, "%s", in) >= outlen)
            return -1;
        return 0;
    }
    if ((*p != '+' && *p != '-') || strlen(p) != 6 || num(p + 1, 2, &oh) ||
        p[3] != ':' || num(p + 4, 2, &om) || oh > 14 || om > 59)
        return -1;
    sign = *p == '-' ? -1 : 1;
    /* local time minus the offset is UTC */
    days = sl_days_from_civil(y, mo, d);
    mins = (long)h * 60 + mi - sign * ((long)oh * 60 + om);
    while (mins < 0) {
        mins += 1440;
        days--;
    }
    while (mins >= 1440) {
        mins -= 1440;
        days++;
    }
    sl_civil_from_days(days, &yy, &m2, &d2);
    if (yy < 0 || yy > 9999)
        return -1;
    if (has_sec)
        len = (size_t)snprintf(out, outlen, "%04ld-%02d-%02dT%02ld:%02ld:%02d"
                               "%s%.*sZ", yy, m2, d2, mins / 60, mins % 60, s,
                               frac ? "." : "", (int)nfrac, frac ? frac : "");
    else
        len = (size_t)snprintf(out, outlen, "%04ld-%02d-%02dT%02ld:%02ldZ",
                               yy, m2, d2, mins / 60, mins % 60);
    return len < outlen ? 1 : -1;
}

/* Every string of v that is a dateTime with an offset, in UTC. */
static void
walk(json_t *v, int *changed)
{
    const char *k;
    json_t *x;
    size_t i;
    char buf[64];

    if (json_is_object(v)) {
        json_object_foreach(v, k, x)
        {
            if (json_is_string(x)) {
                if (sl_term_time_utc(json_string_value(x), buf,
                                     sizeof(buf)) == 1) {
                    json_string_set(x, buf);
                    *changed = 1;
                }
            } else {
                walk(x, changed);
            }
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x)
        {
            if (json_is_string(x)) {
                if (sl_term_time_utc(json_string_value(x), buf,
                                     sizeof(buf)) == 1) {
                    json_string_set(x, buf);
                    *changed = 1;
                }
            } else {
                walk(x, changed);
            }
        }
    }
}

void
sl_term_times_utc(json_t *res, int *changed)
{
    *changed = 0;
    walk(res, changed);
}

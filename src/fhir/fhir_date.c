/* fhir_date.c - FHIR date, dateTime and instant values (see fhir.h):
 * parsed at their precision, shifted by days, written back. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/date.h"
#include "fhir/fhir.h"

static int
digits(const char *s, int n, int *out)
{
    int i, v = 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

int
sl_fhir_date_parse(const char *s, struct sl_fhir_date *out)
{
    struct sl_fhir_date dt = { 0 };

    if (!digits(s, 4, &dt.y))
        return SL_FD_BAD;
    dt.m = dt.d = 1;
    if (s[4] == '\0') {
        dt.prec = SL_FD_YEAR;
    } else if (s[4] == '-' && digits(s + 5, 2, &dt.m) && dt.m >= 1 &&
               dt.m <= 12) {
        if (s[7] == '\0') {
            dt.prec = SL_FD_MONTH;
        } else if (s[7] == '-' && digits(s + 8, 2, &dt.d) && dt.d >= 1 &&
                   dt.d <= 31) {
            if (s[10] == '\0')
                dt.prec = SL_FD_DAY;
            else if (s[10] == 'T' && s[11] >= '0' && s[11] <= '9') {
                dt.prec = SL_FD_TIME;
                dt.rest = s + 10;
            } else
                return SL_FD_BAD;
        } else
            return SL_FD_BAD;
    } else
        return SL_FD_BAD;
    *out = dt;
    return dt.prec;
}

/* n as 2 digits (n: 0 to 99) */
static char *
put2(char *p, int n)
{
    *p++ = (char)('0' + n / 10);
    *p++ = (char)('0' + n % 10);
    return p;
}

void
sl_fhir_date_format(const struct sl_fhir_date *dt, char *out, size_t len)
{
    /* the common case without printf (one call per date of the output):
     * what the snprintf calls below write */
    size_t rest = dt->prec == SL_FD_TIME && dt->rest ? strlen(dt->rest) : 0;
    if (dt->y >= 0 && dt->y <= 9999 && dt->m >= 0 && dt->m <= 99 &&
        dt->d >= 0 && dt->d <= 99 && len >= 11 + rest &&
        dt->prec >= SL_FD_YEAR) {
        char *p = put2(put2(out, dt->y / 100), dt->y % 100);
        if (dt->prec >= SL_FD_MONTH) {
            *p++ = '-';
            p = put2(p, dt->m);
        }
        if (dt->prec >= SL_FD_DAY) {
            *p++ = '-';
            p = put2(p, dt->d);
        }
        memcpy(p, dt->rest && dt->prec == SL_FD_TIME ? dt->rest : "", rest + 1);
        return;
    }
    switch (dt->prec) {
    case SL_FD_YEAR:
        snprintf(out, len, "%04d", dt->y);
        break;
    case SL_FD_MONTH:
        snprintf(out, len, "%04d-%02d", dt->y, dt->m);
        break;
    case SL_FD_DAY:
        snprintf(out, len, "%04d-%02d-%02d", dt->y, dt->m, dt->d);
        break;
    default:
        snprintf(out, len, "%04d-%02d-%02d%s", dt->y, dt->m, dt->d,
                 dt->rest ? dt->rest : "");
        break;
    }
}

void
sl_fhir_date_shift(struct sl_fhir_date *dt, int days)
{
    int m = dt->m, d = dt->d;
    long y;

    if (dt->prec == SL_FD_YEAR) {
        m = 7;
        d = 2;
    } else if (dt->prec == SL_FD_MONTH) {
        d = 15;
    }
    sl_civil_from_days(sl_days_from_civil(dt->y, m, d) + days, &y, &m, &d);
    dt->y = (int)y;
    if (dt->prec >= SL_FD_MONTH)
        dt->m = m;
    if (dt->prec >= SL_FD_DAY)
        dt->d = d;
}

int
sl_fhir_date_age_at(const struct sl_fhir_date *b, const struct sl_fhir_date *t)
{
    int age = t->y - b->y;
    if (t->m < b->m || (t->m == b->m && t->d < b->d))
        age--;
    return age;
}

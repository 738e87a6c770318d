/* dimse_since.c - incremental pulls of the dimse source: the watermark
 * (the StudyDate and StudyTime of the newest study a finished run took)
 * rides in the checkpoint of the run's last study, "HASH:J|W=YYYYMMDDHHMMSS
 * |T=YYYYMMDD.HASH,...". The next run asks the PACS for the studies from
 * overlap-days before the watermark's date on (StudyDate matching is by
 * whole days), and drops those already taken: the T list holds the
 * studies (date and a hash of the UID, no UID) whose date lies within the
 * overlap of the watermark, carried on from run to run. Studies stored in
 * the PACS late with a date inside the overlap are found; older ones are
 * not (widen overlap-days, or run once with since="all"). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/date.h"
#include "sources/dimse_since.h"

void
dimse_since_free(struct dimse_since *s)
{
    if (s == NULL)
        return;
    sl_strv_free(&s->taken);
    s->wm[0] = '\0';
}

static int
digits(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

int
dimse_since_parse(const char *ck, struct dimse_since *s)
{
    const char *w = ck ? strstr(ck, "|W=") : NULL;
    const char *t;

    if (w == NULL || !digits(w + 3, 14))
        return 0;
    memcpy(s->wm, w + 3, 14);
    s->wm[14] = '\0';
    sl_strv_free(&s->taken);
    if ((t = strstr(w, "|T=")) != NULL) {
        t += 3;
        while (*t != '\0' && *t != '|') {
            size_t n = strcspn(t, ",|");
            if (n == 25 && digits(t, 8) && t[8] == '.' &&
                strspn(t + 9, "0123456789abcdef") == 16)
                sl_strv_push_owned(&s->taken, sl_strndup(t, n));
            t += n;
            if (*t == ',')
                t++;
        }
    }
    return 1;
}

/* date (YYYYMMDD) minus days, into out (9 bytes) */
static void
minus_days(const char *date, long days, char *out)
{
    long y =
        strtol((char[5]){ date[0], date[1], date[2], date[3], 0 }, NULL, 10);
    int m = (int)strtol((char[3]){ date[4], date[5], 0 }, NULL, 10);
    int d = (int)strtol((char[3]){ date[6], date[7], 0 }, NULL, 10);
    long n = sl_days_from_civil(y, m, d) - days;

    sl_civil_from_days(n, &y, &m, &d);
    snprintf(out, 9, "%04ld%02d%02d", y < 0 ? 0 : y % 10000, m, d);
}

char *
dimse_since_range(const struct dimse_since *s, const char *user)
{
    char from[9];
    const char *dash;
    char ulo[9] = "", uhi[9] = "";

    if (s->wm[0] == '\0')
        return NULL;
    minus_days(s->wm, s->overlap_days, from);
    if (user != NULL && *user != '\0') {
        /* "A", "A-B", "A-", "-B": the later start, the user's end */
        if ((dash = strchr(user, '-')) == NULL) {
            snprintf(ulo, sizeof(ulo), "%.8s", user);
            snprintf(uhi, sizeof(uhi), "%.8s", user);
        } else {
            snprintf(ulo, sizeof(ulo), "%.*s",
                     (int)(dash - user < 8 ? dash - user : 8), user);
            snprintf(uhi, sizeof(uhi), "%.8s", dash + 1);
        }
        if (strcmp(ulo, from) > 0)
            memcpy(from, ulo, sizeof(from));
    }
    return sl_asprintf("%s-%s", from, uhi);
}

int
dimse_since_taken(const struct dimse_since *s, const char *date, uint64_t hash)
{
    char key[32];
    size_t i;

    snprintf(key, sizeof(key), "%.8s.%016" PRIx64, date ? date : "", hash);
    for (i = 0; i < s->taken.n; i++)
        if (strcmp(s->taken.v[i], key) == 0)
            return 1;
    return 0;
}

/* study st's StudyDate and StudyTime as YYYYMMDDHHMMSS into c (15
 * bytes); 0 when it has no usable date */
static int
stamp(const struct sl_dicom_study *st, char *c)
{
    size_t t = st->time ? strspn(st->time, "0123456789") : 0;

    if (st->date == NULL || strlen(st->date) != 8 || !digits(st->date, 8))
        return 0;
    /* HHMMSS, or fewer digits (HHMM), padded with zeros */
    snprintf(c, 15, "%s%.*s000000", st->date, (int)(t < 6 ? t : 6),
             t ? st->time : "");
    return 1;
}

char *
dimse_since_suffix(const struct dimse_since *s, const struct sl_dicom_study *st,
                   size_t n, const unsigned char *incomplete,
                   uint64_t (*hash)(const char *uid))
{
    struct sl_buf b = { 0 };
    char wm[15], from[9], low[15] = "";
    size_t i, k = 0;

    memcpy(wm, s->wm, sizeof(wm));
    for (i = 0; i < n; i++) {
        char c[15];
        if (!stamp(&st[i], c))
            continue;
        if (strcmp(c, wm) > 0)
            memcpy(wm, c, sizeof(wm));
        if (incomplete != NULL && incomplete[i] &&
            (low[0] == '\0' || strcmp(c, low) < 0))
            memcpy(low, c, sizeof(low));
    }
    if (wm[0] == '\0')
        return sl_strdup("");
    minus_days(wm, s->overlap_days, from);
    if (low[0] != '\0' && strncmp(low, from, 8) < 0) {
        /* the next run's query must reach back to the oldest study still
         * lacking instances: the watermark is held overlap-days after
         * its date */
        minus_days(low, -s->overlap_days, wm);
        memcpy(wm + 8, "000000", 7);
        minus_days(wm, s->overlap_days, from);
    }
    sl_buf_addf(&b, "|W=%s|T=", wm);
    for (i = 0; i < s->taken.n; i++)
        if (strncmp(s->taken.v[i], from, 8) >= 0) {
            sl_buf_addf(&b, "%s%s", k++ ? "," : "", s->taken.v[i]);
        }
    for (i = 0; i < n; i++)
        if (st[i].date != NULL && strlen(st[i].date) == 8 &&
            strcmp(st[i].date, from) >= 0 &&
            (incomplete == NULL || !incomplete[i]))
            sl_buf_addf(&b, "%s%s.%016" PRIx64, k++ ? "," : "", st[i].date,
                        hash(st[i].uid));
    return sl_buf_steal(&b);
}

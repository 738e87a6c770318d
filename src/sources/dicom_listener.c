/* dicom_listener.c - the dicom-listener source: sluice as a C-STORE SCP
 * (DCMTK's DcmSCPPool through src/dicom/dicom_listen.cc) that PACS and
 * modalities push studies to. Instances go through the job's stages as
 * they arrive; a study counts as complete once none of its instances has
 * come for quiet-time seconds.
 *
 * The inbox: a folder of the state store's folder, "listener-ID", kept
 * from run to run. The SCP writes each instance there ("in-PID-N.part",
 * renamed "in-PID-N.dcm" when whole, before its C-STORE is answered: an
 * instance the sender was told is stored is on disk). When the pipeline
 * takes one it is renamed into "taken/" with a number that only grows
 * ("taken/000000000042.dcm"), and that number is the item's checkpoint.
 * A file in taken/ is removed only once a committed checkpoint covers it:
 * when the next run (or a resume) opens the source and learns the last
 * checkpoint of the run being resumed or of the job's last finished run.
 * Until then it stays, so that a kill -9 loses nothing: a resume gives
 * again what followed its checkpoint, then what was received and not yet
 * taken (targets keep one copy per SOP Instance UID).
 *
 * The end: the run ends once nothing has happened for idle-exit seconds
 * (no association open, every study complete), or, with idle-exit 0, when
 * it is stopped (SIGTERM, SIGINT: then an interrupted run, which the next
 * `sluice run` resumes). Items are named "study N instance K" by order of
 * arrival in the run: no UID, name or id of the data. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/hash.h"
#include "config/config.h"
#include "dicom/dicom.h"
#include "sources/sources.h"

struct study {
    uint64_t hash; /* FNV-1a of its UID */
    size_t number; /* "study N" */
    size_t count;  /* instances so far */
    double last;   /* when the last came */
};

struct listener_src {
    const char *id;
    char *inbox, *taken;
    struct sl_dicom_listener *l; /* started at the first next() */
    struct sl_dicom_listen_conf conf;
    struct sl_strv allow, sops, xfers; /* what conf points into */
    long quiet, idle_exit;
    const volatile sig_atomic_t *stop;
    int none;
    int started;            /* the first next() has sorted the inbox */
    unsigned long long cut; /* taken/ files up to it were delivered */
    unsigned long long seq; /* the last number given in taken/ */
    struct sl_strv pending; /* files to give before new arrivals */
    size_t pi;
    struct study *studies;  /* not yet complete */
    size_t nstudies, nseen; /* open ones; all of this run */
    size_t given;           /* items given out */
    double last_activity;
};

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Space-separated words of s into v (copies). */
static void
split_words(const char *s, struct sl_strv *v)
{
    while (s != NULL && *s != '\0') {
        size_t n;
        s += strspn(s, " \t\r\n");
        n = strcspn(s, " \t\r\n");
        if (n > 0) {
            char *w = sl_strndup(s, n);
            sl_strv_push_owned(v, w);
        }
        s += n;
    }
}

/* The number of a file of taken/ ("000000000042.dcm"), or 0. */
static unsigned long long
taken_number(const char *name)
{
    char *end = NULL;
    unsigned long long n;

    if (name[0] < '0' || name[0] > '9')
        return 0;
    n = strtoull(name, &end, 10);
    return end != NULL && strcmp(end, ".dcm") == 0 ? n : 0;
}

static int
cmp_name(const void *a, const void *b)
{
    return strverscmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the inbox at the first next(): taken/ files the last committed
 * checkpoint covers are removed, the others given again in order; then
 * what was received and not yet taken; half-received files are removed. */
static void
sort_inbox(struct listener_src *s)
{
    struct sl_strv names = { 0 };
    DIR *d;
    struct dirent *e;
    size_t i;

    if ((d = opendir(s->taken)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            unsigned long long n = taken_number(e->d_name);
            char *p;
            if (n == 0)
                continue;
            p = sl_path_join(s->taken, e->d_name);
            if (n <= s->cut)
                unlink(p);
            else
                sl_strv_push(&names, e->d_name);
            free(p);
        }
        closedir(d);
    }
    if (names.n > 1)
        qsort(names.v, names.n, sizeof(*names.v), cmp_name);
    for (i = 0; i < names.n; i++)
        sl_strv_push_owned(&s->pending, sl_path_join(s->taken, names.v[i]));
    sl_strv_free(&names);
    if ((d = opendir(s->inbox)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            size_t len = strlen(e->d_name);
            if (strncmp(e->d_name, "in-", 3) != 0)
                continue;
            if (len > 5 && strcmp(e->d_name + len - 5, ".part") == 0) {
                char *p = sl_path_join(s->inbox, e->d_name);
                unlink(p); /* its C-STORE was never answered */
                free(p);
            } else if (len > 4 && strcmp(e->d_name + len - 4, ".dcm") == 0) {
                sl_strv_push(&names, e->d_name);
            }
        }
        closedir(d);
    }
    if (names.n > 1)
        qsort(names.v, names.n, sizeof(*names.v), cmp_name);
    for (i = 0; i < names.n; i++)
        sl_strv_push_owned(&s->pending, sl_path_join(s->inbox, names.v[i]));
    sl_strv_free(&names);
    if (s->pending.n > 0)
        sl_log(SL_LOG_INFO,
               "source '%s': %zu instances received earlier and not "
               "yet delivered go first",
               s->id, s->pending.n);
}

/* The highest number in taken/, so that numbers keep growing. */
static unsigned long long
taken_max(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    unsigned long long m = 0, n;

    while (d != NULL && (e = readdir(d)) != NULL)
        if ((n = taken_number(e->d_name)) > m)
            m = n;
    if (d != NULL)
        closedir(d);
    return m;
}

static void
src_close(void *vctx)
{
    struct listener_src *s = vctx;

    if (s == NULL)
        return;
    sl_dicom_listen_stop(s->l);
    free((char *)s->conf.tls_ca);
    free((char *)s->conf.tls_cert);
    free((char *)s->conf.tls_key);
    sl_strv_free(&s->allow);
    sl_strv_free(&s->sops);
    sl_strv_free(&s->xfers);
    free(s->inbox);
    free(s->taken);
    sl_strv_free(&s->pending);
    free(s->studies);
    free(s);
}

static int
src_open(const struct sl_config *cfg, const struct sl_conf_node *node,
         const char *checkpoint, void **ctx, struct sl_err *err)
{
    struct listener_src *s = sl_calloc(1, sizeof(*s));
    struct sl_dicom_listen_conf *cp = &s->conf;
    struct sl_strv *allow = &s->allow, *sops = &s->sops, *xfers = &s->xfers;
    char msg[256], *sp = NULL, *sd = NULL, *name = NULL;
    size_t i;
    int rc;

    s->id = node->id ? node->id : "?";
    cp->ae_title = sl_conf_get(node, "ae-title");
    cp->address = sl_conf_get(node, "address");
    cp->port = (int)sl_conf_get_long(node, "port", 0);
    cp->max_assoc = (int)sl_conf_get_long(node, "max-associations", 4);
    cp->timeout = (int)sl_conf_get_long(node, "timeout", 30);
    cp->tls_ca = sl_conf_get_path(cfg, node, "tls-ca-file");
    cp->tls_cert = sl_conf_get_path(cfg, node, "tls-cert-file");
    cp->tls_key = sl_conf_get_path(cfg, node, "tls-key-file");
    s->quiet = sl_conf_get_long(node, "quiet-time", 10);
    s->idle_exit = sl_conf_get_long(node, "idle-exit", 0);
    split_words(sl_conf_get(node, "allow"), allow);
    if (cp->ae_title == NULL || cp->port <= 0 || allow->n == 0) {
        rc = SL_ERR(err, SL_ECONFIG,
                    "source '%s': ae-title, port and allow are needed", s->id);
        goto out;
    }
    if (sl_dicom_init(msg, sizeof(msg)) != 0) {
        rc = SL_ERR(err, SL_EDICOM, "source '%s': %s", s->id, msg);
        goto out;
    }
    split_words(sl_conf_get(node, "sop-classes"), sops);
    split_words(sl_conf_get(node, "transfer-syntaxes"), xfers);
    for (i = 0; i < sops->n + xfers->n; i++) {
        char **w = i < sops->n ? &sops->v[i] : &xfers->v[i - sops->n];
        const char *uid;
        if ((uid = sl_dicom_uid_from_name(*w)) == NULL) {
            rc =
                SL_ERR(err, SL_ECONFIG,
                       "source '%s': %s: unknown name '%s' (a UID, or "
                       "a name such as %s: docs/pacs.md)",
                       s->id, i < sops->n ? "sop-classes" : "transfer-syntaxes",
                       *w, i < sops->n ? "CTImageStorage" : "jpeg-lossless");
            goto out;
        }
        if (uid != *w) {
            free(*w);
            *w = sl_strdup(uid);
        }
    }
    /* the inbox beside the state store, kept from run to run */
    sp = sl_path_resolve(cfg->base_dir,
                         cfg->state_path ? cfg->state_path : "sluice-state.db");
    sd = sl_path_dir(sp);
    name = sl_asprintf("listener-%s", s->id);
    s->inbox = sl_path_join(sd, name);
    s->taken = sl_path_join(s->inbox, "taken");
    if ((rc = sl_mkdir_private(s->inbox, "listener inbox", err)) != SL_OK ||
        (rc = sl_mkdir_private(s->taken, "listener inbox", err)) != SL_OK)
        goto out;
    s->seq = taken_max(s->taken);
    if (checkpoint != NULL && *checkpoint != '\0')
        s->cut = strtoull(checkpoint, NULL, 10);
    cp->allow = (const char *const *)allow->v;
    cp->nallow = allow->n;
    cp->sop_classes = (const char *const *)sops->v;
    cp->nsop = sops->n;
    cp->xfers = (const char *const *)xfers->v;
    cp->nxfer = xfers->n;
    cp->dir = s->inbox;
    *ctx = s;
    s = NULL;
    rc = SL_OK;
out:
    free(sp);
    free(sd);
    free(name);
    src_close(s);
    return rc;
}

static int
src_since(void *vctx, const char *last, struct sl_err *err)
{
    struct listener_src *s = vctx;
    unsigned long long n;

    (void)err;
    if (last != NULL && (n = strtoull(last, NULL, 10)) > s->cut)
        s->cut = n;
    return SL_OK;
}

static void
src_begin(void *vctx, const volatile sig_atomic_t *stop, const char *last)
{
    struct listener_src *s = vctx;

    (void)last; /* since() had it */
    s->stop = stop;
}

/* Studies quiet for quiet-time seconds are complete: logged, forgotten. */
static void
close_quiet(struct listener_src *s, double t)
{
    size_t i, k;

    for (i = k = 0; i < s->nstudies; i++) {
        if (t - s->studies[i].last >= (double)s->quiet) {
            sl_log(SL_LOG_INFO,
                   "source '%s': study %zu complete: %zu instances, none "
                   "for %ld s",
                   s->id, s->studies[i].number, s->studies[i].count, s->quiet);
            continue;
        }
        s->studies[k++] = s->studies[i];
    }
    s->nstudies = k;
}

/* The study an instance belongs to (opened when new). */
static struct study *
study_of(struct listener_src *s, const char *uid, double t)
{
    uint64_t h = sl_fnv1a64(uid ? uid : "");
    size_t i;

    for (i = 0; i < s->nstudies; i++)
        if (s->studies[i].hash == h)
            break;
    if (i == s->nstudies) {
        s->studies =
            sl_realloc(s->studies, (s->nstudies + 1) * sizeof(*s->studies));
        s->studies[i].hash = h;
        s->studies[i].number = ++s->nseen;
        s->studies[i].count = 0;
        s->nstudies++;
    }
    s->studies[i].count++;
    s->studies[i].last = t;
    return &s->studies[i];
}

static int
give(struct listener_src *s, char *path, struct sl_item **out,
     struct sl_err *err)
{
    struct sl_dicom_summary *sum = NULL;
    struct sl_err e = { 0 };
    struct sl_item *it;
    struct study *st;
    unsigned long long n = taken_number(strrchr(path, '/') + 1);
    char *dst;
    double t = now_s();

    if (n == 0 || strncmp(path, s->taken, strlen(s->taken)) != 0) {
        /* a new one: into taken/ under the next number */
        n = ++s->seq;
        dst = sl_asprintf("%s/%012llu.dcm", s->taken, n);
        if (rename(path, dst) != 0) {
            int rc = SL_ERR(err, SL_EIO,
                            "source '%s': cannot move a received "
                            "instance within its inbox: %s",
                            s->id, strerror(errno));
            free(dst);
            free(path);
            return rc;
        }
        free(path);
    } else {
        dst = path;
    }
    it = sl_item_new(SL_ITEM_DICOM);
    it->source = s->id;
    if (sl_dicom_summary_read(dst, &sum, &e) == SL_OK) {
        st = study_of(s, sum->study_uid, t);
        it->rtype = sl_strdup(sum->modality ? sum->modality : "DICOM");
    } else {
        st = study_of(s, NULL, t);
        it->rtype = sl_strdup("DICOM");
    }
    sl_dicom_summary_free(sum);
    it->rank = (long)st->number;
    it->pos = sl_asprintf("study %zu instance %zu", st->number, st->count);
    it->origin = sl_strdup(dst);
    it->path = dst; /* stays until a committed checkpoint covers it */
    it->checkpoint = sl_asprintf("%llu", n);
    s->given++;
    s->last_activity = t;
    *out = it;
    return SL_OK;
}

static int
src_next(void *vctx, struct sl_item **out, struct sl_err *err)
{
    struct listener_src *s = vctx;

    *out = NULL;
    if (s->none)
        return SL_OK;
    if (!s->started) {
        /* listening starts here, not at open: a learning pass that
         * takes no DICOM opens the source too. The inbox is listed
         * first: once the SCP listens, new arrivals land in it (and half
         * received ones are being written), and those are handed on by
         * sl_dicom_listen_next, not by the listing. */
        int rc;

        sort_inbox(s);
        rc = sl_dicom_listen_start(&s->conf, &s->l, err);
        if (rc != SL_OK) {
            sl_err_prefix(err, "source '%s'", s->id);
            return rc;
        }
        sl_log(SL_LOG_INFO, "source '%s': listening as %s on %s port %d", s->id,
               s->conf.ae_title,
               s->conf.address ? s->conf.address : "127.0.0.1", s->conf.port);
        s->last_activity = now_s();
        s->started = 1;
    }
    if (s->pi < s->pending.n) {
        char *p = s->pending.v[s->pi];
        s->pending.v[s->pi++] = NULL;
        return give(s, p, out, err);
    }
    for (;;) {
        char *p = NULL;
        int busy = 0, rc;
        double t;

        if (s->stop != NULL && *s->stop)
            return SL_OK; /* the run reports the stop */
        rc = sl_dicom_listen_next(s->l, 200, &p, &busy);
        if (p != NULL)
            return give(s, p, out, err);
        if (rc != SL_OK)
            return SL_ERR(err, SL_ENET,
                          "source '%s': the DICOM listener stopped", s->id);
        t = now_s();
        if (busy > 0)
            s->last_activity = t;
        close_quiet(s, t);
        if (s->idle_exit > 0 && busy == 0 && s->nstudies == 0 &&
            t - s->last_activity >= (double)s->idle_exit) {
            unsigned long r = sl_dicom_listen_refused(s->l);
            sl_log(SL_LOG_INFO,
                   "source '%s': nothing received for %ld s: %zu "
                   "instances of %zu studies taken, %lu associations "
                   "refused",
                   s->id, s->idle_exit, s->given, s->nseen, r);
            return SL_OK;
        }
    }
}

static void
src_progress(void *vctx, uint64_t *done, uint64_t *total)
{
    struct listener_src *s = vctx;

    *done = s->nseen - s->nstudies;
    *total = s->nseen;
}

static void
src_want(void *vctx, unsigned kinds)
{
    struct listener_src *s = vctx;

    /* a pass that learns from FHIR only takes nothing from the inbox */
    s->none = !(kinds & SL_TAKES_DICOM);
}

const struct sl_source_ops sl_source_dicom_listener = {
    .type = "dicom-listener",
    .open = src_open,
    .next = src_next,
    .close = src_close,
    .progress = src_progress,
    .want = src_want,
    .since = src_since,
    .begin = src_begin,
};

/* fhir_bulk_fetch.c - downloads the files of a Bulk Data manifest into a
 * private spool folder, several at once, a bounded number ahead of the
 * file the source reads (fhir_bulk.h), so that memory stays flat whatever
 * the size of the export and the network and the pipeline overlap.
 *
 * A file is written to N.part and renamed to N when whole: the reader
 * never sees half a file. A retried request (a reset or a truncated body)
 * starts the part file again (sl_http_req.restart). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/http.h"
#include "sources/fhir_bulk.h"

enum fstate { F_PENDING, F_RUNNING, F_DONE, F_FAILED, F_READ };

struct slot {
    enum fstate st;
    char *path;
    struct sl_err err;
};

struct bulk_fetch {
    struct sl_http *http;
    const struct bulk_manifest *m;
    const char *source_id;
    const volatile sig_atomic_t *stop;
    char *dir;
    size_t first, reading; /* files before `reading` are read */
    size_t ahead;
    struct slot *slots;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int quit;
    pthread_t *threads;
    int nthreads;
};

struct part {
    struct bulk_fetch *f;
    int fd;
    int failed;
    size_t len; /* bytes written */
};

static int
stopping(struct bulk_fetch *f)
{
    int q;

    pthread_mutex_lock(&f->mu);
    q = f->quit;
    pthread_mutex_unlock(&f->mu);
    return q || (f->stop != NULL && *f->stop != 0);
}

static int
part_write(void *arg, const char *data, size_t n)
{
    struct part *p = arg;

    if (stopping(p->f))
        return 1;
    while (n > 0) {
        ssize_t w = write(p->fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            p->failed = errno ? errno : EIO;
            return 1;
        }
        data += w;
        n -= (size_t)w;
        p->len += (size_t)w;
    }
    return 0;
}

static void
part_restart(void *arg)
{
    struct part *p = arg;

    if (ftruncate(p->fd, 0) != 0 || lseek(p->fd, 0, SEEK_SET) != 0)
        p->failed = errno;
    p->len = 0;
}

/* Downloads file i (0-based in the manifest) into its slot's path. */
static int
download(struct bulk_fetch *f, size_t i, struct sl_err *err)
{
    const struct bulk_file *bf = &f->m->files[i];
    static const char *const hdrs[] = { "Accept: application/fhir+ndjson",
                                        NULL };
    struct sl_http_req rq = { 0 };
    struct sl_http_resp resp = { 0 };
    struct part p = { 0 };
    char *part = sl_asprintf("%s.part", f->slots[i].path), *shown = NULL;
    int rc;

    p.f = f;
    p.fd = sl_open_new(part, 0600);
    if (p.fd < 0) {
        rc = SL_ERR(err, SL_EIO,
                    "source %s: file %zu: cannot write its "
                    "spool copy: %s",
                    f->source_id, i + 1, strerror(errno));
        goto out;
    }
    rq.method = "GET";
    rq.path = bf->url;
    rq.headers = hdrs;
    rq.sink = part_write;
    rq.sink_arg = &p;
    rq.restart = part_restart;
    rc = sl_http_do(f->http, &rq, &resp, err);
    if (rc == SL_EIO && stopping(f)) {
        rc = SL_ERR(err, SL_EINTR, "source %s: download stopped", f->source_id);
        goto out;
    }
    if (p.failed) {
        rc = SL_ERR(err, SL_EIO,
                    "source %s: file %zu: cannot write its "
                    "spool copy: %s",
                    f->source_id, i + 1, strerror(p.failed));
        goto out;
    }
    if (rc != SL_OK) {
        sl_err_prefix(err, "source %s: file %zu (%s)", f->source_id, i + 1,
                      bf->type);
        goto out;
    }
    if (resp.status != 200) {
        char *body = NULL, *why = NULL;
        size_t blen = 0;
        struct sl_err e2 = { 0 };

        shown = sl_http_url_for_log(f->http, bf->url);
        if (p.len > 0 && p.len < (1u << 20) &&
            sl_file_read(part, &body, &blen, &e2) == SL_OK)
            why = bulk_outcome_text(body, blen);
        free(body);
        rc = SL_ERR(err, SL_ENET,
                    "source %s: file %zu (%s): GET %s: HTTP "
                    "%ld%s%s%s",
                    f->source_id, i + 1, bf->type, shown, resp.status,
                    why ? ": " : "", why ? why : "",
                    resp.status == 401 || resp.status == 403
                        ? " (does the file need the access token the "
                          "server did not ask for?)"
                        : "");
        free(why);
        goto out;
    }
    /* no fsync: a spool file does not outlive the run (a resume
     * downloads it again), so its durability would only cost time */
    if (close(p.fd) != 0) {
        p.fd = -1;
        rc = SL_ERR(err, SL_EIO, "source %s: file %zu: spool copy: %s",
                    f->source_id, i + 1, strerror(errno));
        goto out;
    }
    p.fd = -1;
    if (rename(part, f->slots[i].path) != 0)
        rc = SL_ERR(err, SL_EIO, "source %s: file %zu: spool copy: %s",
                    f->source_id, i + 1, strerror(errno));
out:
    if (p.fd >= 0)
        close(p.fd);
    if (rc != SL_OK)
        unlink(part);
    sl_http_resp_clear(&resp);
    free(shown);
    free(part);
    return rc;
}

static void *
fetch_main(void *arg)
{
    struct bulk_fetch *f = arg;

    for (;;) {
        size_t i, pick = SIZE_MAX;
        struct sl_err err = { 0 };
        int rc;

        pthread_mutex_lock(&f->mu);
        for (;;) {
            pick = SIZE_MAX;
            if (f->quit)
                break;
            for (i = f->reading; i < f->m->n && i < f->reading + f->ahead; i++)
                if (f->slots[i].st == F_PENDING) {
                    pick = i;
                    break;
                }
            if (pick != SIZE_MAX)
                break;
            for (i = f->reading; i < f->m->n; i++)
                if (f->slots[i].st == F_PENDING)
                    break;
            if (i == f->m->n)
                break; /* nothing left for anyone */
            pthread_cond_wait(&f->cv, &f->mu);
        }
        if (pick == SIZE_MAX) {
            pthread_mutex_unlock(&f->mu);
            return NULL;
        }
        f->slots[pick].st = F_RUNNING;
        pthread_mutex_unlock(&f->mu);

        rc = download(f, pick, &err);

        pthread_mutex_lock(&f->mu);
        f->slots[pick].st = rc == SL_OK ? F_DONE : F_FAILED;
        f->slots[pick].err = err;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
    }
}

int
bulk_fetch_start(struct sl_http *http, const struct bulk_manifest *m,
                 size_t first, int threads, const char *dir,
                 const char *source_id, const volatile sig_atomic_t *stop,
                 struct bulk_fetch **out, struct sl_err *err)
{
    struct bulk_fetch *f = sl_calloc(1, sizeof(*f));
    size_t i;
    int k;

    f->http = http;
    f->m = m;
    f->source_id = source_id;
    f->stop = stop;
    f->dir = sl_strdup(dir);
    f->first = f->reading = first;
    f->ahead = (size_t)(threads > 0 ? threads : 1) + 1;
    f->slots = sl_calloc(m->n ? m->n : 1, sizeof(*f->slots));
    for (i = 0; i < m->n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "%zu.ndjson", i + 1);
        f->slots[i].path = sl_path_join(dir, name);
        f->slots[i].st = i < first ? F_READ : F_PENDING;
    }
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->threads =
        sl_calloc((size_t)(threads > 0 ? threads : 1), sizeof(*f->threads));
    for (k = 0; k < (threads > 0 ? threads : 1); k++) {
        if (pthread_create(&f->threads[k], NULL, fetch_main, f) != 0)
            break;
        f->nthreads++;
    }
    if (f->nthreads == 0) {
        bulk_fetch_free(f);
        return SL_ERR(err, SL_EINTERNAL,
                      "source %s: cannot start download "
                      "threads",
                      source_id);
    }
    *out = f;
    return SL_OK;
}

int
bulk_fetch_wait(struct bulk_fetch *f, size_t i, const char **path,
                struct sl_err *err)
{
    int rc = SL_OK;

    pthread_mutex_lock(&f->mu);
    if (i > f->reading) {
        f->reading = i;
        pthread_cond_broadcast(&f->cv);
    }
    while (f->slots[i].st == F_PENDING || f->slots[i].st == F_RUNNING) {
        struct timespec ts;
        if (f->stop != NULL && *f->stop != 0)
            break;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&f->cv, &f->mu, &ts);
    }
    if (f->slots[i].st == F_DONE)
        *path = f->slots[i].path;
    else if (f->slots[i].st == F_FAILED) {
        *err = f->slots[i].err;
        rc = err->code ? err->code : SL_ENET;
    } else
        rc = SL_ERR(err, SL_EINTR, "source %s: stopped", f->source_id);
    pthread_mutex_unlock(&f->mu);
    return rc;
}

void
bulk_fetch_done(struct bulk_fetch *f, size_t i)
{
    pthread_mutex_lock(&f->mu);
    if (f->slots[i].st == F_DONE)
        unlink(f->slots[i].path);
    f->slots[i].st = F_READ;
    f->reading = i + 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

void
bulk_fetch_free(struct bulk_fetch *f)
{
    size_t i;
    int k;

    if (f == NULL)
        return;
    pthread_mutex_lock(&f->mu);
    f->quit = 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    for (k = 0; k < f->nthreads; k++)
        pthread_join(f->threads[k], NULL);
    for (i = 0; i < f->m->n; i++) {
        char *part = sl_asprintf("%s.part", f->slots[i].path);
        unlink(f->slots[i].path);
        unlink(part);
        free(part);
        free(f->slots[i].path);
    }
    rmdir(f->dir);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f->slots);
    free(f->threads);
    free(f->dir);
    free(f);
}

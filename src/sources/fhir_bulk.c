/* fhir_bulk.c - the fhir-bulk source: an HL7 FHIR Bulk Data Access client
 * (IG v2.0.0). A system, Patient or Group `$export` is kicked off with
 * `Prefer: respond-async`, its status URL polled (honouring Retry-After,
 * logging X-Progress), the manifest read (fhir_bulk_manifest.c), the
 * output files downloaded several at once into a private spool folder
 * (fhir_bulk_fetch.c) and read line by line as the fhir-files source
 * reads NDJSON: each line a raw unit parsed on a worker. The manifest's
 * error files (OperationOutcome NDJSON) are quarantined line by line with
 * their diagnostics.
 *
 * Checkpoint (fhir_bulk.h): the status URL, the export's _since and
 * transactionTime, and how far the files were read. A killed run resumes
 * by asking the same status URL for the manifest again (no new kick-off
 * while the server still has the export) and skipping what was taken; a
 * new run of the job starts a new export with _since = the last finished
 * run's transactionTime (the `begin` operation). A stopped run (Ctrl-C,
 * SIGTERM) cancels the export with DELETE on its status URL.
 *
 * A job with a <deid> stage reads its sources twice in one process (the
 * learning pass, then the run): the export the first pass read to its
 * end is handed to the second (a checkpoint of it, nothing taken), which
 * asks its status URL for the manifest and downloads the files again,
 * rather than kicking off a second export. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "sources/gz_lines.h"
#include "config/config.h"
#include "http/auth.h"
#include "http/http.h"
#include "sources/fhir_bulk.h"
#include "sources/fhir_rest_int.h" /* sl_rest_compact */
#include "sources/sources.h"

#define RAW_MAX (1024 * 1024)
/* the status reply: a manifest (a few URLs per type), or an outcome */
#define STATUS_MAX ((size_t)64 << 20)
#define POLL_MAX_MS     (3600L * 1000)
#define POLL_MIN_MS     500L

struct bulk {
    const char *id;
    const struct sl_config *cfg;
    const struct sl_conf_node *node;
    struct sl_http_auth *auth;
    struct sl_http *api;   /* kick-off, status, DELETE: with the auth */
    struct sl_http *plain; /* files when the manifest says no token */
    int downloads;
    long max_wait_s;
    const volatile sig_atomic_t *stop;
    char *last; /* the begin() argument: which run this pass belongs to */
    void (*report)(void *arg, const char *text); /* item.h: watch */
    void *report_arg;

    struct bulk_ck ck; /* where the export is; resumed from open */
    int started;       /* the export was found or kicked off */
    int finished;      /* every file read */
    struct bulk_manifest m;
    struct bulk_fetch *fetch;
    char *spool;

    /* the file being read */
    size_t fi;     /* 0-based */
    uint64_t skip; /* lines of file fi to skip (resume) */
    gzFile gz;
    uint64_t line_no;
    struct sl_buf line;
    struct sl_gz_lines rd;
};

/* ---- requests ------------------------------------------------------------ */
/* Percent-encodes a query value (RFC 3986 unreserved kept). */
static void
add_query(struct sl_buf *b, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p;

    sl_buf_addc(b, strchr(b->data ? b->data : "", '?') ? '&' : '?');
    sl_buf_adds(b, name);
    sl_buf_addc(b, '=');
    for (p = (const unsigned char *)value; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
            *p == '~' || *p == ',') {
            sl_buf_addc(b, (char)*p);
        } else {
            sl_buf_addc(b, '%');
            sl_buf_addc(b, hex[*p >> 4]);
            sl_buf_addc(b, hex[*p & 15]);
        }
    }
}

/* The kick-off request's path (below the base), with its parameters. */
static char *
kickoff_path(const struct bulk *s)
{
    const char *level = sl_conf_get(s->node, "level");
    const char *types = sl_conf_get(s->node, "types");
    const char *filters = sl_conf_get(s->node, "type-filter");
    const char *fmt = sl_conf_get(s->node, "output-format");
    struct sl_buf b;

    sl_buf_init(&b);
    if (level && strcmp(level, "patient") == 0)
        sl_buf_adds(&b, "Patient/$export");
    else if (level && strcmp(level, "group") == 0)
        sl_buf_addf(&b, "Group/%s/$export", sl_conf_get(s->node, "group"));
    else
        sl_buf_adds(&b, "$export");
    add_query(&b, "_outputFormat", fmt ? fmt : "application/fhir+ndjson");
    if (types && *types) {
        /* space separated in the config, comma separated on the wire */
        char *t = sl_strdup(types), *q;
        for (q = t; *q; q++)
            if (*q == ' ' || *q == '\t' || *q == '\n')
                *q = ',';
        add_query(&b, "_type", t);
        free(t);
    }
    if (s->ck.since)
        add_query(&b, "_since", s->ck.since);
    if (filters && *filters) {
        /* one _typeFilter per query, space separated in the config */
        char *f = sl_strdup(filters), *save = NULL, *tok;
        for (tok = strtok_r(f, " \t\n", &save); tok;
             tok = strtok_r(NULL, " \t\n", &save))
            add_query(&b, "_typeFilter", tok);
        free(f);
    }
    return sl_buf_steal(&b);
}

/* An error for a reply that is not what the IG says, with the server's
 * OperationOutcome text when it sent one. */
static int
reply_error(struct bulk *s, const char *what, const char *method,
            const char *path, long status, const struct sl_buf *body,
            struct sl_err *err)
{
    char *shown = sl_http_url_for_log(s->api, path);
    char *why =
        body && body->len ? bulk_outcome_text(body->data, body->len) : NULL;
    int rc =
        SL_ERR(err, SL_ENET, "source %s: %s: %s %s: HTTP %ld%s%s", s->id, what,
               method, shown, status, why ? ": " : "", why ? why : "");

    free(shown);
    free(why);
    return rc;
}

/* Sleeps ms in slices, returning 1 early when the run is asked to stop. */
static int
nap(const struct bulk *s, long ms)
{
    while (ms > 0) {
        struct timespec ts = { 0, 100 * 1000000L };
        if (s->stop != NULL && *s->stop != 0)
            return 1;
        if (ms < 100)
            ts.tv_nsec = ms * 1000000L;
        nanosleep(&ts, NULL);
        ms -= 100;
    }
    return s->stop != NULL && *s->stop != 0;
}

static int
kickoff(struct bulk *s, struct sl_err *err)
{
    static const char *const hdrs[] = { "Prefer: respond-async", NULL };
    static const char *const cap[] = { "Content-Location", NULL };
    struct sl_http_body body = { { 0 }, 1 << 20 };
    struct sl_http_req rq = { 0 };
    struct sl_http_resp resp = { 0 };
    char *path = kickoff_path(s);
    int rc;

    sl_buf_init(&body.buf);
    rq.method = "GET";
    rq.path = path;
    rq.headers = hdrs;
    rq.capture = cap;
    rq.sink = sl_http_collect;
    rq.sink_arg = &body;
    rq.restart = sl_http_collect_restart;
    if ((rc = sl_http_do(s->api, &rq, &resp, err)) != SL_OK) {
        sl_err_prefix(err, "source %s: export kick-off", s->id);
        goto out;
    }
    if (resp.status != 202) {
        rc = reply_error(s, "export kick-off refused", "GET", path, resp.status,
                         &body.buf, err);
        goto out;
    }
    if (resp.captured[0] == NULL ||
        (strncmp(resp.captured[0], "http://", 7) != 0 &&
         strncmp(resp.captured[0], "https://", 8) != 0)) {
        rc = SL_ERR(err, SL_ENET,
                    "source %s: export kick-off: the server's "
                    "202 has no absolute Content-Location (the status URL)",
                    s->id);
        goto out;
    }
    free(s->ck.status_url);
    s->ck.status_url = resp.captured[0];
    resp.captured[0] = NULL;
    free(s->ck.tt);
    s->ck.tt = NULL;
    s->ck.file = 1;
    s->ck.lines = 0;
    sl_log(SL_LOG_INFO, "source %s: export started%s%s", s->id,
           s->ck.since ? ", changes since " : "",
           s->ck.since ? s->ck.since : "");
out:
    sl_http_resp_clear(&resp);
    sl_buf_free(&body.buf);
    free(path);
    return rc;
}

/* Polls the status URL until the manifest comes. SL_ENOTFOUND when the
 * server no longer has the export (404, 410). */
static int
poll_status(struct bulk *s, struct sl_err *err)
{
    static const char *const cap[] = { "X-Progress", NULL };
    double t0 = sl_now();
    long backoff = 1000;
    int rc;

    for (;;) {
        struct sl_http_body body = { { 0 }, STATUS_MAX };
        struct sl_http_req rq = { 0 };
        struct sl_http_resp resp = { 0 };
        long wait;
        char prog[64];

        sl_buf_init(&body.buf);
        rq.method = "GET";
        rq.path = s->ck.status_url;
        rq.capture = cap;
        rq.sink = sl_http_collect;
        rq.sink_arg = &body;
        rq.restart = sl_http_collect_restart;
        rc = sl_http_do(s->api, &rq, &resp, err);
        if (rc == SL_OK && resp.status == 200) {
            rc = bulk_manifest_parse(body.buf.data, body.buf.len, &s->m, err);
            if (rc != SL_OK)
                sl_err_prefix(err, "source %s: export status", s->id);
        } else if (rc == SL_OK && resp.status == 202) {
            wait = resp.retry_after_ms >= 0 ? resp.retry_after_ms : backoff;
            if (resp.retry_after_ms < 0 && backoff < 60000)
                backoff *= 2;
            if (wait > POLL_MAX_MS)
                wait = POLL_MAX_MS;
            if (wait < POLL_MIN_MS)
                wait = POLL_MIN_MS; /* "Retry-After: 0" is no reason to
                                       hammer the server */
            bulk_progress_text(resp.captured[0], prog, sizeof(prog));
            if (s->report) /* on the progress bar */
                s->report(s->report_arg,
                          prog[0] ? prog : "export in progress");
            sl_log(SL_LOG_INFO,
                   "source %s: export in progress%s%s%s; "
                   "asking again in %ld s",
                   s->id, prog[0] ? " (" : "", prog, prog[0] ? ")" : "",
                   (wait + 999) / 1000);
            if (sl_now() - t0 + (double)wait / 1000 > (double)s->max_wait_s)
                rc = SL_ERR(err, SL_ENET,
                            "source %s: the export is not "
                            "ready after %ld s (max-wait)",
                            s->id, s->max_wait_s);
            else if (nap(s, wait))
                rc = SL_ERR(err, SL_EINTR,
                            "source %s: stopped while the "
                            "export was in progress",
                            s->id);
            else
                rc = -1; /* again */
        } else if (rc == SL_OK && (resp.status == 404 || resp.status == 410)) {
            rc = SL_ENOTFOUND;
        } else if (rc == SL_OK) {
            rc = reply_error(s, "export failed", "GET", s->ck.status_url,
                             resp.status, &body.buf, err);
        } else {
            sl_err_prefix(err, "source %s: export status", s->id);
        }
        sl_http_resp_clear(&resp);
        sl_buf_free(&body.buf);
        if (rc != -1) {
            if (s->report)
                s->report(s->report_arg, NULL); /* the wait is over */
            return rc;
        }
    }
}

/* The manifest of the export: the one of the checkpoint when the server
 * still has it, else a new one. */
static int
start_export(struct bulk *s, struct sl_err *err)
{
    int rc;

    if (s->ck.status_url != NULL) {
        rc = poll_status(s, err);
        if (rc == SL_OK && s->ck.tt &&
            strcmp(s->ck.tt, s->m.transaction_time) != 0) {
            /* the server reused the URL: not the export of the
             * checkpoint, whose positions would be wrong in it */
            bulk_manifest_clear(&s->m);
            rc = SL_ENOTFOUND;
        }
        if (rc != SL_ENOTFOUND)
            return rc;
        sl_log(SL_LOG_WARN,
               "source %s: the server no longer has the export "
               "of the last checkpoint (expired, deleted or replaced): "
               "starting it again; what the run delivered of it comes "
               "again",
               s->id);
    }
    if ((rc = kickoff(s, err)) != SL_OK)
        return rc;
    rc = poll_status(s, err);
    if (rc == SL_ENOTFOUND)
        rc = SL_ERR(err, SL_ENET,
                    "source %s: the export's status URL "
                    "answers 404/410 right after the kick-off",
                    s->id);
    return rc;
}

/* ---- one export for both passes of a run -----------------------------------
 * Which pass is which the source cannot tell; what it can tell is that a
 * pass of the same source (id and configuration file) began with the same
 * last-run checkpoint right after another read its export to the end.
 * The next run begins with another one (this run's), so it never takes
 * the export of this one. Guarded by reuse_mu; one entry. */
static pthread_mutex_t reuse_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char *key;  /* "ID\nCONFIG-PATH\nLAST" */
    char *ck;   /* the export as at its start: file 0, no line taken */
} reuse;

static char *
reuse_key(const struct bulk *s)
{
    return sl_asprintf("%s\n%s\n%s", s->id, s->cfg && s->cfg->path ?
                       s->cfg->path : "", s->last ? s->last : "");
}

static void
reuse_keep(struct bulk *s)
{
    struct bulk_ck c = s->ck;

    c.file = 0;
    c.lines = 0;
    c.tt = s->m.transaction_time;
    pthread_mutex_lock(&reuse_mu);
    free(reuse.key);
    free(reuse.ck);
    reuse.key = reuse_key(s);
    reuse.ck = bulk_ck_format(&c);
    pthread_mutex_unlock(&reuse_mu);
}

/* 1 when s now holds the export of the other pass of its run. */
static int
reuse_take(struct bulk *s)
{
    char *key = reuse_key(s);
    int took = 0;

    pthread_mutex_lock(&reuse_mu);
    if (reuse.key != NULL && strcmp(reuse.key, key) == 0 &&
        bulk_ck_parse(reuse.ck, &s->ck) == SL_OK)
        took = 1;
    /* taken once; any other is stale */
    free(reuse.key);
    free(reuse.ck);
    reuse.key = reuse.ck = NULL;
    pthread_mutex_unlock(&reuse_mu);
    free(key);
    return took;
}

/* ---- reading the files ----------------------------------------------------
 */
static char *
make_checkpoint(struct bulk *s)
{
    s->ck.file = s->fi + 1;
    s->ck.lines = s->line_no;
    return bulk_ck_format(&s->ck);
}

/* Reads one line into s->line: 1, 0 at the end, -1 on a read error. */
static int
read_line(struct bulk *s)
{
    return sl_gz_lines_next(s->gz, &s->rd, &s->line);
}

static struct sl_item *
bad_item(struct bulk *s, const char *pos, const char *rtype, const char *reason,
         const char *raw, size_t rawlen)
{
    struct sl_item *it = sl_item_new(SL_ITEM_BAD);

    it->source = s->id;
    it->rank = (long)s->fi;
    it->pos = sl_strdup(pos);
    it->origin =
        sl_asprintf("export %s file %zu", s->m.transaction_time, s->fi + 1);
    it->checkpoint = make_checkpoint(s);
    it->rtype = sl_strdup(rtype);
    sl_item_quarantine(it, "read", "%s: %s", pos, reason);
    if (raw && rawlen > 0) {
        if (rawlen > RAW_MAX)
            rawlen = RAW_MAX;
        it->raw = sl_strndup(raw, rawlen);
        it->raw_len = rawlen;
    }
    return it;
}

static void
close_file(struct bulk *s)
{
    if (s->gz)
        gzclose(s->gz);
    s->gz = NULL;
    sl_gz_lines_reset(&s->rd);
    s->line_no = 0;
}

static int next_item(struct bulk *s, struct sl_item **out, struct sl_err *err);

/* A stop asked while the source waits (for the export, for a download)
 * ends the source: the pipeline then ends the run as interrupted, and
 * close() cancels the export. */
static int
bulk_next(void *ctx, struct sl_item **out, struct sl_err *err)
{
    struct bulk *s = ctx;
    int rc = next_item(s, out, err);

    if (rc == SL_EINTR && s->stop != NULL && *s->stop != 0) {
        *out = NULL;
        return SL_OK;
    }
    return rc;
}

static int
next_item(struct bulk *s, struct sl_item **out, struct sl_err *err)
{
    char pos[96];
    int rc;

    *out = NULL;
    if (s->finished)
        return SL_OK;
    if (!s->started) {
        char *tmp = sl_path_join(
            getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
            "sluice-bulk-XXXXXX");
        if ((rc = start_export(s, err)) != SL_OK) {
            free(tmp);
            return rc;
        }
        free(s->ck.tt);
        s->ck.tt = sl_strdup(s->m.transaction_time);
        s->started = 1;
        sl_log(SL_LOG_INFO,
               "source %s: export ready: %zu file(s), %zu of "
               "them errors",
               s->id, s->m.n, s->m.n - s->m.noutputs);
        /* resume: files before ck.file are taken, ck.lines of it */
        s->fi = s->ck.file >= 1 ? s->ck.file - 1 : 0;
        s->skip = s->ck.lines;
        if (mkdtemp(tmp) == NULL) {
            rc = SL_ERR(err, SL_EIO,
                        "source %s: cannot make a spool folder "
                        "in TMPDIR: %s",
                        s->id, strerror(errno));
            free(tmp);
            return rc;
        }
        s->spool = tmp;
        rc = bulk_fetch_start(s->m.requires_token ? s->api : s->plain, &s->m,
                              s->fi, s->downloads, s->spool, s->id, s->stop,
                              &s->fetch, err);
        if (rc != SL_OK)
            return rc;
    }
    while (s->fi < s->m.n) {
        const struct bulk_file *f = &s->m.files[s->fi];

        if (s->gz == NULL) {
            const char *path = NULL;
            if ((rc = bulk_fetch_wait(s->fetch, s->fi, &path, err)) != SL_OK)
                return rc;
            s->gz = gzopen(path, "rb");
            if (s->gz == NULL)
                return SL_ERR(err, SL_EIO,
                              "source %s: file %zu: cannot open "
                              "its spool copy: %s",
                              s->id, s->fi + 1, strerror(errno));
            gzbuffer(s->gz, 128 * 1024);
            s->line_no = 0;
        }
        rc = read_line(s);
        if (rc < 0) {
            snprintf(pos, sizeof(pos), "file %zu line %llu", s->fi + 1,
                     (unsigned long long)s->line_no + 1);
            s->line_no = UINT64_MAX - 1; /* the rest of the file */
            *out = bad_item(s, pos, f->type,
                            "read error (corrupt gzip "
                            "stream?)",
                            NULL, 0);
            close_file(s);
            bulk_fetch_done(s->fetch, s->fi);
            s->fi++;
            s->skip = 0;
            return SL_OK;
        }
        if (rc == 0) {
            close_file(s);
            bulk_fetch_done(s->fetch, s->fi);
            s->fi++;
            s->skip = 0;
            continue;
        }
        s->line_no++;
        if (s->line_no <= s->skip)
            continue;
        {
            const char *p = s->line.data;
            size_t n = s->line.len;
            struct sl_item *it;

            while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
                n--;
            if (strspn(p, " \t\r\n") >= n)
                continue; /* blank line */
            snprintf(pos, sizeof(pos), "%sfile %zu line %llu",
                     f->error ? "error " : "", s->fi + 1,
                     (unsigned long long)s->line_no);
            if (f->error) {
                /* the server could not export something: its words */
                char *why = bulk_outcome_text(p, n), reason[400];
                snprintf(reason, sizeof(reason),
                         "the server reported an "
                         "export error: %s",
                         why ? why
                             : "an OperationOutcome without "
                               "diagnostics");
                free(why);
                *out = bad_item(s, pos, "OperationOutcome", reason, p, n);
                return SL_OK;
            }
            it = sl_item_new(SL_ITEM_FHIR);
            it->source = s->id;
            it->rank = (long)s->fi;
            it->pos = sl_strdup(pos);
            it->origin = sl_asprintf("export %s file %zu",
                                     s->m.transaction_time, s->fi + 1);
            it->checkpoint = make_checkpoint(s);
            it->text = sl_strndup(p, n);
            it->text_len = n;
            /* what targets write unless a stage changes the resource:
             * the line as it came (a line that is not a resource is
             * quarantined by the worker's parse, and this goes with it) */
            it->out_json = sl_rest_compact(p, n, &it->out_json_len);
            *out = it;
            return SL_OK;
        }
    }
    s->finished = 1;
    sl_log(SL_LOG_INFO,
           "source %s: export read; the next run asks for "
           "changes since %s",
           s->id, s->m.transaction_time);
    return SL_OK;
}

/* ---- open, begin, close -----------------------------------------------------
 */
static void
cancel_export(struct bulk *s)
{
    struct sl_http_req rq = { 0 };
    struct sl_http_resp resp = { 0 };
    struct sl_err e = { 0 };

    rq.method = "DELETE";
    rq.path = s->ck.status_url;
    if (sl_http_do(s->api, &rq, &resp, &e) != SL_OK)
        sl_log(SL_LOG_WARN, "source %s: cancelling the export: %s", s->id,
               e.msg);
    else
        sl_log(SL_LOG_INFO,
               "source %s: export cancelled (DELETE on its "
               "status URL: HTTP %ld)",
               s->id, resp.status);
    sl_http_resp_clear(&resp);
}

static void
bulk_close(void *ctx)
{
    struct bulk *s = ctx;

    if (s == NULL)
        return;
    /* a run stopped by a signal cancels the export; a failed or killed
     * one keeps it, for the resume */
    if (!s->finished && s->ck.status_url && s->stop && *s->stop && s->api)
        cancel_export(s);
    if (s->finished && s->ck.status_url && s->m.transaction_time)
        reuse_keep(s); /* for the other pass of the run, if it comes */
    free(s->last);
    close_file(s);
    bulk_fetch_free(s->fetch);
    if (s->spool)
        rmdir(s->spool);
    free(s->spool);
    bulk_manifest_clear(&s->m);
    bulk_ck_clear(&s->ck);
    sl_buf_free(&s->line);
    sl_http_free(s->api);
    sl_http_free(s->plain);
    sl_http_auth_free(s->auth);
    free(s);
}

static int
bulk_open(const struct sl_config *cfg, const struct sl_conf_node *node,
          const char *checkpoint, void **ctx, struct sl_err *err)
{
    struct bulk *s = sl_calloc(1, sizeof(*s));
    struct sl_http_opts o = { 0 };
    const char *since = sl_conf_get(node, "since");
    const char *level = sl_conf_get(node, "level");
    char *ca = sl_conf_get_path(cfg, node, "ca-file");
    int rc;

    s->id = node->id;
    s->cfg = cfg;
    s->node = node;
    sl_buf_init(&s->line);
    s->downloads = (int)sl_conf_get_long(node, "downloads", 2);
    s->max_wait_s = sl_conf_get_long(node, "max-wait", 86400);
    if (level && strcmp(level, "group") == 0 &&
        (sl_conf_get(node, "group") == NULL ||
         strspn(sl_conf_get(node, "group"),
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                "0123456789-.") != strlen(sl_conf_get(node, "group")))) {
        rc = SL_ERR(err, SL_ECONFIG,
                    "source %s: level=\"group\" needs "
                    "group=\"ID\" (a FHIR id)",
                    node->id);
        goto out;
    }
    if (since && !bulk_instant_ok(since)) {
        rc = SL_ERR(err, SL_ECONFIG,
                    "source %s: since: not a FHIR instant "
                    "(2024-01-31T00:00:00Z)",
                    node->id);
        goto out;
    }
    if (checkpoint && *checkpoint) {
        if (bulk_ck_parse(checkpoint, &s->ck) != SL_OK) {
            rc = SL_ERR(err, SL_ESTATE, "source %s: unreadable checkpoint",
                        node->id);
            goto out;
        }
    } else if (since) {
        s->ck.since = sl_strdup(since);
    }
    o.base = sl_conf_get(node, "base");
    o.ca_file = ca;
    o.timeout_ms = sl_conf_get_long(node, "timeout", 300) * 1000;
    o.max_attempts = (int)sl_conf_get_long(node, "max-attempts", 5);
    o.concurrency = s->downloads + 1;
    if ((rc = sl_http_auth_new(cfg, node, &s->auth, err)) != SL_OK) {
        sl_err_prefix(err, "source %s", node->id);
        goto out;
    }
    if ((rc = sl_http_new(&o, &s->plain, err)) != SL_OK) {
        sl_err_prefix(err, "source %s", node->id);
        goto out;
    }
    o.auth = s->auth;
    if ((rc = sl_http_new(&o, &s->api, err)) != SL_OK) {
        sl_err_prefix(err, "source %s", node->id);
        goto out;
    }
    *ctx = s;
    s = NULL;
out:
    free(ca);
    bulk_close(s);
    return rc;
}

static void
bulk_begin(void *ctx, const volatile sig_atomic_t *stop, const char *last)
{
    struct bulk *s = ctx;
    struct bulk_ck prev;

    s->stop = stop;
    sl_http_set_stop(s->api, stop);
    sl_http_set_stop(s->plain, stop);
    s->last = last ? sl_strdup(last) : NULL;
    if (s->ck.status_url == NULL) {
        struct bulk_ck mine = s->ck; /* since from the configuration */
        memset(&s->ck, 0, sizeof(s->ck));
        if (reuse_take(s)) {
            bulk_ck_clear(&mine);
            sl_log(SL_LOG_INFO,
                   "source %s: reading the export the run's learning "
                   "pass read (no new kick-off)",
                   s->id);
            return;
        }
        s->ck = mine;
    }
    if (s->ck.status_url != NULL || last == NULL)
        return; /* a resume, or no earlier run */
    if (bulk_ck_parse(last, &prev) != SL_OK) {
        sl_log(SL_LOG_WARN,
               "source %s: the last run's checkpoint is "
               "unreadable: exporting everything",
               s->id);
        return;
    }
    if (prev.tt) {
        free(s->ck.since);
        s->ck.since = prev.tt;
        prev.tt = NULL;
    }
    bulk_ck_clear(&prev);
}

static void
bulk_watch(void *ctx, void (*report)(void *arg, const char *text), void *arg)
{
    struct bulk *s = ctx;

    s->report = report;
    s->report_arg = arg;
}

static void
bulk_progress(void *ctx, uint64_t *done, uint64_t *total)
{
    struct bulk *s = ctx;

    *done = s->fi;
    *total = s->m.n;
}

/* Requests tried again so far (item.h: retries). */
static uint64_t
bulk_retries(void *ctx)
{
    struct bulk *s = ctx;

    return sl_http_retries(s->api) + sl_http_retries(s->plain);
}

const struct sl_source_ops sl_source_fhir_bulk = {
    .type = "fhir-bulk",
    .open = bulk_open,
    .next = bulk_next,
    .close = bulk_close,
    .progress = bulk_progress,
    .begin = bulk_begin,
    .watch = bulk_watch,
    .retries = bulk_retries,
};

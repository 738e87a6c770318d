/* dicomweb.c - the dicomweb source: studies found on a DICOMweb server by
 * QIDO-RS and retrieved by WADO-RS (PS3.18), over src/http (its auth,
 * TLS, retries), each instance streamed to its own file as the
 * multipart/related answer arrives (src/http/multipart.h), then given to
 * the pipeline as DICOM items, as the dimse source does.
 *
 * Query: GET {base}/studies with StudyDate (a DICOM date range),
 * ModalitiesInStudy, and one search per line of the patient-ids or
 * accession-numbers file, page by page (limit, offset); or, with
 * studies="source:ID" or patient-ids="source:ID", one search per
 * ImagingStudy (StudyInstanceUID, else AccessionNumber) or Patient
 * (PatientID) that FHIR source ID of the job yields, fed by the run before
 * the first next() (dimse_cohort.c), the searches made then. The studies found
 * are taken in order of StudyDate, StudyTime, Study Instance UID; a study
 * found twice is taken once.
 *
 * A study is taken when every instance GET {base}/studies/{uid}/instances
 * listed has arrived by GET {base}/studies/{uid} (Accept multipart/related;
 * type="application/dicom"; transfer-syntax=*: the instances as stored).
 * While some are missing, the study is fetched again, up to max-attempts;
 * then the ones that arrived go on and one quarantined item names the
 * study by its position, the counts and the last HTTP status. A server
 * that cannot be reached (src/http's own retries used up) stops the run: a
 * resume starts again from the study it was in. A study the server
 * answers with a 4xx is quarantined the same way.
 *
 * Nothing of the data is printed: studies are named by position, and the
 * messages of src/http, which name the request's path, have the study's
 * UID replaced by "{study}".
 *
 * Files and checkpoint: as the dimse source (dimse.c): a folder per run
 * under the state store's work folder, each instance the item's tmp_path;
 * the checkpoint is "HASH:J", the FNV-1a of the Study Instance UID and the
 * number of its instances given out. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hash.h"
#include "config/config.h"
#include "dicom/dicom.h"
#include "http/auth.h"
#include "http/dicom_json.h"
#include "http/http.h"
#include "http/multipart.h"
#include "sources/dimse_cohort.h"
#include "sources/pacs_work.h"
#include "sources/sources.h"

#define QIDO_MAX (64u * 1024 * 1024) /* one page of a QIDO-RS answer */

struct dweb_src {
    const char *id;
    struct sl_http_auth *auth;
    struct sl_http *http;
    long attempts;
    long page;
    struct sl_dicom_study *studies;
    size_t nstudies;
    size_t next;
    size_t resume_skip;
    char *workdir;
    int none;
    size_t cur;
    uint64_t cur_hash;
    struct sl_strv files;
    size_t fi;
    char *missing;
    /* a cohort from a FHIR source of the job: searched at the first next()
     * (found), resuming then from the checkpoint open() was given; what of
     * it names no study is given out first, quarantined ("problems:N") */
    struct pacs_cohort pc;
    const struct sl_conf_node *node;
    char *resume;
    int found;
    struct sl_strv problems;
    size_t pi;
};

/* Percent-encodes a query value. */
static void
add_enc(struct sl_buf *b, const char *v)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
            (c >= 'a' && c <= 'z') || strchr("-._~", c) != NULL) {
            sl_buf_addc(b, (char)c);
        } else {
            sl_buf_addc(b, '%');
            sl_buf_addc(b, hex[c >> 4]);
            sl_buf_addc(b, hex[c & 15]);
        }
    }
}

/* GET path (a QIDO-RS search) into rows. Status 204: none. */
static int
qido(struct dweb_src *s, const char *path, const char *const *tags,
     size_t ntags, struct sl_qido_rows *rows, long *status, struct sl_err *err)
{
    static const char *const hdrs[] = { "Accept: application/dicom+json",
                                        NULL };
    struct sl_http_body b = { { 0 }, QIDO_MAX };
    struct sl_http_req rq = { 0 };
    struct sl_http_resp rs;
    int rc;

    rq.method = "GET";
    rq.path = path;
    rq.headers = hdrs;
    rq.sink = sl_http_collect;
    rq.sink_arg = &b;
    rq.restart = sl_http_collect_restart;
    rc = sl_http_do(s->http, &rq, &rs, err);
    sl_http_resp_clear(&rs);
    *status = rs.status;
    if (rc == SL_OK && rs.status == 204)
        rc = sl_qido_parse("", 0, tags, ntags, rows, err);
    else if (rc == SL_OK && rs.status == 200)
        rc = sl_qido_parse(b.buf.data ? b.buf.data : "", b.buf.len, tags, ntags,
                           rows, err);
    sl_buf_free(&b.buf);
    return rc;
}

/* One search (and its pages) for the studies matching the source's
 * filters and, when given, one patient id or accession number. */
static int
find_studies(struct dweb_src *s, const struct sl_conf_node *node,
             const char *key, const char *value, struct sl_err *err)
{
    static const char *const tags[] = { "0020000D", "00080020", "00080030" };
    const char *date = sl_conf_get(node, "study-date");
    const char *mod = sl_conf_get(node, "modality");
    long offset = 0, status = 0;
    int rc = SL_OK;

    for (;;) {
        struct sl_qido_rows rows = { 0 };
        struct sl_buf q = { 0 };
        size_t i;
        sl_buf_addf(&q, "studies?limit=%ld&offset=%ld", s->page, offset);
        sl_buf_adds(&q, "&includefield=00080020&includefield=00080030");
        if (date) {
            sl_buf_adds(&q, "&StudyDate=");
            add_enc(&q, date);
        }
        if (mod) {
            sl_buf_adds(&q, "&ModalitiesInStudy=");
            add_enc(&q, mod);
        }
        if (key) {
            sl_buf_addf(&q, "&%s=", key);
            add_enc(&q, value);
        }
        rc = qido(s, q.data, tags, 3, &rows, &status, err);
        sl_freezero(q.data, q.cap); /* it held a patient id */
        if (rc == SL_OK && status != 200 && status != 204)
            rc = SL_ERR(err, SL_ENET,
                        "QIDO-RS search for studies: HTTP "
                        "%ld%s",
                        status,
                        status == 401 || status == 403
                            ? " (does <auth> give access?)"
                            : "");
        if (rc != SL_OK) {
            sl_qido_rows_free(&rows);
            return rc;
        }
        for (i = 0; i < rows.n; i++) {
            struct sl_dicom_study *st;
            if (rows.v[i * 3] == NULL) {
                sl_qido_rows_free(&rows);
                return SL_ERR(err, SL_EPARSE,
                              "QIDO-RS answer: result %zu has no Study "
                              "Instance UID (0020,000D)",
                              (size_t)offset + i + 1);
            }
            s->studies =
                sl_realloc(s->studies, (s->nstudies + 1) * sizeof(*s->studies));
            st = &s->studies[s->nstudies++];
            st->uid = rows.v[i * 3];
            st->date = rows.v[i * 3 + 1];
            st->time = rows.v[i * 3 + 2];
            rows.v[i * 3] = rows.v[i * 3 + 1] = rows.v[i * 3 + 2] = NULL;
        }
        /* a server may cap a page below limit: ask until one is empty */
        offset += (long)rows.n;
        i = rows.n;
        sl_qido_rows_free(&rows);
        if (i == 0)
            return SL_OK;
    }
}

static void
src_close(void *vctx)
{
    struct dweb_src *s = vctx;

    if (s == NULL)
        return;
    sl_dicom_studies_free(s->studies, s->nstudies);
    sl_strv_free(&s->files);
    free(s->missing);
    pacs_cohort_free(&s->pc);
    sl_strv_free(&s->problems);
    free(s->resume);
    if (s->workdir) {
        sl_pacs_work_rm(s->workdir, 0);
        free(s->workdir);
    }
    sl_http_free(s->http);
    sl_http_auth_free(s->auth); /* after the client that borrows it */
    free(s);
}

static int
find_all(struct dweb_src *s, const struct sl_config *cfg,
         const struct sl_conf_node *node, struct sl_err *err)
{
    static const char *const lists[][2] = {
        { "patient-ids", "PatientID" },
        { "accession-numbers", "AccessionNumber" },
    };
    struct sl_strv ids = { 0 };
    const char *key = NULL;
    size_t i, k;
    int rc = SL_OK;

    for (k = 0; k < 2; k++) {
        char *file = sl_conf_get_path(cfg, node, lists[k][0]);
        if (file == NULL)
            continue;
        if (key != NULL) {
            free(file);
            sl_strv_free(&ids);
            return SL_ERR(err, SL_ECONFIG,
                          "give patient-ids or accession-numbers, not "
                          "both");
        }
        key = lists[k][1];
        rc = sl_pacs_read_list(file, lists[k][0], &ids, err);
        free(file);
        if (rc != SL_OK)
            return rc;
    }
    for (i = 0; i < (key ? ids.n : 1) && rc == SL_OK; i++)
        rc = find_studies(s, node, key, key ? ids.v[i] : NULL, err);
    for (i = 0; i < ids.n; i++)
        explicit_bzero(ids.v[i], strlen(ids.v[i]));
    sl_strv_free(&ids);
    if (rc != SL_OK)
        return rc;
    sl_pacs_studies_sort(s->studies, &s->nstudies);
    return SL_OK;
}

/* The searches of a cohort from a FHIR source, at the first next(); then
 * where to resume. */
static int
find_cohort(struct dweb_src *s, struct sl_err *err)
{
    struct sl_strv keys = { 0 };
    size_t i, j = 0;
    int rc;

    s->found = 1;
    if ((rc = pacs_cohort_take(&s->pc, s->id, &keys, &s->problems, err)) !=
        SL_OK)
        return rc;
    for (i = 0; i < keys.n && rc == SL_OK; i++) {
        const char *k = keys.v[i];
        if (s->pc.co.patients)
            rc = find_studies(s, s->node, "PatientID", k, err);
        else
            rc = find_studies(s, s->node,
                              k[0] == 'U' ? "StudyInstanceUID"
                                          : "AccessionNumber",
                              k + 1, err);
    }
    for (i = 0; i < keys.n; i++)
        explicit_bzero(keys.v[i], strlen(keys.v[i]));
    sl_strv_free(&keys);
    if (rc != SL_OK) {
        sl_err_prefix(err, "source '%s'", s->id);
        return rc;
    }
    sl_pacs_studies_sort(s->studies, &s->nstudies);
    if (s->resume != NULL && *s->resume != '\0') {
        if (sscanf(s->resume, "problems:%zu", &j) == 1) {
            s->pi = j < s->problems.n ? j : s->problems.n;
        } else {
            s->pi = s->problems.n; /* given before the studies */
            sl_pacs_resume_at(s->id, s->studies, s->nstudies, s->resume,
                              &s->next, &s->resume_skip);
        }
    }
    return SL_OK;
}

static int
src_open(const struct sl_config *cfg, const struct sl_conf_node *node,
         const char *checkpoint, void **ctx, struct sl_err *err)
{
    struct dweb_src *s = sl_calloc(1, sizeof(*s));
    struct sl_http_opts o = { 0 };
    char *ca = sl_conf_get_path(cfg, node, "ca-file"), *base = NULL;
    char msg[256];
    int rc;

    s->id = node->id;
    s->attempts = sl_conf_get_long(node, "max-attempts", 5);
    s->page = sl_conf_get_long(node, "page-size", 100);
    if (sl_dicom_init(msg, sizeof(msg)) != 0) {
        rc = SL_ERR(err, SL_EDICOM, "%s", msg);
        goto prefix;
    }
    /* the base without a '/' at its end: src/http joins it to a path */
    if (sl_conf_get(node, "base") == NULL) {
        rc = SL_ERR(err, SL_ECONFIG, "base is needed");
        goto prefix;
    }
    base = sl_strdup(sl_conf_get(node, "base"));
    while (*base && base[strlen(base) - 1] == '/')
        base[strlen(base) - 1] = '\0';
    o.base = base;
    o.ca_file = ca;
    o.timeout_ms = sl_conf_get_long(node, "timeout", 300) * 1000;
    o.max_attempts = (int)s->attempts;
    if ((rc = sl_http_auth_new(cfg, node, &s->auth, err)) != SL_OK)
        goto prefix;
    o.auth = s->auth;
    if ((rc = sl_http_new(&o, &s->http, err)) != SL_OK)
        goto prefix;
    if ((rc = sl_pacs_work_new(cfg, "dicomweb", &s->workdir, err)) != SL_OK)
        goto prefix;
    pacs_cohort_init(&s->pc, node);
    if (s->pc.from != NULL) {
        /* the cohort comes before the first next() */
        s->node = node;
        s->resume = checkpoint ? sl_strdup(checkpoint) : NULL;
        *ctx = s;
        s = NULL;
        goto out;
    }
    s->found = 1;
    if ((rc = find_all(s, cfg, node, err)) != SL_OK)
        goto prefix;
    if (checkpoint != NULL && *checkpoint != '\0')
        sl_pacs_resume_at(s->id, s->studies, s->nstudies, checkpoint, &s->next,
                          &s->resume_skip);
    sl_log(SL_LOG_DEBUG, "source %s: %zu studies, starting at study %zu", s->id,
           s->nstudies, s->next + 1);
    *ctx = s;
    s = NULL;
    goto out;
prefix:
    sl_err_prefix(err, "source '%s'", node->id ? node->id : "?");
out:
    free(ca);
    free(base);
    src_close(s);
    return rc;
}

/* ---- WADO-RS: the study's multipart answer, part by part to files ---- */
struct wado {
    const char *dir;
    struct sl_multipart *mp;
    FILE *f;
    struct sl_strv written; /* this attempt's files */
    size_t notdicom;        /* parts of another type, skipped */
    int failed;             /* the reader refused the body: err says why */
    int local;              /* writing a part failed: err says why */
    struct sl_err err;
};

static int
part_begin(void *arg, const char *ct, struct sl_err *err)
{
    struct wado *w = arg;
    char *p;

    if (ct == NULL || strncasecmp(ct, "application/dicom", 17) != 0 ||
        (ct[17] != '\0' && ct[17] != ';' && ct[17] != ' ')) {
        w->notdicom++;
        return SL_OK;
    }
    p = sl_asprintf("%s/%zu.dcm", w->dir, w->written.n + 1);
    w->f = fopen(p, "wbx");
    if (w->f == NULL) {
        free(p);
        return SL_ERR(err, SL_EIO, "cannot write in the work folder: %s",
                      strerror(errno));
    }
    sl_strv_push_owned(&w->written, p);
    return SL_OK;
}

static int
part_data(void *arg, const char *data, size_t n, struct sl_err *err)
{
    struct wado *w = arg;

    if (w->f != NULL && fwrite(data, 1, n, w->f) != n)
        return SL_ERR(err, SL_EIO, "cannot write in the work folder: %s",
                      strerror(errno));
    return SL_OK;
}

static int
part_end(void *arg, struct sl_err *err)
{
    struct wado *w = arg;
    int bad;

    if (w->f == NULL)
        return SL_OK;
    bad = fclose(w->f) != 0;
    w->f = NULL;
    if (bad)
        return SL_ERR(err, SL_EIO, "cannot write in the work folder: %s",
                      strerror(errno));
    return SL_OK;
}

static const struct sl_multipart_cb wado_cb = { part_begin, part_data,
                                                part_end };

static int
wado_sink(void *arg, const char *data, size_t n)
{
    struct wado *w = arg;
    int rc;

    if (w->failed)
        return 0; /* the rest of a body that is not multipart */
    if ((rc = sl_multipart_feed(w->mp, data, n, &w->err)) == SL_OK)
        return 0;
    if (rc != SL_EPARSE) {
        w->local = 1; /* the work folder: the run cannot go on */
        return 1;
    }
    /* read to its end all the same, so that its HTTP status is known (an
     * error page is no multipart body) */
    w->failed = 1;
    return 0;
}

/* Forgets what a try gave (src/http calls it before the next try). */
static void
wado_restart(void *arg)
{
    struct wado *w = arg;
    size_t i;

    if (w->f != NULL)
        fclose(w->f);
    w->f = NULL;
    for (i = 0; i < w->written.n; i++)
        unlink(w->written.v[i]);
    sl_strv_free(&w->written);
    sl_multipart_free(w->mp);
    w->mp = sl_multipart_new(NULL, &wado_cb, w);
    w->notdicom = 0;
    w->failed = 0;
    w->local = 0;
    memset(&w->err, 0, sizeof(w->err));
}

/* GET studies/{uid} into dir. SL_OK with *status the HTTP status (the
 * files in dir when 200); *why says what was wrong with a 200 answer
 * (caller frees), or stays NULL. */
static int
wado_study(struct dweb_src *s, const char *uid, const char *dir, long *status,
           char **why, struct sl_err *err)
{
    static const char *const hdrs[] = {
        "Accept: multipart/related; type=\"application/dicom\"; "
        "transfer-syntax=*",
        /* src/http offers gzip; pixel data hardly shrinks, and a server
         * that compresses a whole study (Orthanc) spends more than the
         * transfer saves on loopback or a LAN */
        "Accept-Encoding: identity", NULL
    };
    static const char *const cap[] = { "Content-Type", NULL };
    struct wado w = { 0 };
    struct sl_http_req rq = { 0 };
    struct sl_http_resp rs = { 0 };
    char *path = sl_asprintf("studies/%s", uid), *b = NULL;
    int rc;

    w.dir = dir;
    w.mp = sl_multipart_new(NULL, &wado_cb, &w);
    rq.method = "GET";
    rq.path = path;
    rq.headers = hdrs;
    rq.capture = cap;
    rq.sink = wado_sink;
    rq.sink_arg = &w;
    rq.restart = wado_restart;
    rc = sl_http_do(s->http, &rq, &rs, err);
    *status = rs.status;
    if (w.f != NULL)
        fclose(w.f);
    w.f = NULL;
    if (rc == SL_EIO && w.local) {
        *err = w.err;
    } else if (rc == SL_OK && rs.status == 200 && w.failed) {
        /* the body was not what it should be: a try of the study fails */
        *why = sl_strdup(w.err.msg);
    } else if (rc == SL_OK && rs.status == 200) {
        struct sl_err e = { 0 };
        b = sl_multipart_boundary_of(rs.captured[0]);
        if (b == NULL)
            *why = sl_strdup("the answer is not multipart/related with a "
                             "boundary");
        else if (sl_multipart_finish(w.mp, &e) != SL_OK)
            *why = sl_strdup(e.msg);
        else if (sl_multipart_boundary(w.mp) == NULL ||
                 strcmp(b, sl_multipart_boundary(w.mp)) != 0)
            *why = sl_strdup("the body's boundary is not the one of its "
                             "Content-Type");
        else if (w.notdicom > 0)
            *why =
                sl_asprintf("%zu parts were not application/dicom", w.notdicom);
    }
    if (rc != SL_OK)
        sl_dicomweb_scrub(err, uid);
    sl_strv_free(&w.written); /* the files stay: listed from the folder */
    sl_multipart_free(w.mp);
    sl_http_resp_clear(&rs);
    free(path);
    free(b);
    return rc;
}

/* Retrieves study s->next into its folder and lines its instances up in
 * s->files (SOP Instance UID order); s->missing says what did not
 * arrive. */
static int
fetch(struct dweb_src *s, struct sl_err *err)
{
    static const char *const tags[] = { "00080018" };
    const struct sl_dicom_study *st = &s->studies[s->next];
    struct sl_strv want = { 0 }, files = { 0 }, uids = { 0 }, bad = { 0 };
    char *dir = sl_asprintf("%s/%zu", s->workdir, s->next + 1);
    char *why = NULL, *ipath = NULL;
    size_t i, nmissing = 0;
    long a, status = 0;
    int rc = SL_OK;

    sl_strv_free(&s->files);
    free(s->missing);
    s->missing = NULL;
    s->fi = 0;
    s->cur = s->next;
    s->cur_hash = sl_fnv1a64(st->uid);
    if (mkdir(dir, 0700) != 0 && !sl_path_is_dir(dir)) {
        rc = SL_ERR(err, SL_EIO, "cannot make a folder in the work folder");
        goto out;
    }
    for (a = 1; a <= s->attempts; a++) {
        struct sl_qido_rows rows = { 0 };
        sl_strv_free(&want);
        sl_strv_free(&files);
        sl_strv_free(&uids);
        sl_strv_free(&bad);
        free(why);
        why = NULL;
        sl_pacs_work_rm(dir, 1);
        if (mkdir(dir, 0700) != 0) {
            rc = SL_ERR(err, SL_EIO,
                        "cannot make a folder in the work "
                        "folder");
            goto out;
        }
        /* the instances the server lists, page by page */
        for (;;) {
            size_t got;
            free(ipath);
            ipath = sl_asprintf("studies/%s/instances?limit=%ld&offset=%zu",
                                st->uid, s->page, want.n);
            rc = qido(s, ipath, tags, 1, &rows, &status, err);
            if (rc != SL_OK || status != 200) {
                sl_qido_rows_free(&rows);
                break;
            }
            got = rows.n;
            for (i = 0; i < rows.n; i++)
                if (rows.v[i] != NULL)
                    sl_strv_push(&want, rows.v[i]);
            sl_qido_rows_free(&rows);
            if (got == 0)
                break;
        }
        if (rc == SL_OK && status != 200 && status != 204)
            why = sl_asprintf("QIDO-RS listing of its instances: HTTP %ld",
                              status);
        if (rc == SL_OK && why == NULL)
            rc = wado_study(s, st->uid, dir, &status, &why, err);
        if (rc == SL_OK && why == NULL && status != 200)
            why = sl_asprintf("WADO-RS retrieve: HTTP %ld", status);
        if (rc == SL_OK)
            rc = sl_pacs_list_study(dir, &files, &uids, &bad, err);
        if (rc != SL_OK) {
            sl_dicomweb_scrub(err, st->uid);
            goto out; /* the server is out of reach: the run stops */
        }
        sl_strv_sort(&want);
        nmissing = sl_pacs_count_missing(&want, &uids);
        if (nmissing == 0 && bad.n == 0 && why == NULL)
            break;
        sl_log(SL_LOG_WARN,
               "source '%s', study %zu: attempt %ld of %ld: %zu of %zu "
               "instances did not arrive%s%s",
               s->id, s->next + 1, a, s->attempts, nmissing + bad.n, want.n,
               why ? ": " : "", why ? why : "");
        /* a 4xx is the server's final word */
        if (status >= 400 && status < 500)
            break;
    }
    sl_pacs_order(&files, &uids, &s->files);
    for (i = 0; i < bad.n; i++)
        unlink(bad.v[i]);
    if (nmissing + bad.n > 0 || why != NULL) {
        struct sl_buf m = { 0 };
        sl_buf_addf(&m,
                    "study %zu: %zu of the %zu instances QIDO-RS listed "
                    "did not arrive by WADO-RS after %ld attempt%s",
                    s->next + 1, nmissing + bad.n, want.n,
                    a > s->attempts ? s->attempts : a,
                    a == 1 ? "" : "s"); /* a: the tries made, or one more */
        if (why != NULL)
            sl_buf_addf(&m, " (%s)", why);
        sl_buf_addf(&m, "; the %zu that did were delivered", s->files.n);
        s->missing = sl_buf_steal(&m);
    }
    if (s->resume_skip > s->files.n) {
        free(s->missing);
        s->missing = NULL;
    }
    for (; s->fi < s->resume_skip && s->fi < s->files.n; s->fi++)
        unlink(s->files.v[s->fi]);
    s->resume_skip = 0;
    s->next++;
out:
    if (rc != SL_OK)
        sl_err_prefix(err, "source '%s', study %zu", s->id, s->next + 1);
    sl_strv_free(&want);
    sl_strv_free(&files);
    sl_strv_free(&uids);
    sl_strv_free(&bad);
    free(why);
    free(ipath);
    free(dir);
    return rc;
}

static int
src_next(void *vctx, struct sl_item **out, struct sl_err *err)
{
    struct dweb_src *s = vctx;
    int rc;

    *out = NULL;
    if (s->none)
        return SL_OK;
    if (!s->found && (rc = find_cohort(s, err)) != SL_OK)
        return rc;
    if (s->pi < s->problems.n) {
        *out = sl_pacs_problem_item(s->id, s->pc.from, s->pc.co.patients,
                                    &s->problems, &s->pi);
        return SL_OK;
    }
    while (s->fi >= s->files.n && s->missing == NULL) {
        if (s->next >= s->nstudies)
            return SL_OK;
        if ((rc = fetch(s, err)) != SL_OK)
            return rc;
    }
    *out = sl_pacs_item(s->id, s->cur, s->cur_hash, "", &s->files, &s->fi,
                        &s->missing);
    return SL_OK;
}

static void
src_progress(void *vctx, uint64_t *done, uint64_t *total)
{
    struct dweb_src *s = vctx;

    *done = s->next;
    *total = s->nstudies;
}

static void
src_want(void *vctx, unsigned kinds)
{
    struct dweb_src *s = vctx;

    s->none = !(kinds & SL_TAKES_DICOM);
}

static void
src_begin(void *vctx, const volatile sig_atomic_t *stop, const char *last)
{
    struct dweb_src *s = vctx;

    (void)last;
    sl_http_set_stop(s->http, stop);
}

/* Requests tried again so far (item.h: retries). */
static uint64_t
src_retries(void *vctx)
{
    struct dweb_src *s = vctx;

    return sl_http_retries(s->http);
}

/* studies="source:ID", patient-ids="source:ID": the run feeds the cohort */
static const char *
src_cohort_from(void *vctx)
{
    return ((struct dweb_src *)vctx)->pc.from;
}

static int
src_cohort_item(void *vctx, const struct sl_item *it, struct sl_err *err)
{
    return pacs_cohort_add(&((struct dweb_src *)vctx)->pc, it, err);
}

static void
src_cohort_done(void *vctx)
{
    ((struct dweb_src *)vctx)->pc.fed = 1;
}

const struct sl_source_ops sl_source_dicomweb = {
    .type = "dicomweb",
    .open = src_open,
    .next = src_next,
    .close = src_close,
    .progress = src_progress,
    .want = src_want,
    .begin = src_begin,
    .retries = src_retries,
    .cohort_from = src_cohort_from,
    .cohort_item = src_cohort_item,
    .cohort_done = src_cohort_done,
};

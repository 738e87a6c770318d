/* stow_rs.c - the stow-rs target: de-identified instances sent to a
 * DICOMweb node by STOW-RS (PS3.18 10.5), several in one
 * multipart/related POST {base}/studies, over src/http (its auth, TLS,
 * retries).
 *
 * Chunks: instances are added to the request body as they are put, up to
 * chunk-size MiB (an instance larger than that goes alone); the body is
 * sent when it is full, at every checkpoint and at the end. Memory is one
 * chunk, whatever the size of the study.
 *
 * Refusals: the node's answer lists what it could not store in its
 * Failed SOP Sequence (0008,1198), each with the Referenced SOP Instance
 * UID (0008,1155) and a Failure Reason (0008,1197): those instances are
 * handed back through refused() (item.h) and quarantined with the reason
 * and the HTTP status. A 4xx without such a list refuses the whole chunk
 * with its status. A node that cannot be reached (src/http's retries used
 * up) stops the run; nothing is quarantined for an outage.
 *
 * Exactly once: a checkpoint sends what waits, so every instance before a
 * committed checkpoint is on the node (or quarantined); a resume sends
 * again what followed it, and a node keeps one instance per SOP Instance
 * UID. With skip-existing="yes" (the default) the target first asks the
 * node which instances of the study it holds (QIDO-RS, once per study)
 * and does not send those again: a re-run sends only what is missing. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "dicom/dicom.h"
#include "http/auth.h"
#include "http/dicom_json.h"
#include "http/http.h"
#include "sinks/sinks.h"

#define ANSWER_MAX (16u * 1024 * 1024)
#define BOUNDARY   "sluice-stow-7c1f0e5a9b3d4c28"

struct pending {
    char *sop;
    char *study;
    size_t at, len;       /* its bytes in the body */
    struct sl_item *copy; /* what refused() hands back */
};

struct stow {
    const char *id;
    struct sl_http_auth *auth;
    struct sl_http *http;
    size_t chunk_max;
    int skip_existing;
    long page;
    struct sl_buf body;
    struct pending *p;
    size_t np;
    /* the instances the node holds of the study last asked about */
    char *known_study;
    struct sl_strv known;
    char *tmpdir; /* refused instances' bytes wait here for the quarantine */
    size_t ntmp;
    struct sl_item **refused;
    size_t nrefused;
    uint64_t sent, skipped, nrefused_total;
};

static struct sl_item *
item_copy(const struct sl_item *it)
{
    struct sl_item *c = sl_item_new(SL_ITEM_DICOM);

    c->seq = it->seq;
    c->source = it->source;
    c->rank = it->rank;
    c->pos = it->pos ? sl_strdup(it->pos) : NULL;
    c->origin = it->origin ? sl_strdup(it->origin) : NULL;
    c->rtype = it->rtype ? sl_strdup(it->rtype) : NULL;
    return c;
}

static void refuse(struct stow *s, struct pending *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
refuse(struct stow *s, struct pending *p, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* the quarantine copies the instance from a file: the bytes sent */
    if (s->tmpdir == NULL) {
        char *t = sl_asprintf("%s/sluice-stow-XXXXXX",
                              getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (mkdtemp(t) != NULL)
            s->tmpdir = t;
        else
            free(t);
    }
    if (s->tmpdir != NULL) {
        char *f = sl_asprintf("%s/%zu.dcm", s->tmpdir, ++s->ntmp);
        struct sl_err e = { 0 };
        if (sl_file_write_atomic(f, s->body.data + p->at, p->len, &e) ==
            SL_OK) {
            p->copy->path = sl_strdup(f);
            p->copy->tmp_path = f; /* removed when the copy is freed */
        } else {
            free(f);
        }
    }
    sl_item_quarantine(p->copy, "stow-rs", "target %s: %s", s->id, msg);
    s->refused =
        sl_realloc(s->refused, (s->nrefused + 1) * sizeof(*s->refused));
    s->refused[s->nrefused++] = p->copy;
    p->copy = NULL;
    s->nrefused_total++;
}

static void
pending_clear(struct stow *s)
{
    size_t i;

    for (i = 0; i < s->np; i++) {
        free(s->p[i].sop);
        free(s->p[i].study);
        sl_item_free(s->p[i].copy);
    }
    free(s->p);
    s->p = NULL;
    s->np = 0;
    sl_buf_reset(&s->body);
}

static int
cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
known_has(const struct stow *s, const char *sop)
{
    return s->known.n > 0 && bsearch(&sop, s->known.v, s->known.n,
                                     sizeof(*s->known.v), cmp_strp) != NULL;
}

/* The SOP Instance UIDs the node holds of study (QIDO-RS), into
 * s->known, once per study in a row. */
static int
learn_study(struct stow *s, const char *study, struct sl_err *err)
{
    static const char *const hdrs[] = { "Accept: application/dicom+json",
                                        NULL };
    size_t offset = 0;
    int rc = SL_OK;

    if (s->known_study != NULL && strcmp(s->known_study, study) == 0)
        return SL_OK;
    free(s->known_study);
    s->known_study = NULL;
    sl_strv_free(&s->known);
    for (;;) {
        struct sl_http_body ans = { { 0 }, ANSWER_MAX };
        struct sl_http_req rq = { 0 };
        struct sl_http_resp rs = { 0 };
        size_t got = 0;
        char *path = sl_asprintf("studies/%s/instances?includefield=00080018"
                                 "&limit=%ld&offset=%zu",
                                 study, s->page, offset);
        rq.method = "GET";
        rq.path = path;
        rq.headers = hdrs;
        rq.sink = sl_http_collect;
        rq.sink_arg = &ans;
        rq.restart = sl_http_collect_restart;
        rc = sl_http_do(s->http, &rq, &rs, err);
        free(path);
        sl_http_resp_clear(&rs);
        if (rc == SL_OK && rs.status == 200) {
            static const char *const tags[] = { "00080018" };
            struct sl_qido_rows rows = { 0 };
            size_t i;
            rc = sl_qido_parse(ans.buf.data ? ans.buf.data : "", ans.buf.len,
                               tags, 1, &rows, err);
            for (i = 0; rc == SL_OK && i < rows.n; i++)
                if (rows.v[i] != NULL)
                    sl_strv_push(&s->known, rows.v[i]);
            got = rows.n;
            sl_qido_rows_free(&rows);
        }
        sl_buf_free(&ans.buf);
        if (rc != SL_OK) {
            sl_dicomweb_scrub(err, study);
            sl_err_prefix(err,
                          "target '%s': asking which instances the "
                          "node holds",
                          s->id);
            return rc;
        }
        /* 204, 404: none; another status: not known, all are sent */
        if (rs.status != 200 || got == 0)
            break;
        offset += got;
    }
    sl_strv_sort(&s->known);
    s->known_study = sl_strdup(study);
    return SL_OK;
}

static int
has(const struct sl_strv *v, const char *s)
{
    size_t i;

    for (i = 0; i < v->n; i++)
        if (strcmp(v->v[i], s) == 0)
            return 1;
    return 0;
}

/* POSTs a multipart body; *status and the answer's lists (*f, *nf:
 * failed; stored) come back. An answer that cannot be read lists
 * nothing. */
static int
post(struct stow *s, const char *body, size_t len, long *status,
     struct sl_stow_failed **f, size_t *nf, struct sl_strv *stored,
     struct sl_err *err)
{
    static const char *const hdrs[] = { "Accept: application/dicom+json",
                                        NULL };
    struct sl_http_body ans = { { 0 }, ANSWER_MAX };
    struct sl_http_req rq = { 0 };
    struct sl_http_resp rs = { 0 };
    struct sl_err pe = { 0 };
    int rc;

    *f = NULL;
    *nf = 0;
    rq.method = "POST";
    rq.path = "studies";
    rq.content_type = "multipart/related; type=\"application/dicom\"; "
                      "boundary=" BOUNDARY;
    rq.body = body;
    rq.body_len = len;
    rq.headers = hdrs;
    rq.sink = sl_http_collect;
    rq.sink_arg = &ans;
    rq.restart = sl_http_collect_restart;
    rc = sl_http_do(s->http, &rq, &rs, err);
    sl_http_resp_clear(&rs);
    *status = rs.status;
    if (rc != SL_OK) {
        sl_buf_free(&ans.buf);
        sl_err_prefix(err, "target '%s'", s->id);
        return rc;
    }
    if (sl_stow_failed_parse(ans.buf.data ? ans.buf.data : "", ans.buf.len, f,
                             nf, stored, &pe) != SL_OK &&
        rs.status >= 200 && rs.status < 300)
        sl_log(SL_LOG_WARN,
               "target '%s': the node's STOW-RS answer (HTTP "
               "%ld) could not be read (%s): each instance is looked for by "
               "QIDO-RS",
               s->id, rs.status, pe.msg);
    sl_buf_free(&ans.buf);
    return SL_OK;
}

static const struct sl_stow_failed *
failed_of(const struct sl_stow_failed *f, size_t nf, const char *sop)
{
    size_t i;

    for (i = 0; i < nf; i++)
        if (strcmp(f[i].sop, sop) == 0)
            return &f[i];
    return NULL;
}

/* Whether the node holds p, by a new QIDO-RS listing of its study. */
static int
held(struct stow *s, const struct pending *p, int *yes, struct sl_err *err)
{
    int rc;

    free(s->known_study);
    s->known_study = NULL;
    if ((rc = learn_study(s, p->study, err)) != SL_OK)
        return rc;
    *yes = known_has(s, p->sop);
    return SL_OK;
}

/* The node's word on p after one request: 1 stored, 0 not (p refused),
 * -1 no word (neither listed, nor refused as a whole). */
static int
judge(struct stow *s, struct pending *p, long status,
      const struct sl_stow_failed *f, size_t nf, const struct sl_strv *stored)
{
    const struct sl_stow_failed *x = failed_of(f, nf, p->sop);

    if (x != NULL) {
        refuse(s, p,
               "the DICOMweb node refused the instance: STOW-RS "
               "Failure Reason 0x%04X (%s), HTTP %ld",
               x->reason, sl_stow_reason_text(x->reason), status);
        return 0;
    }
    if (has(stored, p->sop))
        return 1;
    if ((status < 200 || status >= 300) && nf == 0 && stored->n == 0) {
        refuse(s, p,
               "the DICOMweb node refused the request: STOW-RS HTTP "
               "%ld",
               status);
        return 0;
    }
    return -1;
}

/* Sends what waits. An instance the node's answer lists as failed is
 * refused with its Failure Reason; one it lists as stored is delivered.
 * One it lists as neither is looked for by QIDO-RS: Orthanc's DICOMweb
 * plugin stops at the first instance it cannot store and lists none of
 * the request's others, so such an instance not found on the node is
 * sent again alone, and refused only when the node still does not hold
 * it. */
static int
send_chunk(struct stow *s, struct sl_err *err)
{
    struct sl_stow_failed *f = NULL;
    struct sl_strv stored = { 0 };
    size_t nf = 0, k;
    long status = 0;
    int rc, yes;

    if (s->np == 0)
        return SL_OK;
    sl_buf_adds(&s->body, "--" BOUNDARY "--\r\n");
    if ((rc = post(s, s->body.data, s->body.len, &status, &f, &nf, &stored,
                   err)) != SL_OK)
        goto out;
    for (k = 0; k < s->np; k++) {
        struct pending *p = &s->p[k];
        struct sl_stow_failed *f1 = NULL;
        struct sl_strv st1 = { 0 };
        struct sl_buf one = { 0 };
        size_t nf1 = 0;
        long status1 = 0;
        int w;

        if (p->copy == NULL || (w = judge(s, p, status, f, nf, &stored)) >= 0)
            continue;
        if ((rc = held(s, p, &yes, err)) != SL_OK)
            goto out;
        if (yes)
            continue;
        if (s->np == 1) {
            refuse(s, p,
                   "the DICOMweb node did not store the instance: its "
                   "STOW-RS answer (HTTP %ld) lists it neither as stored "
                   "nor as failed, and QIDO-RS does not find it",
                   status);
            continue;
        }
        sl_buf_addf(&one, "--" BOUNDARY "\r\nContent-Type: application/"
                          "dicom\r\n\r\n");
        sl_buf_add(&one, s->body.data + p->at, p->len);
        sl_buf_adds(&one, "\r\n--" BOUNDARY "--\r\n");
        rc = post(s, one.data, one.len, &status1, &f1, &nf1, &st1, err);
        sl_buf_free(&one);
        if (rc == SL_OK && judge(s, p, status1, f1, nf1, &st1) < 0 &&
            (rc = held(s, p, &yes, err)) == SL_OK && !yes)
            refuse(s, p,
                   "the DICOMweb node did not store the instance: its "
                   "STOW-RS answer (HTTP %ld) lists it neither as stored "
                   "nor as failed, and QIDO-RS does not find it",
                   status1);
        sl_stow_failed_free(f1, nf1);
        sl_strv_free(&st1);
        if (rc != SL_OK)
            goto out;
    }
    for (k = 0; k < s->np; k++)
        if (s->p[k].copy != NULL) {
            s->sent++;
            /* a re-send in this run is skipped too */
            if (s->known_study != NULL &&
                strcmp(s->known_study, s->p[k].study) == 0)
                sl_strv_push(&s->known, s->p[k].sop);
        }
    sl_strv_sort(&s->known);
out:
    sl_stow_failed_free(f, nf);
    sl_strv_free(&stored);
    pending_clear(s);
    return rc;
}

static int
stow_put(void *ctx, struct sl_item *it, int *taken, struct sl_err *err)
{
    struct stow *s = ctx;
    const char *src = it->tmp_path ? it->tmp_path : it->path;
    struct sl_dicom_summary *sum = NULL;
    const struct sl_dicom_summary *use;
    struct sl_err e = { 0 };
    char *data = NULL;
    size_t len = 0;
    int rc = SL_OK;

    *taken = 0;
    if (it->kind != SL_ITEM_DICOM)
        return SL_OK;
    *taken = 1;
    if (src == NULL)
        return SL_ERR(err, SL_EINTERNAL, "target '%s': item %s has no file",
                      s->id, it->pos ? it->pos : "?");
    if (it->summary_set && it->summary != NULL) {
        use = it->summary;
    } else if (sl_dicom_summary_read(src, &sum, &e) == SL_OK) {
        use = sum;
    } else {
        s->nrefused_total++;
        return sl_item_quarantine(it, "stow-rs",
                                  "target %s: not sent, the "
                                  "instance cannot be read: %s",
                                  s->id, e.msg);
    }
    /* the study's UID goes into a URL path: a UID, nothing else */
    if (!sl_qido_is_uid(use->study_uid) || !sl_qido_is_uid(use->sop_uid)) {
        s->nrefused_total++;
        rc = sl_item_quarantine(it, "stow-rs",
                                "target %s: not sent, its %s "
                                "is not a valid UID",
                                s->id,
                                sl_qido_is_uid(use->study_uid)
                                    ? "SOP Instance UID (0008,0018)"
                                    : "Study Instance UID (0020,000D)");
        goto out;
    }
    if (s->skip_existing) {
        if ((rc = learn_study(s, use->study_uid, err)) != SL_OK)
            goto out;
        if (known_has(s, use->sop_uid)) {
            sl_item_finding(it, "stow-rs", SL_SEV_INFO, "already-on-node",
                            NULL);
            s->skipped++;
            goto out;
        }
    }
    if ((rc = sl_file_read(src, &data, &len, err)) != SL_OK)
        goto out;
    if (s->np > 0 && s->body.len + len + 256 > s->chunk_max &&
        (rc = send_chunk(s, err)) != SL_OK)
        goto out;
    sl_buf_addf(&s->body,
                "--" BOUNDARY "\r\nContent-Type: application/dicom"
                "\r\nContent-Length: %zu\r\n\r\n",
                len);
    s->p = sl_realloc(s->p, (s->np + 1) * sizeof(*s->p));
    s->p[s->np].at = s->body.len;
    s->p[s->np].len = len;
    sl_buf_add(&s->body, data, len);
    sl_buf_adds(&s->body, "\r\n");
    s->p[s->np].sop = sl_strdup(use->sop_uid);
    s->p[s->np].study = sl_strdup(use->study_uid);
    s->p[s->np].copy = item_copy(it);
    s->np++;
    if (s->body.len >= s->chunk_max)
        rc = send_chunk(s, err);
out:
    free(data);
    sl_dicom_summary_free(sum);
    return rc;
}

static int
stow_checkpoint(void *ctx, char **state, struct sl_err *err)
{
    struct stow *s = ctx;
    int rc;

    if ((rc = send_chunk(s, err)) != SL_OK)
        return rc;
    *state =
        sl_asprintf("sent=%" PRIu64 " skipped=%" PRIu64 " refused=%" PRIu64,
                    s->sent, s->skipped, s->nrefused_total);
    return SL_OK;
}

static int
stow_finish(void *ctx, struct sl_err *err)
{
    return send_chunk(ctx, err);
}

static int
stow_refused(void *ctx, struct sl_item ***out, size_t *n)
{
    struct stow *s = ctx;

    *out = s->refused;
    *n = s->nrefused;
    s->refused = NULL;
    s->nrefused = 0;
    return SL_OK;
}

static void
stow_close(void *ctx)
{
    struct stow *s = ctx;
    size_t i;

    if (s == NULL)
        return;
    pending_clear(s);
    sl_buf_free(&s->body);
    for (i = 0; i < s->nrefused; i++)
        sl_item_free(s->refused[i]);
    free(s->refused);
    free(s->known_study);
    sl_strv_free(&s->known);
    if (s->tmpdir != NULL) {
        rmdir(s->tmpdir); /* empty once the copies are freed */
        free(s->tmpdir);
    }
    sl_http_free(s->http);
    sl_http_auth_free(s->auth); /* after the client that borrows it */
    free(s);
}

static int
stow_open(const struct sl_config *cfg, const struct sl_conf_node *node,
          const char *run_id, const char *state, void **ctx, struct sl_err *err)
{
    struct stow *s = sl_calloc(1, sizeof(*s));
    struct sl_http_opts o = { 0 };
    char *ca = sl_conf_get_path(cfg, node, "ca-file"), *base = NULL;
    const char *skip = sl_conf_get(node, "skip-existing");
    int rc;

    (void)run_id;
    (void)state; /* nothing to roll back: see the head of this file */
    s->id = node->id;
    s->chunk_max = (size_t)sl_conf_get_long(node, "chunk-size", 16) << 20;
    s->skip_existing = skip == NULL || strcmp(skip, "no") != 0;
    s->page = 1000;
    if (sl_conf_get(node, "base") == NULL) {
        rc = SL_ERR(err, SL_ECONFIG, "target '%s': base is needed", s->id);
        goto out;
    }
    base = sl_strdup(sl_conf_get(node, "base"));
    while (*base && base[strlen(base) - 1] == '/')
        base[strlen(base) - 1] = '\0';
    o.base = base;
    o.ca_file = ca;
    o.timeout_ms = sl_conf_get_long(node, "timeout", 300) * 1000;
    o.max_attempts = (int)sl_conf_get_long(node, "max-attempts", 5);
    if ((rc = sl_http_auth_new(cfg, node, &s->auth, err)) != SL_OK ||
        (rc = sl_http_new(&o, &s->http, err)) != SL_OK) {
        sl_err_prefix(err, "target '%s'", s->id);
        goto out;
    }
    *ctx = s;
    s = NULL;
out:
    free(ca);
    free(base);
    stow_close(s);
    return rc;
}

/* Requests tried again so far (item.h: retries). */
static uint64_t
stow_retries(void *ctx)
{
    struct stow *s = ctx;

    return sl_http_retries(s->http);
}

const struct sl_sink_ops sl_sink_stow_rs = {
    .type = "stow-rs",
    .open = stow_open,
    .put = stow_put,
    .checkpoint = stow_checkpoint,
    .finish = stow_finish,
    .close = stow_close,
    .refused = stow_refused,
    .retries = stow_retries,
};

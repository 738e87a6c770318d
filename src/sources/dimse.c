/* dimse.c - the dimse source: studies found on a PACS by C-FIND and
 * retrieved by C-GET, or by C-MOVE to a storage SCP of sluice's own that
 * listens for the time of the move (DCMTK's DcmSCU and DcmStorageSCP,
 * through src/dicom), instance by instance onto disk, then given to the
 * pipeline as DICOM items.
 *
 * Query: at study level (Study Root), from the source's attributes:
 * study-date (a DICOM date range), modality (Modalities in Study), and
 * patient-ids or accession-numbers (a file of patient ids or accession
 * numbers, one a line: one C-FIND each), or studies (a cohort of FHIR
 * ImagingStudy resources: a file, or with "source:ID" what FHIR source ID
 * of the job yields, fed by the run before the first next(), as
 * patient-ids="source:ID" feeds Patient resources; dimse_cohort.c). The
 * studies found are taken in order of StudyDate, StudyTime, Study
 * Instance UID.
 *
 * A study is taken when every instance a C-FIND at series then image level
 * listed has arrived: the C-GET is tried again (max-attempts) while some
 * are missing; after that the instances that did arrive go on, and the
 * missing ones are reported by one quarantined item naming the study by
 * its position and the counts (nothing is dropped silently); such a study
 * is not counted as taken by the incremental watermark, so the next run
 * asks for it again (dimse_since.c); so is a study none of whose
 * instances arrive though the node answered (all of a class sluice does
 * not take), by C-GET and C-MOVE alike. A node that cannot be reached
 * after max-attempts, or a PACS that has not called the C-MOVE receiver
 * once in this run (it does not know or cannot reach it: every study
 * would fail the same), stops the run: a resume starts again from the
 * study it was in.
 *
 * Files: each study is retrieved into its own folder under the state
 * store's work folder; every instance is the item's tmp_path, removed
 * when the pipeline is done with it (the deid stage removes it when it
 * writes its copy), so disk use stays at about the studies in flight.
 * What a killed run left is removed when the source is opened again
 * (folders named after a process that is gone). Memory holds the study list and
 * one study's UIDs, never an instance (DCMTK writes them to disk as they
 * arrive).
 *
 * Checkpoint: "HASH:J", the FNV-1a of the Study Instance UID and the
 * number of its instances (in SOP Instance UID order) already given out:
 * no UID, date or id of the data. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/hash.h"
#include "config/config.h"
#include "dicom/dicom.h"
#include "sources/dimse_cohort.h"
#include "sources/dimse_since.h"
#include "sources/pacs_work.h"
#include "sources/sources.h"

struct dimse_src {
    const char *id;
    struct sl_dicom_peer peer;
    long attempts;
    int move_port; /* retrieve="c-move": our storage SCP's port, else 0 */
    int route_ok;  /* the PACS has called that SCP in this run */
    const char *move_addr; /* and the address it listens on */
    struct sl_dicom_study *studies;
    size_t nstudies;
    size_t next;        /* the next study to retrieve */
    size_t resume_skip; /* instances of study `next` already given out */
    char *workdir;      /* this run's folder, removed by close */
    int none;           /* want() asked for no DICOM */
    /* the study being given out */
    size_t cur;           /* its index */
    uint64_t cur_hash;    /* FNV-1a of its UID */
    struct sl_strv files; /* its instances in order */
    size_t fi;            /* the next of files */
    char *missing;        /* why some did not arrive (an item), or NULL */
    /* studies="FILE": what of it could not be used, given out first as
     * quarantined items (checkpoint "problems:N") */
    struct sl_strv problems;
    size_t pi;
    /* the C-FIND runs at the first next(), once since() has told the
     * watermark of the last finished run */
    const struct sl_config *cfg;
    const struct sl_conf_node *node;
    char *resume; /* the checkpoint open() was given */
    int found;
    struct dimse_since since;
    char *last_ck; /* the watermark part for the last study's items */
    unsigned char *incomplete; /* [i]: study i lacks instances after
                                  max-attempts: not counted as taken */
    /* studies="source:ID" or patient-ids="source:ID": the cohort comes
     * from that source of the job (pacs_cohort.c), fed by the run before
     * the first next(); wiped once the C-FINDs are done */
    struct pacs_cohort pc;
};

static uint64_t
uid_hash(const char *uid)
{
    return sl_fnv1a64(uid);
}

static void
nap(long attempt)
{
    struct timespec ts = { attempt >= 5 ? 30 : 1L << (attempt - 1), 0 };
    nanosleep(&ts, NULL);
}

static void
src_close(void *vctx)
{
    struct dimse_src *s = vctx;

    if (s == NULL)
        return;
    sl_dicom_studies_free(s->studies, s->nstudies);
    sl_strv_free(&s->files);
    sl_strv_free(&s->problems);
    pacs_cohort_free(&s->pc);
    free((char *)s->peer.tls_ca);
    free((char *)s->peer.tls_cert);
    free((char *)s->peer.tls_key);
    dimse_since_free(&s->since);
    free(s->resume);
    free(s->last_ck);
    free(s->incomplete);
    free(s->missing);
    if (s->workdir) {
        /* the items still in the pipeline own their files (tmp_path) and
         * remove them: only what is already empty goes now */
        sl_pacs_work_rm(s->workdir, 0);
        free(s->workdir);
    }
    free(s);
}

/* The non-blank lines of the list file of attribute attr (patient-ids,
 * accession-numbers) into ids; nothing when the attribute is not set.
 * The values are patient data: wiped by the caller, never printed. */
static int
read_list(struct dimse_src *s, const struct sl_config *cfg,
          const struct sl_conf_node *node, const char *attr,
          struct sl_strv *ids, struct sl_err *err)
{
    char *file = sl_conf_get_path(cfg, node, attr);
    char *text = NULL, why[160];
    size_t len;
    int rc;

    if (file == NULL)
        return SL_OK;
    rc = sl_file_read(file, &text, &len, err);
    free(file);
    if (rc != SL_OK)
        return SL_ERR(err, SL_ECONFIG, "source '%s': cannot read its %s file",
                      s->id, attr);
    rc = dimse_list_parse(text, len, strcmp(attr, "accession-numbers") == 0,
                          ids, why, sizeof(why));
    sl_freezero(text, len);
    if (rc != SL_OK)
        return SL_ERR(err, SL_ECONFIG, "source '%s': its %s file, %s", s->id,
                      attr, why);
    if (ids->n == 0)
        return SL_ERR(
            err, SL_ECONFIG, "source '%s': its %s file lists no %s", s->id,
            attr, strcmp(attr, "patient-ids") == 0 ? "id" : "accession number");
    return SL_OK;
}

/* Runs one C-FIND per patient id or accession number of the source's list
 * file (or one without), with retries; the studies are appended to s. */
static int
find_all(struct dimse_src *s, const struct sl_config *cfg,
         const struct sl_conf_node *node, struct sl_err *err)
{
    struct sl_dicom_query q = { 0 };
    struct sl_strv ids = { 0 };
    struct dimse_cohort co = { 0 };
    char *cfile = s->pc.from ? NULL : sl_conf_get_path(cfg, node, "studies");
    int by_acc = sl_conf_get(node, "accession-numbers") != NULL;
    int by_study = cfile != NULL || (s->pc.from && !s->pc.co.patients);
    char *range = NULL;
    size_t i, k, skipped = 0;
    int rc = SL_OK;

    q.study_date = sl_conf_get(node, "study-date");
    q.modality = sl_conf_get(node, "modality");
    /* a cohort from a FHIR source names its studies: the watermark's date
     * range would drop those dated before it (a study found again in the
     * overlap is still skipped below) */
    range = s->pc.from ? NULL : dimse_since_range(&s->since, q.study_date);
    if (range != NULL) {
        q.study_date = range;
        sl_log(SL_LOG_INFO,
               "source '%s': incremental: studies from %ld day(s) before "
               "the last finished run's newest on",
               s->id, s->since.overlap_days);
    }
    if (s->pc.from != NULL) {
        /* the cohort the run collected from the FHIR source */
        if ((rc = pacs_cohort_take(&s->pc, s->id, &ids, &s->problems, err)) !=
            SL_OK) {
            free(range);
            return rc;
        }
        if (ids.n == 0) {
            free(range);
            return SL_OK; /* nothing to find: not "everything" */
        }
    } else if (cfile != NULL) {
        /* the cohort's ImagingStudy resources: one C-FIND per study, by
         * its UID or else its accession number */
        rc = dimse_cohort_read(cfile, &co, err);
        free(cfile);
        if (rc != SL_OK) {
            sl_err_prefix(err, "source '%s'", s->id);
            dimse_cohort_free(&co);
            return rc;
        }
        sl_log(SL_LOG_INFO,
               "source '%s': studies file: %zu ImagingStudy resources "
               "usable, %zu not (quarantined), %zu of other types skipped",
               s->id, co.keys.n, co.problems.n, co.other);
        s->problems = co.problems;
        memset(&co.problems, 0, sizeof(co.problems));
        ids = co.keys;
        memset(&co.keys, 0, sizeof(co.keys));
        dimse_cohort_free(&co);
        if (ids.n == 0) {
            /* nothing to find: not "everything" */
            sl_strv_free(&ids);
            free(range);
            return SL_OK;
        }
    } else {
        rc = read_list(s, cfg, node,
                       by_acc ? "accession-numbers" : "patient-ids", &ids, err);
    }
    for (i = 0; i < (ids.n ? ids.n : 1) && rc == SL_OK; i++) {
        long a;
        if (by_study) {
            q.study_uid = ids.v[i][0] == 'U' ? ids.v[i] + 1 : NULL;
            q.accession = ids.v[i][0] == 'A' ? ids.v[i] + 1 : NULL;
        } else if (by_acc)
            q.accession = ids.n ? ids.v[i] : NULL;
        else
            q.patient_id = ids.n ? ids.v[i] : NULL;
        for (a = 1; a <= s->attempts; a++) {
            size_t before = s->nstudies;
            int why = 0;
            rc = sl_dicom_find_studies(&s->peer, &q, &s->studies, &s->nstudies,
                                       &why, err);
            if (rc != SL_ENET)
                break;
            /* drop what a broken answer gave before asking again */
            for (k = before; k < s->nstudies; k++) {
                free(s->studies[k].uid);
                free(s->studies[k].date);
                free(s->studies[k].time);
            }
            s->nstudies = before;
            sl_log(SL_LOG_WARN, "source '%s': C-FIND attempt %ld of %ld: %s",
                   s->id, a, s->attempts, err->msg);
            if (a < s->attempts)
                nap(a);
        }
        if (rc != SL_OK)
            sl_err_prefix(err, "source '%s'", s->id);
    }
    for (i = 0; i < ids.n; i++)
        explicit_bzero(ids.v[i], strlen(ids.v[i]));
    sl_strv_free(&ids);
    free(range);
    if (rc != SL_OK)
        return rc;
    /* in order; a study found by two patient ids (or twice) is taken
     * once */
    sl_pacs_studies_sort(s->studies, &s->nstudies);
    for (i = k = 0; i < s->nstudies; i++) {
        if (dimse_since_taken(&s->since, s->studies[i].date,
                              uid_hash(s->studies[i].uid))) {
            skipped++;
            free(s->studies[i].uid);
            free(s->studies[i].date);
            free(s->studies[i].time);
            continue;
        }
        s->studies[k++] = s->studies[i];
    }
    s->nstudies = k;
    if (skipped > 0)
        sl_log(SL_LOG_INFO,
               "source '%s': %zu studies found again in the overlap were "
               "taken by an earlier run: skipped",
               s->id, skipped);
    return SL_OK;
}

static int
src_open(const struct sl_config *cfg, const struct sl_conf_node *node,
         const char *checkpoint, void **ctx, struct sl_err *err)
{
    struct dimse_src *s = sl_calloc(1, sizeof(*s));
    char msg[256];
    int rc;

    s->id = node->id;
    s->peer.host = sl_conf_get(node, "host");
    s->peer.port = (int)sl_conf_get_long(node, "port", 104);
    s->peer.called_ae = sl_conf_get(node, "called-ae");
    s->peer.calling_ae = sl_conf_get(node, "calling-ae");
    s->peer.timeout = (int)sl_conf_get_long(node, "timeout", 30);
    s->peer.tls_ca = sl_conf_get_path(cfg, node, "tls-ca-file");
    s->peer.tls_cert = sl_conf_get_path(cfg, node, "tls-cert-file");
    s->peer.tls_key = sl_conf_get_path(cfg, node, "tls-key-file");
    s->attempts = sl_conf_get_long(node, "max-attempts", 5);
    if (sl_conf_get(node, "retrieve") != NULL &&
        strcmp(sl_conf_get(node, "retrieve"), "c-move") == 0) {
        s->move_port = (int)sl_conf_get_long(node, "listen-port", 0);
        s->move_addr = sl_conf_get(node, "listen-address");
        if (s->move_port <= 0) {
            rc = SL_ERR(err, SL_ECONFIG,
                        "source '%s': retrieve=\"c-move\" "
                        "needs listen-port",
                        s->id ? s->id : "?");
            goto out;
        }
    }
    if (s->peer.host == NULL || s->peer.called_ae == NULL ||
        s->peer.calling_ae == NULL) {
        rc = SL_ERR(err, SL_ECONFIG,
                    "source '%s': host, called-ae and "
                    "calling-ae are needed",
                    s->id ? s->id : "?");
        goto out;
    }
    if (sl_dicom_init(msg, sizeof(msg)) != 0) {
        rc = SL_ERR(err, SL_EDICOM, "source '%s': %s", s->id, msg);
        goto out;
    }
    /* the run's folder beside the state store, as the stages' work */
    if ((rc = sl_pacs_work_new(cfg, "dimse", &s->workdir, err)) != SL_OK) {
        sl_err_prefix(err, "source '%s'", s->id);
        goto out;
    }
    s->cfg = cfg;
    s->node = node;
    s->resume = checkpoint ? sl_strdup(checkpoint) : NULL;
    s->since.overlap_days = sl_conf_get_long(node, "overlap-days", 1);
    pacs_cohort_init(&s->pc, node);
    *ctx = s;
    s = NULL;
    rc = SL_OK;
out:
    src_close(s);
    return rc;
}

/* The C-FIND, at the first next(): since() has told the watermark by
 * then. Then the place to resume from. */
static int
start(struct dimse_src *s, struct sl_err *err)
{
    int rc;

    s->found = 1;
    if ((rc = find_all(s, s->cfg, s->node, err)) != SL_OK)
        return rc;
    s->incomplete = sl_calloc(s->nstudies ? s->nstudies : 1, 1);
    if (s->resume != NULL && *s->resume != '\0') {
        uint64_t h = 0;
        size_t j = 0;
        if (sscanf(s->resume, "problems:%zu", &j) == 1) {
            s->pi = j < s->problems.n ? j : s->problems.n;
        } else if (sscanf(s->resume, "%" SCNx64 ":%zu", &h, &j) == 2) {
            s->pi = s->problems.n; /* given before the studies */
            sl_pacs_resume_at(s->id, s->studies, s->nstudies, s->resume,
                              &s->next, &s->resume_skip);
        }
    }
    sl_log(SL_LOG_DEBUG, "source %s: %zu studies, starting at study %zu", s->id,
           s->nstudies, s->next + 1);
    return SL_OK;
}

static int
src_since(void *vctx, const char *last, struct sl_err *err)
{
    struct dimse_src *s = vctx;

    (void)err;
    if (dimse_since_parse(last, &s->since))
        sl_log(SL_LOG_DEBUG,
               "source %s: incremental from the last finished "
               "run's watermark",
               s->id);
    return SL_OK;
}

/* Retrieves study s->next into its folder and lines its instances up in
 * s->files (SOP Instance UID order); s->missing says what did not
 * arrive. */
static int
fetch(struct dimse_src *s, struct sl_err *err)
{
    const struct sl_dicom_study *st = &s->studies[s->next];
    struct sl_strv want = { 0 }, files = { 0 }, uids = { 0 }, bad = { 0 };
    struct sl_dicom_get_result res = { 0 };
    char *dir = sl_asprintf("%s/%zu", s->workdir, s->next + 1);
    size_t i, nmissing = 0;
    long a;
    int rc = SL_OK, why = 0;

    sl_strv_free(&s->files);
    free(s->missing);
    s->missing = NULL;
    s->fi = 0;
    s->cur = s->next;
    s->cur_hash = uid_hash(st->uid);
    if (mkdir(dir, 0700) != 0 && !sl_path_is_dir(dir)) {
        rc = SL_ERR(err, SL_EIO,
                    "source '%s': cannot make a folder in the "
                    "work folder",
                    s->id);
        goto out;
    }
    for (a = 1; a <= s->attempts; a++) {
        sl_strv_free(&want);
        sl_strv_free(&files);
        sl_strv_free(&uids);
        sl_strv_free(&bad);
        rc = sl_dicom_find_instances(&s->peer, st->uid, &want, &why, err);
        if (rc == SL_OK && s->move_port > 0)
            rc = sl_dicom_move_study(&s->peer, st->uid, dir, s->move_addr,
                                     s->move_port, &res, &why, err);
        else if (rc == SL_OK)
            rc = sl_dicom_get_study(&s->peer, st->uid, dir, &res, &why, err);
        if (rc == SL_OK && res.calls > 0)
            s->route_ok = 1;
        if (rc == SL_EDICOM && res.never_called && s->route_ok) {
            /* The PACS did not call the receiver for this study, but it
             * did for an earlier one of this run: the route works, this
             * study's move failed (e.g. its files unreadable on the
             * PACS). Retried, then quarantined, as a C-GET would be. */
            sl_log(SL_LOG_WARN,
                   "source '%s', study %zu: attempt %ld of %ld: %s; it "
                   "reached sluice earlier in this run: the study failed, "
                   "not the route",
                   s->id, s->next + 1, a, s->attempts, err->msg);
            rc = SL_OK;
        }
        if (rc == SL_OK)
            rc = sl_pacs_list_study(dir, &files, &uids, &bad, err);
        if (rc != SL_OK && rc != SL_ENET)
            break;
        if (rc == SL_OK) {
            /* every listed instance there? */
            nmissing = sl_pacs_count_missing(&want, &uids);
            if (nmissing == 0 && bad.n == 0)
                break;
            sl_log(SL_LOG_WARN,
                   "source '%s', study %zu: attempt %ld of %ld: "
                   "%zu of %zu instances did not arrive (retrieve status "
                   "0x%04X, %u failed)",
                   s->id, s->next + 1, a, s->attempts, nmissing + bad.n, want.n,
                   res.status, res.failed);
        } else {
            sl_log(SL_LOG_WARN,
                   "source '%s', study %zu: attempt %ld of "
                   "%ld: %s",
                   s->id, s->next + 1, a, s->attempts, err->msg);
        }
        if (a < s->attempts)
            nap(a);
    }
    if (rc != SL_OK) {
        sl_err_prefix(err, "source '%s', study %zu", s->id, s->next + 1);
        goto out;
    }
    /* in SOP Instance UID order, so that a resume skips the same ones */
    sl_pacs_order(&files, &uids, &s->files);
    for (i = 0; i < bad.n; i++)
        unlink(bad.v[i]);
    if (nmissing + bad.n > 0) {
        char counts[64];

        /* Orthanc ends a retrieve at the first failed sub-operation with
         * no counts in its final answer: say so rather than "0 failed" */
        if (res.failed == 0 && res.completed == 0)
            snprintf(counts, sizeof(counts), "no counts given");
        else
            snprintf(counts, sizeof(counts), "%u sub-operations failed",
                     res.failed);
        s->incomplete[s->next] = 1;
        if (s->files.n == 0)
            s->missing = sl_asprintf(
                "study %zu: none of the %zu instances C-FIND listed arrived "
                "by %s after %ld attempts (final status 0x%04X, %s): the "
                "node answered but sent none (a storage SOP class or "
                "transfer syntax sluice does not take, or gone from the "
                "node); the run went on with the next study",
                s->next + 1, want.n, s->move_port > 0 ? "C-MOVE" : "C-GET",
                s->attempts, res.status, counts);
        else
            s->missing = sl_asprintf(
                "study %zu: %zu of the %zu instances C-FIND listed did not "
                "arrive by %s after %ld attempts (final status 0x%04X, %s); "
                "the %zu that did were delivered",
                s->next + 1, nmissing + bad.n, want.n,
                s->move_port > 0 ? "C-MOVE" : "C-GET", s->attempts, res.status,
                counts, s->files.n);
    }
    if (s->resume_skip > s->files.n) {
        /* its report of missing instances was written too */
        free(s->missing);
        s->missing = NULL;
    }
    if (s->resume_skip > 0) {
        /* given out before the crash: only their files go */
        for (; s->fi < s->resume_skip && s->fi < s->files.n; s->fi++)
            unlink(s->files.v[s->fi]);
        s->resume_skip = 0;
    }
    s->next++;
out:
    sl_strv_free(&want);
    sl_strv_free(&files);
    sl_strv_free(&uids);
    sl_strv_free(&bad);
    free(dir);
    return rc;
}

/* The watermark for the next run rides on the items of the last study
 * (a finished run's last checkpoint is one of them). */
static const char *
ck_tail(struct dimse_src *s)
{
    if (s->cur + 1 != s->nstudies)
        return "";
    if (s->last_ck == NULL)
        s->last_ck = dimse_since_suffix(&s->since, s->studies, s->nstudies,
                                        s->incomplete, uid_hash);
    return s->last_ck;
}

static int
src_next(void *vctx, struct sl_item **out, struct sl_err *err)
{
    struct dimse_src *s = vctx;
    int rc;

    *out = NULL;
    if (s->none)
        return SL_OK;
    if (!s->found && (rc = start(s, err)) != SL_OK)
        return rc;
    if (s->pi < s->problems.n) {
        /* an ImagingStudy (a Patient) of the cohort that names none */
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
    /* an instance (the study is done with its last one, unless a report
     * of missing ones follows), or that report */
    *out = sl_pacs_item(s->id, s->cur, s->cur_hash, ck_tail(s), &s->files,
                        &s->fi, &s->missing);
    return SL_OK;
}

static void
src_progress(void *vctx, uint64_t *done, uint64_t *total)
{
    struct dimse_src *s = vctx;

    *done = s->next;
    *total = s->nstudies;
}

static void
src_want(void *vctx, unsigned kinds)
{
    struct dimse_src *s = vctx;

    /* a pass that learns from FHIR only: retrieve nothing */
    s->none = !(kinds & SL_TAKES_DICOM);
}

/* studies="source:ID", patient-ids="source:ID": the run feeds the cohort */
static const char *
src_cohort_from(void *vctx)
{
    return ((struct dimse_src *)vctx)->pc.from;
}

static int
src_cohort_item(void *vctx, const struct sl_item *it, struct sl_err *err)
{
    return pacs_cohort_add(&((struct dimse_src *)vctx)->pc, it, err);
}

static void
src_cohort_done(void *vctx)
{
    ((struct dimse_src *)vctx)->pc.fed = 1;
}

const struct sl_source_ops sl_source_dimse = {
    .type = "dimse",
    .open = src_open,
    .next = src_next,
    .close = src_close,
    .progress = src_progress,
    .want = src_want,
    .since = src_since,
    .cohort_from = src_cohort_from,
    .cohort_item = src_cohort_item,
    .cohort_done = src_cohort_done,
};

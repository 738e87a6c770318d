/* dicom_store.c - the dicom-store target: de-identified instances sent to
 * a DICOM node by C-STORE (DCMTK's DcmSCU behind src/dicom), one
 * association kept open from instance to instance.
 *
 * Transfer syntax: each instance is offered in its own transfer syntax
 * (what the de-identification wrote: the input's, unless pixel blanking
 * had to re-encode it). When the node does not accept that syntax for the
 * instance's SOP class, and convert="lossless", the instance is sent
 * uncompressed, decoded losslessly by DCMTK; with convert="never" it is
 * quarantined instead. Nothing is ever encoded lossily.
 *
 * Exactly once: put() returns after the node answered the C-STORE, so a
 * checkpoint has nothing to flush and every instance before it is on the
 * node (or quarantined). After a crash the instances after the last
 * committed checkpoint are sent again: a C-STORE of a SOP Instance UID the
 * node holds replaces it or is ignored by it (Orthanc, storescp), so the
 * node ends with one copy of each.
 *
 * Refusals: a C-STORE answered with a failure status (0xA..., 0xC...,
 * anything not success or warning) and an instance the node accepts in no
 * transfer syntax it can be sent in are quarantined with the status and
 * the run goes on. A node that cannot be reached after max-attempts stops
 * the run: nothing is quarantined for an outage, the resume sends it.
 *
 * Re-runs: with skip-existing="yes" (the default) the target first asks
 * the node which instances of the study it holds (a C-FIND at series then
 * image level, on an association of its own, once per study in a row) and
 * does not send those again, so a resume after kill -9 or a second run of
 * the same job sends only what is missing. Memory: one study's SOP
 * Instance UIDs. A node that takes no C-FIND (storescp) is told so once
 * and gets every instance, as with skip-existing="no". */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "dicom/dicom.h"
#include "sinks/sinks.h"

struct dstore {
    const char *id;
    struct sl_dicom_peer peer;
    struct sl_dicom_scu *scu;
    long attempts;
    uint64_t sent, refused, skipped;
    /* skip-existing: what the node holds of known_study (sorted) */
    int skip_existing;
    char *known_study;
    struct sl_strv known;
};

static int
cmp_strp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The SOP Instance UIDs the node holds of study, into d->known, once per
 * study in a row. A node that takes no C-FIND turns skipping off for the
 * run (said once); any other failure to ask sends this study's instances
 * as they come (the C-STORE then meets an outage with its retries). */
static void
learn_study(struct dstore *d, const char *study)
{
    struct sl_err e = { 0 };
    int rc, why = 0;

    if (d->known_study != NULL && strcmp(d->known_study, study) == 0)
        return;
    free(d->known_study);
    d->known_study = sl_strdup(study);
    sl_strv_free(&d->known);
    rc = sl_dicom_find_instances(&d->peer, study, &d->known, &why, &e);
    if (rc == SL_OK) {
        sl_strv_sort(&d->known);
        return;
    }
    sl_strv_free(&d->known);
    if (rc == SL_EDICOM || why == SL_DICOM_NET_REJECTED ||
        why == SL_DICOM_NET_NOCONTEXT) {
        d->skip_existing = 0;
        sl_log(SL_LOG_WARN,
               "target '%s': the DICOM node does not answer a C-FIND (%s): "
               "every instance is sent, also those it may hold already "
               "(skip-existing=\"no\" says so without asking)",
               d->id, e.msg);
    } else {
        sl_log(SL_LOG_WARN,
               "target '%s': cannot ask the DICOM node what it holds of a "
               "study (%s): its instances are sent",
               d->id, e.msg);
    }
}

/* 1 when d->known holds sop */
static int
known_has(const struct dstore *d, const char *sop)
{
    return d->known.n > 0 && bsearch(&sop, d->known.v, d->known.n,
                                     sizeof(*d->known.v), cmp_strp) != NULL;
}

/* With skip-existing: 1 when the node holds the instance of file src
 * already (then it is not sent). A file that cannot be read is sent:
 * C-STORE's reading says what is wrong with it. */
static int
on_node(struct dstore *d, const struct sl_item *it, const char *src)
{
    struct sl_dicom_summary *sum = NULL;
    const struct sl_dicom_summary *use;
    struct sl_err e = { 0 };
    int yes;

    if (!d->skip_existing)
        return 0;
    if (it->summary_set && it->summary != NULL)
        use = it->summary;
    else if (sl_dicom_summary_read(src, &sum, &e) == SL_OK)
        use = sum;
    else
        return 0;
    learn_study(d, use->study_uid);
    yes = d->skip_existing && known_has(d, use->sop_uid);
    sl_dicom_summary_free(sum);
    return yes;
}

/* What a C-STORE status means (PS3.4 B.2.3 and PS3.7 C). */
static const char *
status_text(unsigned st)
{
    if (st == 0x0000)
        return "success";
    if ((st & 0xF000) == 0xB000)
        return "warning";
    if ((st & 0xFF00) == 0xA700)
        return "refused: out of resources";
    if ((st & 0xFF00) == 0xA900)
        return "error: data set does not match SOP class";
    if ((st & 0xF000) == 0xC000)
        return "error: cannot understand";
    if (st == 0x0122)
        return "refused: SOP class not supported";
    if (st == 0x0124)
        return "refused: not authorized";
    if (st == 0x0211)
        return "unrecognized operation";
    if (st == 0x0212)
        return "mistyped argument";
    return "failure";
}

static void
nap(long attempt)
{
    /* 1, 2, 4, ... seconds, at most 30 */
    long s = attempt >= 5 ? 30 : 1L << (attempt - 1);
    struct timespec ts = { s > 30 ? 30 : s, 0 };

    nanosleep(&ts, NULL);
}

static void dstore_close(void *ctx);

static int
dstore_open(const struct sl_config *cfg, const struct sl_conf_node *node,
            const char *run_id, const char *state, void **ctx,
            struct sl_err *err)
{
    struct dstore *d;
    const char *conv = sl_conf_get(node, "convert");
    char msg[256];
    int rc;

    (void)cfg;
    (void)run_id;
    (void)state; /* nothing to roll back: see the head of this file */
    if (sl_dicom_init(msg, sizeof(msg)) != 0)
        return SL_ERR(err, SL_EINTERNAL, "%s", msg);
    d = sl_calloc(1, sizeof(*d));
    d->id = node->id;
    d->peer.host = sl_conf_get(node, "host");
    d->peer.port = (int)sl_conf_get_long(node, "port", 104);
    d->peer.called_ae = sl_conf_get(node, "called-ae");
    d->peer.calling_ae = sl_conf_get(node, "calling-ae");
    d->peer.timeout = (int)sl_conf_get_long(node, "timeout", 30);
    d->peer.tls_ca = sl_conf_get_path(cfg, node, "tls-ca-file");
    d->peer.tls_cert = sl_conf_get_path(cfg, node, "tls-cert-file");
    d->peer.tls_key = sl_conf_get_path(cfg, node, "tls-key-file");
    d->attempts = sl_conf_get_long(node, "max-attempts", 5);
    d->skip_existing = sl_conf_get(node, "skip-existing") == NULL ||
                       strcmp(sl_conf_get(node, "skip-existing"), "no") != 0;
    if (d->peer.host == NULL || d->peer.called_ae == NULL ||
        d->peer.calling_ae == NULL) {
        free((char *)d->peer.tls_ca);
        free((char *)d->peer.tls_cert);
        free((char *)d->peer.tls_key);
        free(d);
        return SL_ERR(err, SL_ECONFIG,
                      "target '%s': host, called-ae and "
                      "calling-ae are needed",
                      node->id ? node->id : "?");
    }
    rc = sl_dicom_scu_new(&d->peer, conv == NULL || strcmp(conv, "never") != 0,
                          &d->scu, err);
    /* the SCU keeps its own copies; the C-FINDs of skip-existing borrow
     * these until close */
    if (rc != SL_OK) {
        dstore_close(d);
        return rc;
    }
    *ctx = d;
    return SL_OK;
}

static int
dstore_put(void *ctx, struct sl_item *it, int *taken, struct sl_err *err)
{
    struct dstore *d = ctx;
    const char *src = it->tmp_path ? it->tmp_path : it->path;
    struct sl_err e = { 0 };
    char xfer[72];
    unsigned st = 0;
    long attempt;
    int rc = SL_OK, why = 0;

    *taken = 0;
    if (it->kind != SL_ITEM_DICOM)
        return SL_OK;
    *taken = 1;
    if (d->scu == NULL)
        return SL_ERR(err, SL_EINTERNAL, "target '%s': put after finish",
                      d->id);
    if (src == NULL)
        return SL_ERR(err, SL_EINTERNAL, "target '%s': item %s has no file",
                      d->id, it->pos ? it->pos : "?");
    if (on_node(d, it, src)) {
        sl_item_finding(it, "dicom-store", SL_SEV_INFO, "already-on-node",
                        NULL);
        d->skipped++;
        return SL_OK;
    }
    for (attempt = 1; attempt <= d->attempts; attempt++) {
        memset(&e, 0, sizeof(e));
        rc = sl_dicom_scu_store(d->scu, src, &st, xfer, &why, &e);
        if (rc != SL_ENET)
            break;
        sl_log(SL_LOG_WARN, "target '%s', item %s: attempt %ld of %ld: %s",
               d->id, it->pos ? it->pos : "?", attempt, d->attempts, e.msg);
        if (attempt < d->attempts)
            nap(attempt);
    }
    if (rc == SL_ENET)
        return SL_ERR(err, SL_ENET,
                      "target '%s': item %s: %s (after %ld "
                      "attempts)",
                      d->id, it->pos ? it->pos : "?", e.msg, d->attempts);
    if (rc == SL_EDICOM) {
        d->refused++;
        return sl_item_quarantine(it, "dicom-store", "target %s: %s", d->id,
                                  e.msg);
    }
    if (rc != SL_OK)
        return SL_ERR(err, rc, "target '%s': item %s: %s", d->id,
                      it->pos ? it->pos : "?", e.msg);
    if (st != 0x0000 && (st & 0xF000) != 0xB000) {
        d->refused++;
        return sl_item_quarantine(it, "dicom-store",
                                  "target %s: the DICOM node refused the "
                                  "instance: C-STORE status 0x%04X (%s)",
                                  d->id, st, status_text(st));
    }
    if (st != 0x0000)
        sl_item_finding(it, "dicom-store", SL_SEV_WARNING, "c-store-warning",
                        NULL);
    d->sent++;
    return SL_OK;
}

static int
dstore_checkpoint(void *ctx, char **state, struct sl_err *err)
{
    struct dstore *d = ctx;

    (void)err;
    /* every instance put so far was answered: nothing to flush */
    *state =
        sl_asprintf("sent=%" PRIu64 " skipped=%" PRIu64 " refused=%" PRIu64,
                    d->sent, d->skipped, d->refused);
    return SL_OK;
}

static int
dstore_finish(void *ctx, struct sl_err *err)
{
    struct dstore *d = ctx;

    (void)err;
    /* release the association now rather than when the run is freed;
     * nothing is put after finish() */
    sl_dicom_scu_free(d->scu);
    d->scu = NULL;
    if (d->skipped > 0)
        sl_log(SL_LOG_INFO,
               "target '%s': %" PRIu64 " instances already on the DICOM "
               "node were not sent again",
               d->id, d->skipped);
    return SL_OK;
}

static void
dstore_close(void *ctx)
{
    struct dstore *d = ctx;

    if (d == NULL)
        return;
    sl_dicom_scu_free(d->scu);
    free((char *)d->peer.tls_ca);
    free((char *)d->peer.tls_cert);
    free((char *)d->peer.tls_key);
    free(d->known_study);
    sl_strv_free(&d->known);
    free(d);
}

const struct sl_sink_ops sl_sink_dicom_store = {
    .type = "dicom-store",
    .open = dstore_open,
    .put = dstore_put,
    .checkpoint = dstore_checkpoint,
    .finish = dstore_finish,
    .close = dstore_close,
};

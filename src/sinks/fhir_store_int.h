/* fhir_store_int.h - what fhir_store.c (the sink: entries, the queue of
 * Bundles, the threads that send them) and fhir_store_send.c (one Bundle
 * built and sent, bisected when refused) share. */
#ifndef SL_FHIR_STORE_INT_H
#define SL_FHIR_STORE_INT_H

#include <pthread.h>

#include <jansson.h>

#include "http/http.h"
#include "item/item.h"

enum store_mode { MODE_NONE, MODE_BATCH, MODE_TRANSACTION };

/* One resource waiting to be sent. */
struct entry {
    json_t *res;      /* owned reference; never changed (shared) */
    const char *text; /* its JSON text: copy->out_json, or NULL */
    size_t text_len;
    char *ref;            /* "Type/id" */
    char *if_none_exist;  /* conditional create: "identifier=S|V", or NULL */
    char full_url[46];    /* "urn:uuid:" + a UUID named by ref */
    struct sl_item *copy; /* what is quarantined if the server refuses it */
    int del;              /* DELETE ref (item.h: deleted), no resource */
};

struct store {
    const char *id;
    struct sl_http *http;
    struct sl_http_auth *auth; /* or NULL; the client borrows it */
    enum store_mode mode;
    long size;
    int conditional; /* conditional="identifier" */
    int concurrency;
    /* the Bundle being filled, by the writer's thread only */
    struct entry *pend;
    size_t npend;
    /* everything below is guarded by mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct bundle_job *qhead, *qtail;
    size_t queued;
    int inflight, stopping;
    pthread_t *threads;
    int nthreads;
    int failed; /* a Bundle could not be sent: ferr says why */
    struct sl_err ferr;
    struct sl_item **refused;
    size_t nrefused;
    unsigned long long sent; /* resources the server took, this attempt */
};

/* Sends entries [lo, hi) of e: one Bundle (or one request for
 * MODE_NONE), split in halves when refused until the refused entries are
 * alone. Refused entries' copies go to s->refused, accepted ones count in
 * s->sent. Returns SL_OK unless the server could not be reached or
 * answered something that is not a Bundle reply (err says which). Safe to
 * call from several threads at once. */
int store_send(struct store *s, struct entry *e, size_t lo, size_t hi,
               struct sl_err *err);

/* The Bundle of entries [lo, hi) of e (s->mode: its type, and whether
 * references are rewritten) as JSON text, written from each entry's
 * serialised resource: no document is built, the Bundle being the bulk of
 * what the target costs. Caller frees. */
char *store_bundle_text(struct store *s, struct entry *e, size_t lo, size_t hi);

/* diagnostics kept in a quarantine reason (store_diagnostics) */
#define DIAG_MAX 300

/* The diagnostics of an OperationOutcome oo (issue[].diagnostics, else
 * details.text), joined by "; ", control characters blanked, at most
 * DIAG_MAX bytes and "..." (or "no diagnostics", also for a NULL or
 * malformed oo): only the text the server wrote, no other element of the
 * reply. Caller frees. */
char *store_diagnostics(const json_t *oo);

/* How the server answered one entry of a batch. */
struct store_verdict {
    long status; /* response.status read as a number (strtol); 0: none */
    int taken;   /* a 2xx status, or 404/410 for a DELETE */
    char *diag;  /* not taken: store_diagnostics(response.outcome), which
                  * the caller frees; taken: NULL */
};

/* Reads the server's batch-response (reply: the parsed body, or NULL) to
 * a batch Bundle of the n entries e (only e[i].del is read). Returns the
 * number of entries the reply holds; only when it is n are v[0..n)
 * written, in the order of the Bundle's entries (FHIR R4 3.1.0.11.3). */
size_t store_batch_reply(const json_t *reply, const struct entry *e,
                         size_t n, struct store_verdict *v);

/* Frees what e holds (not e itself). */
void store_entry_clear(struct entry *e);

/* A copy of what the quarantine needs of an item (item.h: refused). */
struct sl_item *store_item_copy(const struct sl_item *it, const char *text,
                                size_t len);

/* "urn:uuid:" + a UUID (version 5, RFC 9562) named by ref: the same
 * resource gets the same fullUrl on every run. out holds 46 bytes. */
void store_full_url(const char *ref, char out[46]);

#endif

/* state_int.h - what every state store backend shares (state.c). Not for
 * callers of the store: they use state.h. */
#ifndef SL_STATE_INT_H
#define SL_STATE_INT_H

#include <stddef.h>

#include "common/common.h"
#include "common/seal.h"
#include "state/state.h"

struct sl_state {
    const struct sl_state_ops *ops;
    void *be; /* the backend's handle */
    char *path;
    unsigned char *qkey; /* the quarantine key, or NULL */
    size_t qkey_len;
};

/* What each sealed part of a quarantined item is sealed for (seal.h). */
#define CTX_DATA SL_SEAL_CTX_QDATA
#define CTX_ORIGIN SL_SEAL_CTX_QORIGIN
#define CTX_DICOM SL_SEAL_CTX_QDICOM
/* A checkpoint's source positions: the names of input files, which may
 * carry a patient's name, sealed under the quarantine key. */
#define CTX_CHECKPOINT "sluice checkpoint sources"

/* Opens a sealed item in place (data too when with_data); without the
 * key, or with another one, it is marked sealed and its data and origin
 * dropped (quarantine_seal.c). */
int sl_state_qitem_open(struct sl_state *st, struct sl_qitem *q,
                        int with_data, struct sl_err *err);

/* A new run id, run-YYYYMMDD-HHMMSS-xxxxxx: sortable by start, unique by
 * a random suffix (a backend retries on the rare clash). */
int sl_state_run_id_make(char id[64], struct sl_err *err);

/* Who and where, for the audit trail: the effective user's name (else
 * uid:N) and the host name (else "unknown"). */
void sl_state_identity(char *user, size_t userlen, char *host, size_t hostlen);

struct sl_audit_rec;
/* The audit chain (state.h): out receives the record's hash, SHA-256 in
 * hex over prev (the previous record's hash, "" for the first) and the
 * record's fields as netstrings (a NULL field as "-"), so that no two
 * different records hash alike. */
void sl_state_audit_hash(const struct sl_audit_rec *r, const char *prev,
                         char out[65]);
/* HMAC-SHA256 with key over the hash's hex, in hex. */
void sl_state_audit_mac(const void *key, size_t len, const char *hash,
                        char out[65]);

#endif

/* state_int.h - what every state store backend shares (state.c). Not for
 * callers of the store: they use state.h. */
#ifndef SL_STATE_INT_H
#define SL_STATE_INT_H

#include <stddef.h>

#include "common/common.h"

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

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

#endif

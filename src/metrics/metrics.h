/* metrics.h - health and Prometheus metrics over HTTP for the daemon
 * (libmicrohttpd): /healthz, /readyz and /metrics on a loopback address by
 * default. Labels hold job ids, resource types, stages, codes and
 * statuses: never patient data or a path. */
#ifndef SL_METRICS_H
#define SL_METRICS_H

#include "common/common.h"

struct sl_metrics;

/* Serves on addr ("127.0.0.1:9464", "[::1]:9464" or a port alone, which
 * means 127.0.0.1). SL_ECONFIG for an address it cannot read, SL_EIO when
 * it cannot listen. */
int sl_metrics_start(const char *addr, struct sl_metrics **out,
                     struct sl_err *err);
void sl_metrics_stop(struct sl_metrics *m); /* NULL-safe */

/* /readyz answers 200 once ready is set, 503 before. */
void sl_metrics_ready(struct sl_metrics *m, int ready);
/* A run of job started / read `items` so far / ended. summary_json is the
 * run's summary as the state store keeps it (types, findings), or NULL. */
void sl_metrics_run_start(struct sl_metrics *m, const char *job);
void sl_metrics_run_progress(struct sl_metrics *m, const char *job,
                             unsigned long long items,
                             unsigned long long quarantined);
void sl_metrics_run_end(struct sl_metrics *m, const char *job,
                        const char *status, double seconds,
                        const char *summary_json);
/* Items open in the quarantine, after a run or a purge. */
void sl_metrics_quarantine_open(struct sl_metrics *m, unsigned long long n);

/* The exposition text (Prometheus 0.0.4); the caller frees it. */
char *sl_metrics_render(struct sl_metrics *m);

#endif

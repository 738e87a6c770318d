/* report.h - a run's HTML report (report_html.c), for `sluice report` and
 * the daemon. */
#ifndef SL_CLI_REPORT_H
#define SL_CLI_REPORT_H

#include <stdio.h>

#include "common/common.h"

struct sl_state;

/* Writes run_id's report to f: one self-contained HTML page (inline SVG
 * charts, no external assets). SL_ENOTFOUND for an unknown run. */
int sl_report_write(struct sl_state *st, const char *run_id, FILE *f,
                    struct sl_err *err);

/* Writes the report of run_id to DIR/RUN.html (DIR created 0700) and
 * removes the oldest reports beyond keep. */
int sl_report_keep(struct sl_state *st, const char *run_id, const char *dir,
                   int keep, struct sl_err *err);

#endif

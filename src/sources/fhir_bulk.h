/* fhir_bulk.h - what the files of the fhir-bulk source share (private to
 * src/sources): the manifest of a finished export, the source's
 * checkpoint, and the downloader that spools output files to disk.
 *
 * HL7 FHIR Bulk Data Access IG (v2.0.0): kick-off, status, manifest,
 * files; docs/connectors.md says what sluice does with each. */
#ifndef SL_SOURCES_FHIR_BULK_H
#define SL_SOURCES_FHIR_BULK_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "common/common.h"

struct sl_http;

/* One file of a manifest: an `output` or an `error` entry. */
struct bulk_file {
    char *type; /* resource type ("OperationOutcome" for errors) */
    char *url;  /* absolute http(s) URL (never printed: it may hold a
                   signature) */
    int error;  /* from the manifest's `error` array */
};

/* A manifest: outputs first, in the server's order, then errors. */
struct bulk_manifest {
    char *transaction_time; /* FHIR instant, safe in a query string */
    int requires_token;
    size_t n, noutputs;
    struct bulk_file *files;
};

/* Parses a complete-status body. On success *m owns what it holds (clear
 * with bulk_manifest_clear); on failure err names the element
 * ("output[2].url") and why, never a value. m is cleared first. */
int bulk_manifest_parse(const char *json, size_t len, struct bulk_manifest *m,
                        struct sl_err *err);
void bulk_manifest_clear(struct bulk_manifest *m); /* NULL-safe */

/* The diagnostics of an OperationOutcome body (issue[].diagnostics, else
 * details.text), joined, control characters blanked, at most ~300 bytes:
 * only what the server wrote for people. NULL when there is none. Caller
 * frees. */
char *bulk_outcome_text(const char *body, size_t len);

/* 1 when s is a FHIR instant (YYYY-MM-DDThh:mm:ss[.f+](Z|+hh:mm|-hh:mm)):
 * what _since and transactionTime must be. */
int bulk_instant_ok(const char *s);

/* A status reply's X-Progress header v (or NULL) as the progress bar and
 * the log show it, into out (len bytes, at least 1): at most 60 bytes,
 * whole UTF-8 characters only, control characters (C0, DEL, C1) as
 * spaces, bytes that are not UTF-8 as '?'. */
void bulk_progress_text(const char *v, char *out, size_t len);

/* The source's checkpoint:
 *   "bulk1\tSINCE\tTT\tFILE\tLINES\tSTATUS-URL"
 * SINCE: the _since of the export ("-" for none); TT: its manifest's
 * transactionTime ("-" before the manifest came); FILE: 1-based number of
 * the manifest file being read; LINES: its lines already taken; STATUS-URL:
 * the export's status URL. */
struct bulk_ck {
    char *since, *tt, *status_url;
    size_t file;
    uint64_t lines;
};
int bulk_ck_parse(const char *s, struct bulk_ck *ck);
char *bulk_ck_format(const struct bulk_ck *ck); /* caller frees */
void bulk_ck_clear(struct bulk_ck *ck);         /* NULL-safe */

/* ---- the downloader (fhir_bulk_fetch.c) -------------------------------- */
/* Downloads the files of a manifest, from number `first` (0-based) on, up
 * to `ahead` files ahead of the one being read, `threads` at a time, each
 * into DIR/N (through DIR/N.part; Content-Encoding: gzip is decoded by
 * libcurl, a gzip body is left as it came and read through zlib). */
struct bulk_fetch;
/* http: the client for the files (with or without the token, as the
 * manifest says); borrowed. stop: the run's stop flag, or NULL. */
int bulk_fetch_start(struct sl_http *http, const struct bulk_manifest *m,
                     size_t first, int threads, const char *dir,
                     const char *source_id, const volatile sig_atomic_t *stop,
                     struct bulk_fetch **out, struct sl_err *err);
/* Waits until file i is downloaded; *path is then its spool file
 * (owned by the fetcher, removed by bulk_fetch_done). SL_EINTR when the
 * stop flag was set, or the download's error. */
int bulk_fetch_wait(struct bulk_fetch *f, size_t i, const char **path,
                    struct sl_err *err);
/* File i is read: its spool file goes, a later one may start. */
void bulk_fetch_done(struct bulk_fetch *f, size_t i);
/* Stops the threads, removes the spool files. NULL-safe. */
void bulk_fetch_free(struct bulk_fetch *f);

#endif

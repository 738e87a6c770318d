/* http.h - every HTTP request sluice makes goes through here (the only
 * folder that includes libcurl's headers in its sources).
 *
 * A client (struct sl_http) belongs to one source or target: its base URL,
 * CA file, client certificate, timeouts, retry policy and a pool of easy
 * handles, so connections (and HTTP/2 where the server offers it) are
 * reused between requests. TLS peers are always verified: a CA file can be
 * named, verification cannot be turned off. Proxies come from the
 * environment (libcurl's http_proxy, https_proxy, no_proxy).
 *
 * Requests take their body from memory; responses stream to a callback,
 * or are collected up to a bound for small JSON replies. 429, 5xx and
 * connection failures are retried with exponential backoff and jitter,
 * honouring Retry-After (seconds or an HTTP date), up to a limit; other
 * 4xx are not retried. Error messages name the URL's host and path and
 * the status, never a response body (it may hold patient data) nor the
 * query string (it may hold search values).
 *
 * Thread-safe: requests of one client may run on several threads at once,
 * up to its concurrency limit (extra callers wait). */
#ifndef SL_HTTP_H
#define SL_HTTP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

struct sl_http;
/* Authentication of a client (src/http/auth.h); opaque here. */
struct sl_http_auth;

struct sl_http_opts {
    const char *base;      /* base URL, e.g. "https://h/fhir/R4" (copied) */
    const char *ca_file;   /* PEM bundle of trusted CAs, or NULL: system's */
    const char *cert_file; /* client certificate (PEM) for mutual TLS */
    const char *key_file;  /* its private key (PEM) */
    long connect_timeout_ms; /* 0: 10 s */
    long timeout_ms;         /* a whole request; 0: 300 s */
    int max_attempts;        /* tries of one request, 0: 5 */
    long backoff_ms;         /* first wait between tries, 0: 500 ms */
    long backoff_max_ms;     /* longest wait (Retry-After included), 0: 60 s */
    int concurrency;         /* requests at once, 0: 4 */
    struct sl_http_auth *auth; /* borrowed, may be NULL: see http.c */
};

/* Makes a client. *out owns it; free with sl_http_free(). Fails on a
 * base URL that is not http:// or https://. */
int sl_http_new(const struct sl_http_opts *o, struct sl_http **out,
                struct sl_err *err);
void sl_http_free(struct sl_http *h); /* NULL-safe */
/* Optional: a flag (a run's stop flag) that, once non-zero, ends the wait
 * between tries and the tries themselves: sl_http_do then fails with
 * SL_EINTR. stop is borrowed; NULL (the default) never stops. */
void sl_http_set_stop(struct sl_http *h, const volatile sig_atomic_t *stop);
/* How many tries this client made after a request's first (429, 5xx,
 * connection failures), since it was made; 0 for NULL. For the metrics
 * and the run report: a target or source that keeps retrying is one to
 * look at before it fails. */
uint64_t sl_http_retries(const struct sl_http *h);

/* Called with each piece of a response body as it arrives; returns 0 to
 * go on, anything else to abort the request (an SL_EIO error). The body
 * of an attempt that is retried is not delivered. */
typedef int (*sl_http_sink_fn)(void *arg, const char *data, size_t n);

struct sl_http_req {
    const char *method;       /* "GET", "PUT", "POST", "DELETE" */
    const char *path;         /* appended to the base ("Patient/1", "" for
                                 the base itself), or an absolute URL */
    const char *content_type; /* of body, e.g. "application/fhir+json" */
    const char *body;         /* borrowed, or NULL */
    size_t body_len;
    const char *const *headers; /* extra "Name: value" lines, NULL-ended */
    sl_http_sink_fn sink;     /* where the body goes (NULL: discarded) */
    void *sink_arg;
    /* Called with sink_arg before every try after the first: a try that
     * failed mid-body (a reset, a truncated body) may have delivered part
     * of it, and the next try delivers the body again from its start.
     * NULL: nothing is called (a sl_http_collect body is emptied anyway). */
    void (*restart)(void *arg);
    /* Optional: names of response headers whose values the response
     * keeps (case-insensitive, NULL-ended, at most SL_HTTP_CAPTURE_MAX),
     * e.g. "Content-Location"; see sl_http_resp.captured. */
    const char *const *capture;
};

#define SL_HTTP_CAPTURE_MAX 8

struct sl_http_resp {
    long status;   /* the final attempt's HTTP status (0: no response) */
    int attempts;  /* tries made */
    /* The final attempt's values of rq->capture's headers, in its order
     * (NULL when absent; at most 1024 bytes each, the last one given
     * wins); owned: free with sl_http_resp_clear(). */
    char *captured[SL_HTTP_CAPTURE_MAX];
    /* The final attempt's Retry-After in milliseconds, -1 when none. */
    long retry_after_ms;
};

/* Frees what a response captured. NULL-safe. */
void sl_http_resp_clear(struct sl_http_resp *resp);

/* Performs one request with retries. Returns SL_OK when a response came
 * (any status: the caller decides what a 4xx means; resp->status says),
 * SL_ENET when every try failed on the network, timed out or got 429/5xx
 * (err names host, path and the last status or libcurl's words), SL_EIO
 * when the sink aborted. */
int sl_http_do(struct sl_http *h, const struct sl_http_req *rq,
               struct sl_http_resp *resp, struct sl_err *err);

/* A bounded body: sl_http_collect as the sink with one of these as the
 * argument keeps at most max bytes and aborts the request beyond. */
struct sl_http_body {
    struct sl_buf buf;
    size_t max;
};
int sl_http_collect(void *arg, const char *data, size_t n);
/* Its restart (sl_http_req.restart): forgets what a failed attempt gave. */
void sl_http_collect_restart(void *arg);

/* The URL a request path makes (caller frees), for messages: host and
 * path only, no query string, no user info. */
char *sl_http_url_for_log(const struct sl_http *h, const char *path);

/* One response header line as libcurl hands it over (n bytes, its line
 * end included, not NUL-terminated): when it is "name:" (name compared
 * without case) with a value of less than about 1 KiB, the value, a
 * pointer into line without the blanks and line end around it, and its
 * length in *vlen; else NULL. What rq->capture keeps. */
const char *sl_http_header_value(const char *line, size_t n, const char *name,
                                 size_t *vlen);

/* The wait, in milliseconds, that a Retry-After value asks for (seconds,
 * or an HTTP date relative to now_s), or -1 when it is not one. */
long sl_http_retry_after_ms(const char *value, long long now_s);

#endif

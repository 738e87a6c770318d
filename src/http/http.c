/* http.c - the HTTP client over libcurl (see http.h).
 *
 * Connections are reused by keeping finished easy handles in a pool (each
 * keeps its connection cache), at most `concurrency` of them, one per
 * request in flight. Authentication (auth.h) is applied just before each
 * attempt and a 401 drops the cached token once: see the two marked
 * places in attempt_one() and sl_http_do(). */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "http/auth.h"
#include "http/http.h"

struct sl_http {
    char *base; /* without a trailing slash */
    char *ca_file, *cert_file, *key_file;
    long connect_timeout_ms, timeout_ms, backoff_ms, backoff_max_ms;
    int max_attempts, concurrency;
    struct sl_http_auth *auth;
    const volatile sig_atomic_t *stop; /* or NULL */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int busy;     /* handles out of the pool */
    CURL **pool;  /* idle handles */
    int npool;
    unsigned int seed; /* jitter */
    _Atomic uint64_t retries; /* tries after a request's first */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void
global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *
nstrdup(const char *s)
{
    return s ? sl_strdup(s) : NULL;
}

int
sl_http_new(const struct sl_http_opts *o, struct sl_http **out,
            struct sl_err *err)
{
    struct sl_http *h;
    size_t n;

    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return SL_ERR(err, SL_EINTERNAL, "libcurl cannot start: %s",
                      curl_easy_strerror(global_rc));
    if (o->base == NULL || (strncmp(o->base, "http://", 7) != 0 &&
                            strncmp(o->base, "https://", 8) != 0))
        return SL_ERR(err, SL_ECONFIG, "base URL must start with http:// "
                                       "or https://");
    h = sl_calloc(1, sizeof(*h));
    h->base = sl_strdup(o->base);
    n = strlen(h->base);
    while (n > 0 && h->base[n - 1] == '/')
        h->base[--n] = '\0';
    h->ca_file = nstrdup(o->ca_file);
    h->cert_file = nstrdup(o->cert_file);
    h->key_file = nstrdup(o->key_file);
    h->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms
                                                      : 10000;
    h->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 300000;
    h->max_attempts = o->max_attempts > 0 ? o->max_attempts : 5;
    h->backoff_ms = o->backoff_ms > 0 ? o->backoff_ms : 500;
    h->backoff_max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : 60000;
    h->concurrency = o->concurrency > 0 ? o->concurrency : 4;
    h->auth = o->auth;
    h->pool = sl_calloc((size_t)h->concurrency, sizeof(*h->pool));
    h->seed = (unsigned int)time(NULL) ^ (unsigned int)(size_t)h;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    *out = h;
    return SL_OK;
}

void
sl_http_free(struct sl_http *h)
{
    int i;

    if (h == NULL)
        return;
    for (i = 0; i < h->npool; i++)
        curl_easy_cleanup(h->pool[i]);
    free(h->pool);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h->base);
    free(h->ca_file);
    free(h->cert_file);
    free(h->key_file);
    free(h);
}

void
sl_http_set_stop(struct sl_http *h, const volatile sig_atomic_t *stop)
{
    h->stop = stop;
}

static int
stop_asked(const struct sl_http *h)
{
    return h->stop != NULL && *h->stop != 0;
}

/* Takes a handle from the pool, waiting while `concurrency` are out. */
static CURL *
handle_get(struct sl_http *h)
{
    CURL *c;

    pthread_mutex_lock(&h->mu);
    while (h->busy >= h->concurrency)
        pthread_cond_wait(&h->cv, &h->mu);
    h->busy++;
    c = h->npool > 0 ? h->pool[--h->npool] : NULL;
    pthread_mutex_unlock(&h->mu);
    if (c == NULL)
        c = curl_easy_init();
    else
        curl_easy_reset(c); /* keeps its connections */
    return c;
}

static void
handle_put(struct sl_http *h, CURL *c, int keep)
{
    pthread_mutex_lock(&h->mu);
    h->busy--;
    if (keep && c != NULL && h->npool < h->concurrency)
        h->pool[h->npool++] = c;
    else if (c != NULL)
        curl_easy_cleanup(c);
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

/* Frees a header list after wiping every line: one of them may be the
 * Authorization header with a bearer token, or the session token of
 * SigV4, and freed heap memory is not cleared by anyone else. */
static void
headers_free(struct curl_slist *l)
{
    struct curl_slist *p;

    for (p = l; p != NULL; p = p->next)
        if (p->data != NULL)
            OPENSSL_cleanse(p->data, strlen(p->data));
    curl_slist_free_all(l);
}

static int
is_absolute(const char *p)
{
    return strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0;
}

static char *
url_for(const struct sl_http *h, const char *path)
{
    if (path == NULL || *path == '\0')
        return sl_strdup(h->base);
    if (is_absolute(path))
        return sl_strdup(path);
    while (*path == '/')
        path++;
    return sl_asprintf("%s/%s", h->base, path);
}

char *
sl_http_url_for_log(const struct sl_http *h, const char *path)
{
    char *url = url_for(h, path), *p, *at, *host;
    size_t skip;

    /* drop user info ("user:pass@") and everything from '?' or '#' */
    skip = strncmp(url, "https://", 8) == 0 ? 8 : 7;
    host = url + skip;
    p = host + strcspn(host, "/?#");
    at = memchr(host, '@', (size_t)(p - host));
    if (at != NULL)
        memmove(host, at + 1, strlen(at + 1) + 1);
    url[strcspn(url + skip, "?#") + skip] = '\0';
    return url;
}

long
sl_http_retry_after_ms(const char *v, long long now_s)
{
    char *end;
    long long s;
    time_t t;

    if (v == NULL)
        return -1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v >= '0' && *v <= '9') {
        s = strtoll(v, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (*end != '\0' || s < 0 || s > 86400 * 365)
            return -1;
        return (long)(s * 1000);
    }
    t = curl_getdate(v, NULL); /* RFC 7231 HTTP-date and its old forms */
    if (t == (time_t)-1)
        return -1;
    if ((long long)t <= now_s)
        return 0;
    if ((long long)t - now_s > 86400LL * 365)
        return -1;
    return (long)(((long long)t - now_s) * 1000);
}

int
sl_http_collect(void *arg, const char *data, size_t n)
{
    struct sl_http_body *b = arg;

    if (b->buf.len + n > b->max)
        return 1;
    sl_buf_add(&b->buf, data, n);
    return 0;
}

void
sl_http_collect_restart(void *arg)
{
    struct sl_http_body *b = arg;

    sl_buf_reset(&b->buf);
}

/* One attempt's state. */
struct attempt {
    const struct sl_http_req *rq;
    int sink_failed;
    int delivered;       /* some of the body went to the sink */
    char *captured[SL_HTTP_CAPTURE_MAX];
    long retry_after_ms; /* -1: none */
    int deliver;         /* 0 while the status says the body is not wanted */
    int skip_401;        /* a 401 will be retried with a new token */
    int auth_failed;     /* the auth could not be applied (aerr says why) */
    struct sl_err aerr;
    CURL *c;
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct attempt *a = arg;
    size_t n = size * nmemb;
    long status = 0;

    curl_easy_getinfo(a->c, CURLINFO_RESPONSE_CODE, &status);
    /* a response that will be retried is not the caller's */
    if (status == 429 || status >= 500 || (status == 401 && a->skip_401))
        return n;
    if (a->rq->sink == NULL)
        return n;
    a->delivered = 1;
    if (a->rq->sink(a->rq->sink_arg, data, n) != 0) {
        a->sink_failed = 1;
        return 0;
    }
    return n;
}

const char *
sl_http_header_value(const char *line, size_t n, const char *name,
                     size_t *vlen)
{
    size_t len = strlen(name);
    const char *v;
    size_t vn;

    if (!(n > len + 1 && n < len + 1 + 1024 &&
          strncasecmp(line, name, len) == 0 && line[len] == ':'))
        return NULL;
    v = line + len + 1;
    vn = n - len - 1;
    while (vn > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vn--;
    }
    while (vn > 0 && (v[vn - 1] == '\r' || v[vn - 1] == '\n' ||
                      v[vn - 1] == ' ' || v[vn - 1] == '\t'))
        vn--;
    *vlen = vn;
    return v;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    struct attempt *a = arg;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    size_t k;

    if (n > 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* a new response (after a redirect or a 1xx): forget the last */
        for (k = 0; k < SL_HTTP_CAPTURE_MAX; k++) {
            free(a->captured[k]);
            a->captured[k] = NULL;
        }
        a->retry_after_ms = -1;
        return n;
    }
    for (k = 0; a->rq->capture && a->rq->capture[k] &&
                k < SL_HTTP_CAPTURE_MAX;
         k++) {
        size_t vn;
        const char *v =
            sl_http_header_value(data, n, a->rq->capture[k], &vn);
        if (v != NULL) {
            free(a->captured[k]);
            a->captured[k] = sl_strndup(v, vn);
        }
    }
    if (n > sizeof(name) - 1 && n < 256 &&
        strncasecmp(data, name, sizeof(name) - 1) == 0) {
        char v[256];
        memcpy(v, data + sizeof(name) - 1, n - (sizeof(name) - 1));
        v[n - (sizeof(name) - 1)] = '\0';
        v[strcspn(v, "\r\n")] = '\0';
        a->retry_after_ms = sl_http_retry_after_ms(v, (long long)time(NULL));
    }
    return n;
}

static int
retryable(long status)
{
    return status == 429 || (status >= 500 && status <= 599);
}

/* Performs one attempt; *status is 0 when no response came, and curl_rc
 * the transfer's result. */
static CURLcode
attempt_one(struct sl_http *h, CURL *c, const char *url, struct attempt *a,
            long *status, char *ebuf)
{
    const struct sl_http_req *rq = a->rq;
    struct curl_slist *hdrs = NULL;
    char *ua = NULL, *ct = NULL;
    const char *const *x;
    CURLcode rc;

    ebuf[0] = '\0';
    *status = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* gzip etc. offered */
    if (h->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
    if (h->cert_file)
        curl_easy_setopt(c, CURLOPT_SSLCERT, h->cert_file);
    if (h->key_file)
        curl_easy_setopt(c, CURLOPT_SSLKEY, h->key_file);
    ua = sl_asprintf("User-Agent: sluice/%s", PACKAGE_VERSION);
    hdrs = curl_slist_append(hdrs, ua);
    /* FHIR's, unless the request names its own (DICOMweb) */
    for (x = rq->headers; x && *x && strncasecmp(*x, "Accept:", 7) != 0; x++)
        ;
    if (x == NULL || *x == NULL)
        hdrs = curl_slist_append(hdrs, "Accept: application/fhir+json, "
                                       "application/json;q=0.9");
    /* no 100-continue wait; but libcurl 7.88 signs an "Expect:" that
     * only removes the header as if it were sent, and a SigV4 server
     * then computes another signature: there curl's own Expect stays */
    if (!sl_http_auth_signs_headers(h->auth))
        hdrs = curl_slist_append(hdrs, "Expect:");
    if (rq->content_type) {
        ct = sl_asprintf("Content-Type: %s", rq->content_type);
        hdrs = curl_slist_append(hdrs, ct);
    }
    for (x = rq->headers; x && *x; x++)
        hdrs = curl_slist_append(hdrs, *x);
    /* the credentials, last: a token is fetched or refreshed here */
    if (h->auth && sl_http_auth_apply(h->auth, c, &hdrs, &a->aerr) != SL_OK) {
        a->auth_failed = 1;
        headers_free(hdrs);
        free(ua);
        free(ct);
        return CURLE_ABORTED_BY_CALLBACK;
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
    if (strcmp(rq->method, "GET") == 0)
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    else if (strcmp(rq->method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (rq->body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)rq->body_len);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
    a->c = c;
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    headers_free(hdrs);
    free(ua);
    free(ct);
    return rc;
}

/* Sleeps ms, in slices of at most 100 ms when a stop flag is set, so a
 * stop does not wait out a long Retry-After. */
static void
sleep_ms(const struct sl_http *h, long ms)
{
    struct timespec ts;

    while (ms > 0 && !stop_asked(h)) {
        long slice = h->stop != NULL && ms > 100 ? 100 : ms;
        ts.tv_sec = slice / 1000;
        ts.tv_nsec = (slice % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) != 0)
            ;
        ms -= slice;
    }
}

/* The wait before try number `tried + 1`: backoff × 2^(tried-1) with
 * "full jitter" over its upper half, or what Retry-After asks, capped. */
static long
wait_ms(struct sl_http *h, int tried, long retry_after_ms)
{
    long base = h->backoff_ms, w;
    int i;
    unsigned int r;

    if (retry_after_ms >= 0)
        return retry_after_ms < h->backoff_max_ms ? retry_after_ms
                                                  : h->backoff_max_ms;
    for (i = 1; i < tried && base < h->backoff_max_ms; i++)
        base *= 2;
    if (base > h->backoff_max_ms)
        base = h->backoff_max_ms;
    pthread_mutex_lock(&h->mu);
    r = (unsigned int)rand_r(&h->seed);
    pthread_mutex_unlock(&h->mu);
    w = base / 2 + (long)(r % (unsigned int)(base / 2 + 1));
    return w;
}

int
sl_http_do(struct sl_http *h, const struct sl_http_req *rq,
           struct sl_http_resp *resp, struct sl_err *err)
{
    char ebuf[CURL_ERROR_SIZE];
    char *url = url_for(h, rq->path), *shown = NULL, *signable;
    struct attempt a;
    CURL *c = NULL;
    CURLcode crc = CURLE_OK;
    long status = 0, w;
    int tried = 0, rc = SL_OK, keep = 1, reauthed = 0;

    resp->status = 0;
    resp->attempts = 0;
    memset(resp->captured, 0, sizeof(resp->captured));
    resp->retry_after_ms = -1;
    memset(&a, 0, sizeof(a));
    /* SigV4 signs the query: put it in canonical form first */
    if ((signable = sl_http_auth_url(h->auth, url)) != NULL) {
        free(url);
        url = signable;
    }
    for (;;) {
        size_t k;
        for (k = 0; k < SL_HTTP_CAPTURE_MAX; k++)
            free(a.captured[k]);
        memset(&a, 0, sizeof(a));
        a.rq = rq;
        a.retry_after_ms = -1;
        a.skip_401 = h->auth != NULL && !reauthed;
        /* what a failed try delivered is not the caller's body */
        if (tried > 0 && rq->restart)
            rq->restart(rq->sink_arg);
        else if (tried > 0 && rq->sink == sl_http_collect)
            sl_buf_reset(&((struct sl_http_body *)rq->sink_arg)->buf);
        c = handle_get(h);
        if (c == NULL) {
            handle_put(h, NULL, 0);
            rc = SL_ERR(err, SL_ENOMEM, "libcurl: cannot make a handle");
            goto out;
        }
        crc = attempt_one(h, c, url, &a, &status, ebuf);
        tried++;
        /* a failed transfer may leave a connection in a bad state */
        keep = crc == CURLE_OK;
        handle_put(h, c, keep);
        c = NULL;
        if (a.sink_failed) {
            shown = sl_http_url_for_log(h, rq->path);
            rc = SL_ERR(err, SL_EIO, "%s %s: response refused by its reader "
                        "(HTTP %ld)", rq->method, shown, status);
            goto out;
        }
        if (a.auth_failed) {
            *err = a.aerr;
            rc = a.aerr.code ? a.aerr.code : SL_EIO;
            goto out;
        }
        /* a token the server no longer takes: one more try with a new one */
        if (crc == CURLE_OK && status == 401 && h->auth && !reauthed) {
            sl_http_auth_invalidate(h->auth);
            reauthed = 1;
            continue;
        }
        if (crc == CURLE_OK && !retryable(status))
            break;
        if (tried >= h->max_attempts)
            break;
        if (stop_asked(h)) {
            shown = sl_http_url_for_log(h, rq->path);
            rc = SL_ERR(err, SL_EINTR, "%s %s: stopped before try %d",
                        rq->method, shown, tried + 1);
            goto out;
        }
        if (crc != CURLE_OK && crc != CURLE_OPERATION_TIMEDOUT &&
            crc != CURLE_COULDNT_CONNECT && crc != CURLE_RECV_ERROR &&
            crc != CURLE_SEND_ERROR && crc != CURLE_GOT_NOTHING &&
            crc != CURLE_PARTIAL_FILE && crc != CURLE_COULDNT_RESOLVE_HOST &&
            crc != CURLE_HTTP2 && crc != CURLE_HTTP2_STREAM)
            break; /* TLS, protocol and usage errors are not retried */
        w = wait_ms(h, tried, a.retry_after_ms);
        sl_log(SL_LOG_DEBUG, "http: try %d of %d failed (%s, HTTP %ld), "
               "again in %ld ms", tried, h->max_attempts,
               curl_easy_strerror(crc), status, w);
        atomic_fetch_add(&h->retries, 1);
        sleep_ms(h, w);
        if (stop_asked(h)) {
            shown = sl_http_url_for_log(h, rq->path);
            rc = SL_ERR(err, SL_EINTR, "%s %s: stopped before try %d",
                        rq->method, shown, tried + 1);
            goto out;
        }
    }
    resp->status = status;
    resp->attempts = tried;
    memcpy(resp->captured, a.captured, sizeof(resp->captured));
    memset(a.captured, 0, sizeof(a.captured));
    resp->retry_after_ms = a.retry_after_ms;
    if (crc != CURLE_OK || retryable(status)) {
        shown = sl_http_url_for_log(h, rq->path);
        if (crc != CURLE_OK)
            rc = SL_ERR(err, SL_ENET, "%s %s: %s%s%s (after %d tr%s)",
                        rq->method, shown, curl_easy_strerror(crc),
                        ebuf[0] ? ": " : "", ebuf, tried,
                        tried == 1 ? "y" : "ies");
        else
            rc = SL_ERR(err, SL_ENET, "%s %s: HTTP %ld (after %d tr%s)",
                        rq->method, shown, status, tried,
                        tried == 1 ? "y" : "ies");
    }
out:
    {
        size_t k;
        for (k = 0; k < SL_HTTP_CAPTURE_MAX; k++)
            free(a.captured[k]);
    }
    free(url);
    free(shown);
    return rc;
}

void
sl_http_resp_clear(struct sl_http_resp *resp)
{
    size_t k;

    if (resp == NULL)
        return;
    for (k = 0; k < SL_HTTP_CAPTURE_MAX; k++) {
        free(resp->captured[k]);
        resp->captured[k] = NULL;
    }
}

uint64_t
sl_http_retries(const struct sl_http *h)
{
    return h ? atomic_load(&((struct sl_http *)h)->retries) : 0;
}

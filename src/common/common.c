/* common.c - status table, errors, memory and buffers. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/common.h"

struct status_row {
    const char *name;
    const char *msg;
    int http;
    int exitc;
};

static const struct status_row status_rows[] = {
#define SL_X_ROW(name, msg, http, exitc) {#name, msg, http, exitc},
    SL_STATUS_TABLE(SL_X_ROW)
#undef SL_X_ROW
};

static const struct status_row *
status_row(int code)
{
    if (code < 0 || code >= SL_STATUS_COUNT)
        code = SL_EINTERNAL;
    return &status_rows[code];
}

const char *
sl_status_name(int code)
{
    return status_row(code)->name;
}

const char *
sl_status_message(int code)
{
    return status_row(code)->msg;
}

int
sl_status_http(int code)
{
    return status_row(code)->http;
}

int
sl_status_exit(int code)
{
    return status_row(code)->exitc;
}

int
sl_err_set(struct sl_err *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return code;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

void
sl_err_prefix(struct sl_err *err, const char *fmt, ...)
{
    char old[sizeof(err->msg)];
    size_t n;
    va_list ap;

    if (err == NULL)
        return;
    memcpy(old, err->msg, sizeof(old));
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    n = strlen(err->msg);
    if (n + 2 < sizeof(err->msg)) {
        memcpy(err->msg + n, ": ", 3);
        n += 2;
        memcpy(err->msg + n, old, sizeof(err->msg) - n - 1);
        err->msg[sizeof(err->msg) - 1] = '\0';
    }
}

static void
oom(void)
{
    static const char m[] = "sluice: out of memory\n";
    fwrite(m, 1, sizeof(m) - 1, stderr);
    abort();
}

void *
sl_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom();
    return p;
}

void *
sl_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        oom();
    return p;
}

void *
sl_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        oom();
    return q;
}

char *
sl_strdup(const char *s)
{
    return s ? sl_strndup(s, strlen(s)) : NULL;
}

char *
sl_strndup(const char *s, size_t n)
{
    char *p = sl_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
sl_asprintf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom();
    p = sl_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void
sl_freezero(void *p, size_t n)
{
    if (p == NULL)
        return;
    /* explicit_bzero: a memset the compiler may not remove, vectorised
     * (OPENSSL_cleanse goes byte by byte: a fifth of a run's time when
     * every line of an export is wiped) */
    explicit_bzero(p, n);
    free(p);
}

void
sl_mutex_init_short(void *mu)
{
    pthread_mutexattr_t a;

    pthread_mutexattr_init(&a);
#ifdef PTHREAD_MUTEX_ADAPTIVE_NP
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
    pthread_mutex_init((pthread_mutex_t *)mu, &a);
    pthread_mutexattr_destroy(&a);
}

void
sl_buf_init(struct sl_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

static void
buf_grow(struct sl_buf *b, size_t need)
{
    size_t cap;

    if (b->len + need + 1 <= b->cap)
        return;
    cap = b->cap ? b->cap : 64;
    while (cap < b->len + need + 1)
        cap *= 2;
    b->data = sl_realloc(b->data, cap);
    b->cap = cap;
}

void
sl_buf_reserve(struct sl_buf *b, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->data = sl_realloc(b->data, b->len + n + 1);
        b->cap = b->len + n + 1;
    }
}

void
sl_buf_add(struct sl_buf *b, const void *p, size_t n)
{
    buf_grow(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void
sl_buf_adds(struct sl_buf *b, const char *s)
{
    sl_buf_add(b, s, strlen(s));
}

void
sl_buf_addc(struct sl_buf *b, char c)
{
    sl_buf_add(b, &c, 1);
}

void
sl_buf_addf(struct sl_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    buf_grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void
sl_buf_reset(struct sl_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *
sl_buf_steal(struct sl_buf *b)
{
    char *p = b->data ? b->data : sl_strdup("");
    sl_buf_init(b);
    return p;
}

void
sl_buf_free(struct sl_buf *b)
{
    if (b->data)
        explicit_bzero(b->data, b->cap);
    free(b->data);
    sl_buf_init(b);
}

void
sl_strv_push_owned(struct sl_strv *sv, char *s)
{
    if (sv->n == sv->cap) {
        sv->cap = sv->cap ? sv->cap * 2 : 8;
        sv->v = sl_realloc(sv->v, sv->cap * sizeof(*sv->v));
    }
    sv->v[sv->n++] = s;
}

void
sl_strv_push(struct sl_strv *sv, const char *s)
{
    sl_strv_push_owned(sv, sl_strdup(s));
}

static int
strv_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void
sl_strv_sort(struct sl_strv *sv)
{
    if (sv->n > 1)
        qsort(sv->v, sv->n, sizeof(*sv->v), strv_cmp);
}

void
sl_strv_free(struct sl_strv *sv)
{
    size_t i;

    for (i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

int
sl_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (s == NULL || *s == '\0')
        return SL_EUSAGE;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return SL_EUSAGE;
    *out = v;
    return SL_OK;
}

int
sl_str_has_suffix(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

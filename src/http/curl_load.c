/* curl_load.c - the libcurl functions src/http calls, in the sluice
 * executable: each calls libcurl's own, and libcurl is opened (dlopen,
 * by the soname configure found) the first time one is called. The
 * executable does not link libcurl: its dependencies (GnuTLS, Kerberos,
 * LDAP, SSH, HTTP/2, ...; some 27 libraries) were a third of the start-up
 * of every command, most of which never make a request (docs/deid.md,
 * "Start-up"). Tests and tools link libcurl itself; only the executable
 * links this file (src/cli/local.mk). If a new curl_* function is called
 * from src/http, the executable fails to link until it is added here. */
#include "config.h"

#define CURL_DISABLE_TYPECHECK 1 /* no macros over the names defined here */
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>

#include "common/lazylib.h"

#define WHAT "the HTTP client library (Debian: libcurl4)"

#define CURL_FUNCTIONS(X)                                                   \
    X(CURLcode, curl_global_init, (long flags))                             \
    X(CURL *, curl_easy_init, (void))                                       \
    X(void, curl_easy_cleanup, (CURL * h))                                  \
    X(void, curl_easy_reset, (CURL * h))                                    \
    X(CURLcode, curl_easy_perform, (CURL * h))                              \
    X(CURLcode, curl_easy_setopt, (CURL * h, CURLoption o, ...))            \
    X(CURLcode, curl_easy_getinfo, (CURL * h, CURLINFO i, ...))             \
    X(const char *, curl_easy_strerror, (CURLcode c))                       \
    X(char *, curl_easy_escape, (CURL * h, const char *s, int n))           \
    X(void, curl_free, (void *p))                                           \
    X(time_t, curl_getdate, (const char *s, const time_t *unused))          \
    X(struct curl_slist *, curl_slist_append,                               \
      (struct curl_slist * l, const char *s))                               \
    X(void, curl_slist_free_all, (struct curl_slist * l))                   \
    X(CURLU *, curl_url, (void))                                            \
    X(void, curl_url_cleanup, (CURLU * u))                                  \
    X(CURLUcode, curl_url_get,                                              \
      (CURLU * u, CURLUPart p, char **out, unsigned int flags))        \
    X(CURLUcode, curl_url_set,                                              \
      (CURLU * u, CURLUPart p, const char *s, unsigned int flags))          \
    X(curl_version_info_data *, curl_version_info, (CURLversion v))

static struct {
#define X(ret, name, params) ret(*name) params;
    CURL_FUNCTIONS(X)
#undef X
} fn;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
load(void)
{
    void *h = sl_lazy_open(SL_CURL_SONAME, WHAT);

#define X(ret, name, params)                                      \
    {                                                             \
        void *p = sl_lazy_sym(h, SL_CURL_SONAME, #name, WHAT);    \
        memcpy(&fn.name, &p, sizeof(p));                          \
    }
    CURL_FUNCTIONS(X)
#undef X
}

#define LOADED() pthread_once(&once, load)

CURLcode
curl_global_init(long flags)
{
    LOADED();
    return fn.curl_global_init(flags);
}

CURL *
curl_easy_init(void)
{
    LOADED();
    return fn.curl_easy_init();
}

void
curl_easy_cleanup(CURL *h)
{
    LOADED();
    fn.curl_easy_cleanup(h);
}

void
curl_easy_reset(CURL *h)
{
    LOADED();
    fn.curl_easy_reset(h);
}

CURLcode
curl_easy_perform(CURL *h)
{
    LOADED();
    return fn.curl_easy_perform(h);
}

/* The one argument after the option, of the type its number says
 * (curl.h: CURLOPTTYPE_*), as libcurl itself reads it. */
CURLcode
curl_easy_setopt(CURL *h, CURLoption o, ...)
{
    va_list ap;
    CURLcode rc;

    LOADED();
    va_start(ap, o);
    if (o < CURLOPTTYPE_OBJECTPOINT)
        rc = fn.curl_easy_setopt(h, o, va_arg(ap, long));
    else if (o < CURLOPTTYPE_FUNCTIONPOINT)
        rc = fn.curl_easy_setopt(h, o, va_arg(ap, void *));
    else if (o < CURLOPTTYPE_OFF_T)
        rc = fn.curl_easy_setopt(h, o, va_arg(ap, void (*)(void)));
    else if (o < CURLOPTTYPE_BLOB)
        rc = fn.curl_easy_setopt(h, o, va_arg(ap, curl_off_t));
    else
        rc = fn.curl_easy_setopt(h, o, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

/* Every CURLINFO_* takes one pointer to where the answer goes. */
CURLcode
curl_easy_getinfo(CURL *h, CURLINFO i, ...)
{
    va_list ap;
    CURLcode rc;

    LOADED();
    va_start(ap, i);
    rc = fn.curl_easy_getinfo(h, i, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

const char *
curl_easy_strerror(CURLcode c)
{
    LOADED();
    return fn.curl_easy_strerror(c);
}

char *
curl_easy_escape(CURL *h, const char *s, int n)
{
    LOADED();
    return fn.curl_easy_escape(h, s, n);
}

void
curl_free(void *p)
{
    LOADED();
    fn.curl_free(p);
}

time_t
curl_getdate(const char *s, const time_t *unused)
{
    LOADED();
    return fn.curl_getdate(s, unused);
}

struct curl_slist *
curl_slist_append(struct curl_slist *l, const char *s)
{
    LOADED();
    return fn.curl_slist_append(l, s);
}

void
curl_slist_free_all(struct curl_slist *l)
{
    LOADED();
    fn.curl_slist_free_all(l);
}

CURLU *
curl_url(void)
{
    LOADED();
    return fn.curl_url();
}

void
curl_url_cleanup(CURLU *u)
{
    LOADED();
    fn.curl_url_cleanup(u);
}

CURLUcode
curl_url_get(CURLU *u, CURLUPart p, char **out, unsigned int flags)
{
    LOADED();
    return fn.curl_url_get(u, p, out, flags);
}

CURLUcode
curl_url_set(CURLU *u, CURLUPart p, const char *s, unsigned int flags)
{
    LOADED();
    return fn.curl_url_set(u, p, s, flags);
}

curl_version_info_data *
curl_version_info(CURLversion v)
{
    LOADED();
    return fn.curl_version_info(v);
}

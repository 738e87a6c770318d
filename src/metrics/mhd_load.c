/* mhd_load.c - the libmicrohttpd functions of the metrics server
 * (metrics.c), in the sluice executable: each calls the library's own,
 * and the library is opened (dlopen, by the soname configure found) the
 * first time one is called, so that only `sluice daemon --metrics` and
 * `sluice run --metrics` load it and GnuTLS with it (lazylib.h). Tests
 * link libmicrohttpd itself; only the executable links this file. */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "common/lazylib.h"

#define WHAT "the HTTP server library of --metrics (Debian: libmicrohttpd12)"

static struct {
    struct MHD_Daemon *(*start_va)(unsigned int, uint16_t,
                                   MHD_AcceptPolicyCallback, void *,
                                   MHD_AccessHandlerCallback, void *,
                                   va_list);
    void (*stop)(struct MHD_Daemon *);
    enum MHD_Result (*queue)(struct MHD_Connection *, unsigned int,
                             struct MHD_Response *);
    struct MHD_Response *(*from_buffer)(size_t, void *,
                                        enum MHD_ResponseMemoryMode);
    void (*destroy)(struct MHD_Response *);
    enum MHD_Result (*add_header)(struct MHD_Response *, const char *,
                                  const char *);
} fn;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
get(void *h, const char *name, void *slot)
{
    void *p = sl_lazy_sym(h, SL_MHD_SONAME, name, WHAT);
    memcpy(slot, &p, sizeof(p));
}

static void
load(void)
{
    void *h = sl_lazy_open(SL_MHD_SONAME, WHAT);

    get(h, "MHD_start_daemon_va", &fn.start_va);
    get(h, "MHD_stop_daemon", &fn.stop);
    get(h, "MHD_queue_response", &fn.queue);
    get(h, "MHD_create_response_from_buffer", &fn.from_buffer);
    get(h, "MHD_destroy_response", &fn.destroy);
    get(h, "MHD_add_response_header", &fn.add_header);
}

struct MHD_Daemon *
MHD_start_daemon(unsigned int flags, uint16_t port,
                 MHD_AcceptPolicyCallback apc, void *apc_cls,
                 MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
    struct MHD_Daemon *d;
    va_list ap;

    pthread_once(&once, load);
    va_start(ap, dh_cls);
    d = fn.start_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_end(ap);
    return d;
}

void
MHD_stop_daemon(struct MHD_Daemon *d)
{
    pthread_once(&once, load);
    fn.stop(d);
}

enum MHD_Result
MHD_queue_response(struct MHD_Connection *c, unsigned int status,
                   struct MHD_Response *r)
{
    pthread_once(&once, load);
    return fn.queue(c, status, r);
}

struct MHD_Response *
MHD_create_response_from_buffer(size_t size, void *buffer,
                                enum MHD_ResponseMemoryMode mode)
{
    pthread_once(&once, load);
    return fn.from_buffer(size, buffer, mode);
}

void
MHD_destroy_response(struct MHD_Response *r)
{
    pthread_once(&once, load);
    fn.destroy(r);
}

enum MHD_Result
MHD_add_response_header(struct MHD_Response *r, const char *header,
                        const char *content)
{
    pthread_once(&once, load);
    return fn.add_header(r, header, content);
}

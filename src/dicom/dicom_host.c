/* dicom_host.c - the bind() of the process, for the DICOM listener
 * (dicom_host.h).
 *
 * DCMTK 3.6.7 binds its listening socket to every interface (INADDR_ANY)
 * and has no setting for it. A listener meant for one network (127.0.0.1
 * by default) must not be reachable from the others, so the bind() DCMTK
 * calls on the pool's listening thread is given the configured address
 * instead; every other bind() of the process (any thread, any library)
 * goes through unchanged. The executable's bind() interposes on libc's
 * for every shared library, those linked at start and those a module
 * brings in later (ELF symbol interposition; the executable exports it:
 * src/dicom/host.syms), which is why it lives here and not in the
 * module with the rest of the shim. */
#include "config.h"

#include <dlfcn.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "dicom/dicom_host.h"

static _Thread_local const struct in_addr *bind_override;

void
sl_dicom_host_bind_address(const struct in_addr *a)
{
    bind_override = a;
}

int
bind(int fd, const struct sockaddr *sa, socklen_t len)
{
    typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);
    static bind_fn real;
    bind_fn fn = __atomic_load_n(&real, __ATOMIC_ACQUIRE);

    if (fn == NULL) {
        void *p = dlsym(RTLD_NEXT, "bind");
        if (p == NULL)
            return -1;
        memcpy(&fn, &p, sizeof(fn));
        __atomic_store_n(&real, fn, __ATOMIC_RELEASE);
    }
    if (bind_override != NULL && sa != NULL && sa->sa_family == AF_INET &&
        len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof(in));
        in.sin_addr = *bind_override;
        return fn(fd, (const struct sockaddr *)&in, sizeof(in));
    }
    return fn(fd, sa, len);
}

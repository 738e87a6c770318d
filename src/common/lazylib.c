/* lazylib.c - shared libraries opened when first needed (lazylib.h). */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/common.h"
#include "common/lazylib.h"

void
sl_lazy_fail(const char *file, const char *what, const char *why)
{
    fprintf(stderr, "sluice: cannot load %s, %s: %s\n", file, what,
            why ? why : "unknown error");
    exit(SL_EXIT_RUNTIME);
}

void *
sl_lazy_open(const char *file, const char *what)
{
    void *h = dlopen(file, RTLD_NOW | RTLD_LOCAL);

    if (h == NULL)
        sl_lazy_fail(file, what, dlerror());
    return h;
}

void *
sl_lazy_sym(void *h, const char *file, const char *name, const char *what)
{
    void *p = dlsym(h, name);

    if (p == NULL)
        sl_lazy_fail(file, what, dlerror());
    return p;
}

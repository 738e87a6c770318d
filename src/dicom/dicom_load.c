/* dicom_load.c - the functions of dicom.h in the sluice executable: each
 * calls its namesake in the DICOM module (sluice-dicom.so: the shim and
 * DCMTK, with DCMTK's own forty-odd libraries), which is loaded the first
 * time any of them is called. A command that never touches DICOM (FHIR
 * de-identification, validation, --help) no longer maps and binds those
 * libraries at start: that was most of a command's start-up (docs/deid.md,
 * "Start-up").
 *
 * The module is looked for next to the executable (the build tree) and
 * then in the folder it is installed in (SL_MODULEDIR). It must be of the
 * same build: it names its version and API (sl_dicom_module_abi). A
 * module that cannot be loaded is an installation fault: the command
 * stops with exit 2 and says which file and why. */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/lazylib.h"
#include "dicom/dicom.h"
#include "dicom/dicom_load.h"

#define SL_DICOM_MODULE "sluice-dicom.so"
#define WHAT            "its DICOM module (part of sluice: reinstall it)"

/* the module's functions, found once */
static struct {
#define SL_DICOM_FN(ret, name, params, args) ret(*name) params;
#define SL_DICOM_VOID(name, params, args)    void(*name) params;
#include "dicom/dicom_api.def"
#undef SL_DICOM_FN
#undef SL_DICOM_VOID
} api;

static pthread_once_t api_once = PTHREAD_ONCE_INIT;

/* The folder the executable is in, with a trailing '/', into dir. */
static int
exe_dir(char *dir, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", dir, size - 1);
    char *slash;

    if (n <= 0 || (size_t)n >= size - 1)
        return -1;
    dir[n] = '\0';
    if ((slash = strrchr(dir, '/')) == NULL)
        return -1;
    slash[1] = '\0';
    return 0;
}

static void
load(void)
{
    char dir[PATH_MAX], path[PATH_MAX + sizeof(SL_DICOM_MODULE)];
    const char *abi;
    void *h;

    /* next to the executable when there is one there (the build tree) */
    if (exe_dir(dir, sizeof(dir)) != 0 ||
        snprintf(path, sizeof(path), "%s%s", dir, SL_DICOM_MODULE) < 0 ||
        access(path, F_OK) != 0)
        snprintf(path, sizeof(path), "%s/%s", SL_MODULEDIR, SL_DICOM_MODULE);
    h = sl_lazy_open(path, WHAT);
    abi = sl_lazy_sym(h, path, "sl_dicom_module_abi", WHAT);
    if (strcmp(abi, SL_DICOM_ABI) != 0)
        sl_lazy_fail(path, WHAT, "it is of another build of sluice");
#define SL_DICOM_FN(ret, name, params, args) \
    {                                        \
        void *p = sl_lazy_sym(h, path, #name, WHAT);       \
        memcpy(&api.name, &p, sizeof(p));    \
    }
#define SL_DICOM_VOID(name, params, args) SL_DICOM_FN(void, name, params, args)
#include "dicom/dicom_api.def"
#undef SL_DICOM_FN
#undef SL_DICOM_VOID
    /* the handle stays open for the life of the process */
}

#define SL_DICOM_FN(ret, name, params, args) \
    ret name params                          \
    {                                        \
        pthread_once(&api_once, load);       \
        return api.name args;                \
    }
#define SL_DICOM_VOID(name, params, args) \
    void name params                      \
    {                                     \
        pthread_once(&api_once, load);    \
        api.name args;                    \
    }
#include "dicom/dicom_api.def"
#undef SL_DICOM_FN
#undef SL_DICOM_VOID

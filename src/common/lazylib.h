/* lazylib.h - shared libraries opened the first time they are needed
 * (lazylib.c): the sluice executable does not link the libraries only
 * some commands use (DCMTK through its DICOM module, libcurl, libmicrohttpd,
 * Tesseract, Poppler), so that every other command starts without mapping
 * and binding them. */
#ifndef SL_LAZYLIB_H
#define SL_LAZYLIB_H

/* Opens the shared library file (a soname or a path) with dlopen, or
 * stops the process: exit 2, with a message naming file, what it is for
 * (what: "the HTTP client libcurl (Debian: libcurl4)") and why. */
void *sl_lazy_open(const char *file, const char *what);
/* The address of name in h (opened by sl_lazy_open from file), or stops
 * the process likewise. */
void *sl_lazy_sym(void *h, const char *file, const char *name,
                  const char *what);
/* Stops the process with the message of sl_lazy_open: why it cannot use
 * file. */
void sl_lazy_fail(const char *file, const char *what, const char *why)
    __attribute__((noreturn));

#endif

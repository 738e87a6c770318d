/* fuzz.h - what the fuzz targets share: libFuzzer's entry point and a
 * private scratch folder to put the input in as a file, since sluice's
 * parsers read files, not memory. */
#ifndef SL_FUZZ_H
#define SL_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* One run of a target over one input. Returns 0 (libFuzzer reserves other
 * values); a bug shows as a crash, a sanitizer report or an abort. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A folder of this process's own, made on first use and removed with what
 * it holds when the process exits. Never NULL: aborts when it cannot be
 * made. */
const char *fuzz_util_dir(void);

/* Writes size bytes of data as name (a plain name, or a relative path whose
 * folders exist) inside fuzz_util_dir(), replacing it. Returns the full
 * path; the caller frees it. Aborts on an I/O error: that is a harness
 * failure, not a finding. */
char *fuzz_util_write(const char *name, const void *data, size_t size);

/* Aborts with a message on stderr when cond is false: a broken promise of
 * a parser's API, which the fuzzer reports like a crash. */
#define FUZZ_ASSERT(cond)                              \
    do {                                               \
        if (!(cond))                                   \
            fuzz_util_fail(__FILE__, __LINE__, #cond); \
    } while (0)

void fuzz_util_fail(const char *file, int line, const char *what)
    __attribute__((noreturn));

#endif

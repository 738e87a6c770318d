/* fuzz_util.c - the scratch folder of a fuzz target (see fuzz.h). */
#include "config.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "fuzz.h"

static char scratch[4096];

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    (void)remove(path);
    return 0;
}

static void
remove_scratch(void)
{
    if (scratch[0] != '\0')
        (void)nftw(scratch, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

void
fuzz_util_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
    abort();
}

const char *
fuzz_util_dir(void)
{
    const char *tmp;

    if (scratch[0] != '\0')
        return scratch;
    tmp = getenv("TMPDIR");
    if (tmp == NULL || *tmp == '\0')
        tmp = "/tmp";
    snprintf(scratch, sizeof(scratch), "%s/sluice-fuzz.XXXXXX", tmp);
    if (mkdtemp(scratch) == NULL) {
        perror("sluice fuzz: mkdtemp");
        abort();
    }
    atexit(remove_scratch);
    return scratch;
}

char *
fuzz_util_write(const char *name, const void *data, size_t size)
{
    char *path = sl_path_join(fuzz_util_dir(), name);
    FILE *f = fopen(path, "wb");

    if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) ||
        fclose(f) != 0) {
        perror("sluice fuzz: writing the input");
        abort();
    }
    return path;
}

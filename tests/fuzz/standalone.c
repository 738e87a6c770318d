/* standalone.c - runs a fuzz target without libFuzzer, so the targets
 * build with any compiler and `make check` replays their corpus.
 *
 * Usage: fuzz_TARGET FILE|FOLDER...  Each file, and each regular file
 * under each folder (recursively, in sorted order), is read and given to
 * LLVMFuzzerTestOneInput once. Exit 0 when every input ran; a bug in a
 * parser shows as a crash or a sanitizer report, as under libFuzzer. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "fuzz.h"

static int
run_file(const char *path)
{
    struct sl_err err;
    char *data = NULL;
    size_t len = 0;

    if (sl_file_read(path, &data, &len, &err) != SL_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    (void)LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    free(data);
    return 0;
}

int
main(int argc, char **argv)
{
    struct sl_err err;
    size_t ran = 0;
    int i, bad = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|FOLDER...\n", argv[0]);
        return 1;
    }
    for (i = 1; i < argc; i++) {
        if (sl_path_is_dir(argv[i])) {
            struct sl_strv files = { 0 };
            size_t k;

            if (sl_dir_walk(argv[i], &files, &err) != SL_OK) {
                fprintf(stderr, "%s\n", err.msg);
                bad = 1;
                continue;
            }
            for (k = 0; k < files.n; k++) {
                char *p = sl_path_join(argv[i], files.v[k]);
                if (run_file(p) == 0)
                    ran++;
                else
                    bad = 1;
                free(p);
            }
            sl_strv_free(&files);
        } else if (run_file(argv[i]) == 0) {
            ran++;
        } else {
            bad = 1;
        }
    }
    fprintf(stderr, "%s: %zu input(s) ran\n", argv[0], ran);
    return bad;
}

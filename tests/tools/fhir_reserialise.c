/* fhir_reserialise.c - the baseline of tests/bench/fhir-deid.sh: reads
 * every .ndjson file under INDIR line by line, parses each line with
 * jansson and writes it out again (compact) under OUTDIR, with no
 * de-identification: what `sluice deid` costs on top of reading and
 * writing FHIR is the difference.
 * Usage: fhir_reserialise INDIR OUTDIR */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/common.h"

int
main(int argc, char **argv)
{
    struct sl_strv files = {0};
    struct sl_err err = {0};
    char *line = NULL;
    size_t cap = 0, i, n = 0;
    int rc = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: fhir_reserialise INDIR OUTDIR\n");
        return 1;
    }
    if (sl_dir_walk(argv[1], &files, &err) != SL_OK ||
        sl_mkdir_p(argv[2], &err) != SL_OK) {
        fprintf(stderr, "fhir_reserialise: %s\n", err.msg);
        return 2;
    }
    for (i = 0; i < files.n && rc == 0; i++) {
        char *in = sl_path_join(argv[1], files.v[i]), *name, *out;
        FILE *fi, *fo;
        if (!sl_str_has_suffix(in, ".ndjson")) {
            free(in);
            continue;
        }
        name = sl_asprintf("%zu.ndjson", i);
        out = sl_path_join(argv[2], name);
        fi = fopen(in, "r");
        fo = fopen(out, "w");
        if (fi == NULL || fo == NULL) {
            rc = 2;
        } else {
            while (getline(&line, &cap, fi) > 0) {
                json_t *v = json_loads(line, 0, NULL);
                char *s;
                if (v == NULL)
                    continue;
                s = json_dumps(v, JSON_COMPACT);
                fputs(s, fo);
                fputc('\n', fo);
                free(s);
                json_decref(v);
                n++;
            }
        }
        if (fi)
            fclose(fi);
        if (fo && fclose(fo) != 0)
            rc = 2;
        free(in);
        free(name);
        free(out);
    }
    free(line);
    sl_strv_free(&files);
    fprintf(stderr, "fhir_reserialise: %zu resources\n", n);
    return rc;
}

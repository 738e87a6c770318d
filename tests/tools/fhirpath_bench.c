/* fhirpath_bench.c - the C side of tests/bench/fhirpath.sh: reads the
 * cases file (FILE<TAB>EXPRESSION lines, as tests/fhirpath/cases.mjs makes
 * them), loads each resource and compiles each expression once, then
 * evaluates every case ROUNDS times and prints
 *   "N evaluations, M items, S s"
 * where S is the processor time of the evaluations alone (loading and
 * compiling are not counted, as the validator compiles a profile's
 * invariants once; processor time, as the machine may be shared).
 * M, the items of all results, lets the caller check that both engines
 * did the same work. A case that fails counts as an evaluation. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "fhirpath/fhirpath.h"

struct tcase {
    json_t *res;
    struct sl_fp_expr *e;
};

int
main(int argc, char **argv)
{
    FILE *f;
    char *line = NULL, *prev_file = NULL;
    size_t cap = 0, n = 0, ncap = 0, i;
    ssize_t len;
    struct tcase *cs = NULL;
    json_t *res = NULL;
    long rounds = argc > 2 ? atol(argv[2]) : 1, r;
    unsigned long long evals = 0, items = 0;
    struct timespec t0, t1;

    if (argc < 2 || (f = fopen(argv[1], "r")) == NULL) {
        fprintf(stderr, "usage: fhirpath_bench CASES [ROUNDS]\n");
        return 1;
    }
    while ((len = getline(&line, &cap, f)) != -1) {
        char *tab = strchr(line, '\t');
        struct sl_err err = {0};
        struct sl_fp_expr *e;
        if (tab == NULL)
            continue;
        if (len > 0 && line[len - 1] == '\n')
            line[len - 1] = '\0';
        *tab = '\0';
        if (prev_file == NULL || strcmp(prev_file, line) != 0) {
            free(prev_file);
            prev_file = strdup(line);
            json_decref(res);
            res = json_load_file(line, 0, NULL);
        }
        if (res == NULL || sl_fp_compile(tab + 1, &e, &err) != SL_OK)
            continue;
        if (n == ncap) {
            ncap = ncap ? ncap * 2 : 1024;
            cs = realloc(cs, ncap * sizeof(*cs));
        }
        cs[n].res = json_incref(res);
        cs[n].e = e;
        n++;
    }
    fclose(f);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    for (r = 0; r < rounds; r++) {
        for (i = 0; i < n; i++) {
            struct sl_fp_result *out = NULL;
            struct sl_fp_env env = {0};
            struct sl_err err = {0};
            env.resource = cs[i].res;
            if (sl_fp_eval(cs[i].e, &env, cs[i].res, &out, &err) == SL_OK)
                items += sl_fp_result_count(out);
            sl_fp_result_free(out);
            evals++;
        }
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    printf("%llu evaluations, %llu items, %.3f s\n", evals, items,
           (double)(t1.tv_sec - t0.tv_sec) +
               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    for (i = 0; i < n; i++) {
        sl_fp_free(cs[i].e);
        json_decref(cs[i].res);
    }
    json_decref(res);
    free(cs);
    free(line);
    free(prev_file);
    return 0;
}

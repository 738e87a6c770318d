/* term_client_try.c - test tool: one call of the remote terminology
 * client (src/terminology, sl_term_client_*) against a server, its answer
 * and the client's counts on stdout, for tests/integration/term_remote.sh.
 *
 *   term_client_try [--cache FILE] [--repeat N] BASE lookup SYSTEM CODE
 *   term_client_try ... BASE validate VALUESET SYSTEM CODE [DISPLAY]
 *   term_client_try ... BASE translate MAPURL SYSTEM CODE
 *
 * Prints "found DISPLAY" / "not-found", "valid" / "invalid: MESSAGE",
 * "mapped SYSTEM|CODE ..." / "unmapped", or "error: MESSAGE" (exit 2),
 * then "asked N hits N requests N failed N". --repeat asks N times. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "terminology/terminology.h"

static int
one(struct sl_term_client *c, char **av, int ac)
{
    struct sl_err err = {0};
    int rc = SL_OK, yes = 0;
    char *text = NULL;
    size_t i;

    if (strcmp(av[0], "lookup") == 0 && ac == 3) {
        rc = sl_term_client_lookup(c, av[1], NULL, av[2], &yes, &text, &err);
        if (rc == SL_OK)
            printf(yes ? "found %s\n" : "not-found\n", text ? text : "");
    } else if (strcmp(av[0], "validate") == 0 && (ac == 4 || ac == 5)) {
        rc = sl_term_client_validate_code(c, av[1], av[2], NULL, av[3],
                                          ac == 5 ? av[4] : NULL, &yes,
                                          &text, &err);
        if (rc == SL_OK)
            printf(yes ? "valid\n" : "invalid: %s\n", text ? text : "");
    } else if (strcmp(av[0], "translate") == 0 && ac == 4) {
        struct sl_term_result r;
        rc = sl_term_client_translate(c, av[1], "remote", av[2], NULL, av[3],
                                      NULL, &r, &err);
        if (rc == SL_OK) {
            fputs(r.outcome == SL_TERM_MAPPED ? "mapped" : "unmapped",
                  stdout);
            for (i = 0; i < r.n; i++)
                printf(" %s|%s|%s", r.m[i].system, r.m[i].code,
                       sl_term_rel_name(r.m[i].rel));
            putchar('\n');
        }
    } else {
        fprintf(stderr, "term_client_try: bad arguments\n");
        exit(1);
    }
    free(text);
    if (rc != SL_OK)
        printf("error: %s\n", err.msg);
    return rc;
}

int
main(int argc, char **argv)
{
    struct sl_term_client_opts o;
    struct sl_term_client *c = NULL;
    struct sl_term_client_stats st;
    struct sl_err err = {0};
    int i = 1, n = 1, k, rc = SL_OK;

    memset(&o, 0, sizeof(o));
    while (i + 1 < argc && strncmp(argv[i], "--", 2) == 0) {
        if (strcmp(argv[i], "--cache") == 0)
            o.cache_path = argv[i + 1];
        else if (strcmp(argv[i], "--repeat") == 0) {
            long v;
            if (sl_parse_long(argv[i + 1], 1, 1000000, &v) != 0)
                return 1;
            n = (int)v;
        }
        i += 2;
    }
    if (argc - i < 3) {
        fprintf(stderr, "usage: term_client_try [--cache FILE] [--repeat N] "
                        "BASE lookup|validate|translate ...\n");
        return 1;
    }
    o.base = argv[i];
    if (sl_term_client_new(&o, &c, &err) != SL_OK) {
        printf("error: %s\n", err.msg);
        return 2;
    }
    for (k = 0; k < n; k++)
        rc = one(c, argv + i + 1, argc - i - 1);
    sl_term_client_stats(c, &st);
    printf("asked %llu hits %llu requests %llu failed %llu sent %llu\n",
           st.asked, st.hits, st.requests, st.failed, st.sent);
    sl_term_client_free(c);
    return rc == SL_OK ? 0 : 2;
}

/* cmd_fhirpath.c - sluice fhirpath: evaluates a FHIRPath expression on a
 * FHIR resource (JSON) and prints the result collection as one line of
 * JSON, in the form the fhirpath npm library gives, for users writing
 * invariants:
 *
 *   sluice fhirpath EXPR FILE
 *   sluice fhirpath --expressions LIST FILE
 *
 * FILE is a resource or a Bundle ('-' reads standard input); it is
 * %resource and %rootResource, so resolve() finds the Bundle's entries and
 * the resource's contained ones. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "fhirpath/fhirpath.h"

static json_t *
load(const char *path, struct sl_err *err)
{
    json_error_t je;
    json_t *j;
    const char *name = strcmp(path, "-") == 0 ? "standard input" : "FILE";

    if (strcmp(path, "-") == 0)
        j = json_loadf(stdin, JSON_DECODE_ANY, &je);
    else
        j = json_load_file(path, JSON_DECODE_ANY, &je);
    if (j == NULL) {
        /* je.text may quote the data: only the position is reported */
        if (je.line <= 0 && je.position == 0)
            SL_ERR(err, SL_EIO, "%s: cannot be read", name);
        else
            SL_ERR(err, SL_EPARSE, "%s: not valid JSON at line %d, column "
                   "%d", name, je.line, je.column);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        SL_ERR(err, SL_EPARSE, "%s: not a FHIR resource (a JSON object was "
               "expected)", name);
        return NULL;
    }
    return j;
}

/* Evaluates one expression; prints its line. 0, or the exit status. */
static int
eval_one(const char *text, json_t *res, int types, long lineno)
{
    struct sl_err err = {0};
    struct sl_fp_expr *e = NULL;
    struct sl_fp_result *r = NULL;
    struct sl_fp_env env;
    char *out, where[64] = "";
    size_t i;
    int rc = SL_EXIT_OK;

    if (lineno > 0)
        snprintf(where, sizeof(where), "expression %ld: ", lineno);
    if (sl_fp_compile(text, &e, &err) != SL_OK) {
        fprintf(stderr, "sluice fhirpath: %s%s\n", where, err.msg);
        rc = SL_EXIT_USAGE;
        goto out;
    }
    memset(&env, 0, sizeof(env));
    env.resource = res;
    env.root = res;
    if (sl_fp_eval(e, &env, res, &r, &err) != SL_OK) {
        fprintf(stderr, "sluice fhirpath: %sevaluation failed: %s\n", where,
                err.msg);
        rc = SL_EXIT_RUNTIME;
        goto out;
    }
    out = sl_fp_result_dump(r);
    printf("%s\n", out);
    free(out);
    for (i = 0; types && i < sl_fp_result_count(r); i++)
        printf("%s\n", sl_fp_result_type(r, i));
out:
    if (rc != SL_EXIT_OK && lineno > 0)
        printf("ERROR\n"); /* keeps the output one line per expression */
    sl_fp_result_free(r);
    sl_fp_free(e);
    return rc;
}

/* Each non-empty line of list is an expression. */
static int
eval_list(const char *list, json_t *res, int types)
{
    FILE *f = fopen(list, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long no = 0;
    int rc = SL_EXIT_OK, r;

    if (f == NULL) {
        fprintf(stderr, "sluice fhirpath: the expression list cannot be "
                        "read\n");
        return SL_EXIT_USAGE;
    }
    while ((n = getline(&line, &cap, f)) != -1) {
        no++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        if ((r = eval_one(line, res, types, no)) != SL_EXIT_OK)
            rc = SL_EXIT_RUNTIME;
    }
    free(line);
    fclose(f);
    fflush(stdout);
    return rc;
}

static int
exec_fhirpath(const struct cli_cmd *self, struct cli_global *g, int argc,
              char **argv)
{
    static const struct option opts[] = {
        {"types", no_argument, NULL, 't'},
        {"expressions", required_argument, NULL, 'e'},
        {NULL, 0, NULL, 0},
    };
    struct sl_err err = {0};
    struct sl_fp_expr *e = NULL;
    const char *list = NULL;
    json_t *res = NULL;
    int c, types = 0, rc;

    (void)g;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+te:", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            types = 1;
            break;
        case 'e':
            list = optarg;
            break;
        default:
            return cli_usage_error(self, "unknown option or missing value: %s",
                                   argv[optind - 1]);
        }
    }
    if (argc - optind != (list ? 1 : 2))
        return cli_usage_error(self, list ? "one file is needed"
                                          : "an expression and a file are "
                                            "needed");
    if (list == NULL) {
        /* a syntax error is a usage error, found before reading the file */
        if (sl_fp_compile(argv[optind], &e, &err) != SL_OK) {
            fprintf(stderr, "sluice fhirpath: the expression: %s\n", err.msg);
            return SL_EXIT_USAGE;
        }
        sl_fp_free(e);
    }
    if ((res = load(argv[argc - 1], &err)) == NULL)
        return cli_fail(&err);
    rc = list ? eval_list(list, res, types)
              : eval_one(argv[optind], res, types, 0);
    json_decref(res);
    return rc;
}

const struct cli_cmd cli_cmd_fhirpath = {
    "fhirpath",
    "[--types] EXPR FILE | --expressions LIST FILE",
    "evaluate a FHIRPath expression on a FHIR resource",
    "Evaluates the FHIRPath expression EXPR on the FHIR resource in FILE\n"
    "(JSON; '-' reads standard input) and prints the result collection as\n"
    "one line of JSON, as the fhirpath npm library gives it: elements as\n"
    "they are in the resource, dates, times and quantities as strings\n"
    "(\"2012-04\", \"5 'mg'\"). FILE is %resource and %rootResource: resolve()\n"
    "finds the entries of a Bundle and the resource's contained resources.\n"
    "memberOf() has no terminology here and fails; conformsTo() is true for\n"
    "the base definition of the resource's type and its meta.profile.\n"
    "\n"
    "Options:\n"
    "  -t, --types   also print the type of each item, one a line\n"
    "                (FHIR.Quantity, System.Integer...)\n"
    "  -e, --expressions LIST\n"
    "                evaluate each line of the file LIST instead of EXPR,\n"
    "                printing one line each (ERROR for one that fails, with\n"
    "                its line number and why on standard error)\n"
    "\n"
    "Exit status here: 1 when the expression has a syntax error (the\n"
    "message gives the column), 2 when FILE cannot be read or is not JSON\n"
    "or the evaluation fails (a function given a collection where it needs\n"
    "one item...).\n",
    exec_fhirpath,
};

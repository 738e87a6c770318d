/* cmd_fhirpath.c - sluice fhirpath: evaluates a FHIRPath expression on a
 * FHIR resource (JSON) and prints the result collection as one line of
 * JSON, in the form the fhirpath npm library gives, for users writing
 * invariants:
 *
 *   sluice fhirpath EXPR FILE
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

static int
exec_fhirpath(const struct cli_cmd *self, struct cli_global *g, int argc,
              char **argv)
{
    static const struct option opts[] = {
        {"types", no_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    struct sl_err err = {0};
    struct sl_fp_expr *e = NULL;
    struct sl_fp_result *r = NULL;
    struct sl_fp_env env;
    json_t *res = NULL;
    char *out;
    int c, types = 0, rc = SL_EXIT_OK;
    size_t i;

    (void)g;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+t", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            types = 1;
            break;
        default:
            return cli_usage_error(self, "unknown option %s", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error(self, "an expression and a file are needed");
    if (sl_fp_compile(argv[optind], &e, &err) != SL_OK) {
        fprintf(stderr, "sluice fhirpath: the expression: %s\n", err.msg);
        return SL_EXIT_USAGE;
    }
    if ((res = load(argv[optind + 1], &err)) == NULL) {
        rc = cli_fail(&err);
        goto out;
    }
    memset(&env, 0, sizeof(env));
    env.resource = res;
    env.root = res;
    if (sl_fp_eval(e, &env, res, &r, &err) != SL_OK) {
        fprintf(stderr, "sluice fhirpath: evaluation failed: %s\n", err.msg);
        rc = SL_EXIT_RUNTIME;
        goto out;
    }
    out = sl_fp_result_dump(r);
    printf("%s\n", out);
    free(out);
    for (i = 0; types && i < sl_fp_result_count(r); i++)
        printf("%s\n", sl_fp_result_type(r, i));
out:
    sl_fp_result_free(r);
    sl_fp_free(e);
    json_decref(res);
    return rc;
}

const struct cli_cmd cli_cmd_fhirpath = {
    "fhirpath",
    "[--types] EXPR FILE",
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
    "\n"
    "Exit status here: 1 when the expression has a syntax error (the\n"
    "message gives the column), 2 when FILE cannot be read or is not JSON\n"
    "or the evaluation fails (a function given a collection where it needs\n"
    "one item...).\n",
    exec_fhirpath,
};

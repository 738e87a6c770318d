/* cmd_validate.c - sluice validate: FHIR resources in files validated
 * against R4 and profiles. The command line is a contract:
 *
 *   sluice validate [--profile URL|FILE] [--ig DIR|PKG.tgz]... [--jobs N]
 *                   [--unknown-extensions warning|error] [--allow-comments]
 *                   [--security-checks] [--no-example-urls]
 *                   [--terminology BASE]
 *                   INPUT...
 *
 * A thin front over the one engine: the files source over INPUT..., the
 * <validate> stage (on-error warn, each item's OperationOutcome in its
 * companion), and a target here that prints one OperationOutcome per
 * resource on stdout, in input order, as NDJSON. Input that cannot be read
 * as JSON gets an OperationOutcome with a fatal issue saying where. At the
 * end, a summary on stderr: resources valid and invalid, and findings per
 * profile and message. Nothing printed comes from the data: issues name
 * element paths, resources their input number and line. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "pipeline/pipeline.h"
#include "pipeline/stage_validate.h"
#include "sources/sources.h"
#include "validate/validate.h"

/* What the target and the quarantine count (one run per process). */
static struct {
    FILE *out;
    unsigned long long valid, invalid, unreadable;
} V;

static void
emit(json_t *oo, const struct sl_item *it)
{
    char *line;

    /* which resource: its position, never its id or path */
    json_object_set_new(oo, "extension",
                        json_pack("[{ssss}]", "url",
                                  "urn:sluice:validate:position",
                                  "valueString", it->pos ? it->pos : ""));
    line = json_dumps(oo, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fprintf(V.out, "%s\n", line);
    free(line);
}

static int
oo_open(const struct sl_config *cfg, const struct sl_conf_node *node,
        const char *run_id, const char *state, void **ctx, struct sl_err *err)
{
    (void)cfg, (void)node, (void)run_id, (void)state, (void)err;
    *ctx = &V;
    return SL_OK;
}

static int
oo_put(void *ctx, struct sl_item *it, int *taken, struct sl_err *err)
{
    json_t *oo = it->companion;
    size_t i, nerr = 0;

    (void)ctx, (void)err;
    *taken = 0;
    if (it->kind != SL_ITEM_FHIR)
        return SL_OK;
    *taken = 1;
    for (i = 0; i < it->nfindings; i++)
        nerr += strcmp(it->findings[i].stage, "validate") == 0 &&
                it->findings[i].severity == SL_SEV_ERROR;
    if (nerr)
        V.invalid++;
    else
        V.valid++;
    if (oo == NULL) {
        struct sl_val_result r = {0};
        oo = sl_val_result_outcome(&r);
        emit(oo, it);
        json_decref(oo);
    } else {
        emit(oo, it);
    }
    return SL_OK;
}

static int
oo_checkpoint(void *ctx, char **state, struct sl_err *err)
{
    (void)ctx, (void)err;
    fflush(V.out);
    *state = NULL;
    return SL_OK;
}

static int
oo_finish(void *ctx, struct sl_err *err)
{
    (void)ctx;
    if (fflush(V.out) != 0)
        return SL_ERR(err, SL_EIO, "cannot write the outcomes");
    return SL_OK;
}

static void
oo_close(void *ctx)
{
    (void)ctx;
}

static const struct sl_sink_ops oo_sink = {
    .type = "operation-outcomes",
    .open = oo_open,
    .put = oo_put,
    .checkpoint = oo_checkpoint,
    .finish = oo_finish,
    .no_document = 1, /* prints the companion only */
    .close = oo_close,
};

/* Unreadable input: a fatal issue naming where (the reason holds the
 * position and the parser's words, never the text). */
static int
bad_put(void *ctx, struct sl_item *it, struct sl_err *err)
{
    json_t *oo = json_pack(
        "{ss s[{ss ss ss}]}", "resourceType", "OperationOutcome", "issue",
        "severity", "fatal", "code", "structure", "diagnostics",
        it->reason ? it->reason : "the input could not be read");

    (void)ctx, (void)err;
    V.unreadable++;
    emit(oo, it);
    json_decref(oo);
    return SL_OK;
}

/* XML inputs (.xml files given by name) are read into their JSON form in
 * a private folder of this run, removed at the end, and validated from
 * there: the files source reads JSON. *tmpdir is made on first use. */
/* Copies in to out with the comments of JSON5/JSONC (// to the end of
 * the line, and slash-star to star-slash) outside strings turned into spaces (line
 * breaks kept, so that an error's line and column stay those of the
 * file). A character at a time: memory stays bounded. */
static int
strip_comments(FILE *in, FILE *out)
{
    int c, prev = 0, state = 0; /* 0 JSON, 1 string, 2 line, 3 block */

    while ((c = getc(in)) != EOF) {
        int o = c;
        switch (state) {
        case 0:
            if (c == '"')
                state = 1;
            else if (c == '/') {
                int d = getc(in);
                if (d == '/' || d == '*') {
                    state = d == '/' ? 2 : 3;
                    putc(' ', out);
                    o = ' ';
                    prev = 0;
                    break;
                }
                if (d != EOF)
                    ungetc(d, in);
            }
            break;
        case 1:
            if (c == '"' && prev != '\\')
                state = 0;
            /* an escaped backslash does not escape the next character */
            prev = c == '\\' && prev == '\\' ? 0 : c;
            putc(o, out);
            continue;
        case 2:
            if (c == '\n')
                state = 0;
            else
                o = ' ';
            break;
        default:
            if (c == '/' && prev == '*')
                state = 0;
            prev = c;
            if (c != '\n')
                o = ' ';
            putc(o, out);
            continue;
        }
        prev = 0;
        putc(o, out);
    }
    return ferror(in) || ferror(out) ? -1 : 0;
}

static int
xml_inputs(int argc, char **argv, int first, int allow_comments,
           char **tmpdir, struct sl_strv *inputs, struct sl_err *err)
{
    int i, rc = SL_OK;

    for (i = first; i < argc && rc == SL_OK; i++) {
        json_t *doc = NULL;
        char *out;
        int json = allow_comments && sl_str_has_suffix(argv[i], ".json");
        if (!sl_str_has_suffix(argv[i], ".xml") && !json) {
            sl_strv_push(inputs, argv[i]);
            continue;
        }
        if (*tmpdir == NULL) {
            const char *t = getenv("TMPDIR");
            char *tmpl = sl_asprintf("%s/sluice-validate.XXXXXX",
                                     t && *t ? t : "/tmp");
            if (mkdtemp(tmpl) == NULL) {
                free(tmpl);
                return SL_ERR(err, SL_EIO, "cannot make a private folder "
                              "for the XML inputs");
            }
            *tmpdir = tmpl;
        }
        if (json) {
            FILE *in = fopen(argv[i], "r"), *o;
            out = sl_asprintf("%s/%06d.json", *tmpdir, i - first + 1);
            o = in ? fopen(out, "w") : NULL;
            if (in == NULL || o == NULL || strip_comments(in, o) != 0)
                rc = SL_ERR(err, SL_EIO, "input %d: cannot be read, or its "
                            "copy without comments cannot be written",
                            i - first + 1);
            if (o && fclose(o) != 0 && rc == SL_OK)
                rc = SL_ERR(err, SL_EIO, "cannot write the copy of input "
                            "%d without comments", i - first + 1);
            if (in)
                fclose(in);
            sl_strv_push_owned(inputs, out);
            continue;
        }
        if ((rc = sl_val_xml_read(argv[i], &doc, err)) != SL_OK) {
            /* an XML input that cannot be read names its number only */
            char *why = sl_strdup(err->msg + strlen(argv[i]));
            rc = SL_ERR(err, SL_EUSAGE, "input %d%s", i - first + 1, why);
            free(why);
            break;
        }
        out = sl_asprintf("%s/%06d.json", *tmpdir, i - first + 1);
        if (json_dump_file(doc, out, JSON_COMPACT) != 0)
            rc = SL_ERR(err, SL_EIO, "cannot write the JSON form of input "
                        "%d", i - first + 1);
        sl_strv_push_owned(inputs, out);
        json_decref(doc);
    }
    return rc;
}

static void
rm_tmpdir(char *dir, const struct sl_strv *inputs)
{
    size_t i;

    if (dir == NULL)
        return;
    for (i = 0; i < inputs->n; i++)
        if (strncmp(inputs->v[i], dir, strlen(dir)) == 0)
            unlink(inputs->v[i]);
    rmdir(dir);
    free(dir);
}

static void
print_report(FILE *f, const struct sl_run_summary *sum)
{
    size_t i;

    for (i = 0; i < sum->nfindings; i++) {
        const struct sl_finding_count *x = &sum->findings[i];
        if (strcmp(x->stage, "validate") != 0)
            continue;
        fprintf(f, "  %7llu  %s\n", (unsigned long long)x->n, x->code);
    }
}

static int
exec_validate(const struct cli_cmd *self, struct cli_global *g, int argc,
              char **argv)
{
    static const struct option opts[] = {
        {"profile", required_argument, NULL, 'p'},
        {"ig", required_argument, NULL, 'i'},
        {"unknown-extensions", required_argument, NULL, 'u'},
        {"allow-comments", no_argument, NULL, 'c'},
        {"security-checks", no_argument, NULL, 's'},
        {"no-example-urls", no_argument, NULL, 'x'},
        {"terminology", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    struct sl_err err = {0};
    struct sl_buf profiles, igs;
    struct sl_job_spec *spec = NULL;
    struct sl_conf_node nodes[2];
    struct sl_quarantine_sink q = {NULL, bad_put};
    struct sl_run_summary sum = {0};
    void *probe = NULL;
    struct sl_strv inputs = {0};
    char *tmpdir = NULL;
    const char *unknown_ext = NULL, *term = NULL;
    int c, rc = SL_OK, ex, i, allow_comments = 0, security = 0;
    int no_examples = 0;

    memset(nodes, 0, sizeof(nodes));
    sl_buf_init(&profiles);
    sl_buf_init(&igs);
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":p:i:u:csxt:", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            sl_buf_addf(&profiles, "%s%s", profiles.len ? " " : "", optarg);
            break;
        case 'i':
            sl_buf_addf(&igs, "%s%s", igs.len ? " " : "", optarg);
            break;
        case 'u':
            if (strcmp(optarg, "warning") != 0 && strcmp(optarg, "error") != 0) {
                ex = cli_usage_error(self, "--unknown-extensions is warning "
                                           "or error");
                goto out;
            }
            unknown_ext = optarg;
            break;
        case 'c':
            allow_comments = 1;
            break;
        case 's':
            security = 1;
            break;
        case 'x':
            no_examples = 1;
            break;
        case 't':
            term = optarg;
            break;
        case ':':
            ex = cli_usage_error(self, "%s needs a value", argv[optind - 1]);
            goto out;
        default:
            ex = cli_usage_error(self, "unknown option %s", argv[optind - 1]);
            goto out;
        }
    }
    if (optind >= argc) {
        ex = cli_usage_error(self, "at least one INPUT is needed");
        goto out;
    }
    /* IGs and profiles first: a bad one is an error before any output */
    if ((rc = sl_stage_validate_new(profiles.data, igs.data, "warn", 1,
                                    &probe, &err)) != SL_OK) {
        err.code = SL_EUSAGE;
        goto fail;
    }
    sl_stage_validate.free(probe);
    if (term != NULL && strncmp(term, "http://", 7) != 0 &&
        strncmp(term, "https://", 8) != 0) {
        ex = cli_usage_error(self, "--terminology is a FHIR server's "
                                   "http:// or https:// base URL");
        goto out;
    }
    for (i = optind; i < argc; i++)
        if (!sl_path_exists(argv[i])) {
            rc = SL_ERR(&err, SL_EUSAGE, "input %d does not exist",
                        i - optind + 1);
            goto fail;
        }

    if ((rc = xml_inputs(argc, argv, optind, allow_comments, &tmpdir,
                         &inputs, &err)) !=
        SL_OK)
        goto fail;
    V.out = stdout;
    spec = sl_calloc(1, sizeof(*spec));
    spec->id = sl_strdup("validate");
    spec->config_path = sl_strdup("sluice validate");
    nodes[0].element = sl_strdup("source");
    nodes[0].id = sl_strdup("input");
    for (i = 0; i < (int)inputs.n; i++)
        sl_conf_node_add(&nodes[0], "input", inputs.v[i]);
    nodes[1].element = sl_strdup("target");
    nodes[1].id = sl_strdup("outcomes");
    spec->nsources = 1;
    spec->sources = sl_calloc(1, sizeof(*spec->sources));
    spec->sources[0].node = &nodes[0];
    spec->sources[0].ops = &sl_source_files;
    spec->sources[0].yields = SL_TAKES_FHIR;
    spec->ntargets = 1;
    spec->targets = sl_calloc(1, sizeof(*spec->targets));
    spec->targets[0].node = &nodes[1];
    spec->targets[0].ops = &oo_sink;
    spec->targets[0].takes = SL_TAKES_FHIR;
    spec->nstages = 1;
    spec->stages = sl_calloc(1, sizeof(*spec->stages));
    spec->stages[0].ops = &sl_stage_validate;
    spec->stages[0].node.element = sl_strdup("validate");
    if (profiles.len)
        sl_conf_node_add(&spec->stages[0].node, "profiles", profiles.data);
    if (igs.len)
        sl_conf_node_add(&spec->stages[0].node, "ig", igs.data);
    sl_conf_node_add(&spec->stages[0].node, "on-error", "warn");
    if (unknown_ext)
        sl_conf_node_add(&spec->stages[0].node, "unknown-extensions",
                         unknown_ext);
    if (security)
        sl_conf_node_add(&spec->stages[0].node, "security-checks", "yes");
    if (no_examples)
        sl_conf_node_add(&spec->stages[0].node, "example-urls", "error");
    if (term)
        sl_conf_node_add(&spec->stages[0].node, "terminology-server", term);
    sl_conf_node_add(&spec->stages[0].node, "outcomes", "1");
    spec->workdir = NULL;
    spec->quarantine = &q;

    rc = cli_run_spec(g, spec, "validate", &sum, &err);
    if (rc != SL_OK)
        goto fail;
    fprintf(stderr, "sluice validate: %llu valid, %llu invalid, %llu "
                    "unreadable\n",
            V.valid, V.invalid, V.unreadable);
    print_report(stderr, &sum);
    ex = V.invalid || V.unreadable ? SL_EXIT_QUARANTINED : SL_EXIT_OK;
    goto out;
fail:
    ex = cli_fail(&err);
out:
    sl_run_summary_free(&sum);
    sl_job_spec_free(spec);
    for (i = 0; i < 2; i++)
        sl_conf_node_clear(&nodes[i]);
    sl_buf_free(&profiles);
    sl_buf_free(&igs);
    rm_tmpdir(tmpdir, &inputs);
    sl_strv_free(&inputs);
    return ex;
}

const struct cli_cmd cli_cmd_validate = {
    "validate",
    "[--profile URL|FILE] [--ig DIR|PKG.tgz]... [--jobs N]\n"
    "       [--unknown-extensions warning|error] [--allow-comments]\n"
    "       [--security-checks] [--no-example-urls] [--terminology BASE]\n"
    "       INPUT...",
    "validate FHIR resources against R4 and profiles",
    "INPUT: files or folders (recursive) of FHIR R4 .json or .json.gz\n"
    "resources or Bundles (a Bundle is validated as a whole), .ndjson,\n"
    ".ndjson.gz; .xml files named as INPUT (not in folders). Each resource is validated against the base R4\n"
    "specification (elements, cardinality, primitive formats, choice types,\n"
    "contained resources, Bundle rules, required bindings of core), the\n"
    "profile given and the profiles its meta.profile names.\n"
    "\n"
    "Options:\n"
    "      --profile URL|FILE   also validate every resource against this\n"
    "                           profile: a StructureDefinition (.json, .xml)\n"
    "                           or the\n"
    "                           canonical URL of one in an --ig (repeat for\n"
    "                           more)\n"
    "      --ig DIR|PKG.tgz     an implementation guide: a folder of JSON or\n"
    "                           XML conformance resources or a FHIR package\n"
    "                           (.tgz); its profiles, ValueSets and\n"
    "                           CodeSystems become known (repeat for more)\n"
    "  -j, --jobs N             resources validated at once (default: cores)\n"
    "      --unknown-extensions warning|error\n"
    "                           an extension whose definition is not loaded:\n"
    "                           a warning (default), or an error as HL7's\n"
    "                           reference validator has it (HL7's own\n"
    "                           http://hl7.org/fhir/StructureDefinition/\n"
    "                           extensions and example domains stay warnings)\n"
    "      --allow-comments     .json files named as INPUT may hold comments\n"
    "                           (// and /* */), which are skipped (JSON has\n"
    "                           none: without this they are malformed)\n"
    "      --security-checks    a string holding HTML markup (<script>,\n"
    "                           <a href=...>) is an error\n"
    "      --no-example-urls    a URL on an example domain (example.org,\n"
    "                           example.com, example.net, acme.com) is an\n"
    "                           error: a placeholder left in the data\n"
    "      --terminology BASE   a FHIR terminology server (its base URL):\n"
    "                           a required or extensible binding (of a\n"
    "                           profile or of R4 core), or a memberOf() of\n"
    "                           an invariant, whose ValueSet\n"
    "                           cannot be expanded from what is loaded is\n"
    "                           asked of it (ValueSet/$validate-code, each\n"
    "                           answer cached for the run); the server down or\n"
    "                           not knowing the ValueSet: a warning \"could\n"
    "                           not check\" naming it, never a silent pass\n"
    "\n"
    "Output: one OperationOutcome per resource on stdout, one a line, in\n"
    "input order, its position (input number and line) in an extension;\n"
    "an issue per finding with severity, code, expression (the element\n"
    "path) and a message saying what to change. Never a value of the\n"
    "resource. On stderr: how many were valid and invalid, and the findings\n"
    "counted per profile and message.\n"
    "\n"
    "Exit status: 0 every resource valid; 1 usage error (or an IG or\n"
    "profile that cannot be loaded); 2 runtime failure; 3 errors were\n"
    "found (or an input could not be read). See docs/validation.md.\n",
    exec_validate,
};

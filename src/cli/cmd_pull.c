/* cmd_pull.c - sluice pull: one-off read of a source of the configuration
 * (any type: fhir-rest, fhir-bulk, fhir-files...) into a folder of FHIR
 * files, with the same engine as a job but no stage and no state store:
 * NDJSON per resource type, as a fhir-files target writes it. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config/config.h"
#include "pipeline/pipeline.h"

/* True when path is absent or an empty folder. */
static int
exec_pull(const struct cli_cmd *self, struct cli_global *g, int argc,
          char **argv)
{
    static const struct option opts[] = {
        { "source", required_argument, NULL, 's' },
        { "output", required_argument, NULL, 'o' },
        { "quarantine", required_argument, NULL, 'Q' },
        { "format", required_argument, NULL, 'f' },
        { NULL, 0, NULL, 0 },
    };
    struct sl_err err = { 0 };
    struct sl_config *cfg = NULL;
    const struct sl_conf_node *snode;
    const struct sl_source_type *st;
    struct sl_job_spec *spec = NULL;
    struct sl_conf_node tnode = { 0 };
    struct sl_quarantine_sink *q = NULL;
    struct sl_run_summary sum = { 0 };
    const char *source = NULL, *out = NULL, *qdir = NULL, *format = "ndjson";
    char *abs = NULL, *parent = NULL, *qdef = NULL;
    const char *leaf;
    int c, rc, ex, used = 0;

    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":s:o:Q:f:", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            source = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'Q':
            qdir = optarg;
            break;
        case 'f':
            format = optarg;
            break;
        case ':':
            return cli_usage_error(self, "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(self, "unknown option %s", argv[optind - 1]);
        }
    }
    if (source == NULL || out == NULL)
        return cli_usage_error(self, "--source and -o are needed");
    if (optind < argc)
        return cli_usage_error(self, "unexpected argument %d", optind);
    if (strcmp(format, "ndjson") != 0 && strcmp(format, "bundle") != 0)
        return cli_usage_error(self, "--format is ndjson or bundle");
    if (cli_dir_used(out, &used, &err) != SL_OK || used)
        return cli_usage_error(self,
                               "-o names a folder that is not empty: "
                               "a pull writes into a new or empty folder");
    if ((rc = sl_config_load(cli_config_path(g), 1, &cfg, &err)) != SL_OK)
        goto fail;
    if ((snode = sl_config_source(cfg, source)) == NULL) {
        rc = SL_ERR(&err, SL_EUSAGE, "%s: no source '%s'", cfg->path, source);
        goto fail;
    }
    st = sl_source_type_find(snode->type);
    if (st == NULL || st->ops == NULL || !(st->yields & SL_TAKES_FHIR)) {
        rc = SL_ERR(&err, SL_EUSAGE,
                    "%s:%d: source '%s' (%s) does not give "
                    "FHIR resources",
                    cfg->path, snode->line, source,
                    snode->type ? snode->type : "?");
        goto fail;
    }
    if ((rc = sl_mkdir_p(out, &err)) != SL_OK)
        goto fail;
    abs = realpath(out, NULL);
    if (abs == NULL) {
        rc = SL_ERR(&err, SL_EIO, "-o: cannot resolve the folder");
        goto fail;
    }
    if (qdir == NULL)
        qdir = qdef = sl_asprintf("%s.quarantine", abs);
    if ((rc = sl_mkdir_private(qdir, "quarantine", &err)) != SL_OK)
        goto fail;

    /* the fhir-files target writes PATH/RUN-ID/: the folder's parent and
     * its name */
    parent = sl_path_dir(abs);
    leaf = strrchr(abs, '/') ? strrchr(abs, '/') + 1 : abs;
    tnode.element = sl_strdup("target");
    tnode.id = sl_strdup("output");
    tnode.type = sl_strdup("fhir-files");
    sl_conf_node_add(&tnode, "path", parent);
    sl_conf_node_add(&tnode, "format", format);
    sl_conf_node_add(&tnode, "bundle-size", "200");

    spec = sl_calloc(1, sizeof(*spec));
    spec->id = sl_strdup("pull");
    spec->config_path = sl_strdup(cfg->path);
    spec->base_dir = sl_strdup(cfg->base_dir);
    spec->cfg = cfg;
    spec->nsources = 1;
    spec->sources = sl_calloc(1, sizeof(*spec->sources));
    spec->sources[0].node = snode;
    spec->sources[0].ops = st->ops;
    spec->sources[0].yields = st->yields;
    spec->ntargets = 1;
    spec->targets = sl_calloc(1, sizeof(*spec->targets));
    spec->targets[0].node = &tnode;
    spec->targets[0].ops = sl_sink_find("fhir-files");
    spec->targets[0].takes = SL_TAKES_FHIR;
    {
        /* sealed at rest with a quarantine key (patient data) */
        char *qkey = NULL;
        size_t qkeylen = 0;

        if ((rc = cli_folder_quarantine_key(cfg, NULL, &qkey, &qkeylen,
                                            &err)) != SL_OK)
            goto fail;
        q = sl_quarantine_folder_new(qdir, qkey, qkeylen);
        if (qkey)
            sl_freezero(qkey, qkeylen);
    }
    spec->quarantine = q;

    rc = cli_run_spec(g, spec, leaf, &sum, &err);
    if (rc != SL_OK)
        goto fail;
    fprintf(stderr,
            "sluice pull: %llu resources from %s, %llu "
            "quarantined%s%s\n",
            (unsigned long long)sum.out, source,
            (unsigned long long)sum.quarantined, sum.quarantined ? " in " : "",
            sum.quarantined ? qdir : "");
    ex = sum.quarantined ? SL_EXIT_QUARANTINED : SL_EXIT_OK;
    goto done;
fail:
    ex = cli_fail(&err);
done:
    sl_run_summary_free(&sum);
    sl_job_spec_free(spec);
    sl_conf_node_clear(&tnode);
    sl_quarantine_folder_free(q);
    sl_config_free(cfg);
    free(abs);
    free(parent);
    free(qdef);
    return ex;
}

const struct cli_cmd cli_cmd_pull = {
    "pull",
    "--source ID -o DIR [--quarantine QDIR] [--format ndjson|bundle]",
    "read a source of the configuration into FHIR files, once",
    "Reads every resource the source gives (a fhir-rest source: each type\n"
    "of its <resources>, all pages; see docs/connectors.md) into DIR, one\n"
    "NDJSON file per resource type (Patient.ndjson, ...). Nothing is\n"
    "de-identified: DIR holds patient data.\n"
    "\n"
    "Options:\n"
    "  -s, --source ID       a source of the configuration that gives FHIR\n"
    "  -o, --output DIR      a new or empty folder for the files\n"
    "  -Q, --quarantine QDIR what could not be read (a page that is not a\n"
    "                        Bundle, a refused search), each with a reason\n"
    "                        file (default: DIR.quarantine beside DIR; made\n"
    "                        mode 0700, never inside DIR)\n"
    "  -f, --format FMT      ndjson (default) or bundle (FHIR Bundles of 200)\n"
    "\n"
    "No state store is used and nothing is incremental: a pull reads\n"
    "everything, and a pull that was stopped is run again whole into an\n"
    "empty folder. Jobs (sluice run) read incrementally.\n"
    "Exit status: 0 everything read, 3 some items quarantined, 2 the server\n"
    "could not be reached or kept failing, 1 a usage or configuration\n"
    "error (an unknown source, a source that does not give FHIR).\n",
    exec_pull,
};

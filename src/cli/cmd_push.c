/* cmd_push.c - sluice push: one-off delivery of FHIR files to a target of
 * the configuration (a fhir-store, or any target that takes FHIR), with
 * the same engine as a job but no stage: the files are sent as they are. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config/config.h"
#include "pipeline/pipeline.h"
#include "sources/sources.h"

static int
exec_push(const struct cli_cmd *self, struct cli_global *g, int argc,
          char **argv)
{
    static const struct option opts[] = {
        {"target", required_argument, NULL, 't'},
        {"quarantine", required_argument, NULL, 'Q'},
        {NULL, 0, NULL, 0},
    };
    struct sl_err err = {0};
    struct sl_config *cfg = NULL;
    const struct sl_conf_node *tnode;
    const struct sl_sink_ops *ops;
    struct sl_job_spec *spec = NULL;
    struct sl_conf_node *src = NULL;
    size_t nsrc = 0, k;
    struct sl_quarantine_sink *q = NULL;
    struct sl_run_summary sum = {0};
    const char *target = NULL, *qdir = NULL;
    char *qdir_own = NULL;
    int c, i, rc, ex;

    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":t:Q:", opts, NULL)) != -1) {
        switch (c) {
        case 't': target = optarg; break;
        case 'Q': qdir = optarg; break;
        case ':':
            return cli_usage_error(self, "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(self, "unknown option %s", argv[optind - 1]);
        }
    }
    if (target == NULL || optind >= argc)
        return cli_usage_error(self, "--target and at least one INPUT are "
                                     "needed");
    if ((rc = sl_config_load(cli_config_path(g), 1, &cfg, &err)) != SL_OK)
        goto fail;
    if (qdir == NULL) {
        /* the configuration's quarantine folder, private, then push/ */
        if ((rc = sl_mkdir_private(cfg->quarantine_dir, "quarantine",
                                   &err)) != SL_OK)
            goto fail;
        qdir = qdir_own = sl_path_join(cfg->quarantine_dir, "push");
    }
    if ((tnode = sl_config_target(cfg, target)) == NULL) {
        rc = SL_ERR(&err, SL_EUSAGE, "%s: no target '%s'", cfg->path, target);
        goto fail;
    }
    if (!(sl_config_target_takes(tnode->type) & SL_TAKES_FHIR) ||
        (ops = sl_sink_find(tnode->type)) == NULL) {
        rc = SL_ERR(&err, SL_EUSAGE, "%s:%d: target '%s' (%s) does not take "
                    "FHIR resources", cfg->path, tnode->line, target,
                    tnode->type ? tnode->type : "?");
        goto fail;
    }
    for (i = optind; i < argc; i++)
        if (!sl_path_exists(argv[i])) {
            rc = SL_ERR(&err, SL_EUSAGE, "input %d does not exist",
                        i - optind + 1);
            goto fail;
        }
    if ((rc = sl_mkdir_private(qdir, "quarantine", &err)) != SL_OK)
        goto fail;

    /* one fhir-files source per INPUT (Bundles split into their
     * entries, as a job reads them), whose positions name it by number */
    nsrc = (size_t)(argc - optind);
    src = sl_calloc(nsrc, sizeof(*src));
    spec = sl_calloc(1, sizeof(*spec));
    spec->id = sl_strdup("push");
    spec->config_path = sl_strdup(cfg->path);
    spec->base_dir = sl_strdup(cfg->base_dir);
    spec->cfg = cfg;
    spec->nsources = nsrc;
    spec->sources = sl_calloc(nsrc, sizeof(*spec->sources));
    for (k = 0; k < nsrc; k++) {
        char *abs = realpath(argv[optind + (int)k], NULL);
        src[k].element = sl_strdup("source");
        src[k].id = sl_asprintf("input-%zu", k + 1);
        sl_conf_node_add(&src[k], "path", abs ? abs : argv[optind + (int)k]);
        free(abs);
        spec->sources[k].node = &src[k];
        spec->sources[k].ops = &sl_source_fhir_files;
        spec->sources[k].yields = SL_TAKES_FHIR;
    }
    spec->ntargets = 1;
    spec->targets = sl_calloc(1, sizeof(*spec->targets));
    spec->targets[0].node = tnode;
    spec->targets[0].ops = ops;
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

    rc = cli_run_spec(g, spec, "push", &sum, &err);
    if (rc != SL_OK)
        goto fail;
    fprintf(stderr, "sluice push: %llu sent to %s, %llu quarantined%s%s, "
                    "%llu skipped (not FHIR)\n",
            (unsigned long long)sum.out, target,
            (unsigned long long)sum.quarantined, sum.quarantined ? " in " : "",
            sum.quarantined ? qdir : "", (unsigned long long)sum.skipped);
    ex = sum.quarantined ? SL_EXIT_QUARANTINED : SL_EXIT_OK;
    goto out;
fail:
    ex = cli_fail(&err);
out:
    sl_run_summary_free(&sum);
    sl_job_spec_free(spec);
    for (k = 0; k < nsrc; k++)
        sl_conf_node_clear(&src[k]);
    free(src);
    sl_quarantine_folder_free(q);
    sl_config_free(cfg);
    free(qdir_own);
    return ex;
}

const struct cli_cmd cli_cmd_push = {
    "push",
    "--target ID [--quarantine QDIR] INPUT...",
    "send FHIR files to a target of the configuration, once",
    "INPUT: files or folders (recursive): FHIR R4 .json or .json.gz\n"
    "resources or Bundles, .ndjson, .ndjson.gz. They are sent as they are:\n"
    "no de-identification (use 'sluice deid' first, or a job).\n"
    "\n"
    "Options:\n"
    "  -t, --target ID       a target of the configuration that takes FHIR\n"
    "                        (a fhir-store: each resource is a PUT by its\n"
    "                        id, in Bundles as the target says, with its\n"
    "                        <auth> and flavour: generic, google, azure or\n"
    "                        aws-healthlake; see docs/connectors.md)\n"
    "  -Q, --quarantine QDIR what the target refused, each with a reason\n"
    "                        file (made mode 0700; never inside an output;\n"
    "                        default: push/ in the configuration's\n"
    "                        <quarantine> folder)\n"
    "\n"
    "No state store is used: a push that is stopped is run again whole,\n"
    "which a fhir-store target makes harmless (a PUT of the same id\n"
    "replaces). Exit 0 when everything was sent, 3 when some resources\n"
    "were quarantined, 2 when the server could not be reached.\n",
    exec_push,
};

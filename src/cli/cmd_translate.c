/* cmd_translate.c - sluice translate: local codes in FHIR files translated
 * through terminology maps. The command line is a contract:
 *
 *   sluice translate --map NAME|FILE [--map ...] INPUT... -o OUTDIR
 *
 * A thin front over the one engine, as sluice deid: the files source over
 * INPUT..., the <translate> stage, the fhir-mirror target for OUTDIR (one
 * output file per input, same kind, numbered), a folder quarantine. At
 * the end it prints per map how many codings were mapped and unmapped
 * (map names only: nothing printed comes from the data). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "pipeline/pipeline.h"
#include "pipeline/stage_translate.h"
#include "sinks/sinks.h"
#include "sources/sources.h"
#include "terminology/terminology.h"

/* dir is new or empty, so that what is there is this run's output. */
static int
fresh(const char *dir, const char *what, struct sl_err *err)
{
    int used, rc;

    if ((rc = cli_dir_used(dir, &used, err)) != SL_OK)
        return rc;
    return used ? SL_ERR(err, SL_EUSAGE, "%s: the %s folder is not empty "
                         "(remove it or choose another)", dir, what)
                : SL_OK;
}

/* The quarantine (patient data) is the user's alone and outside OUTDIR. */
static int
qdir_ok(const char *outdir, const char *qdir, struct sl_err *err)
{
    char ro[PATH_MAX], rq[PATH_MAX];
    size_t n;
    int rc;

    if ((rc = sl_mkdir_p(outdir, err)) != SL_OK ||
        (rc = sl_mkdir_private(qdir, "quarantine", err)) != SL_OK)
        return rc;
    if (!realpath(outdir, ro) || !realpath(qdir, rq))
        return SL_ERR(err, SL_EIO, "cannot resolve the output folders");
    n = strlen(ro);
    if (strcmp(ro, rq) == 0 || (strncmp(ro, rq, n) == 0 && rq[n] == '/'))
        return SL_ERR(err, SL_EUSAGE, "the quarantine folder must not be "
                      "inside the output folder");
    return SL_OK;
}

/* The map of a finding of the translate stage whose code is KIND:MAP,
 * or NULL. */
static const char *
map_of(const struct sl_finding_count *x, const char *kind)
{
    size_t n = strlen(kind);

    if (strcmp(x->stage, "translate") != 0 ||
        strncmp(x->code, kind, n) != 0 || x->code[n] != ':')
        return NULL;
    return x->code + n + 1;
}

static uint64_t
count_of(const struct sl_run_summary *sum, const char *kind, const char *map)
{
    size_t i;
    const char *m;

    for (i = 0; i < sum->nfindings; i++)
        if ((m = map_of(&sum->findings[i], kind)) && strcmp(m, map) == 0)
            return sum->findings[i].n;
    return 0;
}

static const char *const kinds[] = {"mapped", "unmapped", "untranslated"};

/* The map of any kind of translate finding, or NULL. */
static const char *
any_map(const struct sl_finding_count *x)
{
    const char *m = NULL;
    size_t k;

    for (k = 0; k < 3 && m == NULL; k++)
        m = map_of(x, kinds[k]);
    return m;
}

/* Per map: codings mapped, unmapped and (a terminology server's) not
 * translated, from the stage's findings, each map once. */
static void
print_report(FILE *f, const struct sl_run_summary *sum)
{
    size_t i, j;

    for (i = 0; i < sum->nfindings; i++) {
        const char *map = any_map(&sum->findings[i]), *m;
        uint64_t failed;
        int seen = 0;

        if (map == NULL)
            continue;
        for (j = 0; j < i && !seen; j++) /* printed at its first finding */
            seen = (m = any_map(&sum->findings[j])) && strcmp(m, map) == 0;
        if (seen)
            continue;
        fprintf(f, "  map %s: %llu mapped, %llu unmapped", map,
                (unsigned long long)count_of(sum, "mapped", map),
                (unsigned long long)count_of(sum, "unmapped", map));
        if ((failed = count_of(sum, "untranslated", map)) > 0)
            fprintf(f, ", %llu could not translate (server)",
                    (unsigned long long)failed);
        fputc('\n', f);
    }
    for (i = 0; i < sum->nfindings; i++) {
        const char *t = map_of(&sum->findings[i], "converted");
        if (t != NULL)
            fprintf(f, "  units %s: %llu converted, %llu not converted\n", t,
                    (unsigned long long)sum->findings[i].n,
                    (unsigned long long)count_of(sum, "not-converted", t));
    }
    for (i = 0; i < sum->nfindings; i++) {
        const char *t = map_of(&sum->findings[i], "not-converted");
        if (t != NULL && count_of(sum, "converted", t) == 0)
            fprintf(f, "  units %s: 0 converted, %llu not converted\n", t,
                    (unsigned long long)sum->findings[i].n);
    }
}

static int
exec_translate(const struct cli_cmd *self, struct cli_global *g, int argc,
               char **argv)
{
    static const struct option opts[] = {
        {"map", required_argument, NULL, 'm'},
        {"output", required_argument, NULL, 'o'},
        {"quarantine", required_argument, NULL, 'Q'},
        {"policy", required_argument, NULL, 'p'},
        {"unmapped", required_argument, NULL, 'u'},
        {"element", required_argument, NULL, 'e'},
        {"target", required_argument, NULL, 't'},
        {"server", required_argument, NULL, 'S'},
        {"remote-map", required_argument, NULL, 'R'},
        {"remote-source", required_argument, NULL, 'r'},
        {"cache", required_argument, NULL, 'C'},
        {"cache-ttl", required_argument, NULL, 'T'},
        {"batch", required_argument, NULL, 'B'},
        {"units", required_argument, NULL, 'U'},
        {"units-original", no_argument, NULL, 'O'},
        {"times-utc", no_argument, NULL, 'Z'},
        {"quarantine-key", required_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    struct sl_err err = {0};
    const char *outdir = NULL, *policy = "add", *unmapped = "keep";
    const char *target = NULL, *units = NULL, *qkey_ref = NULL;
    int units_original = 0, times_utc = 0;
    struct sl_buf maps, elements, sources;
    struct sl_conf_node remote;
    struct sl_job_spec *spec = NULL;
    struct sl_conf_node nodes[2];
    struct sl_quarantine_sink *q = NULL;
    struct sl_run_summary sum = {0};
    void *probe = NULL;
    char *qdir = NULL;
    int c, rc = SL_OK, ex, i;

    memset(nodes, 0, sizeof(nodes));
    memset(&remote, 0, sizeof(remote));
    sl_buf_init(&maps);
    sl_buf_init(&elements);
    sl_buf_init(&sources);
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":m:o:Q:", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            sl_buf_addf(&maps, "%s%s", maps.len ? " " : "", optarg);
            break;
        case 'e':
            sl_buf_addf(&elements, "%s%s", elements.len ? " " : "", optarg);
            break;
        case 'o': outdir = optarg; break;
        case 'Q': free(qdir); qdir = sl_strdup(optarg); break;
        case 'p': policy = optarg; break;
        case 'u': unmapped = optarg; break;
        case 't': target = optarg; break;
        case 'S': sl_conf_node_add(&remote, "server", optarg); break;
        case 'R': sl_conf_node_add(&remote, "remote-map", optarg); break;
        case 'r':
            sl_buf_addf(&sources, "%s%s", sources.len ? " " : "", optarg);
            break;
        case 'C': sl_conf_node_add(&remote, "cache", optarg); break;
        case 'T': sl_conf_node_add(&remote, "cache-ttl", optarg); break;
        case 'B': sl_conf_node_add(&remote, "batch", optarg); break;
        case 'U': units = optarg; break;
        case 'O': units_original = 1; break;
        case 'Z': times_utc = 1; break;
        case 'k': qkey_ref = optarg; break;
        case ':':
            ex = cli_usage_error(self, "%s needs a value", argv[optind - 1]);
            goto out;
        default:
            ex = cli_usage_error(self, "unknown option %s", argv[optind - 1]);
            goto out;
        }
    }
    if ((maps.len == 0 && !sl_conf_get(&remote, "server") && !units &&
         !times_utc) ||
        outdir == NULL || optind >= argc) {
        ex = cli_usage_error(self, "--map, --server, --units or --times-utc, "
                                   "-o and at least one INPUT are needed");
        goto out;
    }
    if (units_original && !units) {
        ex = cli_usage_error(self, "--units-original goes with --units");
        goto out;
    }
    if (sources.len)
        sl_conf_node_add(&remote, "remote-source", sources.data);
    if (remote.nattr > 0 && !sl_conf_get(&remote, "server")) {
        ex = cli_usage_error(self, "--remote-map, --remote-source, --cache, "
                                   "--cache-ttl and --batch go with "
                                   "--server");
        goto out;
    }
    if (strcmp(policy, "add") != 0 && strcmp(policy, "replace") != 0) {
        ex = cli_usage_error(self, "--policy is add or replace");
        goto out;
    }
    if (strcmp(unmapped, "keep") != 0 && strcmp(unmapped, "drop") != 0 &&
        strcmp(unmapped, "quarantine") != 0) {
        ex = cli_usage_error(self, "--unmapped is keep, quarantine or drop");
        goto out;
    }
    if (qdir == NULL) {
        size_t n = strlen(outdir);
        char *parent;
        int shared;
        while (n > 1 && outdir[n - 1] == '/')
            n--;
        qdir = sl_asprintf("%.*s.quarantine", (int)n, outdir);
        parent = sl_path_dir(qdir);
        shared = sl_dir_shared(parent);
        free(parent);
        if (shared) {
            ex = cli_usage_error(self, "the default quarantine folder would "
                                       "be in a folder other users share "
                                       "(like /tmp): choose one with "
                                       "--quarantine QDIR");
            goto out;
        }
    }
    /* the maps first: a bad map is a usage error before any output */
    if (times_utc)
        sl_conf_node_add(&remote, "times", "utc");
    if (units) {
        sl_conf_node_add(&remote, "units", units);
        if (units_original)
            sl_conf_node_add(&remote, "units-original", "yes");
    }
    if ((rc = sl_stage_translate_new_remote(maps.data, policy, unmapped,
                                            elements.data, target, &remote,
                                            NULL, &probe, &err)) != SL_OK)
        goto fail;
    sl_stage_translate.free(probe);
    if ((rc = fresh(outdir, "output", &err)) != SL_OK ||
        (rc = fresh(qdir, "quarantine", &err)) != SL_OK ||
        (rc = qdir_ok(outdir, qdir, &err)) != SL_OK)
        goto fail;
    for (i = optind; i < argc; i++)
        if (!sl_path_exists(argv[i])) {
            rc = SL_ERR(&err, SL_EUSAGE, "input %d does not exist",
                        i - optind + 1);
            goto fail;
        }

    spec = sl_calloc(1, sizeof(*spec));
    spec->id = sl_strdup("translate");
    spec->config_path = sl_strdup("sluice translate");
    nodes[0].element = sl_strdup("source");
    nodes[0].id = sl_strdup("input");
    for (i = optind; i < argc; i++)
        sl_conf_node_add(&nodes[0], "input", argv[i]);
    nodes[1].element = sl_strdup("target");
    nodes[1].id = sl_strdup("output");
    sl_conf_node_add(&nodes[1], "path", outdir);
    spec->nsources = 1;
    spec->sources = sl_calloc(1, sizeof(*spec->sources));
    spec->sources[0].node = &nodes[0];
    spec->sources[0].ops = &sl_source_files;
    spec->sources[0].yields = SL_TAKES_FHIR | SL_TAKES_DICOM;
    spec->ntargets = 1;
    spec->targets = sl_calloc(1, sizeof(*spec->targets));
    spec->targets[0].node = &nodes[1];
    spec->targets[0].ops = &sl_sink_fhir_mirror;
    spec->targets[0].takes = SL_TAKES_FHIR;
    spec->nstages = 1;
    spec->stages = sl_calloc(1, sizeof(*spec->stages));
    spec->stages[0].ops = &sl_stage_translate;
    spec->stages[0].node.element = sl_strdup("translate");
    sl_conf_node_add(&spec->stages[0].node, "maps", maps.data);
    sl_conf_node_add(&spec->stages[0].node, "policy", policy);
    sl_conf_node_add(&spec->stages[0].node, "unmapped", unmapped);
    if (elements.len)
        sl_conf_node_add(&spec->stages[0].node, "elements", elements.data);
    if (target)
        sl_conf_node_add(&spec->stages[0].node, "target", target);
    for (i = 0; i < (int)remote.nattr; i++)
        sl_conf_node_add(&spec->stages[0].node, remote.names[i],
                         remote.values[i]);
    spec->workdir = sl_strdup(outdir);
    {
        /* sealed at rest with a quarantine key (patient data) */
        char *qkey = NULL;
        size_t qkeylen = 0;

        if ((rc = cli_folder_quarantine_key(NULL, qkey_ref, &qkey, &qkeylen,
                                            &err)) != SL_OK)
            goto fail;
        q = sl_quarantine_folder_new(qdir, qkey, qkeylen);
        if (qkey)
            sl_freezero(qkey, qkeylen);
    }
    spec->quarantine = q;

    rc = cli_run_spec(g, spec, "translate", &sum, &err);
    if (rc != SL_OK)
        goto fail;
    fprintf(stderr, "sluice translate: %llu written, %llu quarantined%s%s, "
                    "%llu skipped\n",
            (unsigned long long)sum.out, (unsigned long long)sum.quarantined,
            sum.quarantined ? " in " : "", sum.quarantined ? qdir : "",
            (unsigned long long)sum.skipped);
    print_report(stderr, &sum);
    ex = sum.quarantined ? SL_EXIT_QUARANTINED : SL_EXIT_OK;
    rmdir(qdir); /* made up front to check where it is; gone when empty */
    goto out;
fail:
    ex = cli_fail(&err);
out:
    sl_run_summary_free(&sum);
    sl_job_spec_free(spec);
    for (i = 0; i < 2; i++)
        sl_conf_node_clear(&nodes[i]);
    sl_quarantine_folder_free(q);
    sl_buf_free(&maps);
    sl_buf_free(&elements);
    sl_buf_free(&sources);
    sl_conf_node_clear(&remote);
    free(qdir);
    return ex;
}

const struct cli_cmd cli_cmd_translate = {
    "translate",
    "--map NAME|FILE [--map ...] [--policy add|replace] "
    "[--unmapped keep|quarantine|drop] [--element PATH]... "
    "[--target SYSTEM] [--quarantine QDIR [--quarantine-key SECRET]] "
    "[--server BASE --remote-map URL --remote-source SYSTEM... [--cache FILE] [--cache-ttl S] [--batch N]] "
    "[--units NAME|FILE [--units-original]] [--times-utc] INPUT... -o OUTDIR",
    "translate local codes in FHIR files through terminology maps",
    "INPUT: files or folders (recursive) of FHIR R4 .json or .json.gz\n"
    "resources or Bundles, .ndjson, .ndjson.gz. Each Coding and\n"
    "CodeableConcept at the selected element paths is translated with\n"
    "$translate semantics (R4 ConceptMap equivalence, groups per source and\n"
    "target system and version, unmapped provided/fixed/other-map).\n"
    "\n"
    "Options:\n"
    "  -m, --map NAME|FILE      a map: a FHIR R4 ConceptMap (.json), a CSV map\n"
    "                           (.csv: source system, source code, target\n"
    "                           system, target code, target display,\n"
    "                           relationship) or the name of a shipped map\n"
    "                           (lab-local-to-loinc); repeat for more, the\n"
    "                           first that maps a coding answers\n"
    "  -o, --output OUTDIR      where the translated files go (a new or empty\n"
    "                           folder; NNNNNN.EXT, same kind as each input;\n"
    "                           an NDJSON line no map can change is written\n"
    "                           as it came, byte for byte)\n"
    "      --policy add|replace the target coding beside the original\n"
    "                           (default) or in its place\n"
    "      --unmapped keep|quarantine|drop\n"
    "                           a coding of a mapped system no map translates:\n"
    "                           keep it (default), quarantine the resource,\n"
    "                           or drop the coding\n"
    "      --element PATH       an element path to translate (repeat); default\n"
    "                           Observation.code, Observation.valueCodeable-\n"
    "                           Concept, Condition.code, Procedure.code,\n"
    "                           MedicationRequest.medicationCodeableConcept,\n"
    "                           DiagnosticReport.code\n"
    "      --target SYSTEM      only translate into this system\n"
    "  -Q, --quarantine QDIR    quarantined resources with a reason file\n"
    "                           (default OUTDIR.quarantine; never inside\n"
    "                           OUTDIR; new or empty)\n"
    "      --quarantine-key SECRET  encrypt what QDIR keeps at rest\n"
    "                           (AES-256-GCM; env:NAME or file:PATH, at\n"
    "                           least 32 bytes), as sluice deid does\n"
    "  -j, --jobs N             files translated at once (default: cores)\n"
    "\n"
    "A map on a FHIR terminology server (ConceptMap/$translate), asked after\n"
    "the --map maps (which are then optional):\n"
    "      --server BASE        the server's FHIR base URL (http:// or https://)\n"
    "      --remote-map URL     the canonical url of the ConceptMap there\n"
    "      --remote-source SYSTEM\n"
    "                           a source system it translates (repeat); only\n"
    "                           codings of these systems are sent\n"
    "      --cache FILE         an SQLite file that keeps the answers across\n"
    "                           runs (default: in memory for this run)\n"
    "      --cache-ttl S        seconds an answer is kept (default 86400)\n"
    "      --batch N            codings asked in one batch Bundle (default 50;\n"
    "                           0: one request each)\n"
    "\n"
    "Quantity units (the maps are then optional):\n"
    "      --units NAME|FILE    a conversion table (CSV: analyte system, analyte\n"
    "                           code, analyte, from, to, factor) or a shipped one\n"
    "                           (units-si: mass to molar concentrations, e.g.\n"
    "                           glucose mg/dL to mmol/L; units-conventional):\n"
    "                           Observation Quantities of the analytes in `from`\n"
    "                           get value * factor in exact decimals, the\n"
    "                           significant digits of the original kept, and\n"
    "                           the UCUM unit `to`\n"
    "      --units-original     keep each converted Quantity's original in an\n"
    "                           extension (" SL_TERM_ORIGINAL_QUANTITY ")\n"
    "      --times-utc          every dateTime and instant with a time and an\n"
    "                           offset in UTC, precision kept\n"
    "                           (2024-03-01T00:30:00.25+01:00 becomes\n"
    "                           2024-02-29T23:30:00.25Z); dates and times\n"
    "                           without an offset are left as they are\n"
    "A coding the server could not translate (unreachable, an error, not an\n"
    "answer) sends its resource to the quarantine, whatever --unmapped says,\n"
    "with the reason \"could not translate\"; the run goes on.\n"
    "\n"
    "At the end it prints, per map, how many codings were mapped and\n"
    "unmapped. A bad map is refused before anything is written, with its\n"
    "file and line or element path. Nothing printed comes from the data.\n"
    "\n"
    "Exit status: 0 done, 1 usage or map error, 2 runtime failure, 3 some\n"
    "resources were quarantined. See docs/terminology.md.\n",
    exec_translate,
};

/* cmd_deid.c - sluice deid: de-identifies FHIR and DICOM files with one
 * key, so that a patient's FHIR record and images keep the same
 * pseudonyms and date shift. The command line is a contract:
 *
 *   sluice deid [--profile NAME|FILE] --key-file KEYFILE -o OUTDIR
 *               [--quarantine QDIR] [--explain] [--provenance]
 *               [--reid-map FILE --reid-key-file KEY2] [--follow-symlinks]
 *               [--reference-base URL] [--quarantine-key SECRET]
 *               INPUT...
 *
 * A thin front over the one engine: it builds a job in memory (the files
 * source over INPUT..., the deid stage, the fhir-mirror target for
 * OUTDIR/fhir and the dicom-folder target for OUTDIR/dicom, a folder
 * quarantine) and runs it without a state store. Output names never come
 * from input names: FHIR files become OUTDIR/fhir/NNNNNN.json|.json.gz|
 * .ndjson|.ndjson.gz (same kind as the input), DICOM instances
 * OUTDIR/dicom/PATIENT/STUDY/SERIES/SOP.dcm named by pseudonyms and new
 * UIDs. What cannot be made safe goes to QDIR (never inside OUTDIR) with
 * a reason file; nothing printed comes from the data. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "deid/profile.h"
#include "dicom/dicom.h"
#include "keys/keys.h"
#include "pipeline/pipeline.h"
#include "pipeline/stage_deid.h"
#include "sinks/sinks.h"
#include "sources/sources.h"

/* OUTDIR and QDIR are new or empty: a second run into the same folder
 * would overwrite the first one's numbered outputs and leave a manifest
 * that no longer lists what is there. */
static int
new_or_empty(const char *dir, const char *what, struct sl_err *err)
{
    int used, rc;

    if ((rc = cli_dir_used(dir, &used, err)) != SL_OK)
        return rc;
    if (used)
        return SL_ERR(err, SL_EUSAGE,
                      "%s: the %s folder is not empty: sluice deid writes "
                      "into a new or empty folder, so that what is there "
                      "is exactly this run's output (remove it or choose "
                      "another)",
                      dir, what);
    return SL_OK;
}

/* QDIR must not be OUTDIR or inside it: outputs are what gets delivered. */
static int
qdir_outside(const char *outdir, const char *qdir, struct sl_err *err)
{
    char ro[PATH_MAX], rq[PATH_MAX];
    size_t n;

    int rc;

    if (sl_mkdir_p(outdir, err) != SL_OK)
        return SL_EIO;
    /* the quarantine holds patient data: the user's alone */
    if ((rc = sl_mkdir_private(qdir, "quarantine", err)) != SL_OK)
        return rc;
    if (!realpath(outdir, ro) || !realpath(qdir, rq))
        return SL_ERR(err, SL_EIO, "cannot resolve the output folders");
    n = strlen(ro);
    if (strcmp(ro, rq) == 0 || (strncmp(ro, rq, n) == 0 && rq[n] == '/'))
        return SL_ERR(err, SL_EUSAGE, "the quarantine folder must not be "
                      "inside the output folder: the output is delivered, "
                      "the quarantine still holds patient data");
    return SL_OK;
}

/* Whether an input (a file, or a file under a folder) is DICOM by its
 * content: only then does the output get a dicom folder. Stops at the
 * first. */
static int
any_dicom(int argc, char **argv, int follow)
{
    int i, found = 0;

    for (i = 0; i < argc && !found; i++) {
        struct sl_strv files = {0};
        size_t j;

        if (!sl_path_is_dir(argv[i])) {
            sl_strv_push(&files, argv[i]);
        } else if (sl_dir_walk_links(argv[i], follow, &files, NULL) ==
                   SL_OK) {
            for (j = 0; j < files.n; j++) {
                char *p = sl_path_join(argv[i], files.v[j]);
                free(files.v[j]);
                files.v[j] = p;
            }
        }
        for (j = 0; j < files.n && !found; j++) {
            const char *p = files.v[j];
            int is_dicom = 0;
            if ((!follow && sl_is_symlink(p)) || sl_str_has_suffix(p, ".json") ||
                sl_str_has_suffix(p, ".ndjson") ||
                sl_str_has_suffix(p, ".ndjson.gz"))
                continue;
            found = sl_dicom_file_probe(p, &is_dicom, NULL) == SL_OK &&
                    is_dicom;
        }
        sl_strv_free(&files);
    }
    return found;
}

/* The job: the files source over the inputs, the deid stage, the
 * fhir-mirror and (when some input is DICOM) dicom-folder targets. */
static struct sl_job_spec *
build_job(struct sl_conf_node nodes[3], int argc, char **argv,
          const char *outdir, int has_dicom)
{
    struct sl_job_spec *spec = sl_calloc(1, sizeof(*spec));
    char *fhir_out = sl_path_join(outdir, "fhir");
    char *dicom_out = sl_path_join(outdir, "dicom");
    int i;

    spec->id = sl_strdup("deid");
    spec->config_path = sl_strdup("sluice deid");
    nodes[0].element = sl_strdup("source");
    nodes[0].id = sl_strdup("input");
    for (i = 0; i < argc; i++)
        sl_conf_node_add(&nodes[0], "input", argv[i]);
    nodes[1].element = sl_strdup("target");
    nodes[1].id = sl_strdup("output");
    sl_conf_node_add(&nodes[1], "path", fhir_out);
    nodes[2].element = sl_strdup("target");
    nodes[2].id = sl_strdup("output");
    sl_conf_node_add(&nodes[2], "path", dicom_out);
    /* one syncfs at the end: a crash of a one-shot command means running
     * it again */
    sl_conf_node_add(&nodes[2], "sync", "end");
    spec->nsources = 1;
    spec->sources = sl_calloc(1, sizeof(*spec->sources));
    spec->sources[0].node = &nodes[0];
    spec->sources[0].ops = &sl_source_files;
    spec->sources[0].yields = SL_TAKES_FHIR | SL_TAKES_DICOM;
    spec->ntargets = has_dicom ? 2 : 1;
    spec->targets = sl_calloc(2, sizeof(*spec->targets));
    spec->targets[0].node = &nodes[1];
    spec->targets[0].ops = &sl_sink_fhir_mirror;
    spec->targets[0].takes = SL_TAKES_FHIR;
    spec->targets[1].node = &nodes[2];
    spec->targets[1].ops = &sl_sink_dicom_folder;
    spec->targets[1].takes = SL_TAKES_DICOM;
    /* de-identified instances are written inside OUTDIR, so that the
     * target renames them into place instead of copying */
    spec->workdir = sl_strdup(outdir);
    free(fhir_out);
    free(dicom_out);
    return spec;
}

static int
exec_deid(const struct cli_cmd *self, struct cli_global *g, int argc,
          char **argv)
{
    static const struct option opts[] = {
        {"profile", required_argument, NULL, 'p'},
        {"key-file", required_argument, NULL, 'k'},
        {"output", required_argument, NULL, 'o'},
        {"quarantine", required_argument, NULL, 'Q'},
        {"explain", no_argument, NULL, 'e'},
        {"reid-map", required_argument, NULL, 'M'},
        {"reid-key-file", required_argument, NULL, 'K'},
        {"provenance", no_argument, NULL, 'P'},
        {"follow-symlinks", no_argument, NULL, 'L'},
        {"reference-base", required_argument, NULL, 'B'},
        {"quarantine-key", required_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    struct sl_err err = {0};
    const char *profile = "basic", *keyfile = NULL, *outdir = NULL;
    const char *reid_map = NULL, *reid_keyfile = NULL, *ref_base = NULL;
    const char *qkey_ref = NULL;
    char *qkey = NULL;
    size_t qkeylen = 0;
    struct sl_keys *keys = NULL, *reid_key = NULL;
    struct sl_profile_chain *chain = NULL;
    struct sl_job_spec *spec = NULL;
    struct sl_conf_node nodes[3];
    struct sl_quarantine_sink *q = NULL;
    struct sl_run_summary sum = {0};
    char *qdir = NULL;
    int c, explain = 0, provenance = 0, follow = 0, rc = SL_OK, ex, i;

    memset(nodes, 0, sizeof(nodes));
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":p:k:o:Q:eL", opts, NULL)) != -1) {
        switch (c) {
        case 'p': profile = optarg; break;
        case 'k': keyfile = optarg; break;
        case 'o': outdir = optarg; break;
        case 'Q': free(qdir); qdir = sl_strdup(optarg); break;
        case 'e': explain = 1; break;
        case 'M': reid_map = optarg; break;
        case 'K': reid_keyfile = optarg; break;
        case 'P': provenance = 1; break;
        case 'L': follow = 1; break;
        case 'B': ref_base = optarg; break;
        case 'q': qkey_ref = optarg; break;
        case ':':
            free(qdir);
            return cli_usage_error(self, "%s needs a value", argv[optind - 1]);
        default:
            free(qdir);
            return cli_usage_error(self, "unknown option %s", argv[optind - 1]);
        }
    }
    if (keyfile == NULL || outdir == NULL || optind >= argc) {
        free(qdir);
        return cli_usage_error(self, "--key-file, -o and at least one INPUT "
                                     "are needed");
    }
    if ((reid_map == NULL) != (reid_keyfile == NULL)) {
        free(qdir);
        return cli_usage_error(self, "--reid-map and --reid-key-file go "
                                     "together");
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
            /* beside OUTDIR in /tmp, say: any user could have made it */
            free(qdir);
            return cli_usage_error(self, "the default quarantine folder "
                                         "would be in a folder other users "
                                         "share (like /tmp): choose one "
                                         "with --quarantine QDIR");
        }
    }
    /* the checks come in the order they always did, before any output */
    if ((rc = sl_keys_load_file(keyfile, &keys, &err)) != SL_OK)
        goto fail;
    if ((rc = sl_profile_chain_load(profile, &chain, &err)) != SL_OK)
        goto fail;
    /* sealed at rest with a quarantine key (patient data) */
    if ((rc = cli_folder_quarantine_key(NULL, qkey_ref, &qkey, &qkeylen,
                                        &err)) != SL_OK)
        goto fail;
    if (reid_map != NULL) {
        if ((rc = sl_keys_load_file(reid_keyfile, &reid_key, &err)) != SL_OK)
            goto fail;
        if (sl_keys_equal(reid_key, keys)) {
            rc = SL_ERR(&err, SL_EKEY,
                        "%s: the re-identification key must differ from "
                        "the pseudonym key (make one with 'sluice keygen')",
                        reid_keyfile);
            goto fail;
        }
    }
    if ((rc = new_or_empty(outdir, "output", &err)) != SL_OK ||
        (rc = new_or_empty(qdir, "quarantine", &err)) != SL_OK ||
        (rc = qdir_outside(outdir, qdir, &err)) != SL_OK)
        goto fail;
    for (i = optind; i < argc; i++)
        if (!sl_path_exists(argv[i])) {
            rc = SL_ERR(&err, SL_EUSAGE, "input %d does not exist",
                        i - optind + 1);
            goto fail;
        }

    spec = build_job(nodes, argc - optind, argv + optind, outdir,
                     any_dicom(argc - optind, argv + optind, follow));
    if (follow)
        sl_conf_node_add(&nodes[0], "follow-symlinks", "yes");
    spec->nstages = 1;
    spec->stages = sl_calloc(1, sizeof(*spec->stages));
    spec->stages[0].ops = &sl_stage_deid;
    spec->stages[0].node.element = sl_strdup("deid");
    sl_conf_node_add(&spec->stages[0].node, "profile", profile);
    if (explain)
        sl_conf_node_add(&spec->stages[0].node, "explain", "-");
    if (provenance)
        sl_conf_node_add(&spec->stages[0].node, "provenance", "yes");
    if (reid_map)
        sl_conf_node_add(&spec->stages[0].node, "reid-map", reid_map);
    if (ref_base)
        sl_conf_node_add(&spec->stages[0].node, "reference-base", ref_base);
    spec->keys = keys;
    spec->reid_key = reid_key;
    keys = reid_key = NULL; /* the spec owns them */
    q = sl_quarantine_folder_new(qdir, qkey, qkeylen);
    spec->quarantine = q;

    rc = cli_run_spec(g, spec, "deid", &sum, &err);
    if (rc != SL_OK)
        goto fail;
    fprintf(stderr, "sluice deid: %llu de-identified, %llu quarantined%s%s, "
                    "%llu skipped (neither FHIR nor DICOM)\n",
            (unsigned long long)sum.out, (unsigned long long)sum.quarantined,
            sum.quarantined ? " in " : "", sum.quarantined ? qdir : "",
            (unsigned long long)sum.skipped);
    ex = sum.quarantined ? SL_EXIT_QUARANTINED : SL_EXIT_OK;
    rmdir(qdir); /* made up front to check where it is; gone when empty */
    goto out;
fail:
    ex = cli_fail(&err);
out:
    sl_run_summary_free(&sum);
    sl_job_spec_free(spec);
    for (i = 0; i < 3; i++)
        sl_conf_node_clear(&nodes[i]);
    sl_quarantine_folder_free(q);
    if (qkey)
        sl_freezero(qkey, qkeylen);
    sl_profile_chain_free(chain);
    sl_keys_free(keys);
    sl_keys_free(reid_key);
    free(qdir);
    return ex;
}

const struct cli_cmd cli_cmd_deid = {
    "deid",
    "[--profile NAME|FILE] --key-file KEYFILE -o OUTDIR [--quarantine QDIR] "
    "[--explain] [--provenance] [--reid-map FILE --reid-key-file KEY2] "
    "[--follow-symlinks] [--reference-base URL] [--quarantine-key SECRET] "
    "INPUT...",
    "de-identify FHIR and DICOM files with one key",
    "INPUT: files or folders (recursive): FHIR R4 .json or .json.gz\n"
    "resources or Bundles, .ndjson, .ndjson.gz; DICOM Part-10 files (and\n"
    "datasets without meta information), recognised by content. One key\n"
    "for everything: a patient's FHIR record and images get the same\n"
    "pseudonyms and the same date shift.\n"
    "\n"
    "Profiles (in profiles/deid/, schema-checked XML):\n"
    "  basic         the Safe Harbor list (45 CFR 164.514(b)(2)) for FHIR and\n"
    "                the PS3.15 Basic Profile for DICOM; identifiers become\n"
    "                keyed pseudonyms (HMAC-SHA256 of the value), dates the\n"
    "                year (DICOM: removed or dummied). Pseudonymisation over\n"
    "                the Safe Harbor list, NOT a 164.514(c) de-identification:\n"
    "                the pseudonyms are derived from identifiers\n"
    "  longitudinal  basic, with dates shifted by a per-patient number of\n"
    "                days from the key (DICOM: Retain Longitudinal Temporal\n"
    "                Information with Modified Dates)\n"
    "  safe-harbor   FHIR identifiers removed instead of pseudonymised, free\n"
    "                text removed (ids and UIDs stay keyed so references\n"
    "                resolve: use a throwaway key for no linkage); DICOM as\n"
    "                basic\n"
    "  A site profile extends one of them and overrides rules (FHIR paths and\n"
    "  data types; DICOM tags, private creators, VRs, 50xx/60xx, options such\n"
    "  as retain-uids or clean-structured-content, <pixels> rules).\n"
    "  <dicom clean-pixel-data=\"ocr\"> finds burned-in text by OCR in\n"
    "  ultrasound, secondary captures, XA/RF and Burned In Annotation\n"
    "  YES images and blanks it (written losslessly) instead of\n"
    "  quarantining them; see sluice inspect-pixels. OCR reads only the\n"
    "  lines where characters are found (the whole frame when it is too\n"
    "  busy to tell), one thread per engine: never more than --jobs.\n"
    "  Of a cine of more than 8 frames, 8 frames spread over it are read,\n"
    "  then only the frames whose text layout differs from what was found.\n"
    "\n"
    "Options:\n"
    "  -p, --profile NAME|FILE  basic (default), longitudinal, safe-harbor,\n"
    "                           or a site profile that extends one of them\n"
    "  -k, --key-file FILE      the key: the file's bytes, one trailing newline\n"
    "                           ignored, at least 32 ('sluice keygen > FILE')\n"
    "  -o, --output OUTDIR      where de-identified data goes (a new or\n"
    "                           empty folder): OUTDIR/fhir (same kind as\n"
    "                           each input), OUTDIR/dicom\n"
    "                           (PATIENT/STUDY/SERIES/SOP.dcm, by pseudonyms)\n"
    "  -Q, --quarantine QDIR    what could not be made safe, each with a\n"
    "                           reason file (default OUTDIR.quarantine, not\n"
    "                           in a folder other users share such as /tmp;\n"
    "                           never inside OUTDIR; new or empty; yours\n"
    "                           alone: made mode 0700, refused if others\n"
    "                           may write to it)\n"
    "      --quarantine-key SECRET  encrypt what QDIR keeps at rest (items,\n"
    "                           DICOM copies, input paths; AES-256-GCM) with\n"
    "                           a key of at least 32 bytes from env:NAME or\n"
    "                           file:PATH ('sluice keygen' makes one); read\n"
    "                           it with 'sluice quarantine --dir QDIR --key\n"
    "                           SECRET show ID --content'\n"
    "  -e, --explain            print, per rule, the element paths and tags it\n"
    "                           touched and how many times (never values)\n"
    "  -j, --jobs N             files de-identified at once (default: number\n"
    "                           of cores); the output does not depend on it\n"
    "      --provenance         add to each FHIR output a Provenance that\n"
    "                           names the profile chain and sluice, and\n"
    "                           targets the resources written: one more\n"
    "                           entry of a Bundle (POST in a transaction),\n"
    "                           one more line of NDJSON, or\n"
    "                           NNNNNN.provenance.json beside a resource\n"
    "  --reid-map FILE          also append original -> pseudonym pairs\n"
    "                           (PatientID, Study/Series/SOP Instance UID,\n"
    "                           AccessionNumber; FHIR Patient MRNs) to FILE,\n"
    "                           each encrypted with AES-256-GCM; off by\n"
    "                           default. Read it with 'sluice reid'\n"
    "  --reid-key-file KEY2     the map's key: at least 32 bytes and not the\n"
    "                           --key-file key\n"
    "  -L, --follow-symlinks    follow symbolic links found in input folders\n"
    "                           (a loop is walked once); without it a link\n"
    "                           is quarantined by its position and what it\n"
    "                           points to is never read or copied\n"
    "      --reference-base URL the base absolute FHIR references and\n"
    "                           Bundle fullUrls get instead of the source\n"
    "                           server's, whose name is never kept; without\n"
    "                           it they become relative (Type/pseudonym) and\n"
    "                           urn:uuid: (fullUrls)\n"
    "\n"
    "Output names never come from input names. Nothing printed comes from\n"
    "the data: a quarantined item is named by its id; its reason file keeps\n"
    "the input path. Exit 0 when everything was de-identified, 3 when some\n"
    "items were quarantined.\n"
    "\n"
    "Methods, what Safe Harbor covers and what it does not, how pseudonyms\n"
    "and date shifts are derived, the DICOM options and pixel data: see\n"
    "docs/deid.md and sluice(1).\n",
    exec_deid,
};


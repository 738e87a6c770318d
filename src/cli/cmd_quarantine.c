/* cmd_quarantine.c - sluice quarantine: list, show, release and replay
 * the items the pipeline held back; list and show also read the folder
 * `sluice deid` quarantines into (--dir QDIR).
 *
 * Only `show` prints an item's origin and data: it is the operator's tool
 * for looking at what still holds patient data, on this machine. */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "common/seal.h"
#include "pipeline/pipeline.h"
#include "config/config.h"
#include "state/quarantine.h"
#include "state/state.h"

static const char *
dash(const char *s)
{
    return s && *s ? s : "-";
}

/* ---- list ---------------------------------------------------------------- */

/* The fields list shows: never origin, path or data. The state store's
 * ids are numbers, a folder's are names. */
static json_t *
qitem_json(const struct sl_qitem *q, int numeric)
{
    return json_pack("{s:o, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}",
                     "id",
                     numeric ? json_integer((json_int_t)q->id)
                             : json_string(dash(q->name)), /* o: steals */
                     "run", q->run_id, "job", q->job, "source", q->source,
                     "position", q->pos, "stage", q->stage, "reason", q->reason,
                     "created", q->created, "status", q->status);
}

static int
quarantine_list(struct sl_quarantine *qu, int all, int json, struct sl_err *err)
{
    struct sl_qitem *items = NULL;
    size_t n = 0, i;
    /* Numbers right-aligned in 6 columns as always; a folder's names,
     * left-aligned in the width of the longest. */
    int numeric = strcmp(sl_quarantine_kind(qu), "state") == 0;
    int idw = numeric ? 6 : 2, rc;

    if ((rc = sl_quarantine_list(qu, all ? NULL : "open", &items, &n, err)) !=
        SL_OK)
        return rc;
    for (i = 0; !numeric && i < n; i++)
        if ((int)strlen(dash(items[i].name)) > idw)
            idw = (int)strlen(dash(items[i].name));
    if (json) {
        json_t *arr = json_array();

        for (i = 0; i < n; i++) /* steals */
            json_array_append_new(arr, qitem_json(&items[i], numeric));
        if (json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
            rc = SL_ERR(err, SL_EIO, "cannot write to standard output");
        else
            fputc('\n', stdout);
        json_decref(arr);
    } else {
        printf("%*s  %-14s  %-10s  %-20s  %-10s  %-20s  %s%s\n",
               numeric ? idw : -idw, "ID", "JOB", "SOURCE", "POSITION", "STAGE",
               "CREATED", all ? "STATUS    " : "", "REASON");
        for (i = 0; i < n; i++) {
            const struct sl_qitem *q = &items[i];

            printf("%*s  %-14s  %-10s  %-20s  %-10s  %-20s  ",
                   numeric ? idw : -idw, dash(q->name), dash(q->job),
                   dash(q->source), dash(q->pos), dash(q->stage),
                   dash(q->created));
            if (all)
                printf("%-8s  ", dash(q->status));
            printf("%s\n", dash(q->reason));
        }
    }
    sl_quarantine_items_free(items, n);
    return rc;
}

/* ---- show ---------------------------------------------------------------- */

/* Writes the item, opened, to out (new, 0600): a DICOM copy from its
 * file (sealed or not), anything else from its data. */
static int
show_write(const struct sl_qitem *q, const char *out, const void *key,
           size_t keylen, struct sl_err *err)
{
    if (q->kind && strcmp(q->kind, "dicom") == 0 && q->path) {
        if (sl_sealed_file(q->path))
            return sl_unseal_file(key, keylen, SL_SEAL_CTX_QDICOM, q->path,
                                  out, err);
        return sl_file_copy(q->path, out, 1, err);
    }
    return sl_file_write_atomic(out, q->data ? q->data : "", q->data_len,
                                err);
}

static int
quarantine_show(struct sl_quarantine *qu, const char *id, int content,
                const char *out, const void *key, size_t keylen,
                struct sl_err *err)
{
    struct sl_qitem q = { 0 };
    int rc, printable, folder = strcmp(sl_quarantine_kind(qu), "state") != 0;

    if ((rc = sl_quarantine_get(qu, id, &q, err)) != SL_OK) {
        if (rc == SL_ENOTFOUND)
            rc = SL_ERR(err, SL_EUSAGE, "no quarantined item %s", id);
        return rc;
    }
    if (content && q.sealed == 1) {
        sl_qitem_clear(&q);
        return SL_ERR(err, SL_EKEY,
                      "quarantine item %s is encrypted at rest, and %s is "
                      "missing or is not the key it was encrypted with; "
                      "nothing printed",
                      id,
                      folder ? "--key" : "the configuration's <quarantine "
                                         "key>");
    }
    if (out != NULL && (rc = show_write(&q, out, key, keylen, err)) != SL_OK) {
        sl_qitem_clear(&q);
        return rc;
    }
    if (!content) {
        /* reasons and metadata only: nothing that may hold PHI */
        free(q.origin);
        q.origin = NULL;
    } else {
        fprintf(stderr, "sluice quarantine: warning: the output may contain "
                        "patient data\n");
    }
    printf("id:        %s\n", dash(q.name));
    printf("run:       %s\n", dash(q.run_id));
    printf("job:       %s\n", dash(q.job));
    printf("source:    %s\n", dash(q.source));
    printf("position:  %s\n", dash(q.pos));
    printf("stage:     %s\n", dash(q.stage));
    printf("reason:    %s\n", dash(q.reason));
    printf("kind:      %s\n", dash(q.kind));
    printf("status:    %s\n", dash(q.status));
    printf("created:   %s\n", dash(q.created));
    if (content)
        printf("origin:    %s\n", dash(q.origin));
    if (q.path)
        printf("path:      %s\n", q.path);
    printable =
        q.kind && (strcmp(q.kind, "fhir") == 0 || strcmp(q.kind, "raw") == 0);
    printf("data:      %zu bytes\n", q.data_len);
    printf("at rest:   %s\n",
           q.sealed == 1   ? "encrypted (AES-256-GCM); no key here opens it"
           : q.sealed == 2 ? "encrypted (AES-256-GCM)"
           : folder        ? "in the clear (written without a quarantine key)"
                           : "in the clear (no <quarantine key>)");
    if (out != NULL)
        printf("written:   %s\n", out);
    if (!content)
        printf("\n(add --content to print the input path%s)\n",
               printable ? " and the data; they may hold patient data" : "");
    if (content && printable && q.data != NULL) {
        /* The data follows the blank line, byte for byte. */
        fputc('\n', stdout);
        fwrite(q.data, 1, q.data_len, stdout);
        if (q.data_len > 0 && q.data[q.data_len - 1] != '\n' &&
            strcmp(q.kind, "fhir") == 0)
            fputc('\n', stdout);
    }
    if (fflush(stdout) != 0)
        rc = SL_ERR(err, SL_EIO, "cannot write to standard output");
    sl_qitem_clear(&q); /* wipes origin and data */
    return rc;
}

/* ---- release and replay -------------------------------------------------- */

/* Parses item ids and checks that each names an open item. An unknown or
 * closed item is the operator's mistake (SL_EUSAGE, exit 1), found before
 * anything changes. On success *out (n ids) is owned by the caller. */
static int
parse_open_ids(struct sl_state *st, int argc, char **argv, int64_t **out,
               size_t *n, struct sl_err *err)
{
    int64_t *ids = NULL;
    size_t nids = 0, j;
    int i, rc = SL_OK;

    if (argc <= 0)
        return SL_ERR(err, SL_EUSAGE, "which items? give one or more ids");
    ids = sl_calloc((size_t)argc, sizeof(*ids));
    for (i = 0; i < argc; i++) {
        struct sl_qitem q = { 0 };
        long v;

        if (sl_parse_long(argv[i], 1, LONG_MAX, &v) != SL_OK) {
            rc = SL_ERR(err, SL_EUSAGE, "'%s' is not an item id", argv[i]);
            goto out;
        }
        for (j = 0; j < nids; j++)
            if (ids[j] == (int64_t)v) {
                rc = SL_ERR(err, SL_EUSAGE, "item %ld is given twice", v);
                goto out;
            }
        rc = sl_state_quarantine_get(st, (int64_t)v, &q, err);
        if (rc == SL_ENOTFOUND) {
            rc = SL_ERR(err, SL_EUSAGE, "no quarantined item %ld", v);
            goto out;
        }
        if (rc != SL_OK)
            goto out;
        if (q.status == NULL || strcmp(q.status, "open") != 0) {
            rc = SL_ERR(err, SL_EUSAGE, "item %ld is %s, not open", v,
                        q.status ? q.status : "of unknown status");
            sl_qitem_clear(&q);
            goto out;
        }
        sl_qitem_clear(&q);
        ids[nids++] = (int64_t)v;
    }
    *out = ids;
    *n = nids;
    ids = NULL;
out:
    free(ids);
    return rc;
}

/* The ids `replay` was given: each must exist and still be open. */
static int
parse_replay_ids(struct sl_state *st, int argc, char **argv, int64_t **out,
                 size_t *n, struct sl_err *err)
{
    return parse_open_ids(st, argc, argv, out, n, err);
}

static int
quarantine_release(struct sl_state *st, const struct cli_global *g, int argc,
                   char **argv, struct sl_err *err)
{
    int64_t *ids = NULL;
    size_t n = 0, i;
    int rc;

    if ((rc = parse_open_ids(st, argc, argv, &ids, &n, err)) != SL_OK)
        goto out;
    for (i = 0; i < n; i++) {
        if ((rc = sl_state_quarantine_set_status(st, ids[i], "released",
                                                 err)) != SL_OK)
            goto out;
        if (!g->quiet)
            printf("released quarantined item %lld\n", (long long)ids[i]);
    }
out:
    free(ids);
    return rc;
}

/* Runs the items through their job again; *quarantined tells whether
 * some were quarantined again (exit status 3). */
static int
quarantine_replay(const struct sl_config *cfg, struct sl_state *st,
                  const struct cli_global *g, int argc, char **argv,
                  int *quarantined, struct sl_err *err)
{
    struct sl_config *own = NULL;
    struct sl_run_summary sum = { 0 };
    struct sl_run_opts opts = { 0 };
    struct cli_run_view view;
    int64_t *ids = NULL;
    size_t n = 0;
    int rc;

    if ((rc = parse_replay_ids(st, argc, argv, &ids, &n, err)) != SL_OK)
        goto out;
    if (cfg == NULL) {
        /* --state was given: the job's stages and targets still come from
         * the configuration. */
        if ((rc = sl_config_load(cli_config_path(g), 0, &own, err)) != SL_OK)
            goto out;
        cfg = own;
    }
    opts.workers = g->jobs;
    opts.commit_every = 1000;
    cli_run_view_attach(&view, g, 0, &opts);
    cli_signals_catch();
    rc = sl_pipeline_replay(cfg, st, ids, n, &opts, &sum, err);
    cli_signals_restore();
    if (sum.run_id[0])
        cli_print_run_summary(cfg, NULL, &sum, 0, rc);
    *quarantined = sum.quarantined > 0;
out:
    sl_run_summary_free(&sum);
    sl_config_free(own);
    free(ids);
    return rc;
}

/* ---- purge and rekey ------------------------------------------------------- */

static int
quarantine_purge(struct sl_state *st, const struct sl_config *cfg, long days,
                 struct sl_err *err)
{
    uint64_t n = 0;
    int rc;

    if (days < 0)
        days = cfg ? cfg->quarantine_retention_days : 0;
    if (days <= 0)
        return SL_ERR(err, SL_EUSAGE,
                      "how old? give --older-than DAYS, or retention-days in "
                      "the configuration's <quarantine>");
    if ((rc = sl_state_quarantine_purge(st, days, &n, err)) != SL_OK)
        return rc;
    printf("%llu quarantined item%s older than %ld day%s deleted\n",
           (unsigned long long)n, n == 1 ? "" : "s", days,
           days == 1 ? "" : "s");
    return SL_OK;
}

static int
quarantine_rekey(struct sl_state *st, const struct sl_config *cfg,
                 const char *ref, struct sl_err *err)
{
    char *key = NULL;
    size_t len = 0;
    uint64_t n = 0;
    int rc;

    if (ref == NULL)
        return SL_ERR(err, SL_EUSAGE,
                      "rekey needs --new-key env:NAME or --new-key file:PATH");
    if ((rc = sl_secret_read(ref, cfg ? cfg->base_dir : ".", &key, &len,
                             err)) != SL_OK)
        return rc;
    rc = sl_state_quarantine_rekey(st, key, len, &n, err);
    sl_freezero(key, len);
    if (rc != SL_OK)
        return rc;
    printf("%llu quarantined item%s sealed with the new key; name it in the "
           "configuration's <quarantine key> now\n",
           (unsigned long long)n, n == 1 ? "" : "s");
    return SL_OK;
}

/* ---- the command --------------------------------------------------------- */

static int
exec_quarantine(const struct cli_cmd *self, struct cli_global *g, int argc,
                char **argv)
{
    static const struct option opts[] = {
        { "all", no_argument, NULL, 'a' },
        { "json", no_argument, NULL, 'o' },
        { "state", required_argument, NULL, 's' },
        { "dir", required_argument, NULL, 'd' },
        { "content", no_argument, NULL, 'c' },
        { "older-than", required_argument, NULL, 'O' },
        { "new-key", required_argument, NULL, 'k' },
        { "key", required_argument, NULL, 'K' },
        { "output", required_argument, NULL, 'w' },
        { NULL, 0, NULL, 0 },
    };
    struct sl_config *cfg = NULL;
    struct sl_state *st = NULL;
    struct sl_quarantine *qu = NULL;
    struct sl_err err = { 0 };
    const char *state_path = NULL, *qdir = NULL, *sub;
    int c, all = 0, json = 0, rc, nargs, again = 0, content = 0;
    long show_id = 0, days = -1;
    const char *new_key = NULL, *key_ref = NULL, *out = NULL;
    char *qkey = NULL;
    size_t qkeylen = 0;
    char **args;

    opterr = 0;
    optind = 0; /* glibc: reinitialise getopt for this argv */
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            all = 1;
            break;
        case 'o':
            json = 1;
            break;
        case 's':
            state_path = optarg;
            break;
        case 'd':
            qdir = optarg;
            break;
        case 'c':
            content = 1;
            break;
        case 'O':
            if (sl_parse_long(optarg, 1, 36500, &days) != SL_OK)
                return cli_usage_error(self, "--older-than wants 1 to 36500 "
                                             "days");
            break;
        case 'k':
            new_key = optarg;
            break;
        case 'K':
            key_ref = optarg;
            break;
        case 'w':
            out = optarg;
            break;
        case ':':
            return cli_usage_error(self, "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(self, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error(self, "which subcommand? list, show, "
                                     "release or replay");
    sub = argv[optind];
    args = argv + optind + 1;
    nargs = argc - optind - 1;
    if (strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0 &&
        strcmp(sub, "release") != 0 && strcmp(sub, "replay") != 0 &&
        strcmp(sub, "purge") != 0 && strcmp(sub, "rekey") != 0)
        return cli_usage_error(self, "unknown subcommand '%s'", sub);
    if (content && strcmp(sub, "show") != 0)
        return cli_usage_error(self, "--content goes with show");
    if (out && !content)
        return cli_usage_error(self, "--output goes with show --content");
    if (key_ref && qdir == NULL)
        return cli_usage_error(self, "--key goes with --dir (the state "
                                     "store's key is the configuration's "
                                     "<quarantine key>)");
    if (out && qdir == NULL)
        return cli_usage_error(self, "--output goes with --dir");
    if ((strcmp(sub, "purge") == 0 || strcmp(sub, "rekey") == 0) &&
        (nargs > 0 || qdir))
        return cli_usage_error(self, "%s takes no item ids and works on the "
                                     "state store",
                               sub);
    if ((all || json) && strcmp(sub, "list") != 0)
        return cli_usage_error(self, "--all and --json go with list");
    if (strcmp(sub, "list") == 0 && nargs > 0)
        return cli_usage_error(self, "list takes no arguments");
    if (qdir && state_path)
        return cli_usage_error(self, "--dir and --state: give one or the "
                                     "other");
    if (qdir && strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0)
        return cli_usage_error(self, "--dir goes with list and show: "
                                     "release and replay need the state "
                                     "store");
    if (strcmp(sub, "show") == 0) {
        if (nargs != 1)
            return cli_usage_error(self, "show takes one item id");
        /* A folder's ids are names, checked when the folder is read. */
        if (qdir == NULL &&
            sl_parse_long(args[0], 1, LONG_MAX, &show_id) != SL_OK)
            return cli_usage_error(self, "'%s' is not an item id", args[0]);
    }
    if (strcmp(sub, "release") == 0 || strcmp(sub, "replay") == 0) {
        if (nargs < 1)
            return cli_usage_error(self, "%s takes one or more item ids", sub);
    }

    if (qdir) {
        if (key_ref != NULL &&
            (rc = cli_quarantine_key(key_ref, ".", "--key", &qkey, &qkeylen,
                                     &err)) != SL_OK)
            goto fail;
        if ((rc = sl_quarantine_dir_open(qdir, qkey, qkeylen, &qu, &err)) !=
            SL_OK)
            goto fail;
    } else {
        if ((rc = cli_state_open(g, state_path, &cfg, &st, &err)) != SL_OK)
            goto fail;
        qu = sl_quarantine_open_state(st);
    }
    if (strcmp(sub, "list") == 0) {
        rc = quarantine_list(qu, all, json, &err);
    } else if (strcmp(sub, "show") == 0) {
        rc = quarantine_show(qu, args[0], content, out, qkey, qkeylen, &err);
    } else if (strcmp(sub, "purge") == 0) {
        rc = quarantine_purge(st, cfg, days, &err);
    } else if (strcmp(sub, "rekey") == 0) {
        rc = quarantine_rekey(st, cfg, new_key, &err);
    } else if (strcmp(sub, "release") == 0) {
        rc = quarantine_release(st, g, nargs, args, &err);
    } else {
        rc = quarantine_replay(cfg, st, g, nargs, args, &again, &err);
    }
    if (rc != SL_OK)
        goto fail;
    rc = again ? SL_EXIT_QUARANTINED : SL_EXIT_OK;
    goto out;
fail:
    rc = cli_fail(&err);
out:
    sl_quarantine_close(qu); /* before st: it borrows st */
    if (qkey)
        sl_freezero(qkey, qkeylen);
    sl_state_close(st);
    sl_config_free(cfg); /* NULL-safe */
    return rc;
}

const struct cli_cmd cli_cmd_quarantine = {
    "quarantine",
    "list [--all] [--json] | show ID [--content [--output FILE]] | "
    "release ID... | replay ID... | purge [--older-than DAYS] | "
    "rekey --new-key SECRET [--state PATH | --dir QDIR [--key SECRET]]",
    "list, inspect, release or replay quarantined items",
    "Subcommands:\n"
    "  list                  the open items: id, job, source, position,\n"
    "                        stage, creation time and reason (never the\n"
    "                        item's data or where it came from)\n"
    "      --all             every item, with its status (open, replayed,\n"
    "                        released)\n"
    "      --json            a JSON array instead of a table\n"
    "  show ID               one item's reason and metadata: job, run,\n"
    "                        source, position, stage, kind, size, status,\n"
    "                        whether it is encrypted at rest\n"
    "      --content         also its origin path and, for FHIR and raw\n"
    "                        items, its data: the output may contain\n"
    "                        patient data; an encrypted item needs the\n"
    "                        configuration's <quarantine key> (--key with\n"
    "                        --dir)\n"
    "      --output FILE     with --content and --dir: also write the item,\n"
    "                        opened, to FILE (new, mode 0600): the way to get\n"
    "                        an encrypted DICOM copy back\n"
    "  purge                 delete the items older than retention-days of\n"
    "                        <quarantine> (the daemon does it daily)\n"
    "      --older-than DAYS instead of retention-days\n"
    "  rekey --new-key SECRET  seal every item again with a new quarantine\n"
    "                        key (env:NAME or file:PATH), then name it in\n"
    "                        <quarantine key>; safe to run again if stopped\n"
    "  release ID...         decide not to deliver open items (audited)\n"
    "  replay ID...          run open items through the pipeline again,\n"
    "                        after fixing a map or a profile\n"
    "\n"
    "Options:\n"
    "      --state PATH      use this state store instead of the one the\n"
    "                        configuration names\n"
    "      --dir QDIR        list and show read the quarantine folder that\n"
    "                        `sluice deid --quarantine QDIR` wrote (default\n"
    "                        OUTDIR.quarantine) instead of a state store;\n"
    "                        its ids are names such as in000002-line000001,\n"
    "                        and it is read-only (no release or replay)\n"
    "      --key SECRET      with --dir: the quarantine key (env:NAME or\n"
    "                        file:PATH) the folder was written with\n"
    "                        (`sluice deid --quarantine-key`)\n"
    "\n"
    "With <quarantine key=\"env:...|file:...\"/> in the configuration,\n"
    "items' data, input paths and DICOM copies are encrypted at rest\n"
    "(AES-256-GCM; docs/operations.md); so are a folder's with\n"
    "`sluice deid --quarantine-key` (and translate's; pull and push use\n"
    "the configuration's key).\n"
    "\n"
    "An unknown id, or one that is not open, is an error (exit 1) and\n"
    "nothing changes. Exit status: 0, 1 on usage errors or a missing or\n"
    "wrong key, 3 when a replay quarantined items again.\n",
    exec_quarantine,
};

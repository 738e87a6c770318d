/* cmd_reid.c - sluice reid: the operator's side of the re-identification
 * map written by 'sluice deid --reid-map': decrypts and prints its pairs,
 * or the one(s) whose pseudonym is asked for.
 *
 *   sluice reid --reid-key-file KEY2 [--lookup PSEUDONYM] FILE
 *
 * The output holds patient data: it goes to stdout only, with a warning
 * on stderr; nothing is logged. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "keys/keys.h"

struct reid_print {
    const char *lookup; /* NULL: every pair */
    unsigned long found;
};

static int
print_pair(void *arg, unsigned long long record, const char *kind,
           const char *original, const char *pseudonym)
{
    struct reid_print *p = arg;

    (void)record;
    if (p->lookup != NULL && strcmp(p->lookup, pseudonym) != 0)
        return 0;
    p->found++;
    /* Tab-separated: values hold no tab (UIDs, identifiers). */
    printf("%s\t%s\t%s\n", kind, original, pseudonym);
    return 0;
}

static int
exec_reid(const struct cli_cmd *self, struct cli_global *g, int argc,
          char **argv)
{
    static const struct option opts[] = {
        { "reid-key-file", required_argument, NULL, 'K' },
        { "lookup", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct reid_print p = { 0 };
    struct sl_keys *key = NULL;
    struct sl_err err = { 0 };
    const char *keyfile = NULL;
    int c, rc;

    (void)g;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":K:l:h", opts, NULL)) != -1) {
        switch (c) {
        case 'K':
            keyfile = optarg;
            break;
        case 'l':
            p.lookup = optarg;
            break;
        case 'h':
            cli_print_help(self);
            return SL_EXIT_OK;
        case ':':
            return cli_usage_error(self, "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(self, "unknown option %s", argv[optind - 1]);
        }
    }
    if (keyfile == NULL || optind + 1 != argc)
        return cli_usage_error(self, "--reid-key-file and one FILE are needed");
    if ((rc = sl_keys_load_file(keyfile, &key, &err)) != SL_OK)
        return cli_fail(&err);
    fprintf(stderr, "sluice reid: warning: the output holds patient data "
                    "(original identifiers): keep it where patient data may "
                    "be\n");
    fflush(stdout);
    rc = sl_reid_read(argv[optind], key, print_pair, &p, &err);
    sl_keys_free(key);
    if (fflush(stdout) != 0 && rc == SL_OK)
        rc = SL_ERR(&err, SL_EIO, "write error on standard output");
    if (rc != SL_OK)
        return cli_fail(&err);
    if (p.lookup != NULL && p.found == 0) {
        fprintf(stderr, "sluice reid: no entry with that pseudonym\n");
        return SL_EXIT_RUNTIME;
    }
    return SL_EXIT_OK;
}

const struct cli_cmd cli_cmd_reid = {
    "reid",
    "--reid-key-file KEY2 [--lookup PSEUDONYM] FILE",
    "decrypt a re-identification map (prints patient data)",
    "Reads FILE, a re-identification map written by 'sluice deid\n"
    "--reid-map FILE --reid-key-file KEY2', checks every record (AES-256-GCM)\n"
    "and prints one line per pair: KIND<TAB>ORIGINAL<TAB>PSEUDONYM, where "
    "KIND\n"
    "is PatientID, StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID,\n"
    "AccessionNumber or Patient.identifier(MR).\n"
    "\n"
    "  -K, --reid-key-file KEY2  the map's key (not the pseudonym key)\n"
    "  -l, --lookup PSEUDONYM    print only the entries with that pseudonym\n"
    "                            or new UID (exit 2 when there is none)\n"
    "\n"
    "The output holds patient data: a warning says so on stderr. A wrong key\n"
    "is an error (exit 1); a changed, moved or truncated record is an error\n"
    "naming its record number (exit 2), and nothing after it is printed.\n",
    exec_reid,
};

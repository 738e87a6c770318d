/* main.c - the sluice command: global options, then one subcommand from
 * the table below (tmux style). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "cli/cli.h"

static const struct cli_cmd *const commands[] = {
    &cli_cmd_check_config, &cli_cmd_run,   &cli_cmd_jobs,   &cli_cmd_runs,
    &cli_cmd_quarantine,   &cli_cmd_synth, &cli_cmd_keygen,
    &cli_cmd_deid,         &cli_cmd_export_dicom, &cli_cmd_reid,
    &cli_cmd_inspect_pixels, &cli_cmd_push, &cli_cmd_echo, &cli_cmd_pull,
    &cli_cmd_translate, &cli_cmd_daemon,
    &cli_cmd_audit, &cli_cmd_report, &cli_cmd_fhirpath,
    &cli_cmd_validate, &cli_cmd_timeline,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char global_help[] =
    "Global options (before or after the command):\n"
    "  -c, --config FILE     configuration file (default: $SLUICE_CONFIG,\n"
    "                        then /etc/sluice/sluice.xml)\n"
    "  -j, --jobs N          worker threads (default: number of cores)\n"
    "      --log-format FMT  text (default) or json, for machines\n"
    "      --log TARGET      stderr (default) or journal: the systemd\n"
    "                        journal, levels as syslog priorities\n"
    "  -q, --quiet           only errors and the final summary\n"
    "  -v, --verbose         more detail (never patient data)\n"
    "  -h, --help            this help; 'sluice COMMAND --help' for one "
    "command\n"
    "  -V, --version         print the version\n"
    "\n"
    "Exit status: 0 success; 1 usage or configuration error; 2 runtime\n"
    "failure; 3 finished, but some items were quarantined.\n";

static void
print_main_help(FILE *f)
{
    size_t i;

    fprintf(f, "usage: sluice [OPTIONS] COMMAND [ARGS]\n\n"
               "sluice pulls clinical data and images, de-identifies them "
               "by profile and\ndelivers them to a FHIR store, folder or "
               "DICOM node.\n\nCommands:\n");
    for (i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-14s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\n%s", global_help);
}

const char *
cli_config_path(const struct cli_global *g)
{
    const char *env;

    if (g->config_path)
        return g->config_path;
    env = getenv("SLUICE_CONFIG");
    if (env && *env)
        return env;
    return "/etc/sluice/sluice.xml";
}

void
cli_print_help(const struct cli_cmd *cmd)
{
    printf("usage: sluice %s%s%s\n\n%s\n", cmd->name, cmd->usage[0] ? " " : "",
           cmd->usage, cmd->summary);
    if (cmd->help && cmd->help[0])
        printf("\n%s", cmd->help);
    printf("\n%s", global_help);
}

int
cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "sluice %s: %s\nusage: sluice %s %s\n"
                    "Try 'sluice %s --help'.\n",
            cmd->name, msg, cmd->name, cmd->usage, cmd->name);
    return SL_EXIT_USAGE;
}

int
cli_fail(const struct sl_err *err)
{
    sl_log(SL_LOG_ERROR, "%s", err->msg[0] ? err->msg
                                           : sl_status_message(err->code));
    return sl_status_exit(err->code);
}

int
cli_dir_used(const char *dir, int *used, struct sl_err *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    *used = 0;
    if (d == NULL)
        return errno == ENOENT ? SL_OK
                               : SL_ERR(err, SL_EIO, "%s: %s", dir,
                                        strerror(errno));
    while (!*used && (e = readdir(d)) != NULL)
        *used = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return SL_OK;
}

int
cli_wants_help(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

/* Takes the global options out of argv wherever they are, so that
 * `sluice run JOB --config F` and `sluice --config F run JOB` both work.
 * Returns -1 on a bad option. */
static int
take_globals(struct cli_global *g, int *argcp, char **argv)
{
    int argc = *argcp, i, o = 0;

    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        int takes = 0;

        if (strcmp(a, "--") == 0) {
            while (i < argc)
                argv[o++] = argv[i++];
            break;
        }
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
            strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0 ||
            strcmp(a, "--log-format") == 0 || strcmp(a, "--log") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "sluice: option %s needs a value\n", a);
                return -1;
            }
            val = argv[i + 1];
            takes = 1;
        } else if (strncmp(a, "--config=", 9) == 0) {
            val = a + 9;
            a = "--config";
        } else if (strncmp(a, "--jobs=", 7) == 0) {
            val = a + 7;
            a = "--jobs";
        } else if (a[0] == '-' && (a[1] == 'j' || a[1] == 'c') &&
                   a[2] != '\0') {
            /* -j4, -cFILE: the attached forms getopt users expect */
            val = a + 2;
            a = a[1] == 'j' ? "-j" : "-c";
        } else if (strncmp(a, "--log-format=", 13) == 0) {
            val = a + 13;
            a = "--log-format";
        } else if (strncmp(a, "--log=", 6) == 0) {
            val = a + 6;
            a = "--log";
        }
        if (val != NULL) {
            if (a[1] == 'c' || strcmp(a, "--config") == 0) {
                g->config_path = val;
            } else if (a[1] == 'j' || strcmp(a, "--jobs") == 0) {
                long n;
                if (sl_parse_long(val, 1, 256, &n) != SL_OK) {
                    fprintf(stderr, "sluice: --jobs wants a number from 1 "
                                    "to 256\n");
                    return -1;
                }
                g->jobs = (int)n;
            } else if (strcmp(a, "--log") == 0) {
                if (strcmp(val, "journal") == 0)
                    g->log_journal = 1;
                else if (strcmp(val, "stderr") == 0)
                    g->log_journal = 0;
                else {
                    fprintf(stderr, "sluice: --log is stderr or journal\n");
                    return -1;
                }
            } else {
                if (strcmp(val, "json") == 0)
                    g->log_format = SL_LOGFMT_JSON;
                else if (strcmp(val, "text") == 0)
                    g->log_format = SL_LOGFMT_TEXT;
                else {
                    fprintf(stderr, "sluice: --log-format is text or json\n");
                    return -1;
                }
            }
            i += takes;
            continue;
        }
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            g->quiet = 1;
            continue;
        }
        if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            g->verbose = 1;
            continue;
        }
        argv[o++] = argv[i];
    }
    argv[o] = NULL;
    *argcp = o;
    return 0;
}

int
main(int argc, char **argv)
{
    struct cli_global g = {0};
    const char *name;
    size_t i;

    if (take_globals(&g, &argc, argv) != 0)
        return SL_EXIT_USAGE;
    sl_log_setup(g.verbose ? SL_LOG_DEBUG : g.quiet ? SL_LOG_WARN
                                                    : SL_LOG_INFO,
                 g.log_format);
    if (g.log_journal) {
        struct sl_err err = {0};
        if (sl_log_target_set(SL_LOGTO_JOURNAL, &err) != SL_OK) {
            fprintf(stderr, "sluice: %s\n", err.msg);
            return SL_EXIT_RUNTIME;
        }
    }
    if (argc < 2) {
        print_main_help(stderr);
        return SL_EXIT_USAGE;
    }
    name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 ||
        strcmp(name, "help") == 0) {
        if (argc > 2) {
            for (i = 0; i < NCOMMANDS; i++)
                if (strcmp(commands[i]->name, argv[2]) == 0) {
                    cli_print_help(commands[i]);
                    return SL_EXIT_OK;
                }
        }
        print_main_help(stdout);
        return SL_EXIT_OK;
    }
    if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0) {
        printf("sluice %s\n", PACKAGE_VERSION);
        return SL_EXIT_OK;
    }
    for (i = 0; i < NCOMMANDS; i++) {
        const struct cli_cmd *c = commands[i];
        if (strcmp(c->name, name) != 0)
            continue;
        if (cli_wants_help(argc - 1, argv + 1)) {
            cli_print_help(c);
            return SL_EXIT_OK;
        }
        if (g.jobs == 0)
            g.jobs = sl_ncpu();
        return c->exec(c, &g, argc - 1, argv + 1);
    }
    fprintf(stderr, "sluice: unknown command '%s'; try 'sluice --help'\n",
            name);
    return SL_EXIT_USAGE;
}

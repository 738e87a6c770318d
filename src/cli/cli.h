/* cli.h - the sluice command table and what every subcommand shares. */
#ifndef SL_CLI_H
#define SL_CLI_H

#include "common/common.h"

/* Options given before the subcommand, or to any subcommand. */
struct cli_global {
    const char *config_path; /* --config, else $SLUICE_CONFIG, else /etc */
    int jobs;                /* --jobs N (0: number of cores) */
    int quiet;
    int verbose;
    enum sl_log_format log_format;
    int log_journal; /* --log journal */
};

struct cli_cmd {
    const char *name;
    const char *usage; /* arguments after the name */
    const char *summary;
    const char *help; /* the rest of --help: options and details */
    /* Returns a process exit status (SL_EXIT_*). argv[0] is the name. */
    int (*exec)(const struct cli_cmd *self, struct cli_global *g, int argc,
                char **argv);
};

/* The config file to use: --config, $SLUICE_CONFIG, then the default. */
const char *cli_config_path(const struct cli_global *g);
/* Prints "usage: sluice NAME USAGE" and the help text to stdout. */
void cli_print_help(const struct cli_cmd *cmd);
/* Reports a usage error for cmd on stderr; returns SL_EXIT_USAGE. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Reports err on stderr and returns its exit status. */
int cli_fail(const struct sl_err *err);
/* True when argv holds -h or --help before any "--". */
/* *used: dir exists and holds something (a hidden name too); a dir that
 * does not exist is not used. SL_EIO when it cannot be read. */
int cli_dir_used(const char *dir, int *used, struct sl_err *err);
int cli_wants_help(int argc, char **argv);

struct sl_config;
struct sl_job;
struct sl_state;

/* Opens the state store named by state_path (--state), else the one of
 * the configuration; when cfgp is not NULL, *cfgp owns the configuration
 * if it was loaded (NULL with --state). A missing store is an error rather
 * than created: a typo in a path, or the wrong user, must not leave an
 * empty store behind. */
int cli_state_open(const struct cli_global *g, const char *state_path,
                   struct sl_config **cfgp, struct sl_state **out,
                   struct sl_err *err);
/* Opens the configuration's state store for running jobs, creating it
 * (and its folder) when it does not exist yet. */
int cli_state_for_runs(const struct sl_config *cfg, struct sl_state **out,
                       struct sl_err *err);
/* The configuration's audit key (<keys audit>), NULL when it has none;
 * free with sl_freezero(*key, *len). */
int cli_state_audit_key(const struct sl_config *cfg, char **key, size_t *len,
                        struct sl_err *err);
/* A quarantine key from a secret reference (env:NAME or file:PATH,
 * relative to base_dir): at least 32 bytes. what names where the
 * reference came from in errors ("--quarantine-key", "<quarantine key>");
 * never the key. Free with sl_freezero(*key, *len). */
int cli_quarantine_key(const char *ref, const char *base_dir,
                       const char *what, char **key, size_t *len,
                       struct sl_err *err);
/* The key a command's folder quarantine seals with: ref when given, else
 * the configuration's <quarantine key> (cfg may be NULL). *key NULL: in
 * the clear; refused (SL_EUSAGE) when the configuration says
 * encrypt="required" and there is no key. */
int cli_folder_quarantine_key(const struct sl_config *cfg, const char *ref,
                              char **key, size_t *len, struct sl_err *err);
struct sl_run_summary;
/* Prints a run's summary on stdout (JSON with --log-format json); job may
 * be NULL (a replay). rc is the run's status. */
void cli_print_run_summary(const struct sl_config *cfg,
                           const struct sl_job *job,
                           const struct sl_run_summary *sum, int dry_run,
                           int rc);

/* What the user sees while a run goes on (cli_run.c): an observer of
 * the pipeline drawing a progress bar (bar) or logging progress lines,
 * attached to opts, which also gets the stop flag that SIGINT and SIGTERM
 * set between cli_signals_catch() and cli_signals_restore(). v must
 * outlive the run. */
#include "pipeline/pipeline.h"
struct cli_run_view {
    int bar, quiet;
    struct sl_run_observer obs;
    const struct sl_run_observer *list[1];
};
void cli_run_view_attach(struct cli_run_view *v, const struct cli_global *g,
                         int bar, struct sl_run_opts *opts);
void cli_signals_catch(void);
void cli_signals_restore(void);
/* Runs a job built in memory (sluice deid, sluice push) on the one engine
 * without a state store: --jobs workers, the progress view when stderr is
 * a terminal, SIGINT/SIGTERM asking it to stop. */
int cli_run_spec(const struct cli_global *g, struct sl_job_spec *spec,
                 const char *run_id, struct sl_run_summary *sum,
                 struct sl_err *err);

#define CLI_CMD_DECL(n) extern const struct cli_cmd cli_cmd_##n
CLI_CMD_DECL(check_config);
CLI_CMD_DECL(run);
CLI_CMD_DECL(jobs);
CLI_CMD_DECL(runs);
CLI_CMD_DECL(quarantine);
CLI_CMD_DECL(synth);
CLI_CMD_DECL(keygen);
CLI_CMD_DECL(deid);
CLI_CMD_DECL(export_dicom);
CLI_CMD_DECL(reid);
CLI_CMD_DECL(inspect_pixels);
CLI_CMD_DECL(push);
CLI_CMD_DECL(echo);
CLI_CMD_DECL(pull);
CLI_CMD_DECL(translate);
CLI_CMD_DECL(daemon);
CLI_CMD_DECL(audit);
CLI_CMD_DECL(report);
CLI_CMD_DECL(validate);
CLI_CMD_DECL(fhirpath);
CLI_CMD_DECL(timeline);

#endif

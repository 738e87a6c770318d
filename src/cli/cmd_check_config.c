/* cmd_check_config.c - sluice check-config: says whether the configuration
 * is usable and, when it is not, every problem with its line. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "config/config.h"
#include "pipeline/stage_translate.h"
#include "pipeline/stage_validate.h"

static int
exec_check_config(const struct cli_cmd *self, struct cli_global *g, int argc,
                  char **argv)
{
    struct sl_config *cfg = NULL;
    struct sl_err err = { 0 };
    const char *path;
    int i, options = 0, rc = SL_EXIT_OK;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--options") == 0)
            options = 1;
        else
            return cli_usage_error(self, "unexpected argument '%s'", argv[i]);
    }
    if (options) {
        sl_config_print_options(stdout);
        return SL_EXIT_OK;
    }
    path = cli_config_path(g);
    /* Every problem goes to stderr, one per line, from the loader. */
    if (sl_config_load(path, 1, &cfg, &err) != SL_OK)
        return sl_status_exit(err.code);
    /* what the loader cannot see: the terminology maps, IGs and profiles
     * themselves */
    for (i = 0; i < (int)cfg->njobs; i++) {
        size_t k;
        for (k = 0; k < cfg->jobs[i].nstages; k++) {
            const struct sl_conf_node *n = &cfg->jobs[i].stages[k];
            if (strcmp(n->element, "translate") == 0 &&
                sl_stage_translate_check(cfg, n, &err) != SL_OK) {
                fprintf(stderr, "%s\n", err.msg);
                rc = SL_EXIT_USAGE;
            }
            if (strcmp(n->element, "validate") == 0 &&
                sl_stage_validate_check(cfg, n, &err) != SL_OK) {
                fprintf(stderr, "%s\n", err.msg);
                rc = SL_EXIT_USAGE;
            }
        }
    }
    if (rc != SL_EXIT_OK) {
        sl_config_free(cfg);
        return rc;
    }
    printf("%s: ok (%zu source%s, %zu target%s, %zu job%s)\n", path,
           cfg->nsources, cfg->nsources == 1 ? "" : "s", cfg->ntargets,
           cfg->ntargets == 1 ? "" : "s", cfg->njobs,
           cfg->njobs == 1 ? "" : "s");
    sl_config_free(cfg);
    return SL_EXIT_OK;
}

const struct cli_cmd cli_cmd_check_config = {
    "check-config",
    "[--options]",
    "check the configuration file and report every problem",
    "Loads the configuration (--config FILE, else $SLUICE_CONFIG, else\n"
    "/etc/sluice/sluice.xml), validates it against the schema sluice.xsd\n"
    "and the option table, then checks what needs the whole file: unique\n"
    "ids, the sources and targets that jobs name, that source folders and\n"
    "de-id profiles exist, that secrets are env:NAME or file:PATH and can\n"
    "be found. Every problem is printed as FILE:LINE: message.\n"
    "\n"
    "Options:\n"
    "      --options    print every element and attribute (type, default,\n"
    "                   meaning) as Markdown, and exit\n"
    "\n"
    "Exit status: 0 when the file is usable, 1 when it is not.\n",
    exec_check_config,
};

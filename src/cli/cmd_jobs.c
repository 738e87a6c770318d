/* cmd_jobs.c - sluice jobs. */
#include "config.h"

#include <stdio.h>

#include "cli/cli.h"

static int
exec_jobs(const struct cli_cmd *self, struct cli_global *g, int argc,
        char **argv)
{
    (void)g;
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice %s: not implemented yet\n", self->name);
    return SL_EXIT_RUNTIME;
}

const struct cli_cmd cli_cmd_jobs = {
    "jobs", "", "(not yet implemented)", "", exec_jobs,
};

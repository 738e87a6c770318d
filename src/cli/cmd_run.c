/* cmd_run.c - sluice run. */
#include "config.h"

#include <stdio.h>

#include "cli/cli.h"

static int
exec_run(const struct cli_cmd *self, struct cli_global *g, int argc,
        char **argv)
{
    (void)g;
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice %s: not implemented yet\n", self->name);
    return SL_EXIT_RUNTIME;
}

const struct cli_cmd cli_cmd_run = {
    "run", "", "(not yet implemented)", "", exec_run,
};

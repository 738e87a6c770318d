/* cmd_synth.c - sluice synth. */
#include "config.h"

#include <stdio.h>

#include "cli/cli.h"

static int
exec_synth(const struct cli_cmd *self, struct cli_global *g, int argc,
        char **argv)
{
    (void)g;
    (void)argc;
    (void)argv;
    fprintf(stderr, "sluice %s: not implemented yet\n", self->name);
    return SL_EXIT_RUNTIME;
}

const struct cli_cmd cli_cmd_synth = {
    "synth", "", "(not yet implemented)", "", exec_synth,
};

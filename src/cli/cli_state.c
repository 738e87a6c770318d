/* cli_state.c - opening the state store for the commands that read it. */
#include "config.h"

#include <stdlib.h>

#include "cli/cli.h"
#include "config/config.h"
#include "state/state.h"

int
cli_state_open(const struct cli_global *g, const char *state_path,
               struct sl_config **cfgp, struct sl_state **out,
               struct sl_err *err)
{
    struct sl_config *cfg = NULL;
    int rc;

    if (state_path == NULL) {
        if ((rc = sl_config_load(cli_config_path(g), 0, &cfg, err)) != SL_OK)
            goto out;
        if (cfg->state_path == NULL) {
            rc = SL_ERR(err, SL_ECONFIG, "%s: no state store configured",
                        cli_config_path(g));
            goto out;
        }
        state_path = cfg->state_path;
    }
    if (!sl_state_exists(state_path)) {
        rc = SL_ERR(err, SL_ENOTFOUND,
                    "%s: no state store here (has any job run yet?)",
                    state_path);
        goto out;
    }
    if ((rc = sl_state_open(state_path, out, err)) != SL_OK)
        goto out;
    if (cfgp) {
        *cfgp = cfg;
        cfg = NULL; /* ownership moves to the caller */
    }
out:
    sl_config_free(cfg);
    return rc;
}

int
cli_state_for_runs(const struct sl_config *cfg, struct sl_state **out,
                   struct sl_err *err)
{
    char *sp = sl_path_resolve(cfg->base_dir, cfg->state_path
                                                  ? cfg->state_path
                                                  : "sluice-state.db");
    char *dir = sl_path_dir(sp);
    int rc = sl_mkdir_p(dir, err);

    if (rc == SL_OK)
        rc = sl_state_open(sp, out, err);
    free(dir);
    free(sp);
    return rc;
}

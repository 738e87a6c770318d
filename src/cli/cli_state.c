/* cli_state.c - opening the state store for the commands that read it. */
#include "config.h"

#include <stdlib.h>

#include "cli/cli.h"
#include "config/config.h"
#include "state/state.h"

/* Gives the store the configuration's audit key, if it has one, so that
 * the records this process writes carry their HMAC. */
static int
give_audit_key(const struct sl_config *cfg, struct sl_state *st,
               struct sl_err *err)
{
    char *key = NULL;
    size_t len = 0;
    int rc;

    if (cfg == NULL || cfg->audit_key == NULL)
        return SL_OK;
    if ((rc = sl_secret_read(cfg->audit_key, cfg->base_dir, &key, &len,
                             err)) != SL_OK) {
        sl_err_prefix(err, "%s: <keys audit>", cfg->path);
        return rc;
    }
    if (len < 32) {
        sl_freezero(key, len);
        return SL_ERR(err, SL_EKEY,
                      "%s: <keys audit>: the audit key has %zu bytes; it "
                      "needs at least 32 ('sluice keygen' makes one)",
                      cfg->path, len);
    }
    sl_state_audit_key(st, key, len);
    sl_freezero(key, len);
    return SL_OK;
}

int
cli_quarantine_key(const char *ref, const char *base_dir, const char *what,
                   char **key, size_t *len, struct sl_err *err)
{
    int rc;

    *key = NULL;
    *len = 0;
    if ((rc = sl_secret_read(ref, base_dir ? base_dir : ".", key, len,
                             err)) != SL_OK) {
        sl_err_prefix(err, "%s", what);
        return rc;
    }
    if (*len < 32) {
        size_t n = *len;

        sl_freezero(*key, *len);
        *key = NULL;
        *len = 0;
        return SL_ERR(err, SL_EKEY,
                      "%s: the quarantine key has %zu bytes; it needs at "
                      "least 32 ('sluice keygen' makes one)",
                      what, n);
    }
    return SL_OK;
}

int
cli_folder_quarantine_key(const struct sl_config *cfg, const char *ref,
                          char **key, size_t *len, struct sl_err *err)
{
    char *what;
    int rc;

    *key = NULL;
    *len = 0;
    if (ref != NULL)
        return cli_quarantine_key(ref, ".", "--quarantine-key", key, len, err);
    if (cfg == NULL || cfg->quarantine_key == NULL) {
        if (cfg != NULL && cfg->quarantine_encrypt_required)
            return SL_ERR(err, SL_EUSAGE,
                          "%s: <quarantine encrypt=\"required\"> and no "
                          "key: quarantined items hold patient data",
                          cfg->path);
        return SL_OK;
    }
    what = sl_asprintf("%s: <quarantine key>", cfg->path);
    rc = cli_quarantine_key(cfg->quarantine_key, cfg->base_dir, what, key, len,
                            err);
    free(what);
    return rc;
}

/* The same for the quarantine key, which seals quarantined PHI. */
static int
give_quarantine_key(const struct sl_config *cfg, struct sl_state *st,
                    struct sl_err *err)
{
    char *key = NULL;
    size_t len = 0;
    int rc;

    if (cfg == NULL || cfg->quarantine_key == NULL)
        return SL_OK;
    if ((rc = cli_folder_quarantine_key(cfg, NULL, &key, &len, err)) !=
        SL_OK)
        return rc;
    sl_state_quarantine_key(st, key, len);
    sl_freezero(key, len);
    return SL_OK;
}

static int
give_keys(const struct sl_config *cfg, struct sl_state *st,
          struct sl_err *err)
{
    int rc = give_audit_key(cfg, st, err);

    return rc == SL_OK ? give_quarantine_key(cfg, st, err) : rc;
}

int
cli_state_audit_key(const struct sl_config *cfg, char **key, size_t *len,
                    struct sl_err *err)
{
    *key = NULL;
    *len = 0;
    if (cfg == NULL || cfg->audit_key == NULL)
        return SL_OK;
    return sl_secret_read(cfg->audit_key, cfg->base_dir, key, len, err);
}

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
    if ((rc = give_keys(cfg, *out, err)) != SL_OK) {
        sl_state_close(*out);
        *out = NULL;
        goto out;
    }
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
    if (rc == SL_OK && (rc = give_keys(cfg, *out, err)) != SL_OK) {
        sl_state_close(*out);
        *out = NULL;
    }
    free(dir);
    free(sp);
    return rc;
}

/* fuzz_config.c - fuzz target for the XML configuration: the input is
 * written as sluice.xml in a folder that also holds what a valid config
 * may point at (a folder "in", a key file "pseudonym.key", a site profile
 * "site.xml"), then loaded with sl_config_load() as `sluice check-config`
 * loads it, and every lookup of the result is exercised. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config/config.h"
#include "fuzz.h"

static void
prepare(void)
{
    static const char key[] = "0123456789abcdef0123456789abcdef\n";
    static const char profile[] = "<profile/>\n";
    struct sl_err err;
    char *in = sl_path_join(fuzz_util_dir(), "in");

    if (sl_mkdir_p(in, &err) != SL_OK) {
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
    free(in);
    free(fuzz_util_write("pseudonym.key", key, sizeof(key) - 1));
    free(fuzz_util_write("site.xml", profile, sizeof(profile) - 1));
}

/* The promises of config.h about a loaded config. */
static void
check_config(const struct sl_config *cfg)
{
    size_t i;

    FUZZ_ASSERT(cfg->path && cfg->base_dir);
    FUZZ_ASSERT(cfg->state_path && cfg->quarantine_dir);
    for (i = 0; i < cfg->nsources; i++) {
        const struct sl_conf_node *n = &cfg->sources[i];
        FUZZ_ASSERT(n->id && sl_config_source(cfg, n->id) != NULL);
        free(sl_conf_get_path(cfg, n, "path"));
    }
    for (i = 0; i < cfg->ntargets; i++) {
        const struct sl_conf_node *n = &cfg->targets[i];
        FUZZ_ASSERT(n->id && sl_config_target(cfg, n->id) != NULL);
        (void)sl_conf_get_long(n, "bundle-size", 0);
    }
    for (i = 0; i < cfg->njobs; i++) {
        const struct sl_job *j = &cfg->jobs[i];
        FUZZ_ASSERT(j->id && sl_config_job(cfg, j->id) != NULL);
        FUZZ_ASSERT(j->since && j->bundle);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    struct sl_config *cfg = NULL;
    struct sl_err err;
    char *path;
    int rc;

    if (!ready) {
        prepare();
        ready = 1;
    }
    path = fuzz_util_write("sluice.xml", data, size);
    rc = sl_config_load(path, 0, &cfg, &err);
    if (rc == SL_OK) {
        FUZZ_ASSERT(cfg != NULL);
        check_config(cfg);
    } else {
        FUZZ_ASSERT(cfg == NULL && err.msg[0] != '\0');
    }
    sl_config_free(cfg);
    (void)unlink(path);
    free(path);
    return 0;
}

/* config.c - lookups on a loaded configuration. Loading and checking
 * live in config_load.c and the files it names. */
#include <config.h> /* autoconf's, not config/config.h */

#include <stdlib.h>
#include <string.h>

#include "config/config.h"

const char *
sl_conf_get(const struct sl_conf_node *n, const char *name)
{
    size_t i;

    if (n == NULL)
        return NULL;
    for (i = 0; i < n->nattr; i++)
        if (strcmp(n->names[i], name) == 0)
            return n->values[i];
    return NULL;
}

long
sl_conf_get_long(const struct sl_conf_node *n, const char *name, long def)
{
    const char *v = sl_conf_get(n, name);
    long out;

    if (v == NULL || sl_parse_long(v, -2147483647L, 2147483647L, &out) != SL_OK)
        return def;
    return out;
}

char *
sl_conf_get_path(const struct sl_config *cfg, const struct sl_conf_node *n,
                 const char *name)
{
    const char *v = sl_conf_get(n, name);

    if (v == NULL)
        return NULL;
    return sl_path_resolve(cfg ? cfg->base_dir : NULL, v);
}

static const struct sl_conf_node *
find_node(const struct sl_conf_node *nodes, size_t n, const char *id)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (nodes[i].id && id && strcmp(nodes[i].id, id) == 0)
            return &nodes[i];
    return NULL;
}

const struct sl_conf_node *
sl_config_source(const struct sl_config *cfg, const char *id)
{
    return find_node(cfg->sources, cfg->nsources, id);
}

const struct sl_conf_node *
sl_config_target(const struct sl_config *cfg, const char *id)
{
    return find_node(cfg->targets, cfg->ntargets, id);
}

const struct sl_job *
sl_config_job(const struct sl_config *cfg, const char *id)
{
    size_t i;

    for (i = 0; i < cfg->njobs; i++)
        if (strcmp(cfg->jobs[i].id, id) == 0)
            return &cfg->jobs[i];
    return NULL;
}

void
sl_conf_node_add(struct sl_conf_node *n, const char *name, const char *value)
{
    n->names = sl_realloc(n->names, (n->nattr + 1) * sizeof(*n->names));
    n->values = sl_realloc(n->values, (n->nattr + 1) * sizeof(*n->values));
    n->names[n->nattr] = sl_strdup(name);
    n->values[n->nattr] = sl_strdup(value);
    n->nattr++;
}

void
sl_conf_node_clear(struct sl_conf_node *n)
{
    size_t i;

    if (n == NULL)
        return;
    for (i = 0; i < n->nattr; i++) {
        free(n->names[i]);
        free(n->values[i]);
    }
    free(n->names);
    free(n->values);
    free(n->element);
    free(n->id);
    free(n->type);
    free(n->text);
    memset(n, 0, sizeof(*n));
}

void
sl_config_free(struct sl_config *cfg)
{
    size_t i, k;

    if (cfg == NULL)
        return;
    for (i = 0; i < cfg->nsources; i++)
        sl_conf_node_clear(&cfg->sources[i]);
    for (i = 0; i < cfg->ntargets; i++)
        sl_conf_node_clear(&cfg->targets[i]);
    for (i = 0; i < cfg->njobs; i++) {
        struct sl_job *j = &cfg->jobs[i];
        sl_conf_node_clear(&j->node);
        /* j->id and j->schedule point into j->node or are owned: see
         * config_load.c, which sets them to owned copies. */
        free(j->id);
        free(j->schedule);
        free(j->timezone);
        free(j->missed);
        sl_strv_free(&j->from);
        free(j->since);
        free(j->deid_profile);
        sl_strv_free(&j->translate);
        sl_strv_free(&j->validate);
        sl_strv_free(&j->push);
        for (k = 0; k < j->nstages; k++)
            sl_conf_node_clear(&j->stages[k]);
        free(j->stages);
        free(j->bundle);
    }
    free(cfg->sources);
    free(cfg->targets);
    free(cfg->jobs);
    free(cfg->path);
    free(cfg->base_dir);
    free(cfg->state_path);
    free(cfg->quarantine_dir);
    free(cfg->pseudonym_key);
    free(cfg->audit_key);
    free(cfg->quarantine_key);
    free(cfg);
}

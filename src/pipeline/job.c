/* job.c - compiles a job of the configuration into what a run needs:
 * types looked up in the registry, the stages' path attributes resolved
 * and their secrets read, the pseudonym key read, the work folder made.
 * After this nothing in a run reads the configuration file or a secret. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "keys/keys.h"
#include "pipeline/pipeline.h"

void
sl_job_spec_free(struct sl_job_spec *spec)
{
    size_t i;

    if (spec == NULL)
        return;
    for (i = 0; i < spec->nstages; i++)
        sl_conf_node_clear(&spec->stages[i].node);
    free(spec->stages);
    free(spec->sources);
    free(spec->targets);
    sl_keys_free(spec->keys);
    sl_keys_free(spec->reid_key);
    free(spec->id);
    free(spec->config_path);
    free(spec->base_dir);
    free(spec->workdir);
    free(spec->qdir);
    free(spec);
}

/* A copy of a stage's node with path attributes resolved and secrets read
 * (into *reid_key for reid-key; no other stage secret exists yet). */
static int
compile_stage(const struct sl_config *cfg, const struct sl_job *job,
              const struct sl_conf_node *in, struct sl_conf_node *out,
              struct sl_keys **reid_key, struct sl_err *err)
{
    size_t i;
    int rc = SL_OK;

    memset(out, 0, sizeof(*out));
    out->element = sl_strdup(in->element);
    out->line = in->line;
    for (i = 0; i < in->nattr && rc == SL_OK; i++) {
        const struct sl_opt *o = sl_opt_find(in->element, NULL, in->names[i]);
        const char *v = in->values[i];

        if (strcmp(in->element, "deid") == 0 &&
            strcmp(in->names[i], "profile") == 0) {
            sl_conf_node_add(out, "profile", job->deid_profile); /* resolved */
        } else if (o != NULL && o->type == SL_OPT_PATH &&
                   (strcmp(in->names[i], "maps") == 0 ||
                    strcmp(in->names[i], "units") == 0 ||
                    strcmp(in->names[i], "profiles") == 0 ||
                    strcmp(in->names[i], "ig") == 0)) {
            /* lists of paths, space separated: each word resolved */
            struct sl_buf b;
            const char *w = v;
            sl_buf_init(&b);
            while (*(w += strspn(w, " \t\r\n")) != '\0') {
                size_t n = strcspn(w, " \t\r\n");
                char *word = sl_strndup(w, n);
                /* a shipped map's (or units table's) name stays a name */
                int name = ((strcmp(in->names[i], "maps") == 0 ||
                             strcmp(in->names[i], "units") == 0) &&
                            !strchr(word, '/') &&
                            !sl_str_has_suffix(word, ".json") &&
                            !sl_str_has_suffix(word, ".csv")) ||
                           /* a profile's canonical URL stays a URL */
                           strstr(word, "://") != NULL;
                char *p = name ? sl_strdup(word)
                               : sl_path_resolve(cfg->base_dir, word);
                if (b.len)
                    sl_buf_addc(&b, ' ');
                sl_buf_adds(&b, p);
                free(p);
                free(word);
                w += n;
            }
            sl_conf_node_add(out, in->names[i], b.data ? b.data : "");
            sl_buf_free(&b);
        } else if (o != NULL && o->type == SL_OPT_PATH &&
                   strcmp(v, "-") != 0) {
            char *p = sl_path_resolve(cfg->base_dir, v);
            sl_conf_node_add(out, in->names[i], p);
            free(p);
        } else if (o != NULL && o->type == SL_OPT_SECRET) {
            char *key = NULL;
            size_t keylen = 0;
            if (*reid_key != NULL)
                rc = SL_ERR(err, SL_ECONFIG, "%s:%d: a job has one "
                            "re-identification key", cfg->path, in->line);
            else if ((rc = sl_secret_read(v, cfg->base_dir, &key, &keylen,
                                          err)) == SL_OK)
                rc = sl_keys_from_bytes(key, keylen, reid_key, err);
            if (rc == SL_OK && strncmp(v, "file:", 5) == 0) {
                char *p = sl_path_resolve(cfg->base_dir, v + 5);
                rc = sl_keys_check_private(p, err);
                free(p);
            }
            sl_freezero(key, keylen);
            if (rc != SL_OK)
                sl_err_prefix(err, "%s:%d: <%s %s>", cfg->path, in->line,
                              in->element, in->names[i]);
        } else {
            sl_conf_node_add(out, in->names[i], v);
        }
    }
    out->text = in->text ? sl_strdup(in->text) : NULL;
    return rc;
}

int
sl_job_compile(const struct sl_config *cfg, const char *job_id,
               struct sl_job_spec **out, struct sl_err *err)
{
    const struct sl_job *job = sl_config_job(cfg, job_id);
    struct sl_job_spec *spec = NULL;
    size_t k;
    int rc = SL_OK;

    if (job == NULL)
        return SL_ERR(err, SL_EUSAGE, "%s: no job named %s (see 'sluice "
                      "jobs')", cfg->path, job_id);
    spec = sl_calloc(1, sizeof(*spec));
    spec->id = sl_strdup(job->id);
    spec->config_path = sl_strdup(cfg->path);
    spec->base_dir = sl_strdup(cfg->base_dir);
    spec->cfg = cfg;

    spec->sources = sl_calloc(job->from.n + 1, sizeof(*spec->sources));
    for (k = 0; k < job->from.n; k++) {
        const struct sl_conf_node *n = sl_config_source(cfg, job->from.v[k]);
        const struct sl_source_type *t;
        if (n == NULL) {
            rc = SL_ERR(err, SL_ECONFIG, "%s: job %s: unknown source %s",
                        cfg->path, job->id, job->from.v[k]);
            goto out;
        }
        t = sl_source_type_find(n->type);
        if (t == NULL || t->ops == NULL) {
            rc = SL_ERR(err, SL_ECONFIG, "%s:%d: source %s: type %s is not "
                        "supported by this build", cfg->path, n->line, n->id,
                        n->type);
            goto out;
        }
        spec->sources[k].node = n;
        spec->sources[k].ops = t->ops;
        spec->sources[k].yields = t->yields;
        spec->nsources = k + 1;
    }

    /* A stage this build does not have is refused, never skipped:
     * skipping de-identification would deliver patient data. */
    spec->stages = sl_calloc(job->nstages + 1, sizeof(*spec->stages));
    for (k = 0; k < job->nstages; k++) {
        const struct sl_conf_node *n = &job->stages[k];
        if ((spec->stages[k].ops = sl_stage_find(n->element)) == NULL) {
            rc = SL_ERR(err, SL_ECONFIG, "%s:%d: job %s: <%s> is not "
                        "supported by this build yet", cfg->path, n->line,
                        job->id, n->element);
            goto out;
        }
        spec->nstages = k + 1;
        if ((rc = compile_stage(cfg, job, n, &spec->stages[k].node,
                                &spec->reid_key, err)) != SL_OK)
            goto out;
    }

    spec->targets = sl_calloc(job->push.n + 1, sizeof(*spec->targets));
    for (k = 0; k < job->push.n; k++) {
        const struct sl_conf_node *n = sl_config_target(cfg, job->push.v[k]);
        const struct sl_target_type *t;
        if (n == NULL) {
            rc = SL_ERR(err, SL_ECONFIG, "%s: job %s: unknown target %s",
                        cfg->path, job->id, job->push.v[k]);
            goto out;
        }
        t = sl_target_type_find(n->type);
        if (t == NULL || t->ops == NULL || t->ops->open == NULL) {
            rc = SL_ERR(err, SL_ECONFIG, "%s:%d: target %s: type %s is not "
                        "supported by this build", cfg->path, n->line, n->id,
                        n->type);
            goto out;
        }
        spec->targets[k].node = n;
        spec->targets[k].ops = t->ops;
        spec->targets[k].takes = t->takes;
        spec->ntargets = k + 1;
    }

    if (job->nstages > 0 && cfg->pseudonym_key != NULL) {
        char *key = NULL;
        size_t keylen = 0;
        rc = sl_secret_read(cfg->pseudonym_key, cfg->base_dir, &key, &keylen,
                            err);
        if (rc == SL_OK)
            rc = sl_keys_from_bytes(key, keylen, &spec->keys, err);
        sl_freezero(key, keylen);
        if (rc == SL_OK && strncmp(cfg->pseudonym_key, "file:", 5) == 0) {
            char *p = sl_path_resolve(cfg->base_dir, cfg->pseudonym_key + 5);
            rc = sl_keys_check_private(p, err);
            free(p);
        }
        if (rc != SL_OK)
            goto out;
    }
    {
        char *sp = sl_path_resolve(cfg->base_dir, cfg->state_path
                                                      ? cfg->state_path
                                                      : "sluice-state.db");
        char *sd = sl_path_dir(sp);
        spec->workdir = sl_path_join(sd, "work");
        free(sp);
        free(sd);
        spec->qdir = sl_path_resolve(cfg->base_dir, cfg->quarantine_dir
                                                        ? cfg->quarantine_dir
                                                        : "quarantine");
    }
    if (job->nstages > 0 && (rc = sl_mkdir_p(spec->workdir, err)) != SL_OK)
        goto out;
    *out = spec;
    spec = NULL;
out:
    sl_job_spec_free(spec);
    return rc;
}

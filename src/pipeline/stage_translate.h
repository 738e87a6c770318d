/* stage_translate.h - the <translate> stage (see stage_translate.c). */
#ifndef SL_STAGE_TRANSLATE_H
#define SL_STAGE_TRANSLATE_H

#include "pipeline/pipeline.h"

/* The <translate> stage type: codings translated through terminology
 * maps, findings "mapped:MAP" and "unmapped:MAP" per coding. */
extern const struct sl_stage_ops sl_stage_translate;

/* A stage context from its options (as the node's attributes; NULL for
 * the defaults), for a job built in memory (`sluice translate`). Free it
 * with sl_stage_translate.free. */
int sl_stage_translate_new(const char *maps, const char *policy,
                           const char *unmapped, const char *elements,
                           const char *target, void **ctx,
                           struct sl_err *err);

/* The same with more options: more is a node (or NULL) whose attributes
 * server, remote-map, remote-source, cache, cache-ttl, batch (a map on a
 * terminology server) and units, units-original (Quantity units) are
 * read (see stage_translate.c), with the server's <auth> as "auth.*"
 * attributes (its file: secrets relative to base_dir, NULL: the working
 * folder); with a server or units, maps may be empty. */
int sl_stage_translate_new_remote(const char *maps, const char *policy,
                                  const char *unmapped, const char *elements,
                                  const char *target,
                                  const struct sl_conf_node *more,
                                  const char *base_dir, void **ctx,
                                  struct sl_err *err);

/* Loads and checks the maps and options of a <translate> element of cfg
 * (sluice check-config): what a run would refuse, with "FILE:LINE:
 * <translate>: " before the reason. Relative map paths are taken from the
 * configuration's folder; a shipped map's name stays a name. */
int sl_stage_translate_check(const struct sl_config *cfg,
                             const struct sl_conf_node *node,
                             struct sl_err *err);

#endif

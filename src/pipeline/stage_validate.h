/* stage_validate.h - the <validate> stage (see stage_validate.c). */
#ifndef SL_STAGE_VALIDATE_H
#define SL_STAGE_VALIDATE_H

#include "pipeline/pipeline.h"

/* The <validate> stage type: FHIR resources validated against R4 and the
 * profiles given; a finding per issue, counted per profile and message
 * ("PROFILE: message"), its element path as where. */
extern const struct sl_stage_ops sl_stage_validate;

/* A stage context from its options (NULL for the defaults): profiles and
 * igs space separated; on_error "quarantine" (default) or "warn";
 * outcomes non-zero: each item's OperationOutcome goes in its companion
 * (`sluice validate`). Free it with sl_stage_validate.free. */
int sl_stage_validate_new(const char *profiles, const char *igs,
                          const char *on_error, int outcomes, void **ctx,
                          struct sl_err *err);

/* Loads the IGs and profiles of a <validate> element of cfg (sluice
 * check-config), with "FILE:LINE: <validate>: " before the reason. */
int sl_stage_validate_check(const struct sl_config *cfg,
                            const struct sl_conf_node *node,
                            struct sl_err *err);

#endif

/* stage_deid.h - the <deid> stage (see stage_deid.c). */
#ifndef SL_STAGE_DEID_H
#define SL_STAGE_DEID_H

#include "pipeline/pipeline.h"

struct sl_job;
struct sl_stage_deid;

/* Prepares the stage for job: key from <keys pseudonym>, the profile
 * chain, both engines, and a first pass over the job's FHIR sources to
 * learn every patient. workdir holds de-identified DICOM copies until the
 * sink has them. On success *out owns the stage (sl_stage_deid_free). */
int sl_stage_deid_new(const struct sl_config *cfg, const struct sl_job *job,
                      const char *workdir, struct sl_stage_deid **out,
                      struct sl_err *err);
void sl_stage_deid_free(struct sl_stage_deid *s);
/* "basic 1 <- site 3", for the audit trail and reports. */
const char *sl_stage_deid_describe(const struct sl_stage_deid *s);
/* A fingerprint of the key (not the key). */
const char *sl_stage_deid_key_id(const struct sl_stage_deid *s);
/* The stage function: ctx->data is the struct sl_stage_deid. */
int sl_stage_deid_fn(struct sl_item *it, const struct sl_stage_ctx *ctx,
                     struct sl_err *err);

#endif

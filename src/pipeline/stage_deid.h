/* stage_deid.h - the <deid> stage (see stage_deid.c). */
#ifndef SL_STAGE_DEID_H
#define SL_STAGE_DEID_H

#include "pipeline/pipeline.h"

/* The <deid> stage type: FHIR resources and DICOM instances
 * de-identified by the job's profile with the job's pseudonym key; it
 * learns every patient from the FHIR items in a learning pass. */
extern const struct sl_stage_ops sl_stage_deid;

#endif

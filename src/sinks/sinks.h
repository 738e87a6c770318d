/* sinks.h - the built-in sinks (see pipeline.h for the interface). */
#ifndef SL_SINKS_H
#define SL_SINKS_H

#include "pipeline/pipeline.h"

extern const struct sl_sink_ops sl_sink_fhir_files;
extern const struct sl_sink_ops sl_sink_dicom_folder;

#endif

/* fhir_files.c - the fhir_files sink. */
#include "config.h"

#include "sinks/sinks.h"

const struct sl_sink_ops sl_sink_fhir_files = {"fhir-files", NULL, NULL, NULL, NULL, NULL};

/* fhir_files.c - the fhir_files source. */
#include "config.h"

#include "sources/sources.h"

const struct sl_source_ops sl_source_fhir_files = {"fhir-files", NULL, NULL, NULL};

/* registry.c - source and sink types by name. */
#include "config.h"

#include <string.h>

#include "pipeline/pipeline.h"
#include "sinks/sinks.h"
#include "sources/sources.h"

static const struct sl_source_ops *const source_types[] = {
    &sl_source_fhir_files,
    &sl_source_dicom_folder,
};

static const struct sl_sink_ops *const sink_types[] = {
    &sl_sink_fhir_files,
    &sl_sink_dicom_folder,
};

const struct sl_source_ops *
sl_source_find(const char *type)
{
    size_t i;

    for (i = 0; i < sizeof(source_types) / sizeof(source_types[0]); i++)
        if (type && strcmp(source_types[i]->type, type) == 0)
            return source_types[i];
    return NULL;
}

const struct sl_sink_ops *
sl_sink_find(const char *type)
{
    size_t i;

    for (i = 0; i < sizeof(sink_types) / sizeof(sink_types[0]); i++)
        if (type && strcmp(sink_types[i]->type, type) == 0)
            return sink_types[i];
    return NULL;
}

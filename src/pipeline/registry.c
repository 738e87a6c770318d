/* registry.c - the one list of source, stage and target types. The
 * option table, the schema and docs/configuration.md name the same types:
 * tests/unit/test_registry.c checks that they agree with this file. */
#include "config.h"

#include <string.h>

#include "pipeline/pipeline.h"
#include "pipeline/stage_deid.h"
#include "pipeline/stage_translate.h"
#include "pipeline/stage_validate.h"
#include "sinks/sinks.h"
#include "sources/sources.h"

const struct sl_source_type sl_source_types[] = {
    {"fhir-files", &sl_source_fhir_files, SL_TAKES_FHIR},
    {"dicom-folder", &sl_source_dicom_folder, SL_TAKES_DICOM},
    {"dimse", &sl_source_dimse, SL_TAKES_DICOM},
    {"dicomweb", &sl_source_dicomweb, SL_TAKES_DICOM},
    {"dicom-listener", &sl_source_dicom_listener, SL_TAKES_DICOM},
    {"fhir-bulk", &sl_source_fhir_bulk, SL_TAKES_FHIR},
    {"fhir-rest", &sl_source_fhir_rest, SL_TAKES_FHIR},
    {NULL, NULL, 0},
};

const struct sl_target_type sl_target_types[] = {
    {"fhir-files", &sl_sink_fhir_files, SL_TAKES_FHIR},
    {"dicom-folder", &sl_sink_dicom_folder, SL_TAKES_DICOM},
    {"fhir-store", &sl_sink_fhir_store, SL_TAKES_FHIR},
    {"dicom-store", &sl_sink_dicom_store, SL_TAKES_DICOM},
    {"stow-rs", &sl_sink_stow_rs, SL_TAKES_DICOM},
    {NULL, NULL, 0},
};

const struct sl_stage_ops *const sl_stage_types[] = {
    &sl_stage_deid,
    &sl_stage_translate,
    &sl_stage_validate,
    NULL,
};

const struct sl_source_type *
sl_source_type_find(const char *type)
{
    const struct sl_source_type *t;

    for (t = sl_source_types; type && t->type; t++)
        if (strcmp(t->type, type) == 0)
            return t;
    return NULL;
}

const struct sl_target_type *
sl_target_type_find(const char *type)
{
    const struct sl_target_type *t;

    for (t = sl_target_types; type && t->type; t++)
        if (strcmp(t->type, type) == 0)
            return t;
    return NULL;
}

const struct sl_stage_ops *
sl_stage_find(const char *name)
{
    size_t i;

    for (i = 0; name && sl_stage_types[i]; i++)
        if (strcmp(sl_stage_types[i]->name, name) == 0)
            return sl_stage_types[i];
    return NULL;
}

const struct sl_source_ops *
sl_source_find(const char *type)
{
    const struct sl_source_type *t = sl_source_type_find(type);

    return t ? t->ops : NULL;
}

const struct sl_sink_ops *
sl_sink_find(const char *type)
{
    const struct sl_target_type *t = sl_target_type_find(type);

    return t ? t->ops : NULL;
}

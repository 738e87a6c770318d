/* dicom_folder.c - the dicom_folder sink. */
#include "config.h"

#include "sinks/sinks.h"

const struct sl_sink_ops sl_sink_dicom_folder = {"dicom-folder", NULL, NULL, NULL, NULL, NULL};

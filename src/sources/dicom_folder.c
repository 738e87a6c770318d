/* dicom_folder.c - the dicom_folder source. */
#include "config.h"

#include "sources/sources.h"

const struct sl_source_ops sl_source_dicom_folder = {"dicom-folder", NULL, NULL, NULL};

/* sources.h - the built-in sources (see pipeline.h for the interface). */
#ifndef SL_SOURCES_H
#define SL_SOURCES_H

#include "item/item.h"

extern const struct sl_source_ops sl_source_fhir_files;
extern const struct sl_source_ops sl_source_dicom_folder;
/* a PACS: C-FIND, then C-GET (docs/pacs.md) */
extern const struct sl_source_ops sl_source_dimse;
/* a DICOMweb server: QIDO-RS, then WADO-RS (docs/pacs.md) */
extern const struct sl_source_ops sl_source_dicomweb;
/* sluice as a C-STORE SCP that studies are pushed to (docs/pacs.md) */
extern const struct sl_source_ops sl_source_dicom_listener;
/* a FHIR server's REST search API (fhir_rest.c) */
extern const struct sl_source_ops sl_source_fhir_rest;
/* an HL7 FHIR Bulk Data $export (fhir_bulk.c) */
extern const struct sl_source_ops sl_source_fhir_bulk;
/* the inputs of a command (sluice deid), by name and content */
extern const struct sl_source_ops sl_source_files;

#endif

/* fhir_scan.h - moved: the JSON tape reader is src/fhir/jtape.h now. This
 * forwarding header only keeps files written against the old path (the
 * pipeline's queue.c and stage_deid.c on main) building until they include
 * "fhir/jtape.h"; remove it then. */
#ifndef SL_DEID_FHIR_SCAN_H
#define SL_DEID_FHIR_SCAN_H

#include "fhir/jtape.h"

#endif

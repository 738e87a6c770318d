/* synth.h - synthetic FHIR and DICOM data with fake PHI. */
#ifndef SL_SYNTH_H
#define SL_SYNTH_H

#include "common/common.h"

#endif

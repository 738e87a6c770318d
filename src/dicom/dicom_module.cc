// dicom_module.cc - the DICOM module (sluice-dicom.so): the shim of this
// folder and DCMTK, loaded by the sluice executable the first time it
// needs them (dicom_load.c). Its functions are those of dicom.h; this
// file only names the build it belongs to.
#include "config.h"

#include "dicom/dicom_load.h"

extern "C" {
extern const char sl_dicom_module_abi[];
const char sl_dicom_module_abi[] = SL_DICOM_ABI;
}

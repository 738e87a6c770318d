// dicom.cc - the shim over DCMTK. Every exported function catches all
// exceptions: nothing unwinds into C.
#include "config.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <cstdio>

#include "dicom/dicom.h"

extern "C" int
sl_dicom_init(char *msg, unsigned long msglen)
{
    try {
        if (!dcmDataDict.isDictionaryLoaded()) {
            std::snprintf(msg, msglen, "DCMTK data dictionary not loaded "
                                       "(install dcmtk's dicom.dic or set DCMDICTPATH)");
            return -1;
        }
        return 0;
    } catch (...) {
        std::snprintf(msg, msglen, "DCMTK failed to initialise");
        return -1;
    }
}

/* dicom.h - C API of the DCMTK shim (the only C++ in sluice). */
#ifndef SL_DICOM_H
#define SL_DICOM_H

#ifdef __cplusplus
extern "C" {
#endif

/* Loads DCMTK's data dictionary; 0 when loaded, -1 (with a message in
 * msg) when it is missing. */
int sl_dicom_init(char *msg, unsigned long msglen);

#ifdef __cplusplus
}
#endif

#endif

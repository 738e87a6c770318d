/* dicom_load.h - what the sluice executable and its DICOM module agree on
 * (dicom_load.c, dicom_module.cc). */
#ifndef SL_DICOM_LOAD_H
#define SL_DICOM_LOAD_H

/* A module is only used by a sluice of the same version; every function
 * of dicom_api.def must be in it (a module that lacks one is refused by
 * name when it is loaded). */
#define SL_DICOM_ABI "sluice-dicom " PACKAGE_VERSION

#endif

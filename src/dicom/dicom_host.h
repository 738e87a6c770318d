/* dicom_host.h - what the process that uses the DICOM shim provides to it
 * (dicom_host.c, always linked into the executable): the shim may live
 * in a module loaded later (dicom_load.c), but an interposed bind() only
 * works from the executable. */
#ifndef SL_DICOM_HOST_H
#define SL_DICOM_HOST_H

#ifdef __cplusplus
extern "C" {
#endif

struct in_addr;

/* The IPv4 address the next listening socket bound on this thread is
 * given instead of the one asked for (DCMTK 3.6.7 always binds
 * INADDR_ANY), or NULL to leave bind() alone; a points to storage that
 * outlives the bind. */
void sl_dicom_host_bind_address(const struct in_addr *a);

#ifdef __cplusplus
}
#endif
#endif

noinst_LIBRARIES += %reldir%/libmetrics.a
%canon_reldir%_libmetrics_a_SOURCES = %reldir%/metrics.h %reldir%/metrics.c
%canon_reldir%_libmetrics_a_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS)
SL_LIBS += %reldir%/libmetrics.a
# The executable's libmicrohttpd: opened when first needed (mhd_load.c).
noinst_LIBRARIES += %reldir%/libmetricsload.a
%canon_reldir%_libmetricsload_a_SOURCES = %reldir%/mhd_load.c
%canon_reldir%_libmetricsload_a_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS)

noinst_LIBRARIES += %reldir%/libmetrics.a
%canon_reldir%_libmetrics_a_SOURCES = %reldir%/metrics.h %reldir%/metrics.c
%canon_reldir%_libmetrics_a_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS)
SL_LIBS += %reldir%/libmetrics.a

bin_PROGRAMS += sluice
sluice_SOURCES = %reldir%/cli.h %reldir%/main.c %reldir%/cli_state.c %reldir%/cli_run.c %reldir%/cmd_check_config.c \
	%reldir%/cmd_run.c %reldir%/cmd_jobs.c %reldir%/cmd_runs.c \
	%reldir%/cmd_quarantine.c %reldir%/cmd_synth.c %reldir%/cmd_keygen.c \
	%reldir%/cmd_export_dicom.c %reldir%/cmd_deid.c %reldir%/cmd_reid.c \
	%reldir%/cmd_inspect_pixels.c %reldir%/cmd_push.c %reldir%/cmd_echo.c \
	%reldir%/cmd_pull.c %reldir%/cmd_translate.c %reldir%/cmd_daemon.c \
	%reldir%/cmd_audit.c %reldir%/cmd_report.c %reldir%/report_html.c \
	%reldir%/report.h \
	%reldir%/cmd_fhirpath.c %reldir%/cmd_validate.c \
	%reldir%/cmd_timeline.c %reldir%/timeline.h %reldir%/timeline_read.c
if SANITIZERS
# A sanitizer build links the shim and DCMTK (configure.ac: LeakSanitizer
# cannot scan a module's thread-local storage); -lstdc++ for the shim.
sluice_LDADD = $(SL_LIBS) src/http/libhttpload.a src/metrics/libmetricsload.a \
	src/common/libcommon.a $(SL_HOST_EXT_LIBS) $(DCMTK_LIBS) $(OPENJP2_LIBS) \
	-lstdc++
sluice_LDFLAGS = $(AM_LDFLAGS)
else
# Without DCMTK: the functions of dicom.h load the DICOM module
# (src/dicom/local.mk), to which the executable exports what host.syms
# lists; without libcurl and libmicrohttpd, which are opened when first
# needed (lazylib.h).
sluice_LDADD = $(subst src/dicom/libdicom.a,src/dicom/libdicomload.a,$(SL_LIBS)) \
	src/http/libhttpload.a src/metrics/libmetricsload.a \
	src/common/libcommon.a $(SL_HOST_EXT_LIBS)
sluice_LDFLAGS = $(AM_LDFLAGS) \
	-Wl,--dynamic-list=$(top_srcdir)/src/dicom/host.syms \
	-Wl,--undefined=sl_dicom_host_bind_address
endif
# sluice-dicom.so too: whatever builds sluice to run it (make demo) must
# build the module it loads
EXTRA_sluice_DEPENDENCIES = src/dicom/libdicomload.a src/dicom/host.syms \
	src/http/libhttpload.a src/metrics/libmetricsload.a \
	sluice-dicom.so$(EXEEXT)

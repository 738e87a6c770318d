# The only C++ in the tree: a thin shim over DCMTK with a C API (dicom.h),
# one file per concern behind the private dicom_int.h. Compiled as
# position-independent code: the same objects make the DICOM module.
noinst_LIBRARIES += %reldir%/libdicom.a
%canon_reldir%_libdicom_a_SOURCES = %reldir%/dicom.h %reldir%/dicom_int.h \
	%reldir%/dicom_util.cc %reldir%/dicom_dict.cc %reldir%/dicom_read.cc \
	%reldir%/dicom_build.cc %reldir%/dicom_edit.cc \
	%reldir%/dicom_save.cc %reldir%/dicom_pixels.cc %reldir%/dicom_dir.cc \
	%reldir%/dicom_render.cc %reldir%/dicom_net.cc %reldir%/dicom_qr.cc \
	%reldir%/dicom_listen.cc %reldir%/dicom_j2k.cc
%canon_reldir%_libdicom_a_CXXFLAGS = $(AM_CXXFLAGS) -fPIC
# What the process provides to the shim (the bind() DCMTK's listener
# calls), always in the executable; tests link it with the shim.
noinst_LIBRARIES += %reldir%/libdicomhost.a
%canon_reldir%_libdicomhost_a_SOURCES = %reldir%/dicom_host.h \
	%reldir%/dicom_host.c
SL_LIBS += %reldir%/libdicom.a %reldir%/libdicomhost.a

# The sluice executable does not link DCMTK: it has the functions of
# dicom.h from libdicomload.a, which loads the DICOM module
# (sluice-dicom.so: the shim and DCMTK) the first time one is called, so
# that a command without DICOM does not map and bind DCMTK's libraries.
noinst_LIBRARIES += %reldir%/libdicomload.a
%canon_reldir%_libdicomload_a_SOURCES = %reldir%/dicom_load.h \
	%reldir%/dicom_load.c
%canon_reldir%_libdicomload_a_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSL_MODULEDIR='"$(pkglibexecdir)"'
EXTRA_DIST += %reldir%/dicom_api.def %reldir%/host.syms

pkglibexec_PROGRAMS += sluice-dicom.so
sluice_dicom_so_SOURCES = %reldir%/dicom_module.cc
sluice_dicom_so_CXXFLAGS = $(AM_CXXFLAGS) -fPIC
# every object of the shim, whether the module file calls it or not
sluice_dicom_so_LDFLAGS = $(AM_LDFLAGS) -shared -Wl,-Bsymbolic \
	-Wl,--whole-archive %reldir%/libdicom.a -Wl,--no-whole-archive
sluice_dicom_so_LDADD = $(DCMTK_LIBS) $(OPENJP2_LIBS) $(ZLIB_LIBS) \
	$(PTHREAD_LIBS)
sluice_dicom_so_DEPENDENCIES = %reldir%/libdicom.a

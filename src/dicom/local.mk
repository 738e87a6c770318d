# The only C++ in the tree: a thin shim over DCMTK with a C API (dicom.h),
# one file per concern behind the private dicom_int.h.
noinst_LIBRARIES += %reldir%/libdicom.a
%canon_reldir%_libdicom_a_SOURCES = %reldir%/dicom.h %reldir%/dicom_int.h \
	%reldir%/dicom_util.cc %reldir%/dicom_dict.cc %reldir%/dicom_read.cc \
	%reldir%/dicom_build.cc %reldir%/dicom_edit.cc \
	%reldir%/dicom_save.cc %reldir%/dicom_pixels.cc %reldir%/dicom_dir.cc \
	%reldir%/dicom_render.cc %reldir%/dicom_net.cc %reldir%/dicom_qr.cc \
	%reldir%/dicom_listen.cc %reldir%/dicom_j2k.cc
SL_LIBS += %reldir%/libdicom.a

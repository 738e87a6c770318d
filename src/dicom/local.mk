# The only C++ in the tree: a thin shim over DCMTK with a C API.
noinst_LIBRARIES += %reldir%/libdicom.a
%canon_reldir%_libdicom_a_SOURCES = %reldir%/dicom.h %reldir%/dicom.cc
SL_LIBS += %reldir%/libdicom.a

# The DICOM de-identification engine (C; DCMTK only through src/dicom).
# A library of its own beside the FHIR engine's libdeid.a.
noinst_LIBRARIES += %reldir%/libdeiddicom.a
%canon_reldir%_libdeiddicom_a_SOURCES = %reldir%/dicom_deid.h \
	%reldir%/dicom_deid_int.h %reldir%/dicom_deid.c \
	%reldir%/dicom_deid_file.c %reldir%/dicom_deid_memo.c \
	%reldir%/dicom_deid_values.c \
	%reldir%/dicom_deid_ocr.c
SL_LIBS += %reldir%/libdeiddicom.a

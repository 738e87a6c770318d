noinst_LIBRARIES += %reldir%/libsinks.a
%canon_reldir%_libsinks_a_SOURCES = %reldir%/sinks.h \
	%reldir%/fhir_files.c %reldir%/dicom_folder.c \
	%reldir%/export.h %reldir%/export.c
SL_LIBS += %reldir%/libsinks.a

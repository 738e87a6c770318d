noinst_LIBRARIES += %reldir%/libsinks.a
%canon_reldir%_libsinks_a_SOURCES = %reldir%/sinks.h \
	%reldir%/fhir_files.c %reldir%/fhir_store.c \
	%reldir%/fhir_store_int.h %reldir%/fhir_store_send.c %reldir%/fhir_mirror.c %reldir%/dicom_folder.c \
	%reldir%/dicom_store.c %reldir%/stow_rs.c \
	%reldir%/export.h %reldir%/export.c \
	%reldir%/sinks_int.h %reldir%/dicom_media.c %reldir%/sink_files.c
SL_LIBS += %reldir%/libsinks.a

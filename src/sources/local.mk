noinst_LIBRARIES += %reldir%/libsources.a
%canon_reldir%_libsources_a_SOURCES = %reldir%/sources.h \
	%reldir%/fhir_files.c %reldir%/dicom_folder.c %reldir%/files.c \
	%reldir%/gz_lines.h %reldir%/gz_lines.c \
	%reldir%/dimse.c %reldir%/dimse_cohort.h %reldir%/dimse_cohort.c \
	%reldir%/dimse_since.h %reldir%/dimse_since.c \
	%reldir%/dicom_listener.c \
	%reldir%/dicomweb.c \
	%reldir%/pacs_work.h %reldir%/pacs_work.c \
	%reldir%/fhir_rest.c %reldir%/fhir_rest_page.c %reldir%/fhir_rest_list.c %reldir%/fhir_rest_hist.c %reldir%/fhir_rest_url.c \
	%reldir%/fhir_rest_int.h \
	%reldir%/fhir_bulk.h %reldir%/fhir_bulk.c \
	%reldir%/fhir_bulk_manifest.c %reldir%/fhir_bulk_fetch.c
SL_LIBS += %reldir%/libsources.a

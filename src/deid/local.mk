noinst_LIBRARIES += %reldir%/libdeid.a
%canon_reldir%_libdeid_a_SOURCES = %reldir%/profile.h %reldir%/profile.c \
	%reldir%/fhir.h %reldir%/dicom_deid.h %reldir%/fhir_int.h \
	%reldir%/fhir.c %reldir%/fhir_compile.c %reldir%/fhir_map.c \
	%reldir%/fhir_ref.c %reldir%/fhir_learn.c %reldir%/fhir_learn_values.c %reldir%/fhir_call.c \
	%reldir%/fhir_method.c %reldir%/fhir_walk.c %reldir%/fhir_write.c \
	%reldir%/fhir_util.c %reldir%/fhir_vset.c %reldir%/fhir_xhtml.c \
	%reldir%/fhir_digits.c %reldir%/fhir_scrub.c %reldir%/fhir_memo.c
SL_LIBS += %reldir%/libdeid.a

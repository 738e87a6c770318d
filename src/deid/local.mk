noinst_LIBRARIES += %reldir%/libdeid.a
%canon_reldir%_libdeid_a_SOURCES = %reldir%/profile.h %reldir%/profile.c \
	%reldir%/fhir.h %reldir%/dicom_deid.h %reldir%/fhir_int.h \
	%reldir%/fhir.c %reldir%/fhir_compile.c %reldir%/fhir_map.c \
	%reldir%/fhir_ref.c %reldir%/fhir_learn.c %reldir%/fhir_call.c \
	%reldir%/fhir_method.c %reldir%/fhir_walk.c %reldir%/fhir_write.c \
	%reldir%/fhir_util.c %reldir%/fhir_xhtml.c %reldir%/fhir_scrub.c \
	%reldir%/text_detect.h %reldir%/text_detect_int.h \
	%reldir%/text_detect.c %reldir%/text_date.c %reldir%/text_names.c
nodist_%canon_reldir%_libdeid_a_SOURCES = %reldir%/text_names.inc
# the name dictionary of the free-text detectors, as a C table: one
# {"name", flags} per line of profiles/names/names.tsv (g 1, s 2, w 4, e 8)
%reldir%/text_names.inc: $(top_srcdir)/profiles/names/names.tsv
	$(AM_V_GEN)$(AWK) -F '\t' '/^[^#]/ { f = 0; \
	  if ($$2 ~ /g/) f += 1; if ($$2 ~ /s/) f += 2; \
	  if ($$2 ~ /w/) f += 4; if ($$2 ~ /e/) f += 8; \
	  printf "{\"%s\", %d},\n", $$1, f }' $(top_srcdir)/profiles/names/names.tsv > $@.tmp && mv $@.tmp $@
BUILT_SOURCES += %reldir%/text_names.inc
CLEANFILES += %reldir%/text_names.inc
SL_LIBS += %reldir%/libdeid.a

# The free-text detectors (text_detect.h), shared by the FHIR scrubber
# (libdeid.a) and the DICOM text scrub (libdeiddicom.a): a library of its
# own, linked after both.
noinst_LIBRARIES += %reldir%/libdeidtext.a
%canon_reldir%_libdeidtext_a_SOURCES = %reldir%/text_detect.h \
	%reldir%/text_detect_int.h %reldir%/text_detect.c \
	%reldir%/text_date.c %reldir%/text_names.c
nodist_%canon_reldir%_libdeidtext_a_SOURCES = %reldir%/text_names.inc
# the generated table is in the build tree (a VPATH build)
%canon_reldir%_libdeidtext_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_builddir)/src
# the name dictionary as a C table: one {"name", flags} per line of
# profiles/names/names.tsv (flags g 1, s 2, w 4, e 8)
%reldir%/text_names.inc: $(top_srcdir)/profiles/names/names.tsv
	$(AM_V_GEN)$(AWK) -F '\t' '/^[^#]/ { f = 0; \
	  if ($$2 ~ /g/) f += 1; if ($$2 ~ /s/) f += 2; \
	  if ($$2 ~ /w/) f += 4; if ($$2 ~ /e/) f += 8; \
	  printf "{\"%s\", %d},\n", $$1, f }' \
	  $(top_srcdir)/profiles/names/names.tsv > $@.tmp && mv $@.tmp $@
BUILT_SOURCES += %reldir%/text_names.inc
# BUILT_SOURCES come first only for all, check and install: `make demo`
# builds sluice directly, so the object says what it needs
%reldir%/libdeidtext_a-text_names.$(OBJEXT): %reldir%/text_names.inc
CLEANFILES += %reldir%/text_names.inc
SL_LIBS += %reldir%/libdeidtext.a

# A PDF's text for the leak scan (issue 10, section 4): the only folder that
# includes poppler (Debian's libpoppler-glib).
noinst_LIBRARIES += %reldir%/libpdf.a
%canon_reldir%_libpdf_a_SOURCES = %reldir%/pdf.h %reldir%/pdf.c
%canon_reldir%_libpdf_a_CFLAGS = $(AM_CFLAGS) $(POPPLER_CFLAGS)
SL_LIBS += %reldir%/libpdf.a

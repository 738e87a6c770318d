# HTTP client: the only folder that calls libcurl (docs/connectors.md).
noinst_LIBRARIES += %reldir%/libhttp.a
%canon_reldir%_libhttp_a_SOURCES = %reldir%/http.h %reldir%/http.c
SL_LIBS += %reldir%/libhttp.a

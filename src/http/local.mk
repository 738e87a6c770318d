# HTTP client: the only folder that calls libcurl (docs/connectors.md);
# auth*.c: how sluice authenticates to a server.
noinst_LIBRARIES += %reldir%/libhttp.a
%canon_reldir%_libhttp_a_SOURCES = %reldir%/http.h %reldir%/http.c \
	%reldir%/auth.h %reldir%/auth_int.h %reldir%/auth.c \
	%reldir%/auth_jwt.c %reldir%/auth_token.c %reldir%/auth_sigv4.c \
	%reldir%/auth_google.c \
	%reldir%/multipart.h %reldir%/multipart.c \
	%reldir%/dicom_json.h %reldir%/dicom_json.c
SL_LIBS += %reldir%/libhttp.a
# The executable's libcurl: opened when first needed (curl_load.c).
noinst_LIBRARIES += %reldir%/libhttpload.a
%canon_reldir%_libhttpload_a_SOURCES = %reldir%/curl_load.c

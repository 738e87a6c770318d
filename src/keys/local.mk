noinst_LIBRARIES += %reldir%/libkeys.a
%canon_reldir%_libkeys_a_SOURCES = %reldir%/keys.h %reldir%/keys.c %reldir%/reid.c
SL_LIBS += %reldir%/libkeys.a

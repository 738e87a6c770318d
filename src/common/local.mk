noinst_LIBRARIES += %reldir%/libcommon.a
%canon_reldir%_libcommon_a_SOURCES = %reldir%/common.h %reldir%/common.c \
	%reldir%/files.c %reldir%/log.c %reldir%/hash.h %reldir%/hash.c \
	%reldir%/date.h %reldir%/date.c
SL_LIBS += %reldir%/libcommon.a

noinst_LIBRARIES += %reldir%/libconfig.a
%canon_reldir%_libconfig_a_SOURCES = %reldir%/config.h %reldir%/config.c \
	%reldir%/config_opts.c %reldir%/config_load.c
SL_LIBS += %reldir%/libconfig.a

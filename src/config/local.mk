noinst_LIBRARIES += %reldir%/libconfig.a
%canon_reldir%_libconfig_a_SOURCES = %reldir%/config.h %reldir%/config.c \
	%reldir%/config_opts.c %reldir%/config_int.h %reldir%/config_load.c \
	%reldir%/config_problems.c %reldir%/config_check.c \
	%reldir%/config_secret.c
# The schema is found next to the config, else in the source tree
# (SL_SRCDIR, so the uninstalled sluice and make distcheck work), else in
# $(pkgdatadir).
SL_LIBS += %reldir%/libconfig.a

noinst_LIBRARIES += %reldir%/libstate.a
%canon_reldir%_libstate_a_SOURCES = %reldir%/state.h %reldir%/state_int.h \
	%reldir%/state.c %reldir%/state_sqlite.c \
	%reldir%/state_sqlite_int.h %reldir%/state_sqlite_schema.c \
	%reldir%/state_sqlite_lease.c %reldir%/state_sqlite_audit.c \
	%reldir%/state_sqlite_qmaint.c \
	%reldir%/quarantine_seal.c \
	%reldir%/quarantine.h %reldir%/quarantine.c %reldir%/quarantine_dir.c
SL_LIBS += %reldir%/libstate.a

noinst_LIBRARIES += %reldir%/libstate.a
%canon_reldir%_libstate_a_SOURCES = %reldir%/state.h %reldir%/state.c
SL_LIBS += %reldir%/libstate.a

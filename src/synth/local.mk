noinst_LIBRARIES += %reldir%/libsynth.a
%canon_reldir%_libsynth_a_SOURCES = %reldir%/synth.h %reldir%/synth.c
SL_LIBS += %reldir%/libsynth.a

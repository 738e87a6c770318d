noinst_LIBRARIES += %reldir%/libsynth.a
%canon_reldir%_libsynth_a_SOURCES = %reldir%/synth.h %reldir%/synth_int.h \
	%reldir%/synth.c %reldir%/synth_fhir.c %reldir%/synth_dicom.c \
	%reldir%/synth_shape.c
SL_LIBS += %reldir%/libsynth.a

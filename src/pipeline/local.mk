noinst_LIBRARIES += %reldir%/libpipeline.a
%canon_reldir%_libpipeline_a_SOURCES = %reldir%/pipeline.h %reldir%/item.c \
	%reldir%/registry.c %reldir%/run.c \
	%reldir%/stage_deid.h %reldir%/stage_deid.c
SL_LIBS += %reldir%/libpipeline.a

noinst_LIBRARIES += %reldir%/libpipeline.a
%canon_reldir%_libpipeline_a_SOURCES = %reldir%/pipeline.h \
	%reldir%/pipeline_int.h %reldir%/registry.c %reldir%/job.c %reldir%/run.c \
	%reldir%/run_state.c %reldir%/queue.c %reldir%/writer.c %reldir%/learn.c %reldir%/summary.c %reldir%/quarantine.c \
	%reldir%/quarantine_folder.c %reldir%/passes.c %reldir%/cohort.c \
	%reldir%/stage_deid.h %reldir%/stage_deid.c \
	%reldir%/stage_translate.h %reldir%/stage_translate.c \
	%reldir%/stage_validate.h %reldir%/stage_validate.c
SL_LIBS += %reldir%/libpipeline.a

# FHIRPath: lexer, parser and evaluator over jansson values (fhirpath.h),
# for `sluice fhirpath` and the validator's invariants.
noinst_LIBRARIES += %reldir%/libfhirpath.a
%canon_reldir%_libfhirpath_a_SOURCES = %reldir%/fhirpath.h %reldir%/fp_int.h \
	%reldir%/fp_lex.c %reldir%/fp_parse.c %reldir%/fp_value.c \
	%reldir%/fp_compare.c %reldir%/fp_eval.c %reldir%/fp_func.c \
	%reldir%/fp_func_str.c %reldir%/fp_func_fhir.c
SL_LIBS += %reldir%/libfhirpath.a

# FHIR R4 itself, for every stage that handles FHIR: the type table, element
# resolution, dates and the JSON tape reader. fhir_type_rows.c is generated
# by build-aux/gen-fhir-types.mjs and committed, so that building needs no
# Node; so is fhir_compartment.c, the Patient compartment, by
# build-aux/gen-fhir-compartment.mjs.
noinst_LIBRARIES += %reldir%/libfhir.a
%canon_reldir%_libfhir_a_SOURCES = %reldir%/fhir.h %reldir%/fhir_type.c \
	%reldir%/fhir_type_rows.c %reldir%/fhir_compartment.c \
	%reldir%/fhir_elem.c %reldir%/fhir_date.c \
	%reldir%/jtape.h %reldir%/jtape.c %reldir%/jtape_alloc.c
SL_LIBS += %reldir%/libfhir.a
EXTRA_DIST += build-aux/gen-fhir-types.mjs build-aux/gen-fhir-compartment.mjs

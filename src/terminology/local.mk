# Terminology: maps (ConceptMap JSON, CSV), the local $translate and the
# remote terminology client (term_client.c, its cache term_cache.c).
noinst_LIBRARIES += %reldir%/libterminology.a
%canon_reldir%_libterminology_a_SOURCES = %reldir%/terminology.h \
	%reldir%/term_int.h %reldir%/term_map.c %reldir%/term_load.c \
	%reldir%/term_apply.c %reldir%/term_client.c %reldir%/term_cache.c \
	%reldir%/term_units.c %reldir%/term_dec.c %reldir%/term_time.c
SL_LIBS += %reldir%/libterminology.a

# Shipped maps, installed with their folder kept:
# terminology/NAME.json -> $(pkgdatadir)/terminology/NAME.json (sl_term_dir)
terminologydir = $(pkgdatadir)
nobase_dist_terminology_DATA = terminology/README.md \
	terminology/lab-local-to-loinc.json \
	terminology/condition-local-to-snomed.json terminology/units-si.csv \
	terminology/units-conventional.csv

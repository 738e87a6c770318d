# Items and the source/target interfaces: below sources, sinks, stages and
# the pipeline, so that none of them needs another to link.
noinst_LIBRARIES += %reldir%/libitem.a
%canon_reldir%_libitem_a_SOURCES = %reldir%/item.h %reldir%/item.c
SL_LIBS += %reldir%/libitem.a

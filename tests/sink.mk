# tests of the dicom-folder sink's layouts with manifests (folders,
# dicomdir, zip) through `sluice run`
SINK_TESTS = tests/integration/sink_dicom_layouts.sh \
	tests/integration/sink_journal_fuzz.sh
TESTS += $(SINK_TESTS)
EXTRA_DIST += $(SINK_TESTS)

# The fuzz target of the sink's journal parser, built and run like those
# of tests/fuzz.mk (docs/fuzzing.md).
FUZZ_TARGETS += tests/fuzz/fuzz_sink_journal
FUZZ_RUN += sink_journal
tests_fuzz_fuzz_sink_journal_SOURCES = tests/fuzz/fuzz_sink_journal.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_sink_journal_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_sink_journal_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_sink_journal_SOURCES = force-cxx-link.cc

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_sink_export
TESTS += tests/unit/test_sink_export
tests_unit_test_sink_export_SOURCES = tests/unit/test_sink_export.c
tests_unit_test_sink_export_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_sink_export_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_sink_export_SOURCES = force-cxx-link.cc
endif

# tests of the pipeline: jobs end to end on synthetic data
TESTS += tests/integration/run_e2e.sh tests/integration/run_kill9.sh \
	tests/integration/run_malformed.sh tests/integration/run_memory.sh \
	tests/integration/input_links.sh tests/integration/run_stop.sh \
	tests/integration/stage_order.sh
EXTRA_DIST += tests/integration/run_e2e.sh tests/integration/run_kill9.sh \
	tests/integration/run_malformed.sh tests/integration/run_memory.sh \
	tests/integration/input_links.sh tests/integration/run_stop.sh \
	tests/integration/stage_order.sh
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_fhir_files
TESTS += tests/unit/test_fhir_files
tests_unit_test_fhir_files_SOURCES = tests/unit/test_fhir_files.c
tests_unit_test_fhir_files_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_fhir_files_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_fhir_files_SOURCES = force-cxx-link.cc
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_registry
TESTS += tests/unit/test_registry
tests_unit_test_registry_SOURCES = tests/unit/test_registry.c
tests_unit_test_registry_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_registry_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_registry_SOURCES = force-cxx-link.cc
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_pipeline
TESTS += tests/unit/test_pipeline
tests_unit_test_pipeline_SOURCES = tests/unit/test_pipeline.c
tests_unit_test_pipeline_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_pipeline_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_pipeline_SOURCES = force-cxx-link.cc
endif
# FHIR JSON text as json_dumps writes it, decimals in their shortest form
check_PROGRAMS += tests/unit/test_fhir_json
TESTS += tests/unit/test_fhir_json
tests_unit_test_fhir_json_SOURCES = tests/unit/test_fhir_json.c
tests_unit_test_fhir_json_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_fhir_json_LDADD = $(SL_TEST_LDADD)

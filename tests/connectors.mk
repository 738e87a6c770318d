# the HTTP client and the fhir-store target (issue 12)
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_http
TESTS += tests/unit/test_http
tests_unit_test_http_SOURCES = tests/unit/test_http.c
tests_unit_test_http_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_http_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_http_SOURCES = force-cxx-link.cc
endif
CONNECTOR_TESTS = tests/integration/http_client.sh \
	tests/integration/fhir_store.sh
TESTS += $(CONNECTOR_TESTS)
EXTRA_DIST += $(CONNECTOR_TESTS) tests/tools/fault_proxy.py \
	tests/integration/connectors_lib.sh
# the fhir-bulk source against the Bulk Data test harness (bulk.mjs)
BULK_TESTS = tests/integration/fhir_bulk.sh
TESTS += $(BULK_TESTS)
EXTRA_DIST += $(BULK_TESTS) tests/fhir-server/bulk.mjs
# The fuzz target of the fhir-bulk source's manifest and checkpoint
# parsers, built and run like those of tests/fuzz.mk (docs/fuzzing.md).
FUZZ_TARGETS += tests/fuzz/fuzz_bulk_manifest
FUZZ_RUN += bulk_manifest
tests_fuzz_fuzz_bulk_manifest_SOURCES = tests/fuzz/fuzz_bulk_manifest.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_bulk_manifest_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_bulk_manifest_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_bulk_manifest_SOURCES = force-cxx-link.cc
TESTS += tests/integration/bulk_manifest_fuzz.sh
EXTRA_DIST += tests/integration/bulk_manifest_fuzz.sh

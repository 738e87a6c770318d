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
	tests/integration/fhir_store.sh tests/integration/fhir_rest.sh
TESTS += $(CONNECTOR_TESTS)
EXTRA_DIST += $(CONNECTOR_TESTS) tests/tools/fault_proxy.py \
	tests/integration/connectors_lib.sh

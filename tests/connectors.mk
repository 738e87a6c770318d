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
	tests/integration/fhir_store.sh tests/integration/fhir_store_cloud.sh \
	tests/integration/fhir_store_refs.sh tests/integration/fhir_rest.sh \
	tests/integration/fhir_rest_auth.sh
TESTS += $(CONNECTOR_TESTS)
EXTRA_DIST += $(CONNECTOR_TESTS) tests/tools/fault_proxy.py tests/bench/fhir-push.sh \
	tests/integration/connectors_lib.sh
# the text writer of the fhir-store target's Bundles (docs/fuzzing.md)
FUZZ_TARGETS += tests/fuzz/fuzz_store_bundle
FUZZ_RUN += store_bundle
tests_fuzz_fuzz_store_bundle_SOURCES = tests/fuzz/fuzz_store_bundle.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_store_bundle_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_store_bundle_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_store_bundle_SOURCES = force-cxx-link.cc
TESTS += tests/integration/store_bundle_fuzz.sh
EXTRA_DIST += tests/integration/store_bundle_fuzz.sh

# The fhir-rest source's page reader: fuzz target, built and run like
# those of tests/fuzz.mk (docs/fuzzing.md); its seeds replayed in check.
FUZZ_TARGETS += tests/fuzz/fuzz_rest_page
FUZZ_RUN += rest_page
tests_fuzz_fuzz_rest_page_SOURCES = tests/fuzz/fuzz_rest_page.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_rest_page_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_rest_page_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_rest_page_SOURCES = force-cxx-link.cc
TESTS += tests/integration/rest_page_fuzz.sh
EXTRA_DIST += tests/integration/rest_page_fuzz.sh tests/bench/fhir-pull.sh
# the fhir-bulk source against the Bulk Data test harness (bulk.mjs)
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_fhir_bulk
TESTS += tests/unit/test_fhir_bulk
tests_unit_test_fhir_bulk_SOURCES = tests/unit/test_fhir_bulk.c
tests_unit_test_fhir_bulk_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_fhir_bulk_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_fhir_bulk_SOURCES = force-cxx-link.cc
endif
BULK_TESTS = tests/integration/fhir_bulk.sh
TESTS += $(BULK_TESTS)
EXTRA_DIST += $(BULK_TESTS) tests/fhir-server/bulk.mjs \
	tests/bench/fhir-bulk.sh
# make bench-bulk: the fhir-bulk source against curl doing the same
# requests, and its peak memory at 10 times the export
# (tests/bench/fhir-bulk.sh)
BENCH_BULK_PATIENTS = 1000
bench-bulk: sluice$(EXEEXT)
	$(SHELL) $(srcdir)/tests/bench/fhir-bulk.sh $(abs_builddir) $(BENCH_BULK_PATIENTS)
.PHONY: bench-bulk
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
# The reader of a server's Retry-After header (src/http/http.c): fuzz
# target, built and run like those of tests/fuzz.mk; its seeds replayed.
FUZZ_TARGETS += tests/fuzz/fuzz_retry_after
FUZZ_RUN += retry_after
tests_fuzz_fuzz_retry_after_SOURCES = tests/fuzz/fuzz_retry_after.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_retry_after_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_retry_after_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_retry_after_SOURCES = force-cxx-link.cc
TESTS += tests/integration/retry_after_fuzz.sh
EXTRA_DIST += tests/integration/retry_after_fuzz.sh
# The readers of a token endpoint's reply (src/http/auth_token.c) and of
# the fhir-store target's batch-response and OperationOutcome
# (src/sinks/fhir_store_send.c): fuzz targets, built and run like those of
# tests/fuzz.mk (docs/fuzzing.md); their seeds replayed in check.
FUZZ_TARGETS += tests/fuzz/fuzz_token_reply tests/fuzz/fuzz_store_reply
FUZZ_RUN += token_reply store_reply
tests_fuzz_fuzz_token_reply_SOURCES = tests/fuzz/fuzz_token_reply.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_token_reply_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_token_reply_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_token_reply_SOURCES = force-cxx-link.cc
tests_fuzz_fuzz_store_reply_SOURCES = tests/fuzz/fuzz_store_reply.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_store_reply_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_store_reply_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_store_reply_SOURCES = force-cxx-link.cc
TESTS += tests/integration/token_reply_fuzz.sh \
	tests/integration/store_reply_fuzz.sh
EXTRA_DIST += tests/integration/token_reply_fuzz.sh \
	tests/integration/store_reply_fuzz.sh
# the token endpoint's and the fhir-store batch-response readers on the
# seeds of their fuzz targets
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_connector_replies
TESTS += tests/unit/test_connector_replies
tests_unit_test_connector_replies_SOURCES = tests/unit/test_connector_replies.c
tests_unit_test_connector_replies_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_connector_replies_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_connector_replies_SOURCES = force-cxx-link.cc
endif
# Fuzz targets of the audit in docs/fuzzing.md (every parser of outside
# input of the connectors has one): the fhir-rest source's patient list
# file, the smart-backend key file, FHIR resources in XML (validator)
FUZZ_TARGETS += tests/fuzz/fuzz_patients_file tests/fuzz/fuzz_jwt_key \
	tests/fuzz/fuzz_val_xml
FUZZ_RUN += patients_file jwt_key val_xml
tests_fuzz_fuzz_patients_file_SOURCES = tests/fuzz/fuzz_patients_file.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_patients_file_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_patients_file_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_patients_file_SOURCES = force-cxx-link.cc
tests_fuzz_fuzz_jwt_key_SOURCES = tests/fuzz/fuzz_jwt_key.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_jwt_key_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_jwt_key_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_jwt_key_SOURCES = force-cxx-link.cc
tests_fuzz_fuzz_val_xml_SOURCES = tests/fuzz/fuzz_val_xml.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_val_xml_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_val_xml_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_val_xml_SOURCES = force-cxx-link.cc
TESTS += tests/integration/patients_file_fuzz.sh \
	tests/integration/jwt_key_fuzz.sh tests/integration/val_xml_fuzz.sh
EXTRA_DIST += tests/integration/patients_file_fuzz.sh \
	tests/integration/jwt_key_fuzz.sh tests/integration/val_xml_fuzz.sh
# the reader of a response header line (src/http/http.c)
FUZZ_TARGETS += tests/fuzz/fuzz_http_header
FUZZ_RUN += http_header
tests_fuzz_fuzz_http_header_SOURCES = tests/fuzz/fuzz_http_header.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_http_header_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_http_header_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_http_header_SOURCES = force-cxx-link.cc
TESTS += tests/integration/http_header_fuzz.sh
EXTRA_DIST += tests/integration/http_header_fuzz.sh
# the fhir-rest source's checkpoints, read back from the state store
FUZZ_TARGETS += tests/fuzz/fuzz_rest_ck
FUZZ_RUN += rest_ck
tests_fuzz_fuzz_rest_ck_SOURCES = tests/fuzz/fuzz_rest_ck.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_rest_ck_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_rest_ck_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_rest_ck_SOURCES = force-cxx-link.cc
TESTS += tests/integration/rest_ck_fuzz.sh
EXTRA_DIST += tests/integration/rest_ck_fuzz.sh

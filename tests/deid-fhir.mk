# the FHIR de-identification engine: unit tests, data-driven cases
# (tests/data/deid/fhir/) and synthetic data end to end
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_deid_fhir
TESTS += tests/unit/test_deid_fhir
tests_unit_test_deid_fhir_SOURCES = tests/unit/test_deid_fhir.c \
	tests/unit/test_deid_fhir_e2e.c tests/unit/test_deid_fhir.h
tests_unit_test_deid_fhir_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_deid_fhir_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_deid_fhir_SOURCES = force-cxx-link.cc
endif

# a real FHIR server accepts the de-identified Bundles as transactions
TESTS += tests/integration/deid_fhir_server.sh
EXTRA_DIST += tests/integration/deid_fhir_server.sh \
	tests/fhir-server/package.json tests/fhir-server/package-lock.json \
	tests/fhir-server/server.mjs

# the R4 type table is its generator's output and holds only R4
TESTS += tests/integration/fhir_type_table.sh
EXTRA_DIST += tests/integration/fhir_type_table.sh

# what the profile does not know (unknown extensions, elements not in R4,
# modifier extensions) under the three built-in profiles, with --explain
TESTS += tests/integration/deid_unknown.sh
EXTRA_DIST += tests/integration/deid_unknown.sh

# the engine's fuzz target, built as tests/fuzz.mk builds the others (the
# plain driver, or libFuzzer with --enable-fuzzing: make fuzz
# FUZZ_RUN=deid_fhir); its seeds replayed in make check
check_PROGRAMS += tests/fuzz/fuzz_deid_fhir
tests_fuzz_fuzz_deid_fhir_SOURCES = tests/fuzz/fuzz_deid_fhir.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_deid_fhir_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_deid_fhir_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_deid_fhir_SOURCES = force-cxx-link.cc
TESTS += tests/integration/deid_fhir_fuzz.sh
EXTRA_DIST += tests/integration/deid_fhir_fuzz.sh

# the NDJSON line reader of sluice deid (src/fhir/jtape.c), checked
# against jansson (make fuzz FUZZ_RUN=fhir_scan); its seeds replayed in
# make check
check_PROGRAMS += tests/fuzz/fuzz_fhir_scan
tests_fuzz_fuzz_fhir_scan_SOURCES = tests/fuzz/fuzz_fhir_scan.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_fhir_scan_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_fhir_scan_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_fhir_scan_SOURCES = force-cxx-link.cc
TESTS += tests/integration/fhir_scan_fuzz.sh
EXTRA_DIST += tests/integration/fhir_scan_fuzz.sh

# the baseline of tests/bench/fhir-deid.sh (parse and re-serialise only)
check_PROGRAMS += tests/tools/fhir_reserialise
tests_tools_fhir_reserialise_SOURCES = tests/tools/fhir_reserialise.c
tests_tools_fhir_reserialise_LDADD = $(SL_LIBS) $(SL_LIBS) $(SL_EXT_LIBS)
nodist_EXTRA_tests_tools_fhir_reserialise_SOURCES = force-cxx-link.cc
EXTRA_DIST += tests/bench/fhir-deid.sh

# one patient, one shift, whatever the reference form (issue 10, section
# 1); the generated Patient compartment table
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_deid_fhir_refs
TESTS += tests/unit/test_deid_fhir_refs
tests_unit_test_deid_fhir_refs_SOURCES = tests/unit/test_deid_fhir_refs.c
tests_unit_test_deid_fhir_refs_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_deid_fhir_refs_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_deid_fhir_refs_SOURCES = force-cxx-link.cc
endif

# the free-text detectors and the scrubber that merges them with the
# learned values (issue 10, section 2)
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_text_detect
TESTS += tests/unit/test_text_detect
tests_unit_test_text_detect_SOURCES = tests/unit/test_text_detect.c
tests_unit_test_text_detect_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_text_detect_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_text_detect_SOURCES = force-cxx-link.cc
endif

# the free-text detectors' fuzz target (make fuzz FUZZ_RUN=text_detect);
# its seeds replayed in make check
check_PROGRAMS += tests/fuzz/fuzz_text_detect
tests_fuzz_fuzz_text_detect_SOURCES = tests/fuzz/fuzz_text_detect.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_text_detect_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_text_detect_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_text_detect_SOURCES = force-cxx-link.cc
TESTS += tests/integration/text_detect_fuzz.sh
EXTRA_DIST += tests/integration/text_detect_fuzz.sh

# decimals keep the digits they were written with (1.50 stays 1.50)
TESTS += tests/integration/decimals.sh
EXTRA_DIST += tests/integration/decimals.sh

# tests of terminology: maps, $translate, the <translate> stage, sluice translate
EXTRA_DIST += tests/data/terminology
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_terminology
TESTS += tests/unit/test_terminology
tests_unit_test_terminology_SOURCES = tests/unit/test_terminology.c
tests_unit_test_terminology_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_terminology_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_terminology_SOURCES = force-cxx-link.cc
# Quantity units: exact decimals, tables, resources (tests/data/terminology/units.json)
check_PROGRAMS += tests/unit/test_units
TESTS += tests/unit/test_units
tests_unit_test_units_SOURCES = tests/unit/test_units.c
tests_unit_test_units_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_units_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_units_SOURCES = force-cxx-link.cc
endif

# the map loaders' fuzz target (ConceptMap JSON and CSV), built as
# tests/fuzz.mk builds the others (make fuzz FUZZ_RUN=term_map with
# --enable-fuzzing); its seeds replayed in make check
check_PROGRAMS += tests/fuzz/fuzz_term_map
tests_fuzz_fuzz_term_map_SOURCES = tests/fuzz/fuzz_term_map.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_term_map_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_term_map_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_term_map_SOURCES = force-cxx-link.cc
TESTS += tests/integration/term_map_fuzz.sh
EXTRA_DIST += tests/integration/term_map_fuzz.sh

# sluice translate and the <translate> stage in a job, on synthetic data
TESTS += tests/integration/translate.sh
EXTRA_DIST += tests/integration/translate.sh

# a benchmark, not a test: sh tests/bench/translate.sh BUILDDIR [PATIENTS]
EXTRA_DIST += tests/bench/translate.sh tests/bench/translate_remote.sh

# the remote terminology client against the test FHIR server
# (tests/fhir-server: $translate by @synanetics/fhir-translate, $lookup and
# $validate-code test code over stored CodeSystems and ValueSets)
check_PROGRAMS += tests/tools/term_client_try
tests_tools_term_client_try_SOURCES = tests/tools/term_client_try.c
tests_tools_term_client_try_LDADD = $(SL_LIBS) $(SL_LIBS) $(SL_EXT_LIBS)
nodist_EXTRA_tests_tools_term_client_try_SOURCES = force-cxx-link.cc
TESTS += tests/integration/term_remote.sh
EXTRA_DIST += tests/integration/term_remote.sh \
	tests/fhir-server/translate/package.json \
	tests/fhir-server/translate/package-lock.json

# the remote client's reading of $translate replies: a fuzz target, its
# seeds replayed in make check
check_PROGRAMS += tests/fuzz/fuzz_term_reply
tests_fuzz_fuzz_term_reply_SOURCES = tests/fuzz/fuzz_term_reply.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_term_reply_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_term_reply_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_term_reply_SOURCES = force-cxx-link.cc
TESTS += tests/integration/term_reply_fuzz.sh
EXTRA_DIST += tests/integration/term_reply_fuzz.sh

# the remote client's cache file read back: a fuzz target, its seeds
# replayed in make check
check_PROGRAMS += tests/fuzz/fuzz_term_cache
tests_fuzz_fuzz_term_cache_SOURCES = tests/fuzz/fuzz_term_cache.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_term_cache_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_term_cache_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_term_cache_SOURCES = force-cxx-link.cc
TESTS += tests/integration/term_cache_fuzz.sh
EXTRA_DIST += tests/integration/term_cache_fuzz.sh

# Quantity units on synthetic data through sluice translate --units
TESTS += tests/integration/units.sh
EXTRA_DIST += tests/integration/units.sh

# the unit conversion tables: a fuzz target, its seeds replayed
check_PROGRAMS += tests/fuzz/fuzz_term_units
tests_fuzz_fuzz_term_units_SOURCES = tests/fuzz/fuzz_term_units.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_term_units_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_term_units_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_term_units_SOURCES = force-cxx-link.cc
TESTS += tests/integration/term_units_fuzz.sh
EXTRA_DIST += tests/integration/term_units_fuzz.sh

# sluice timeline on de-identified FHIR and DICOM
TESTS += tests/integration/timeline.sh
EXTRA_DIST += tests/integration/timeline.sh

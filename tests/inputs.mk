# tests of reading inputs (sources, folder walks)
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_inputs
TESTS += tests/unit/test_inputs
tests_unit_test_inputs_SOURCES = tests/unit/test_inputs.c
# the fixture's config node points at string literals
tests_unit_test_inputs_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -Wno-discarded-qualifiers
tests_unit_test_inputs_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_inputs_SOURCES = force-cxx-link.cc
endif

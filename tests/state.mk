# tests of the state area
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_state
TESTS += tests/unit/test_state
tests_unit_test_state_SOURCES = tests/unit/test_state.c
# fixtures fill owned-string fields with literals
tests_unit_test_state_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -Wno-discarded-qualifiers
tests_unit_test_state_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_state_SOURCES = force-cxx-link.cc
check_PROGRAMS += tests/unit/test_quarantine
TESTS += tests/unit/test_quarantine
tests_unit_test_quarantine_SOURCES = tests/unit/test_quarantine.c
tests_unit_test_quarantine_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -Wno-discarded-qualifiers
tests_unit_test_quarantine_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_quarantine_SOURCES = force-cxx-link.cc
endif
TESTS += tests/integration/state_cli.sh
EXTRA_DIST += tests/integration/state_cli.sh
# sluice quarantine --dir on what sluice deid quarantined
TESTS += tests/integration/quarantine_dir.sh
EXTRA_DIST += tests/integration/quarantine_dir.sh

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_common
TESTS += tests/unit/test_common
tests_unit_test_common_SOURCES = tests/unit/test_common.c
tests_unit_test_common_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_common_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_common_SOURCES = force-cxx-link.cc
endif

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_keys
TESTS += tests/unit/test_keys
tests_unit_test_keys_SOURCES = tests/unit/test_keys.c
tests_unit_test_keys_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_keys_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_keys_SOURCES = force-cxx-link.cc
endif

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_profile
TESTS += tests/unit/test_profile
tests_unit_test_profile_SOURCES = tests/unit/test_profile.c
tests_unit_test_profile_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_profile_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_profile_SOURCES = force-cxx-link.cc
endif

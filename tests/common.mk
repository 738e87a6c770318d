if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_common
TESTS += tests/unit/test_common
tests_unit_test_common_SOURCES = tests/unit/test_common.c
tests_unit_test_common_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_common_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_common_SOURCES = force-cxx-link.cc
endif

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_common_hash
TESTS += tests/unit/test_common_hash
tests_unit_test_common_hash_SOURCES = tests/unit/test_common_hash.c
tests_unit_test_common_hash_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_common_hash_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_common_hash_SOURCES = force-cxx-link.cc
endif

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_common_date
TESTS += tests/unit/test_common_date
tests_unit_test_common_date_SOURCES = tests/unit/test_common_date.c
tests_unit_test_common_date_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_common_date_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_common_date_SOURCES = force-cxx-link.cc
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

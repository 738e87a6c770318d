noinst_LIBRARIES += %reldir%/libcommon.a
%canon_reldir%_libcommon_a_SOURCES = %reldir%/common.h %reldir%/common.c \
	%reldir%/files.c %reldir%/log.c %reldir%/hash.h %reldir%/hash.c \
	%reldir%/date.h %reldir%/date.c %reldir%/cron.h %reldir%/cron.c %reldir%/seal.h %reldir%/seal.c \
	%reldir%/lazylib.h %reldir%/lazylib.c
SL_LIBS += %reldir%/libcommon.a

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_common_cron
TESTS += tests/unit/test_common_cron
tests_unit_test_common_cron_SOURCES = tests/unit/test_common_cron.c
tests_unit_test_common_cron_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_common_cron_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_common_cron_SOURCES = force-cxx-link.cc
endif

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_common_seal
TESTS += tests/unit/test_common_seal
tests_unit_test_common_seal_SOURCES = tests/unit/test_common_seal.c
tests_unit_test_common_seal_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_common_seal_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_common_seal_SOURCES = force-cxx-link.cc
endif

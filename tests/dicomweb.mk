# DICOMweb connectors (issue 13): the dicomweb source (QIDO-RS, WADO-RS)
# and the stow-rs target against Orthanc 1.10 with its DICOMweb plugin on
# 127.0.0.1, in a private network namespace (tests/integration/pacs_lib.sh);
# their readers of outside input without a server (unit test, fuzz
# targets: docs/fuzzing.md).
DICOMWEB_TESTS = tests/integration/dicomweb.sh \
	tests/integration/multipart_fuzz.sh tests/integration/dicom_json_fuzz.sh
TESTS += $(DICOMWEB_TESTS)
EXTRA_DIST += $(DICOMWEB_TESTS) tests/bench/dicomweb-retrieve.sh
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_dicomweb
TESTS += tests/unit/test_dicomweb
tests_unit_test_dicomweb_SOURCES = tests/unit/test_dicomweb.c
tests_unit_test_dicomweb_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_dicomweb_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_dicomweb_SOURCES = force-cxx-link.cc
endif
FUZZ_TARGETS += tests/fuzz/fuzz_multipart tests/fuzz/fuzz_dicom_json
FUZZ_RUN += multipart dicom_json
tests_fuzz_fuzz_multipart_SOURCES = tests/fuzz/fuzz_multipart.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_multipart_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_multipart_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_multipart_SOURCES = force-cxx-link.cc
tests_fuzz_fuzz_dicom_json_SOURCES = tests/fuzz/fuzz_dicom_json.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_dicom_json_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_dicom_json_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_dicom_json_SOURCES = force-cxx-link.cc
# make check-dicomweb: these tests only
check-dicomweb:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(DICOMWEB_TESTS) tests/unit/test_dicomweb'
.PHONY: check-dicomweb

# tests of the DICOM de-identification engine: a driver over its API
# (until `sluice deid` drives it), data-driven cases and real-world files.
check_PROGRAMS += tests/tools/dicom_deid_run
tests_tools_dicom_deid_run_SOURCES = tests/tools/dicom_deid_run.c
tests_tools_dicom_deid_run_LDADD = $(SL_LIBS) $(SL_LIBS) $(SL_EXT_LIBS)
nodist_EXTRA_tests_tools_dicom_deid_run_SOURCES = force-cxx-link.cc
TESTS += tests/integration/deid_dicom_pydicom.sh
EXTRA_DIST += tests/integration/deid_dicom_pydicom.sh
TESTS += tests/integration/deid_dicom_cases.sh
EXTRA_DIST += tests/integration/deid_dicom_cases.sh
TESTS += tests/integration/deid_dicom_text.sh
EXTRA_DIST += tests/integration/deid_dicom_text.sh
# DICOM free text through the free-text detectors (issue 10, section 2)
TESTS += tests/integration/deid_dicom_freetext.sh
EXTRA_DIST += tests/integration/deid_dicom_freetext.sh
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_dicom_deid
TESTS += tests/unit/test_dicom_deid
tests_unit_test_dicom_deid_SOURCES = tests/unit/test_dicom_deid.c
tests_unit_test_dicom_deid_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_dicom_deid_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_dicom_deid_SOURCES = force-cxx-link.cc
endif
TESTS += tests/integration/deid_dicom_profile.sh
EXTRA_DIST += tests/integration/deid_dicom_profile.sh
# The fuzz target of the DICOM reader path, run here as a deterministic
# smoke fuzzer over a few seeds (build it with -DSL_LIBFUZZER and
# -fsanitize=fuzzer for libFuzzer).
check_PROGRAMS += tests/fuzz/fuzz_dicom_deid
tests_fuzz_fuzz_dicom_deid_SOURCES = tests/fuzz/fuzz_dicom_deid.c
tests_fuzz_fuzz_dicom_deid_LDADD = $(SL_LIBS) $(SL_LIBS) $(SL_EXT_LIBS)
nodist_EXTRA_tests_fuzz_fuzz_dicom_deid_SOURCES = force-cxx-link.cc
TESTS += tests/integration/deid_dicom_fuzz.sh
EXTRA_DIST += tests/integration/deid_dicom_fuzz.sh
TESTS += tests/integration/deid_dicom_export.sh
TESTS += tests/integration/deid_dicom_cli.sh
EXTRA_DIST += tests/integration/deid_dicom_cli.sh
EXTRA_DIST += tests/integration/deid_dicom_export.sh
EXTRA_DIST += tests/bench/dicom-deid.sh

# The fuzz target of the reader of DCMTK's text data dictionaries
# (src/dicom/dicom_dict.cc), built and run like those of tests/fuzz.mk
# (docs/fuzzing.md); here because this file comes after tests/fuzz.mk.
FUZZ_TARGETS += tests/fuzz/fuzz_dicom_dict
FUZZ_RUN += dicom_dict
tests_fuzz_fuzz_dicom_dict_SOURCES = tests/fuzz/fuzz_dicom_dict.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_dicom_dict_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_dicom_dict_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_dicom_dict_SOURCES = force-cxx-link.cc
TESTS += tests/integration/dicom_dict_fuzz.sh
EXTRA_DIST += tests/integration/dicom_dict_fuzz.sh

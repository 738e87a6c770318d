# tests of the dicom area: the DCMTK shim, synth, the dicom-folder source
# and sink.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_dicom
TESTS += tests/unit/test_dicom
tests_unit_test_dicom_SOURCES = tests/unit/test_dicom.c
tests_unit_test_dicom_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_dicom_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_dicom_SOURCES = force-cxx-link.cc
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_dicom_folder
TESTS += tests/unit/test_dicom_folder
tests_unit_test_dicom_folder_SOURCES = tests/unit/test_dicom_folder.c
tests_unit_test_dicom_folder_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -Wno-discarded-qualifiers
tests_unit_test_dicom_folder_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_dicom_folder_SOURCES = force-cxx-link.cc
endif
TESTS += tests/integration/synth.sh
EXTRA_DIST += tests/integration/synth.sh
TESTS += tests/integration/dicom_module.sh
EXTRA_DIST += tests/integration/dicom_module.sh

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

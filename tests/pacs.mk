# PACS connectors (issue 13): sluice echo, the dicom-store target and the
# dimse source against DCMTK's storescp and Orthanc 1.10 on 127.0.0.1, in
# a private network namespace (tests/integration/pacs_lib.sh).
PACS_TESTS = tests/integration/pacs_store.sh \
	tests/integration/pacs_dimse.sh tests/integration/pacs_listener.sh \
	tests/integration/pacs_cohort.sh tests/integration/pacs_tls.sh \
	tests/integration/pacs_faults.sh tests/integration/pacs_listener_tls.sh \
	tests/integration/pacs_move_tls.sh tests/integration/pacs_cohort_job.sh
TESTS += $(PACS_TESTS)
EXTRA_DIST += $(PACS_TESTS) tests/integration/pacs_lib.sh \
	tests/bench/pacs-retrieve.sh tests/bench/pacs-cohort.sh \
	tests/bench/dicom-store-skip.sh
# make check-pacs: these tests only
check-pacs:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(PACS_TESTS)'
.PHONY: check-pacs

# the dimse source's studies file reader (FHIR ImagingStudy NDJSON): its
# fuzz target, built as tests/fuzz.mk builds the others (make fuzz
# FUZZ_RUN=dimse_cohort with --enable-fuzzing); its seeds replayed in
# make check
check_PROGRAMS += tests/fuzz/fuzz_dimse_cohort
tests_fuzz_fuzz_dimse_cohort_SOURCES = tests/fuzz/fuzz_dimse_cohort.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_dimse_cohort_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_dimse_cohort_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_dimse_cohort_SOURCES = force-cxx-link.cc
TESTS += tests/integration/dimse_cohort_fuzz.sh
EXTRA_DIST += tests/integration/dimse_cohort_fuzz.sh

# PACS connectors (issue 13): sluice echo, the dicom-store target and the
# dimse source against DCMTK's storescp and Orthanc 1.10 on 127.0.0.1, in
# a private network namespace (tests/integration/pacs_lib.sh).
PACS_TESTS = tests/integration/pacs_store.sh \
	tests/integration/pacs_dimse.sh tests/integration/pacs_listener.sh
TESTS += $(PACS_TESTS)
EXTRA_DIST += $(PACS_TESTS) tests/integration/pacs_lib.sh \
	tests/bench/pacs-retrieve.sh
# make check-pacs: these tests only
check-pacs:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(PACS_TESTS)'
.PHONY: check-pacs

# Tests: cmocka unit tests and shell integration tests, both speaking TAP.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = $(SHELL)
TEST_EXTENSIONS = .sh
# SLUICE_WRAP runs sluice under a tool (check-valgrind sets it).
AM_TESTS_ENVIRONMENT = CMOCKA_MESSAGE_OUTPUT=TAP; export CMOCKA_MESSAGE_OUTPUT; \
	SLUICE='$(abs_top_builddir)/sluice$(EXEEXT)'; export SLUICE; \
	SLUICE_WRAP='$(SLUICE_WRAP)'; export SLUICE_WRAP; \
	top_srcdir='$(abs_top_srcdir)'; export top_srcdir; \
	top_builddir='$(abs_top_builddir)'; export top_builddir; \
	SLUICE_MODULEDIR='$(pkglibexecdir)'; export SLUICE_MODULEDIR; \
	SLUICE_LINKS_DICOM='$(SLUICE_LINKS_DICOM)'; export SLUICE_LINKS_DICOM;

SL_TEST_LDADD = $(SL_LIBS) $(SL_LIBS) $(SL_EXT_LIBS) $(CMOCKA_LIBS)
EXTRA_DIST += tests/integration/lib.sh tests/data

include tests/common.mk
include tests/config.mk
include tests/state.mk
include tests/pipeline.mk
include tests/dicom.mk
include tests/cli.mk
include tests/deid.mk
include tests/fuzz.mk
include tests/deid-fhir.mk
include tests/ocr.mk
include tests/connectors.mk
include tests/validate.mk

VALGRIND_FLAGS = --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite -q
# make check-valgrind: the same tests, every program under valgrind.
check-valgrind:
	$(MAKE) $(AM_MAKEFLAGS) check LOG_COMPILER='$(VALGRIND) $(VALGRIND_FLAGS)' \
		SLUICE_WRAP='$(VALGRIND) $(VALGRIND_FLAGS)'
.PHONY: check-valgrind
include tests/deid-dicom.mk

# make bench: throughput as ratios against baselines (tests/bench/bench.sh)
EXTRA_DIST += tests/bench/bench.sh
BENCH_PATIENTS = 2000
bench: sluice$(EXEEXT)
	$(SHELL) $(srcdir)/tests/bench/bench.sh $(abs_builddir)/sluice$(EXEEXT) $(BENCH_PATIENTS)
.PHONY: bench
include tests/sink.mk
include tests/inputs.mk
include tests/http.mk
include tests/pacs.mk
include tests/dicomweb.mk
include tests/terminology.mk
include tests/ops.mk
include tests/fhirpath.mk
include tests/sanitize.mk

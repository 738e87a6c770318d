# tests of the FHIRPath engine (src/fhirpath) and sluice fhirpath
EXTRA_DIST += tests/data/fhirpath tests/fhirpath/package.json \
	tests/fhirpath/package-lock.json tests/fhirpath/eval.mjs \
	tests/fhirpath/cases.mjs tests/fhirpath/compare.mjs
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_fhirpath
TESTS += tests/unit/test_fhirpath
tests_unit_test_fhirpath_SOURCES = tests/unit/test_fhirpath.c
tests_unit_test_fhirpath_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_fhirpath_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_unit_test_fhirpath_SOURCES = force-cxx-link.cc
endif

# the parser's and evaluator's fuzz target, built as tests/fuzz.mk builds
# the others (make fuzz FUZZ_RUN=fhirpath with --enable-fuzzing); its
# seeds replayed in make check
check_PROGRAMS += tests/fuzz/fuzz_fhirpath
tests_fuzz_fuzz_fhirpath_SOURCES = tests/fuzz/fuzz_fhirpath.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_fhirpath_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_fhirpath_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_fhirpath_SOURCES = force-cxx-link.cc

# sluice fhirpath on the command line; the differential test against the
# fhirpath npm package (HL7's JavaScript engine)
FHIRPATH_TESTS = tests/integration/fhirpath_fuzz.sh \
	tests/integration/fhirpath_cli.sh tests/integration/fhirpath_diff.sh
TESTS += $(FHIRPATH_TESTS)
EXTRA_DIST += $(FHIRPATH_TESTS)
check-fhirpath:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='tests/unit/test_fhirpath $(FHIRPATH_TESTS)'
.PHONY: check-fhirpath

# a benchmark, not a test: sh tests/bench/fhirpath.sh BUILDDIR [PATIENTS]
check_PROGRAMS += tests/tools/fhirpath_bench
tests_tools_fhirpath_bench_SOURCES = tests/tools/fhirpath_bench.c
tests_tools_fhirpath_bench_LDADD = $(SL_LIBS) $(SL_LIBS) $(SL_EXT_LIBS)
nodist_EXTRA_tests_tools_fhirpath_bench_SOURCES = force-cxx-link.cc
EXTRA_DIST += tests/bench/fhirpath.sh tests/fhirpath/bench.mjs

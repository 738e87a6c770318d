# make check-asan: the test suite in a second tree built with ASan and
# UBSan (./configure --enable-sanitizers), in ASAN_DIR (default
# build-asan); fails on any sanitizer report (tests/sanitize/check-asan.sh).
# make check-valgrind-unit: the unit tests, the fuzz corpora and the CLI
# tour under valgrind. Neither is part of make check (time). See
# docs/fuzzing.md, "Sanitizers and valgrind".
EXTRA_DIST += tests/sanitize/check-asan.sh tests/sanitize/lsan.supp \
	tests/sanitize/ubsan.supp
ASAN_DIR = build-asan
check-asan:
	MAKE='$(MAKE)' ASAN_DIR='$(ASAN_DIR)' TESTS='$(ASAN_TESTS)' \
	  $(SHELL) $(srcdir)/tests/sanitize/check-asan.sh $(srcdir)
# a subset: make check-asan ASAN_TESTS='tests/unit/test_state ...'
ASAN_TESTS =
VALGRIND_UNIT_TESTS = $(filter tests/unit/%,$(TESTS)) \
	tests/integration/fuzz_corpus.sh tests/integration/cli_tour.sh
check-valgrind-unit:
	$(MAKE) $(AM_MAKEFLAGS) check-valgrind TESTS='$(VALGRIND_UNIT_TESTS)'
distclean-local: clean-asan
clean-asan:
	-rm -rf '$(ASAN_DIR)'
.PHONY: check-asan check-valgrind-unit clean-asan

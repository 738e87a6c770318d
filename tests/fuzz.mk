# Fuzz targets: one for every parser of outside input (docs/fuzzing.md).
# Plain builds link each target with a small driver (standalone.c) and
# replay the seed corpus in `make check`; ./configure --enable-fuzzing
# (clang) links them with libFuzzer instead, and `make fuzz` runs them.
FUZZ_TARGETS = tests/fuzz/fuzz_fhir_files tests/fuzz/fuzz_dicom \
	tests/fuzz/fuzz_config tests/fuzz/fuzz_pdf
FUZZ_COMMON = tests/fuzz/fuzz.h tests/fuzz/fuzz_util.c
if ENABLE_FUZZING
noinst_PROGRAMS = $(FUZZ_TARGETS)
FUZZ_DRIVER =
else
check_PROGRAMS += $(FUZZ_TARGETS)
FUZZ_DRIVER = tests/fuzz/standalone.c
endif

tests_fuzz_fuzz_fhir_files_SOURCES = tests/fuzz/fuzz_fhir_files.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_fhir_files_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_fhir_files_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_fhir_files_SOURCES = force-cxx-link.cc

tests_fuzz_fuzz_dicom_SOURCES = tests/fuzz/fuzz_dicom.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_dicom_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_dicom_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_dicom_SOURCES = force-cxx-link.cc

tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_config_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_config_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_config_SOURCES = force-cxx-link.cc

tests_fuzz_fuzz_pdf_SOURCES = tests/fuzz/fuzz_pdf.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_pdf_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_pdf_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_pdf_SOURCES = force-cxx-link.cc

TESTS += tests/integration/fuzz_corpus.sh
EXTRA_DIST += tests/integration/fuzz_corpus.sh tests/fuzz/standalone.c \
	tests/fuzz/corpus tests/fuzz/dict tests/fuzz/seeds

# make fuzz: each libFuzzer target for FUZZ_SECONDS over its seeds. New
# inputs go to tests/fuzz/work/TARGET/corpus (the seeds are not touched),
# crashes, leaks and time-outs to tests/fuzz/work/TARGET/.
FUZZ_SECONDS = 60
FUZZ_TIMEOUT = 10
FUZZ_RUN = fhir_files dicom config pdf
FUZZ_FLAGS =
# DCMTK must load each value of a deflated dataset whole (the inflated
# stream cannot be skipped) and allocates a declared length of up to 4 GiB
# before it finds the stream too short; the allocation is never touched and
# the file is refused (regress-deflated-4gib-length.dcm). libFuzzer's
# default malloc limit (2 GiB) would report that as out-of-memory, so the
# DICOM target gets a limit above 4 GiB; -rss_limit_mb still bounds what
# is really used.
FUZZ_FLAGS_dicom = -malloc_limit_mb=4608
fuzz: $(FUZZ_TARGETS)
if ENABLE_FUZZING
	@for t in $(FUZZ_RUN); do \
	  w=tests/fuzz/work/$$t; $(MKDIR_P) $$w/corpus || exit 1; \
	  d=$(srcdir)/tests/fuzz/dict/$$t.dict; \
	  if test -f $$d; then d=-dict=$$d; else d=; fi; \
	  case $$t in dicom) o='$(FUZZ_FLAGS_dicom)';; *) o=;; esac; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  ./tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	    -timeout=$(FUZZ_TIMEOUT) -artifact_prefix=$$w/ $$d $$o \
	    $(FUZZ_FLAGS) $$w/corpus $(srcdir)/tests/fuzz/corpus/$$t || exit 1; \
	done
else
	@echo "make fuzz needs libFuzzer: ./configure --enable-fuzzing" \
	  "CC=clang CXX=clang++ (see docs/fuzzing.md)" >&2; exit 1
endif
clean-local: clean-fuzz
clean-fuzz:
	-rm -rf tests/fuzz/work
.PHONY: fuzz clean-fuzz

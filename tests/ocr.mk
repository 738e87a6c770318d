# OCR of burned-in text (issue 11): src/ocr/ over Tesseract, driven by a
# small tool on images rendered in the test with ImageMagick.
check_PROGRAMS += tests/tools/ocr_words
tests_tools_ocr_words_SOURCES = tests/tools/ocr_words.c
tests_tools_ocr_words_LDADD = $(SL_LIBS) $(SL_LIBS) $(SL_EXT_LIBS)
nodist_EXTRA_tests_tools_ocr_words_SOURCES = force-cxx-link.cc
TESTS += tests/integration/ocr_words.sh
EXTRA_DIST += tests/integration/ocr_words.sh
# clean-pixel-data="ocr" and inspect-pixels on images rendered, wrapped
# and compressed in the test (issue 11).
TESTS += tests/integration/burnedin.sh
EXTRA_DIST += tests/integration/burnedin.sh
# MONOCHROME1, PALETTE COLOR, YBR_FULL_422, planar RGB and multi-frame:
# found, blanked to the layout's black, the rest unchanged (issue 11).
TESTS += tests/integration/burnedin_layouts.sh
EXTRA_DIST += tests/integration/burnedin_layouts.sh
# A 24-frame cine: a sample of frames read, then only those whose text
# layout differs; nothing left in any frame (issue 11).
TESTS += tests/integration/burnedin_cine.sh
EXTRA_DIST += tests/integration/burnedin_cine.sh
# OCR threads never exceed --jobs, whatever OpenMP's environment says.
TESTS += tests/integration/ocr_threads.sh
EXTRA_DIST += tests/integration/ocr_threads.sh
# The same on Debian's python3-pydicom test files: the share of distinct
# instances de-identified, and no identifying word left in any output.
TESTS += tests/integration/burnedin_pydicom.sh
EXTRA_DIST += tests/integration/burnedin_pydicom.sh
# make bench-ocr: what clean-pixel-data="ocr" costs (tests/bench/burnedin.sh)
# and how much planted text it finds (tests/bench/ocr-recall.py)
EXTRA_DIST += tests/bench/burnedin.sh tests/bench/ocr-recall.py
bench-ocr: sluice$(EXEEXT)
	$(SHELL) $(srcdir)/tests/bench/burnedin.sh $(abs_builddir) $(abs_srcdir)
	/usr/bin/python3 $(srcdir)/tests/bench/ocr-recall.py \
	    $(abs_builddir)/sluice$(EXEEXT) "$${TMPDIR:-/tmp}/sluice-ocr-recall"
.PHONY: bench-ocr
# The text-region search's fuzz target (make fuzz FUZZ_RUN=ocr_regions);
# its seeds replayed in make check.
check_PROGRAMS += tests/fuzz/fuzz_ocr_regions
tests_fuzz_fuzz_ocr_regions_SOURCES = tests/fuzz/fuzz_ocr_regions.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_ocr_regions_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ocr_regions_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_ocr_regions_SOURCES = force-cxx-link.cc
TESTS += tests/integration/ocr_regions_fuzz.sh
EXTRA_DIST += tests/integration/ocr_regions_fuzz.sh
# The JPEG 2000 decoder's fuzz target (make fuzz FUZZ_RUN=dicom_j2k); its
# seeds replayed in make check.
check_PROGRAMS += tests/fuzz/fuzz_dicom_j2k
tests_fuzz_fuzz_dicom_j2k_SOURCES = tests/fuzz/fuzz_dicom_j2k.c \
	$(FUZZ_COMMON) $(FUZZ_DRIVER)
tests_fuzz_fuzz_dicom_j2k_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_dicom_j2k_LDADD = $(SL_TEST_LDADD)
nodist_EXTRA_tests_fuzz_fuzz_dicom_j2k_SOURCES = force-cxx-link.cc
TESTS += tests/integration/dicom_j2k_fuzz.sh
EXTRA_DIST += tests/integration/dicom_j2k_fuzz.sh

# text whose colour has its background's luminance: found in the colour
# planes and blanked (tests/integration/burnedin_colour.sh)
TESTS += tests/integration/burnedin_colour.sh
EXTRA_DIST += tests/integration/burnedin_colour.sh

# Words in an image, for burned-in text in DICOM pixels (issue 11): the only
# folder that includes Tesseract's C API (Debian's libtesseract).
noinst_LIBRARIES += %reldir%/libocr.a
%canon_reldir%_libocr_a_SOURCES = %reldir%/ocr.h %reldir%/ocr.c \
	%reldir%/ocr_int.h %reldir%/ocr_regions.c
%canon_reldir%_libocr_a_CFLAGS = $(AM_CFLAGS) $(TESSERACT_CFLAGS)
SL_LIBS += %reldir%/libocr.a

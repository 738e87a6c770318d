/* ocr.h - words in an image, for burned-in text in DICOM pixel data
 * (issue 11). The only folder that includes Tesseract's and Leptonica's
 * C APIs. */
#ifndef SL_OCR_H
#define SL_OCR_H

#include <stddef.h>

#include "common/common.h"

/* One word found: its box in the image given (pixels, x right, y down),
 * Tesseract's confidence (0 to 100) and its text (UTF-8: patient data;
 * sl_ocr_words_free wipes it). */
struct sl_ocr_word {
    int x, y, w, h;
    float conf;
    int angle; /* 0, or 90/270: found in the image turned that way */
    char *text;
};

/* A part of the image that may hold a line of text: x, y, w, h in the
 * image's pixels, with a margin of a character's height around the text;
 * tx, ty, tw, th the text's own box, without it; vertical when its
 * characters run down the image (text turned a quarter), glyph the
 * height of its tallest character (its width when vertical). */
struct sl_ocr_region {
    int x, y, w, h;
    int tx, ty, tw, th;
    int vertical;
    int glyph;
};

/* Grey levels a stroke differs from the mean of its surroundings by, at
 * least, to be looked at as part of a character (sl_ocr_regions). */
#define SL_OCR_STROKE 40

/* The regions of an 8-bit grey image where strokes of one polarity, of
 * the sizes characters have, line up as text does (w x h, stride bytes a
 * row): its text layout, found without OCR. Returns the number found
 * (*out, freed by the caller with free()), or -1 when the image is too
 * busy for the search to mean anything (more edges than a picture with
 * overlays has: speckle, a photograph, a page of text): the caller then
 * reads the whole image. */
long sl_ocr_regions(const unsigned char *g, int w, int h, size_t stride,
                    struct sl_ocr_region **out);

struct sl_ocr_opts {
    float min_conf; /* words below are not returned (default 0: all) */
    int scale;      /* 1 to 4: the image is enlarged first, so that small
                       overlay fonts reach the size OCR reads (0: chosen
                       from the image's size) */
    int rotated;    /* also look for text turned 90 degrees either way */
    int regions;    /* find where text may be first, and read only there
                       (the whole image when it is too busy to tell) */
    int contrast;   /* also read the image with its background taken
                       away (light text on a background that grows
                       lighter across the image) */
    /* with regions: the caller's sl_ocr_regions of this very image, when
     * it has them already (have_reg set; nreg may be -1), else found */
    int have_reg;
    const struct sl_ocr_region *reg;
    long nreg;
};

/* A pool of OCR engines (one is made for each thread that asks at the
 * same time, and kept): thread-safe. lang is Tesseract's language
 * ("eng"); datapath NULL for the installed tessdata. */
struct sl_ocr_pool;
int sl_ocr_pool_new(const char *datapath, const char *lang,
                    struct sl_ocr_pool **out, struct sl_err *err);
/* The same, but no engine is made until an image is read: a run that
 * never reads one does not pay for loading the model (about 0.47 x 10^9
 * instructions, 0.1 to 0.2 s); a missing model is then an error of the
 * first sl_ocr_words. */
int sl_ocr_pool_lazy(const char *datapath, const char *lang,
                     struct sl_ocr_pool **out, struct sl_err *err);
void sl_ocr_pool_free(struct sl_ocr_pool *p);

/* The words of an 8-bit grayscale image (w x h, stride bytes a row), in
 * *out (*n of them; the caller frees with sl_ocr_words_free). */
int sl_ocr_words(struct sl_ocr_pool *p, const unsigned char *gray, int w,
                 int h, size_t stride, const struct sl_ocr_opts *opts,
                 struct sl_ocr_word **out, size_t *n, struct sl_err *err);
void sl_ocr_words_free(struct sl_ocr_word *words, size_t n);

#endif

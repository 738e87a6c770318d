/* ocr_int.h - inside src/ocr/: where text may be, found before OCR. */
#ifndef SL_OCR_INT_H
#define SL_OCR_INT_H

#include <stddef.h>

/* A part of the image that may hold a line of text: x, y, w, h in the
 * image's pixels; vertical when its characters run down the image (text
 * turned a quarter), glyph the height of its tallest character (its
 * width when vertical). */
struct sl_ocr_region {
    int x, y, w, h;
    int vertical;
    int glyph;
};

/* The regions of an 8-bit grey image where strokes of one polarity, of
 * the sizes characters have, line up as text does (w x h, stride bytes a
 * row). Returns the number found (*out, freed by the caller with free()),
 * or -1 when the image is too busy for the search to mean anything (more
 * edges than a picture with overlays has: speckle, a photograph, a page
 * of text): the caller then reads the whole image. */
long sl_ocr_regions(const unsigned char *g, int w, int h, size_t stride,
                    struct sl_ocr_region **out);

/* The image with its slow background taken away: each pixel's distance
 * from the mean of the 33 x 33 pixels around it, times 3. */
unsigned char *sl_ocr_local_contrast(const unsigned char *g, int w, int h,
                                     size_t stride);

#endif

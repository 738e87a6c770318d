/* ocr_int.h - inside src/ocr/: where text may be, found before OCR. */
#ifndef SL_OCR_INT_H
#define SL_OCR_INT_H

#include <stddef.h>

#include "ocr/ocr.h"

/* The image with its slow background taken away: each pixel's distance
 * from the mean of the 33 x 33 pixels around it, times 3. */
unsigned char *sl_ocr_local_contrast(const unsigned char *g, int w, int h,
                                     size_t stride);

#endif

/* fuzz_ocr_regions.c - fuzz target of the search for where text may be
 * (src/ocr/ocr_regions.c), which runs on every rendered frame of
 * outside DICOM pixel data before OCR: on any bytes taken as an 8-bit
 * image (the first two bytes give the width, 1 to 512; the rest are the
 * rows, as many whole ones as there are, read through a stride wider
 * than the image), every region found lies inside the image and is not
 * empty, and the local-contrast image is made without a memory error
 * (run it under ASan and UBSan). Built as tests/fuzz.mk builds every
 * target; its seeds are in tests/fuzz/corpus/ocr_regions, replayed by
 * tests/integration/ocr_regions_fuzz.sh. No Tesseract is loaded. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ocr/ocr_int.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_ocr_region *r = NULL;
    unsigned char *img, *lc;
    size_t stride, y;
    long n, i;
    int w, h;

    if (size < 3)
        return 0;
    w = 1 + (data[0] | (data[1] & 1) << 8);
    h = (int)((size - 2) / (size_t)w);
    if (h < 1)
        return 0;
    /* a stride wider than the image: nothing past w is to be read */
    stride = (size_t)w + 3;
    img = malloc(stride * (size_t)h);
    if (img == NULL)
        abort();
    for (y = 0; y < (size_t)h; y++) {
        memcpy(img + y * stride, data + 2 + y * (size_t)w, (size_t)w);
        memset(img + y * stride + w, 0xA5, 3);
    }
    n = sl_ocr_regions(img, w, h, stride, &r);
    FUZZ_ASSERT(n >= -1);
    FUZZ_ASSERT(n <= 0 || r != NULL);
    for (i = 0; i < n; i++) {
        FUZZ_ASSERT(r[i].x >= 0 && r[i].y >= 0 && r[i].w > 0 && r[i].h > 0);
        FUZZ_ASSERT(r[i].x + r[i].w <= w && r[i].y + r[i].h <= h);
        FUZZ_ASSERT(r[i].glyph > 0 && (r[i].vertical == 0 || r[i].vertical == 1));
    }
    free(r);
    lc = sl_ocr_local_contrast(img, w, h, stride);
    free(lc);
    free(img);
    return 0;
}

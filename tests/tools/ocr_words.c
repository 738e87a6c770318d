/* ocr_words.c - the words src/ocr/ finds in a binary PGM (P5, 8-bit)
 * image, one a line: "x y w h confidence angle text", for
 * tests/integration/ocr_words.sh (images rendered there with ImageMagick).
 * With --regions, only where src/ocr/ finds that text may be (and
 * --show-regions prints those regions first, "region x y w h vertical
 * glyph", or "region busy" when it reads the whole image).
 * Usage: ocr_words [--rotated] [--regions] [--contrast] [--show-regions]
 *                  [--scale N] [--min-conf C] FILE.pgm */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/ocr.h"
#include "ocr/ocr_int.h"

static unsigned char *
read_pgm(const char *path, int *w, int *h)
{
    FILE *f = fopen(path, "rb");
    unsigned char *px = NULL;
    int max = 0;

    if (f == NULL)
        return NULL;
    if (fscanf(f, "P5 %d %d %d", w, h, &max) == 3 && max == 255 &&
        fgetc(f) != EOF && *w > 0 && *h > 0 && *w < 20000 && *h < 20000) {
        size_t n = (size_t)*w * (size_t)*h;
        px = malloc(n);
        if (px && fread(px, 1, n, f) != n) {
            free(px);
            px = NULL;
        }
    }
    fclose(f);
    return px;
}

int
main(int argc, char **argv)
{
    struct sl_ocr_opts o = {0};
    struct sl_ocr_pool *pool = NULL;
    struct sl_ocr_word *words = NULL;
    struct sl_err err = {0};
    unsigned char *px;
    size_t n = 0, i;
    int a, w = 0, h = 0, show = 0;

    for (a = 1; a < argc - 1; a++) {
        if (strcmp(argv[a], "--rotated") == 0)
            o.rotated = 1;
        else if (strcmp(argv[a], "--regions") == 0)
            o.regions = 1;
        else if (strcmp(argv[a], "--contrast") == 0)
            o.contrast = 1;
        else if (strcmp(argv[a], "--show-regions") == 0)
            show = 1;
        else if (strcmp(argv[a], "--scale") == 0 && a + 1 < argc - 1)
            o.scale = (int)strtol(argv[++a], NULL, 10);
        else if (strcmp(argv[a], "--min-conf") == 0 && a + 1 < argc - 1)
            o.min_conf = strtof(argv[++a], NULL);
        else
            break;
    }
    if (a != argc - 1) {
        fprintf(stderr, "usage: ocr_words [--rotated] [--regions] "
                        "[--contrast] [--show-regions] [--scale N] "
                        "[--min-conf C] FILE.pgm\n");
        return 2;
    }
    if ((px = read_pgm(argv[a], &w, &h)) == NULL) {
        fprintf(stderr, "ocr_words: %s: not an 8-bit binary PGM\n", argv[a]);
        return 1;
    }
    if (show) {
        struct sl_ocr_region *r = NULL;
        long nr = sl_ocr_regions(px, w, h, (size_t)w, &r), k;
        if (nr < 0)
            printf("region busy\n");
        for (k = 0; k < nr; k++)
            printf("region %d %d %d %d %d %d\n", r[k].x, r[k].y, r[k].w,
                   r[k].h, r[k].vertical, r[k].glyph);
        free(r);
    }
    if (sl_ocr_pool_new(NULL, "eng", &pool, &err) != SL_OK ||
        sl_ocr_words(pool, px, w, h, (size_t)w, &o, &words, &n, &err) !=
            SL_OK) {
        fprintf(stderr, "ocr_words: %s\n", err.msg);
        free(px);
        sl_ocr_pool_free(pool);
        return 1;
    }
    for (i = 0; i < n; i++)
        printf("%d %d %d %d %.0f %d %s\n", words[i].x, words[i].y,
               words[i].w, words[i].h, words[i].conf, words[i].angle,
               words[i].text);
    sl_ocr_words_free(words, n);
    sl_ocr_pool_free(pool);
    free(px);
    return 0;
}

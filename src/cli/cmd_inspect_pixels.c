/* cmd_inspect_pixels.c - sluice inspect-pixels: which DICOM instances
 * carry burned-in text, where, and which of it repeats an identifying
 * attribute of the instance (issue 11), writing nothing. For a privacy
 * officer's review of an archive before clean-pixel-data="ocr" is
 * trusted with it. Files are named by position, never by path (names of
 * exports often hold the patient's); the words themselves are printed
 * only with --show-text. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "deid/dicom_deid.h"
#include "dicom/dicom.h"
#include "ocr/ocr.h"

struct totals {
    unsigned long files, with_text, boxes, matching, failed, skipped;
};

/* Prints what the words of one file are; SL_OK, or the reason it could
 * not be read (the caller counts it and goes on). */
static int
inspect_one(struct sl_ocr_pool *pool, const char *path, size_t pos,
            float min_conf, int show_text, struct totals *t)
{
    struct sl_dicom_file *f = NULL;
    struct sl_pixel_text *w = NULL;
    struct sl_err err = { 0 };
    size_t n = 0, i, matching = 0;
    unsigned long frames = 0;
    int is_dicom = 0, rc;

    if (sl_dicom_file_probe(path, &is_dicom, &err) != SL_OK || !is_dicom) {
        printf("file %zu: not DICOM, skipped\n", pos);
        t->skipped++;
        return SL_OK;
    }
    t->files++;
    if ((rc = sl_dicom_file_open(path, &f, NULL, &err)) != SL_OK)
        goto out;
    rc = sl_pixel_text_find(pool, f, min_conf, &w, &n, &frames, &err);
    if (rc == SL_ENOTFOUND) {
        printf("file %zu: no pixel data\n", pos);
        rc = SL_OK;
        goto out;
    }
    if (rc != SL_OK)
        goto out;
    for (i = 0; i < n; i++)
        if (w[i].attr != NULL)
            matching++;
    if (n == 0) {
        printf("file %zu: %lu frame(s), no text found\n", pos, frames);
        goto out;
    }
    t->with_text++;
    t->boxes += n;
    t->matching += matching;
    printf("file %zu: %lu frame(s), %zu word box(es), %zu matching "
           "identifying attributes\n",
           pos, frames, n, matching);
    for (i = 0; i < n; i++) {
        printf("  frame %lu: x %u y %u w %u h %u conf %.0f", w[i].frame + 1,
               w[i].x, w[i].y, w[i].w, w[i].h, (double)w[i].conf);
        if (w[i].attr != NULL)
            printf(" matches %s", w[i].attr);
        if (show_text)
            printf(" text \"%s\"", w[i].text);
        putchar('\n');
    }
out:
    if (rc != SL_OK) {
        /* err names tags and reasons, never values */
        printf("file %zu: cannot inspect: %s\n", pos, err.msg);
        t->failed++;
    }
    sl_pixel_text_free(w, n);
    sl_dicom_file_free(f);
    return rc;
}

static int
exec_inspect_pixels(const struct cli_cmd *self, struct cli_global *g, int argc,
                    char **argv)
{
    static const struct option longopts[] = {
        { "min-confidence", required_argument, NULL, 'm' },
        { "show-text", no_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct sl_ocr_pool *pool = NULL;
    struct sl_strv inputs = { 0 };
    struct sl_err err = { 0 };
    struct totals t = { 0 };
    float min_conf = 60;
    int c, show_text = 0, ex = SL_EXIT_OK;
    char msg[256];
    size_t i;

    (void)g;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:th", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': {
            char *end = NULL;
            double v = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || v < 0 || v > 100)
                return cli_usage_error(self, "--min-confidence: a number "
                                             "from 0 to 100");
            min_conf = (float)v;
            break;
        }
        case 't':
            show_text = 1;
            break;
        case 'h':
            cli_print_help(self);
            return SL_EXIT_OK;
        default:
            return cli_usage_error(self, "unknown option");
        }
    }
    if (optind >= argc)
        return cli_usage_error(self, "no FILE given");
    if (sl_dicom_init(msg, sizeof(msg)) != 0) {
        fprintf(stderr, "sluice inspect-pixels: %s\n", msg);
        return SL_EXIT_RUNTIME;
    }
    for (c = optind; c < argc; c++) {
        if (sl_path_is_dir(argv[c])) {
            struct sl_strv files = { 0 };
            if (sl_dir_walk(argv[c], &files, &err) != SL_OK) {
                sl_strv_free(&files);
                sl_strv_free(&inputs);
                return cli_fail(&err);
            }
            for (i = 0; i < files.n; i++)
                sl_strv_push_owned(&inputs, sl_path_join(argv[c], files.v[i]));
            sl_strv_free(&files);
        } else {
            sl_strv_push(&inputs, argv[c]);
        }
    }
    if (sl_ocr_pool_new(NULL, "eng", &pool, &err) != SL_OK) {
        sl_strv_free(&inputs);
        return cli_fail(&err);
    }
    for (i = 0; i < inputs.n; i++)
        inspect_one(pool, inputs.v[i], i + 1, min_conf, show_text, &t);
    printf("%lu instance(s): %lu with text, %lu word box(es), %lu matching "
           "identifying attributes, %lu not inspected; %lu file(s) not "
           "DICOM\n",
           t.files, t.with_text, t.boxes, t.matching, t.failed, t.skipped);
    if (t.failed > 0)
        ex = SL_EXIT_RUNTIME;
    sl_ocr_pool_free(pool);
    sl_strv_free(&inputs);
    return ex;
}

const struct cli_cmd cli_cmd_inspect_pixels = {
    "inspect-pixels",
    "[--min-confidence N] [--show-text] FILE|DIR...",
    "find burned-in text in DICOM pixel data, writing nothing",
    "Renders every frame of each DICOM instance as a viewer shows it\n"
    "(window or VOI LUT, MONOCHROME1 inverted, colour to grey; RLE, JPEG,\n"
    "JPEG-LS and JPEG 2000 decoded) and reads it with OCR\n"
    "(Tesseract), as clean-pixel-data=\"ocr\" does before blanking: only\n"
    "the lines where characters are found side by side (or one above\n"
    "the other: text turned 90 degrees), or the whole frame when it is\n"
    "too busy to tell (speckle, a photograph). Characters under 4 pixels\n"
    "high or within 40 grey levels of their surroundings are not looked\n"
    "for; handwriting and text in 3D renderings are not read. Each OCR\n"
    "engine runs in one thread (sluice sets OMP_THREAD_LIMIT=1). For\n"
    "each instance (named by its position among the inputs, never by\n"
    "path): its word boxes per frame (x, y, width, height in pixels, and\n"
    "the OCR confidence), and which of them repeat an identifying\n"
    "attribute of the same instance (PatientName parts, PatientID,\n"
    "OtherPatientIDs, AccessionNumber, dates, InstitutionName, staff\n"
    "names) by the attribute's name. Every frame is read. Writes nothing.\n"
    "\n"
    "Options:\n"
    "  -m, --min-confidence N  words below N (0-100, default 60) are not\n"
    "                          listed, unless they repeat an identifying\n"
    "                          attribute\n"
    "  -t, --show-text         also print each word read: it is patient\n"
    "                          data, for a reviewer's eyes only (not for\n"
    "                          logs or tickets)\n"
    "\n"
    "Exit status: 0 when every instance was inspected (text or not), 2\n"
    "when one could not be (its reason is printed), 1 on a usage error.\n",
    exec_inspect_pixels,
};

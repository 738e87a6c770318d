/* ocr.c - words in an 8-bit image through Tesseract's C API (Debian's
 * libtesseract 5). With opts->regions, only the parts where text may be
 * (ocr_regions.c) are read, each enlarged until its characters are about
 * 30 pixels high, lines running down the image turned a quarter either
 * way; an image too busy to tell is read whole, enlarged, in every
 * orientation asked for. Sparse-text mode: overlays are not paragraphs.
 * The library is opened with dlopen when the first pool is made
 * (SL_TESSERACT_SONAME, found by configure): linked, it and what it needs
 * would be loaded by every sluice command. */
#include "config.h"

#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <tesseract/capi.h>

#include "ocr/ocr.h"
#include "ocr/ocr_int.h"

#define TESS_FUNCS(X)                                                         \
    X(TessBaseAPICreate)                                                      \
    X(TessBaseAPIInit3)                                                       \
    X(TessBaseAPIDelete)                                                      \
    X(TessBaseAPISetVariable)                                                 \
    X(TessBaseAPISetPageSegMode)                                              \
    X(TessBaseAPIEnd)                                                         \
    X(TessBaseAPISetImage)                                                    \
    X(TessBaseAPISetSourceResolution)                                         \
    X(TessBaseAPIRecognize)                                                   \
    X(TessBaseAPIGetIterator)                                                 \
    X(TessBaseAPIClear)                                                       \
    X(TessResultIteratorGetPageIterator)                                      \
    X(TessResultIteratorConfidence)                                           \
    X(TessResultIteratorGetUTF8Text)                                          \
    X(TessResultIteratorDelete)                                               \
    X(TessPageIteratorBoundingBox)                                            \
    X(TessPageIteratorNext)                                                   \
    X(TessDeleteText)
#define TESS_PTR(f) __typeof__(f) *f;
static struct {
    int ok;
    TESS_FUNCS(TESS_PTR)
} tp;
static pthread_once_t tess_once = PTHREAD_ONCE_INIT;

/* OpenMP's omp_set_num_threads, from the libgomp libtesseract needs. */
static void (*omp_threads)(int);

/* Tesseract runs parts of recognition in OpenMP teams of one thread per
 * core, whose threads spin while they wait: with --jobs workers each
 * reading an image, that made jobs x cores threads fighting for the
 * cores, and twice the CPU time for the same words. sluice's workers are
 * its parallelism: each engine runs in its one thread, whatever the
 * environment says, so OCR threads never exceed --jobs. OMP_THREAD_LIMIT
 * is read when libgomp is loaded (here, with libtesseract, before any
 * worker starts); omp_set_num_threads(1) in each thread that reads covers
 * a libgomp some other library loaded first. */
static void
tess_load(void)
{
    void *h;

    setenv("OMP_THREAD_LIMIT", "1", 1);
    h = dlopen(SL_TESSERACT_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        return;
#define TESS_SYM(f)                                                           \
    if ((*(void **)&tp.f = dlsym(h, #f)) == NULL)                             \
        return;
    TESS_FUNCS(TESS_SYM)
    *(void **)&omp_threads = dlsym(h, "omp_set_num_threads");
    tp.ok = 1;
}

/* An engine is slow to make (it loads its model): made once per thread
 * that needs one at the same time, then kept in the pool. */
struct engine {
    TessBaseAPI *api;
    struct engine *next;
};

struct sl_ocr_pool {
    pthread_mutex_t mu;
    struct engine *idle;
    char *datapath, *lang;
};

static int
engine_new(const struct sl_ocr_pool *p, struct engine **out,
           struct sl_err *err)
{
    struct engine *e = sl_calloc(1, sizeof(*e));

    e->api = tp.TessBaseAPICreate();
    /* Tesseract prints what it thinks of an image (its resolution
     * estimate, warnings) to stderr: never, since a message could one day
     * quote what it read */
    if (e->api == NULL ||
        tp.TessBaseAPIInit3(e->api, p->datapath, p->lang) != 0) {
        if (e->api)
            tp.TessBaseAPIDelete(e->api);
        free(e);
        return SL_ERR(err, SL_ECONFIG,
                      "OCR: cannot load Tesseract's model for \"%s\" "
                      "(Debian: tesseract-ocr-%s)",
                      p->lang, p->lang);
    }
    tp.TessBaseAPISetVariable(e->api, "debug_file", "/dev/null");
    /* overlays are scattered words, not a page of paragraphs */
    tp.TessBaseAPISetPageSegMode(e->api, PSM_SPARSE_TEXT);
    *out = e;
    return SL_OK;
}

static void
engine_free(struct engine *e)
{
    if (e == NULL)
        return;
    tp.TessBaseAPIEnd(e->api);
    tp.TessBaseAPIDelete(e->api);
    free(e);
}

static int
pool_make(const char *datapath, const char *lang, int now,
          struct sl_ocr_pool **out, struct sl_err *err)
{
    struct sl_ocr_pool *p;
    struct engine *e = NULL;
    int rc;

    pthread_once(&tess_once, tess_load);
    if (!tp.ok)
        return SL_ERR(err, SL_ECONFIG, "OCR: cannot load %s (Debian: "
                                       "libtesseract5)",
                      SL_TESSERACT_SONAME);
    p = sl_calloc(1, sizeof(*p));
    pthread_mutex_init(&p->mu, NULL);
    p->datapath = datapath ? sl_strdup(datapath) : NULL;
    p->lang = sl_strdup(lang ? lang : "eng");
    /* one engine now: a missing model is an error before any image */
    if (now && (rc = engine_new(p, &e, err)) != SL_OK) {
        sl_ocr_pool_free(p);
        return rc;
    }
    p->idle = e;
    *out = p;
    return SL_OK;
}

int
sl_ocr_pool_new(const char *datapath, const char *lang,
                struct sl_ocr_pool **out, struct sl_err *err)
{
    return pool_make(datapath, lang, 1, out, err);
}

int
sl_ocr_pool_lazy(const char *datapath, const char *lang,
                 struct sl_ocr_pool **out, struct sl_err *err)
{
    return pool_make(datapath, lang, 0, out, err);
}

void
sl_ocr_pool_free(struct sl_ocr_pool *p)
{
    if (p == NULL)
        return;
    while (p->idle) {
        struct engine *e = p->idle;
        p->idle = e->next;
        engine_free(e);
    }
    pthread_mutex_destroy(&p->mu);
    free(p->datapath);
    free(p->lang);
    free(p);
}

void
sl_ocr_words_free(struct sl_ocr_word *words, size_t n)
{
    size_t i;

    if (words == NULL)
        return;
    for (i = 0; i < n; i++)
        if (words[i].text)
            sl_freezero(words[i].text, strlen(words[i].text));
    free(words);
}

/* The image enlarged k times (bilinear), turned q quarters clockwise. */
static unsigned char *
prepare(const unsigned char *g, int w, int h, size_t stride, int k, int q,
        int *ow, int *oh)
{
    int W = w * k, H = h * k, x, y, tw = q % 2 ? H : W, th = q % 2 ? W : H;
    unsigned char *out = sl_malloc((size_t)tw * (size_t)th);

    for (y = 0; y < H; y++) {
        /* source position of the pixel's centre, in 1/256 */
        long sy = ((long)y * 256 + 128) / k - 128, y0, y1, fy;
        if (sy < 0)
            sy = 0;
        y0 = sy >> 8;
        fy = sy & 255;
        y1 = y0 + 1 < h ? y0 + 1 : y0;
        for (x = 0; x < W; x++) {
            long sx = ((long)x * 256 + 128) / k - 128, x0, x1, fx, top, bot;
            int tx, ty;
            if (sx < 0)
                sx = 0;
            x0 = sx >> 8;
            fx = sx & 255;
            x1 = x0 + 1 < w ? x0 + 1 : x0;
            top = g[(size_t)y0 * stride + (size_t)x0] * (256 - fx) +
                  g[(size_t)y0 * stride + (size_t)x1] * fx;
            bot = g[(size_t)y1 * stride + (size_t)x0] * (256 - fx) +
                  g[(size_t)y1 * stride + (size_t)x1] * fx;
            switch (q) {
            case 1: /* clockwise: (x, y) -> (H-1-y, x) */
                tx = H - 1 - y;
                ty = x;
                break;
            case 3: /* anticlockwise: (x, y) -> (y, W-1-x) */
                tx = y;
                ty = W - 1 - x;
                break;
            default:
                tx = x;
                ty = y;
            }
            out[(size_t)ty * (size_t)tw + (size_t)tx] =
                (unsigned char)((top * (256 - fy) + bot * fy + 32768) >> 16);
        }
    }
    *ow = tw;
    *oh = th;
    return out;
}

/* A box found in the prepared image, back in the image given. */
static void
unmap(int q, int k, int W, int H, int l, int t, int r, int b,
      struct sl_ocr_word *w)
{
    int x0 = l, y0 = t, x1 = r, y1 = b; /* in the enlarged, unturned image */

    if (q == 1) { /* tx = H-1-y, ty = x */
        x0 = t;
        x1 = b;
        y0 = H - r;
        y1 = H - l;
    } else if (q == 3) { /* tx = y, ty = W-1-x */
        x0 = W - b;
        x1 = W - t;
        y0 = l;
        y1 = r;
    }
    /* outward to whole pixels of the image given */
    w->x = x0 / k;
    w->y = y0 / k;
    w->w = (x1 + k - 1) / k - w->x;
    w->h = (y1 + k - 1) / k - w->y;
}

static int
read_words(TessBaseAPI *api, const struct sl_ocr_opts *o, int q, int k,
           int W, int H, struct sl_ocr_word **words, size_t *n, size_t *cap)
{
    TessResultIterator *ri;
    TessPageIterator *pi;

    if (tp.TessBaseAPIRecognize(api, NULL) != 0)
        return -1;
    ri = tp.TessBaseAPIGetIterator(api);
    if (ri == NULL)
        return 0;
    pi = tp.TessResultIteratorGetPageIterator(ri);
    do {
        int l, t, r, b;
        float conf = tp.TessResultIteratorConfidence(ri, RIL_WORD);
        char *text;
        struct sl_ocr_word *w;

        if (!tp.TessPageIteratorBoundingBox(pi, RIL_WORD, &l, &t, &r, &b))
            continue;
        text = tp.TessResultIteratorGetUTF8Text(ri, RIL_WORD);
        if (text == NULL)
            continue;
        if (conf < o->min_conf || text[strspn(text, " \t\r\n")] == '\0') {
            explicit_bzero(text, strlen(text));
            tp.TessDeleteText(text);
            continue;
        }
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            *words = sl_realloc(*words, *cap * sizeof(**words));
        }
        w = &(*words)[(*n)++];
        memset(w, 0, sizeof(*w));
        unmap(q, k, W, H, l, t, r, b, w);
        w->conf = conf;
        w->angle = q * 90;
        w->text = sl_strdup(text);
        explicit_bzero(text, strlen(text));
        tp.TessDeleteText(text);
    } while (tp.TessPageIteratorNext(pi, RIL_WORD));
    tp.TessResultIteratorDelete(ri);
    return 0;
}

/* Reads image g (w x h) enlarged k times and turned q quarters; the
 * words found are added with their boxes moved by (ox, oy). */
static int
read_image(TessBaseAPI *api, const struct sl_ocr_opts *o,
           const unsigned char *g, int w, int h, size_t stride, int k, int q,
           int ox, int oy, struct sl_ocr_word **words, size_t *n,
           size_t *cap)
{
    int tw, th, rc;
    size_t i, first = *n;
    unsigned char *img = prepare(g, w, h, stride, k, q, &tw, &th);

    tp.TessBaseAPISetImage(api, img, tw, th, 1, tw);
    tp.TessBaseAPISetSourceResolution(api, 70 * k);
    rc = read_words(api, o, q, k, w * k, h * k, words, n, cap);
    tp.TessBaseAPIClear(api);
    sl_freezero(img, (size_t)tw * (size_t)th);
    for (i = first; i < *n; i++) {
        (*words)[i].x += ox;
        (*words)[i].y += oy;
    }
    return rc;
}

/* Whether words [from, n) hold one read with confidence: 75 or more,
 * two letters or digits. */
static int
confident(const struct sl_ocr_word *words, size_t from, size_t n)
{
    size_t i;

    for (i = from; i < n; i++) {
        const char *p;
        int alnum = 0;
        if (words[i].conf < 75)
            continue;
        for (p = words[i].text; *p != '\0'; p++)
            alnum += isalnum((unsigned char)*p) != 0;
        if (alnum >= 2)
            return 1;
    }
    return 0;
}

/* Reads image g, across and, when down, turned either way; then, when
 * asked, its local-contrast form too (all of it when always, else only
 * when the first reading found nothing with confidence). */
static int
read_all(TessBaseAPI *api, const struct sl_ocr_opts *o,
         const unsigned char *g, int w, int h, size_t stride, int k,
         int across, int down, int always, int ox, int oy,
         struct sl_ocr_word **words, size_t *n, size_t *cap)
{
    unsigned char *lc = NULL;
    size_t first = *n;
    int pass, q, rc = 0;

    for (pass = 0; pass < (o->contrast ? 2 : 1) && rc == 0; pass++) {
        const unsigned char *img = g;
        size_t st = stride;
        if (pass == 1) {
            if (!always && confident(*words, first, *n))
                break;
            lc = sl_ocr_local_contrast(g, w, h, stride);
            img = lc;
            st = (size_t)w;
        }
        for (q = across ? 0 : 1; q < 4 && rc == 0; q++) {
            if ((q == 0 && !across) || q == 2 || (q % 2 == 1 && !down))
                continue;
            rc = read_image(api, o, img, w, h, st, k, q, ox, oy, words, n,
                            cap);
        }
    }
    if (lc != NULL)
        sl_freezero(lc, (size_t)w * (size_t)h);
    return rc;
}

int
sl_ocr_words(struct sl_ocr_pool *p, const unsigned char *gray, int w, int h,
             size_t stride, const struct sl_ocr_opts *opts,
             struct sl_ocr_word **out, size_t *n, struct sl_err *err)
{
    static const struct sl_ocr_opts none = {0};
    const struct sl_ocr_opts *o = opts ? opts : &none;
    struct sl_ocr_word *words = NULL;
    struct sl_ocr_region *own = NULL;
    const struct sl_ocr_region *reg = NULL;
    size_t nw = 0, cap = 0;
    struct engine *e;
    long nr = -1, i;
    int k = o->scale, rc = SL_OK, bad = 0;

    *out = NULL;
    *n = 0;
    if (w <= 0 || h <= 0 || stride < (size_t)w)
        return SL_ERR(err, SL_EINTERNAL, "OCR: no image");
    if (k <= 0) /* small images are screens with small fonts */
        k = (w < 1200 && h < 1200) ? 3 : (w < 2400 && h < 2400) ? 2 : 1;
    if (k > 4)
        k = 4;
    pthread_mutex_lock(&p->mu);
    e = p->idle;
    if (e)
        p->idle = e->next;
    pthread_mutex_unlock(&p->mu);
    if (e == NULL && (rc = engine_new(p, &e, err)) != SL_OK)
        return rc;
    if (omp_threads != NULL)
        omp_threads(1);
    if (o->regions && o->have_reg) {
        reg = o->reg;
        nr = o->nreg;
    } else if (o->regions) {
        nr = sl_ocr_regions(gray, w, h, stride, &own);
        reg = own;
    }
    if (nr < 0) {
        tp.TessBaseAPISetPageSegMode(e->api, PSM_SPARSE_TEXT);
        bad = read_all(e->api, o, gray, w, h, stride, k, 1, o->rotated, 1, 0,
                       0, &words, &nw, &cap);
    }
    for (i = 0; i < nr && !bad; i++) {
        const struct sl_ocr_region *r = &reg[i];
        /* enlarged until its characters are about 30 pixels high */
        int rk = o->scale > 0 ? k : (30 + r->glyph - 1) / r->glyph;
        if (rk > 4)
            rk = 4;
        if (r->vertical && !o->rotated)
            continue;
        tp.TessBaseAPISetPageSegMode(e->api, PSM_SINGLE_BLOCK);
        bad = read_all(e->api, o, gray + (size_t)r->y * stride + (size_t)r->x,
                       r->w, r->h, stride, rk, !r->vertical, r->vertical, 0,
                       r->x, r->y, &words, &nw, &cap);
    }
    free(own);
    if (bad)
        rc = SL_ERR(err, SL_EINTERNAL, "OCR: recognition failed");
    pthread_mutex_lock(&p->mu);
    e->next = p->idle;
    p->idle = e;
    pthread_mutex_unlock(&p->mu);
    if (rc != SL_OK) {
        sl_ocr_words_free(words, nw);
        return rc;
    }
    *out = words;
    *n = nw;
    return SL_OK;
}

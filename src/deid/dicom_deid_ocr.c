/* dicom_deid_ocr.c - burned-in text (issue 11): the PS3.15 Clean Pixel
 * Data option by OCR. Every frame is rendered as a viewer shows it
 * (src/dicom/dicom_render.cc), its words found by src/ocr/, each word box
 * (with a margin) blanked in every frame (of a long cine, a sample of
 * frames is read, then only the frames whose text layout differs), and
 * the result read again: text
 * still found is blanked in turn, and an instance still showing text after
 * a few rounds is quarantined. Words are compared with the instance's own
 * identifying attributes so --explain and inspect-pixels can say which
 * attribute a word repeats, never the word. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "deid/dicom_deid_int.h"
#include "dicom/dicom.h"
#include "ocr/ocr.h"

#define ROUNDS 3 /* blank, read again: at most this many times */
#define SAMPLE 8 /* frames of a cine read whatever their text layout */

/* Identifying attributes whose values are looked for in the words. */
static const struct {
    uint16_t group, elem;
    const char *name;
    int kind; /* 0: name (parts), 1: identifier (whole), 2: date, 3: words */
} id_attrs[] = {
    { 0x0010, 0x0010, "PatientName", 0 },
    { 0x0010, 0x0020, "PatientID", 1 },
    { 0x0010, 0x1000, "OtherPatientIDs", 1 },
    { 0x0008, 0x0050, "AccessionNumber", 1 },
    { 0x0010, 0x0030, "PatientBirthDate", 2 },
    { 0x0008, 0x0020, "StudyDate", 2 },
    { 0x0008, 0x0021, "SeriesDate", 2 },
    { 0x0008, 0x0022, "AcquisitionDate", 2 },
    { 0x0008, 0x0023, "ContentDate", 2 },
    { 0x0008, 0x0080, "InstitutionName", 3 },
    { 0x0008, 0x0090, "ReferringPhysicianName", 0 },
    { 0x0008, 0x1070, "OperatorsName", 0 },
    { 0x0008, 0x1050, "PerformingPhysicianName", 0 },
};
#define NATTRS (sizeof(id_attrs) / sizeof(id_attrs[0]))

/* A value to look for: upper-case letters and digits only. */
struct needle {
    char *s;
    const char *attr;
};

struct needles {
    struct needle *v;
    size_t n, cap;
};

static void
needle_add(struct needles *nd, const char *s, size_t len, const char *attr)
{
    char *t = sl_calloc(1, len + 1);
    size_t i, k = 0;

    for (i = 0; i < len; i++)
        if (isalnum((unsigned char)s[i]))
            t[k++] = (char)toupper((unsigned char)s[i]);
    /* Two characters are too common to mean anything (and "JR", "MD"). */
    if (k < 3) {
        free(t);
        return;
    }
    if (nd->n == nd->cap) {
        nd->cap = nd->cap ? nd->cap * 2 : 16;
        nd->v = sl_realloc(nd->v, nd->cap * sizeof(*nd->v));
    }
    nd->v[nd->n].s = t;
    nd->v[nd->n].attr = attr;
    nd->n++;
}

/* Splits value at any of seps and adds each part. */
static void
needle_parts(struct needles *nd, const char *value, const char *seps,
             const char *attr)
{
    const char *p = value;

    while (*p != '\0') {
        size_t len = strcspn(p, seps);
        if (len > 0)
            needle_add(nd, p, len, attr);
        p += len;
        if (*p != '\0')
            p++;
    }
}

/* A DA value YYYYMMDD in the orders it is printed in. */
static void
needle_date(struct needles *nd, const char *v, const char *attr)
{
    char f[16];

    if (strlen(v) < 8)
        return;
    needle_add(nd, v, 8, attr);
    snprintf(f, sizeof(f), "%.2s%.2s%.4s", v + 6, v + 4, v); /* DDMMYYYY */
    needle_add(nd, f, 8, attr);
    snprintf(f, sizeof(f), "%.2s%.2s%.4s", v + 4, v + 6, v); /* MMDDYYYY */
    needle_add(nd, f, 8, attr);
    snprintf(f, sizeof(f), "%.2s%.2s%.2s", v + 6, v + 4, v + 2); /* DDMMYY */
    needle_add(nd, f, 6, attr);
    snprintf(f, sizeof(f), "%.2s%.2s%.2s", v + 4, v + 6, v + 2); /* MMDDYY */
    needle_add(nd, f, 6, attr);
}

static void
needles_of(struct sl_dicom_file *f, struct needles *nd)
{
    size_t i;

    for (i = 0; i < NATTRS; i++) {
        char *v = NULL;
        if (sl_dicom_file_get(f, id_attrs[i].group, id_attrs[i].elem, &v) !=
                SL_OK ||
            v == NULL)
            continue;
        switch (id_attrs[i].kind) {
        case 0:
            needle_parts(nd, v, "^= ,.-\\", id_attrs[i].name);
            break;
        case 1:
            needle_parts(nd, v, "\\", id_attrs[i].name);
            break;
        case 2:
            needle_date(nd, v, id_attrs[i].name);
            break;
        default:
            needle_parts(nd, v, " \\,.-", id_attrs[i].name);
            break;
        }
        sl_freezero(v, strlen(v));
    }
}

static void
needles_free(struct needles *nd)
{
    size_t i;

    for (i = 0; i < nd->n; i++)
        sl_freezero(nd->v[i].s, strlen(nd->v[i].s));
    free(nd->v);
    memset(nd, 0, sizeof(*nd));
}

/* Whether piece (n characters) is needle, or, for needles of six
 * characters or more, needle with one character misread (OCR takes 8 for
 * 6, 0 for O, 1 for l). */
static int
same_or_near(const char *needle, const char *piece, size_t n)
{
    size_t i, off = 0;

    if (strlen(needle) != n)
        return 0;
    for (i = 0; i < n; i++)
        if (needle[i] != piece[i])
            off++;
    return off == 0 || (n >= 6 && off == 1);
}

/* The attribute a word repeats: the word, or a piece of it between
 * characters other than letters and digits ("DOE^JOHN", "05/01/2023"
 * taken whole as digits), equal to a needle. NULL when none. */
static const char *
match(const struct needles *nd, const char *word)
{
    char *w = sl_strdup(word), *p, *q;
    const char *found = NULL;
    size_t i, k = 0;
    char *digits = sl_calloc(1, strlen(word) + 1);

    for (p = w; *p != '\0'; p++) {
        if (isdigit((unsigned char)*p))
            digits[k++] = *p;
        *p =
            isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : ' ';
    }
    for (i = 0; i < nd->n && found == NULL; i++)
        if (k >= 6 && same_or_near(nd->v[i].s, digits, k))
            found = nd->v[i].attr;
    for (p = w; found == NULL && *p != '\0'; p = q) {
        while (*p == ' ')
            p++;
        for (q = p; *q != '\0' && *q != ' '; q++)
            ;
        if (q == p)
            break;
        for (i = 0; i < nd->n && found == NULL; i++)
            if (same_or_near(nd->v[i].s, p, (size_t)(q - p)))
                found = nd->v[i].attr;
    }
    sl_freezero(w, strlen(word));
    sl_freezero(digits, strlen(word) + 1);
    return found;
}

/* Whether a word counts as text: repeating an identifier whatever the
 * engine thinks of it; else a confidence of at least min_conf and two
 * letters or digits. Texture (speckle, vessel edges, a photograph) reads
 * as lone marks and punctuation ("=", "a>", "|"), and a lone letter (an
 * orientation marker "L") identifies nobody. */
static int
counts(const struct sl_ocr_word *wd, float min_conf, const char *attr)
{
    const char *p;
    int alnum = 0;

    if (attr != NULL)
        return 1;
    if (wd->conf < min_conf || wd->text == NULL)
        return 0;
    for (p = wd->text; *p != '\0'; p++)
        if (isalnum((unsigned char)*p) || (unsigned char)*p >= 0xC0)
            alnum++; /* letters, digits, non-ASCII characters */
    if (alnum < 2)
        return 0;
    /* Text runs along its box: a word of n characters of height h is at
     * least about n * h / 3 long, and a stroke a few pixels wide is not
     * a word. (Turned text: its box is turned too.) */
    {
        int along = wd->angle == 0 ? wd->w : wd->h;
        int across = wd->angle == 0 ? wd->h : wd->w;
        if (across < 5 || along < 5 || 3 * along < alnum * across)
            return 0;
    }
    return 1;
}

/* Whether box a is mostly inside a word already in v (for frame fr). */
static int
seen_box(const struct sl_pixel_text *v, size_t n, unsigned long fr,
         const struct sl_ocr_word *a)
{
    size_t i;

    for (i = 0; i < n; i++) {
        long ix0, iy0, ix1, iy1;
        if (v[i].frame != fr)
            continue;
        ix0 = a->x > (long)v[i].x ? a->x : (long)v[i].x;
        iy0 = a->y > (long)v[i].y ? a->y : (long)v[i].y;
        ix1 = a->x + a->w < (long)(v[i].x + v[i].w) ? a->x + a->w
                                                    : (long)(v[i].x + v[i].w);
        iy1 = a->y + a->h < (long)(v[i].y + v[i].h) ? a->y + a->h
                                                    : (long)(v[i].y + v[i].h);
        if (ix1 > ix0 && iy1 > iy0 &&
            2 * (ix1 - ix0) * (iy1 - iy0) >= (long)a->w * a->h)
            return 1;
    }
    return 0;
}

/* Whether the text of region g (its box without the margin) lies inside
 * the boxes that will be blanked: the known ones, and those of the words
 * in v grown by their margin (box_add's), all but a quarter of a
 * character's area of it. */
static int
covered(const struct sl_ocr_region *g, const struct sl_dicom_box *known,
        size_t nknown, const struct sl_pixel_text *v, size_t nv)
{
    long w = g->tw, h = g->th, y;
    size_t i, left = 0;
    unsigned char *m;

    if (w <= 0 || h <= 0)
        return 1;
    m = sl_calloc((size_t)w * (size_t)h, 1);
    for (i = 0; i < nknown + nv; i++) {
        long x0, y0, x1, y1;
        if (i < nknown) {
            x0 = known[i].x;
            y0 = known[i].y;
            x1 = x0 + (long)known[i].w;
            y1 = y0 + (long)known[i].h;
        } else {
            const struct sl_pixel_text *t = &v[i - nknown];
            long mg = t->h / 4 > 2 ? t->h / 4 : 2;
            x0 = (long)t->x - mg;
            y0 = (long)t->y - mg;
            x1 = (long)(t->x + t->w) + mg;
            y1 = (long)(t->y + t->h) + mg;
        }
        x0 = x0 > g->tx ? x0 - g->tx : 0;
        y0 = y0 > g->ty ? y0 - g->ty : 0;
        x1 = x1 - g->tx < w ? x1 - g->tx : w;
        y1 = y1 - g->ty < h ? y1 - g->ty : h;
        for (y = y0; y < y1 && x0 < x1; y++)
            memset(m + y * w + x0, 1, (size_t)(x1 - x0));
    }
    for (i = 0; i < (size_t)(w * h); i++)
        left += m[i] == 0;
    free(m);
    return 4 * left <= (size_t)g->glyph * (size_t)g->glyph;
}

/* Whether pixel (x, y) lies in one of the n boxes. */
static int
in_boxes(const struct sl_dicom_box *b, size_t n, unsigned x, unsigned y)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (x >= b[i].x && x - b[i].x < b[i].w && y >= b[i].y &&
            y - b[i].y < b[i].h)
            return 1;
    return 0;
}

/* In the rounds after blanking: the n boxes blanked before must be flat
 * in the rendered frame g (w x h), which is checked here sample by
 * sample; each is then painted with the mean grey of the two pixels
 * around it (outside every box). A flat dark box on a lighter picture
 * has edges the region search takes for characters: read again, as is
 * and with its background removed, they cost 4 of the 6 readings of a
 * capture and never held text. Text left beside a box still shows.
 * When a box is not flat (the blanking did not reach the render),
 * nothing is painted and the frame is read as rendered. */
static void
settle_known(unsigned char *g, unsigned w, unsigned h,
             const struct sl_dicom_box *b, size_t n)
{
    unsigned char *fill;
    size_t i;
    unsigned x, y;

    if (n == 0)
        return;
    fill = sl_malloc(n);
    for (i = 0; i < n; i++) {
        unsigned x0 = b[i].x, y0 = b[i].y, x1, y1;
        unsigned long sum = 0, cnt = 0;
        unsigned char v;
        fill[i] = 0;
        if (x0 >= w || y0 >= h)
            continue;
        x1 = b[i].w < w - x0 ? x0 + b[i].w : w;
        y1 = b[i].h < h - y0 ? y0 + b[i].h : h;
        v = g[(size_t)y0 * w + x0];
        for (y = y0; y < y1; y++)
            for (x = x0; x < x1; x++)
                if (g[(size_t)y * w + x] != v) {
                    free(fill);
                    return;
                }
        for (y = y0 >= 2 ? y0 - 2 : 0; y < y1 + 2 && y < h; y++)
            for (x = x0 >= 2 ? x0 - 2 : 0; x < x1 + 2 && x < w; x++)
                if (!in_boxes(b, n, x, y)) {
                    sum += g[(size_t)y * w + x];
                    cnt++;
                }
        fill[i] = cnt ? (unsigned char)(sum / cnt) : v;
    }
    for (i = 0; i < n; i++) {
        unsigned x0 = b[i].x, y0 = b[i].y, x1, y1;
        if (x0 >= w || y0 >= h)
            continue;
        x1 = b[i].w < w - x0 ? x0 + b[i].w : w;
        y1 = b[i].h < h - y0 ? y0 + b[i].h : h;
        for (y = y0; y < y1; y++)
            memset(g + (size_t)y * w + x0, fill[i], x1 - x0);
    }
    free(fill);
}

/* The scan of one instance, frame by frame. */
struct scan {
    struct sl_ocr_pool *pool;
    struct sl_dicom_render *r;
    struct needles nd;
    float min_conf;
    const struct sl_dicom_box *known; /* blanked in earlier rounds */
    size_t nknown;
    struct sl_pixel_text *v;
    size_t nv, cap;
    unsigned long read; /* frames read by OCR */
};

/* Adds to s->v the words of frame fr that count as text and were not
 * found before. */
static void
add_words(struct scan *s, unsigned long fr, const struct sl_ocr_word *words,
          size_t nw)
{
    size_t i;

    for (i = 0; i < nw; i++) {
        const char *attr = match(&s->nd, words[i].text ? words[i].text : "");
        struct sl_pixel_text *t;
        if (!counts(&words[i], s->min_conf, attr) ||
            seen_box(s->v, s->nv, fr, &words[i]))
            continue;
        if (s->nv == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 16;
            s->v = sl_realloc(s->v, s->cap * sizeof(*s->v));
        }
        t = &s->v[s->nv++];
        t->frame = fr;
        t->x = words[i].x < 0 ? 0 : (unsigned)words[i].x;
        t->y = words[i].y < 0 ? 0 : (unsigned)words[i].y;
        t->w = (unsigned)words[i].w;
        t->h = (unsigned)words[i].h;
        t->conf = words[i].conf;
        t->attr = attr;
        t->text = sl_strdup(words[i].text ? words[i].text : "");
    }
}

/* Reads g (w x h) where its n regions reg are (n -1: whole), as it is
 * and with its background taken away, across and turned either way, and
 * adds what counts to s->v. */
static int
read_regions(struct scan *s, unsigned long fr, const unsigned char *g,
             unsigned w, unsigned h, const struct sl_ocr_region *reg, long n,
             struct sl_err *err)
{
    struct sl_ocr_opts o = { 0 };
    struct sl_ocr_word *words = NULL;
    size_t nw = 0;
    int rc;

    o.rotated = 1;
    o.regions = 1;
    o.contrast = 1;
    o.have_reg = 1;
    o.reg = reg;
    o.nreg = n;
    s->read++;
    rc = sl_ocr_words(s->pool, g, (int)w, (int)h, w, &o, &words, &nw, err);
    if (rc == SL_OK)
        add_words(s, fr, words, nw);
    sl_ocr_words_free(words, nw);
    return rc;
}

/* Whether most of region g's text box lies in a region of the n in r. */
static int
read_before(const struct sl_ocr_region *g, const struct sl_ocr_region *r,
            long n)
{
    long k;

    for (k = 0; k < n; k++) {
        long x0 = g->tx > r[k].tx ? g->tx : r[k].tx;
        long y0 = g->ty > r[k].ty ? g->ty : r[k].ty;
        long x1 = g->tx + g->tw < r[k].tx + r[k].tw ? g->tx + g->tw
                                                    : r[k].tx + r[k].tw;
        long y1 = g->ty + g->th < r[k].ty + r[k].th ? g->ty + g->th
                                                    : r[k].ty + r[k].th;
        if (x1 > x0 && y1 > y0 &&
            2 * (x1 - x0) * (y1 - y0) >= (long)g->tw * g->th)
            return 1;
    }
    return 0;
}

/* Whether the n samples of a plane lie closer together than the
 * contrast a stroke needs (SL_OCR_STROKE): no text can be found in it. */
static int
flat(const unsigned char *g, size_t n)
{
    unsigned char lo = 255, hi = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        lo = g[i] < lo ? g[i] : lo;
        hi = g[i] > hi ? g[i] : hi;
    }
    return n == 0 || hi - lo < SL_OCR_STROKE;
}

/* The colour planes of frame fr (sl_dicom_render_plane): text whose
 * colour has its background's luminance is flat in the grey frame. Each
 * plane's lines of text are read unless they lie where the grey frame's
 * were read (seen: ns regions; -1 when it was read whole) or in what
 * will be blanked. A plane too busy to tell is read whole when the grey
 * frame was too (large lettering, a photograph), and not otherwise. */
static int
scan_planes(struct scan *s, unsigned long fr, const struct sl_ocr_region *seen,
            long ns, struct sl_err *err)
{
    unsigned p, np = sl_dicom_render_planes(s->r);
    int rc = SL_OK;

    for (p = 1; p <= np && rc == SL_OK; p++) {
        unsigned char *g = NULL;
        unsigned w = 0, h = 0;
        struct sl_ocr_region *reg = NULL;
        long nr, k, keep = 0;

        if ((rc = sl_dicom_render_plane(s->r, fr, p, &g, &w, &h, err)) !=
            SL_OK)
            return rc;
        if (g == NULL) /* a grey picture stored in colour */
            break;
        if (flat(g, (size_t)w * h)) { /* grey, black and white alone */
            sl_freezero(g, (size_t)w * h);
            continue;
        }
        settle_known(g, w, h, s->known, s->nknown);
        nr = sl_ocr_regions(g, (int)w, (int)h, w, &reg);
        for (k = 0; k < nr; k++)
            if ((ns < 0 || !read_before(&reg[k], seen, ns)) &&
                !covered(&reg[k], s->known, s->nknown, s->v, s->nv))
                reg[keep++] = reg[k];
        if (nr < 0 && ns < 0)
            keep = -1; /* both too busy to tell: read whole, as the grey */
        if (keep != 0)
            rc = read_regions(s, fr, g, w, h, reg, keep, err);
        free(reg);
        sl_freezero(g, (size_t)w * h);
    }
    return rc;
}

/* Adds the words of frame fr to s->v. With check, the frame is read only
 * when its text layout is not already covered: a line of text found
 * (cheaply, without OCR) outside every box that will be blanked, or a
 * frame too busy to tell. A colour frame's planes are searched too
 * (scan_planes). */
static int
scan_frame(struct scan *s, unsigned long fr, int check, struct sl_err *err)
{
    unsigned char *g = NULL;
    unsigned w = 0, h = 0;
    struct sl_ocr_region *reg = NULL;
    long nr;
    int rc, skip;

    /* where text may be, then read there (read_regions) */
    if ((rc = sl_dicom_render_frame(s->r, fr, &g, &w, &h, err)) != SL_OK)
        return rc;
    settle_known(g, w, h, s->known, s->nknown);
    nr = sl_ocr_regions(g, (int)w, (int)h, w, &reg);
    skip = check && nr >= 0;
    if (skip) {
        long k;
        for (k = 0; k < nr && skip; k++)
            skip = covered(&reg[k], s->known, s->nknown, s->v, s->nv);
    }
    if (!skip)
        rc = read_regions(s, fr, g, w, h, reg, nr, err);
    sl_freezero(g, (size_t)w * h);
    if (rc == SL_OK)
        rc = scan_planes(s, fr, reg, nr, err);
    free(reg);
    return rc;
}

/* The words of f's frames: every frame, or, with sample, a sample of a
 * long cine (SAMPLE frames spread over it, the first and the last among
 * them) read first, then each other frame only when its text layout is
 * not covered by the boxes found so far (scan_frame). */
static int
scan(struct scan *s, struct sl_dicom_file *f, int sample, unsigned long *frames,
     struct sl_err *err)
{
    unsigned long fr, nf, step = 1;
    int rc, pass;

    if ((rc = sl_dicom_render_open(f, &s->r, err)) != SL_OK)
        return rc;
    needles_of(f, &s->nd);
    nf = sl_dicom_render_frames(s->r);
    if (sample && nf > SAMPLE)
        step = (nf + SAMPLE - 1) / SAMPLE;
    for (pass = 0; pass < (step > 1 ? 2 : 1); pass++)
        for (fr = 0; fr < nf; fr++) {
            int in_sample = fr % step == 0 || fr == nf - 1;
            if (in_sample != (pass == 0))
                continue;
            if ((rc = scan_frame(s, fr, pass == 1, err)) != SL_OK)
                return rc;
        }
    if (frames != NULL)
        *frames = nf;
    return SL_OK;
}

static void
scan_fini(struct scan *s)
{
    sl_pixel_text_free(s->v, s->nv);
    needles_free(&s->nd);
    sl_dicom_render_free(s->r);
}

int
sl_pixel_text_find(struct sl_ocr_pool *pool, struct sl_dicom_file *f,
                   float min_conf, struct sl_pixel_text **out, size_t *n,
                   unsigned long *frames, struct sl_err *err)
{
    struct scan s = { 0 };
    int rc;

    s.pool = pool;
    s.min_conf = min_conf;
    /* a review: every frame */
    if ((rc = scan(&s, f, 0, frames, err)) == SL_OK) {
        *out = s.v;
        *n = s.nv;
        s.v = NULL;
        s.nv = 0;
    }
    scan_fini(&s);
    return rc;
}

void
sl_pixel_text_free(struct sl_pixel_text *t, size_t n)
{
    size_t i;

    if (t == NULL)
        return;
    for (i = 0; i < n; i++)
        if (t[i].text != NULL)
            sl_freezero(t[i].text, strlen(t[i].text));
    free(t);
}

int
sl_dd_ocr_wanted(struct sl_dicom_deid *d, struct sl_dicom_file *f,
                 const char *modality, const char *sop_class, int suspect)
{
    if (!d->ocr || d->ocr_pool == NULL ||
        (sop_class != NULL &&
         strncmp(sop_class, "1.2.840.10008.5.1.4.1.1.104.", 28) == 0) ||
        !sl_dicom_file_has(f, 0x7FE0, 0x0010))
        return 0;
    return suspect ||
           (modality != NULL &&
            (strcmp(modality, "XA") == 0 || strcmp(modality, "RF") == 0));
}

int
sl_dd_ocr_init(struct sl_dicom_deid *d, struct sl_err *err)
{
    int rc;

    if (d->ocr_pool != NULL)
        return SL_OK;
    /* Engines are made when the first instance is read: a run of plain
     * CT or MR under the option (nothing to read) pays nothing for them. */
    if ((rc = sl_ocr_pool_lazy(NULL, "eng", &d->ocr_pool, err)) != SL_OK)
        return rc;
    pthread_mutex_init(&d->ocr_mu, NULL);
    sl_buf_init(&d->ocr_report);
    return SL_OK;
}

void
sl_dd_ocr_fini(struct sl_dicom_deid *d)
{
    if (d->ocr_pool == NULL)
        return;
    sl_ocr_pool_free(d->ocr_pool);
    d->ocr_pool = NULL;
    pthread_mutex_destroy(&d->ocr_mu);
    sl_buf_free(&d->ocr_report);
}

/* Adds the box of t, grown by a margin (a quarter of its height, at
 * least 2 pixels) to boxes. */
static void
box_add(struct sl_dicom_box **boxes, size_t *n, const struct sl_pixel_text *t)
{
    unsigned m = t->h / 4 > 2 ? t->h / 4 : 2;
    struct sl_dicom_box *b;

    *boxes = sl_realloc(*boxes, (*n + 1) * sizeof(**boxes));
    b = &(*boxes)[(*n)++];
    b->x = t->x > m ? t->x - m : 0;
    b->y = t->y > m ? t->y - m : 0;
    b->w = t->w + 2 * m;
    b->h = t->h + 2 * m;
}

int
sl_dd_ocr_clean(struct sl_dicom_deid *d, struct sl_dicom_file *f,
                const char *sop_uid, char **note, struct sl_err *err)
{
    struct sl_pixel_text *t = NULL;
    struct sl_dicom_box *boxes = NULL;
    struct sl_buf line;
    size_t nt = 0, nboxes = 0, i, k;
    unsigned long frames = 0, nread = 0;
    int rc, round, changed = 0, any_change = 0;
    char xfer_in[65], xfer[65], uid[SL_UID_MAX + 1];
    /* the frames (up to 64) in which each attribute was found */
    uint64_t seen[NATTRS];

    memset(seen, 0, sizeof(seen));
    sl_buf_init(&line);
    sl_dicom_file_xfer(f, xfer_in);
    /* Overlays in the unused high bits go first (issue 10). */
    if (d->zero_unused_bits &&
        (rc = sl_dicom_file_mask_unused_bits(f, NULL, err)) != SL_OK)
        goto out;
    atomic_fetch_add(&d->ocr_checked, 1);
    for (round = 0;; round++) {
        struct scan s = { 0 };
        s.pool = d->ocr_pool;
        s.min_conf = d->ocr_min_conf;
        s.known = boxes;
        s.nknown = nboxes;
        rc = scan(&s, f, 1, &frames, err);
        t = s.v;
        nt = s.nv;
        s.v = NULL;
        s.nv = 0;
        if (round == 0)
            nread = s.read;
        scan_fini(&s);
        if (rc != SL_OK)
            goto out;
        if (nt == 0)
            break;
        if (round == ROUNDS) {
            rc = SL_ERR(err, SL_EDICOM,
                        "(7FE0,0010) Pixel Data: OCR still finds %zu "
                        "word(s) after %d rounds of blanking",
                        nt, ROUNDS);
            goto out;
        }
        k = nboxes;
        for (i = 0; i < nt; i++) {
            box_add(&boxes, &nboxes, &t[i]);
            for (size_t a = 0; a < NATTRS; a++)
                if (t[i].attr == id_attrs[a].name && t[i].frame < 64)
                    seen[a] |= (uint64_t)1 << t[i].frame;
        }
        if ((rc = sl_dicom_file_blank_boxes(f, boxes + k, nboxes - k, xfer,
                                            &changed, err)) != SL_OK)
            goto out;
        any_change = 1;
        sl_pixel_text_free(t, nt);
        t = NULL;
        nt = 0;
    }
    /* Checked: nothing left that OCR reads. */
    if ((rc = sl_dicom_file_put(f, 0x0028, 0x0301, "NO", err)) != SL_OK)
        goto out;
    sl_keys_uid(d->keys, sop_uid, uid);
    sl_buf_addf(&line, "  instance %s: %lu frame(s), ", uid, frames);
    if (nread < frames)
        sl_buf_addf(&line,
                    "%lu read by OCR (the others' text layout already "
                    "covered), ",
                    nread);
    if (nboxes == 0) {
        sl_buf_adds(&line, "no text found\n");
    } else {
        atomic_fetch_add(&d->ocr_with_text, 1);
        atomic_fetch_add(&d->ocr_boxes, nboxes);
        sl_buf_addf(&line, "%zu text box(es) blanked", nboxes);
        sl_dicom_file_xfer(f, xfer);
        if (strcmp(xfer, xfer_in) != 0)
            sl_buf_addf(&line,
                        "; pixel data re-encoded losslessly from %s "
                        "to %s",
                        xfer_in, xfer);
        sl_buf_addc(&line, '\n');
        for (i = 0; i < NATTRS; i++) {
            unsigned fr;
            if (seen[i] == 0)
                continue;
            sl_buf_addf(&line,
                        "    text matching %s found and blanked in "
                        "frame",
                        id_attrs[i].name);
            for (fr = 0; fr < 64; fr++)
                if (seen[i] & ((uint64_t)1 << fr))
                    sl_buf_addf(&line, " %u", fr + 1);
            sl_buf_addc(&line, '\n');
        }
    }
    pthread_mutex_lock(&d->ocr_mu);
    sl_buf_add(&d->ocr_report, line.data, line.len);
    pthread_mutex_unlock(&d->ocr_mu);
    if (note != NULL) {
        struct sl_buf nb;
        sl_buf_init(&nb);
        if (any_change) {
            sl_buf_adds(&nb, "burned-in text blanked (sluice, OCR)");
            sl_dicom_file_xfer(f, xfer);
            if (strcmp(xfer, xfer_in) != 0)
                sl_buf_addf(&nb, "; re-encoded losslessly from %s", xfer_in);
        } else {
            sl_buf_adds(&nb, "checked for burned-in text (sluice, OCR): "
                             "none found");
        }
        *note = sl_buf_steal(&nb);
    }
    (void)changed;
out:
    if (rc == SL_EDICOM) {
        /* This instance cannot be shown clean: quarantined, the others
         * go on. */
        char msg[sizeof(err->msg)];
        snprintf(msg, sizeof(msg), "%s", err != NULL ? err->msg : "");
        atomic_fetch_add(&d->quarantined, 1);
        rc = SL_ERR(err, SL_EQUARANTINE, "burned-in text: %s", msg);
    }
    sl_pixel_text_free(t, nt);
    free(boxes);
    sl_buf_free(&line);
    return rc;
}

void
sl_dd_ocr_explain(const struct sl_dicom_deid *d, FILE *f)
{
    if (!d->ocr)
        return;
    fprintf(f,
            "clean pixel data: OCR (min confidence %.0f%s%s): %lu instance(s) "
            "checked, %lu with text, %lu box(es) blanked\n",
            (double)d->ocr_min_conf, d->ocr_src && d->ocr_src[0] ? " - " : "",
            d->ocr_src ? d->ocr_src : "",
            (unsigned long)atomic_load(&d->ocr_checked),
            (unsigned long)atomic_load(&d->ocr_with_text),
            (unsigned long)atomic_load(&d->ocr_boxes));
    if (d->ocr_report.len > 0)
        fwrite(d->ocr_report.data, 1, d->ocr_report.len, f);
}

/* ocr_regions.c - where text may be in an image, found cheaply so that
 * only those parts go through OCR (issue 11). Reading a whole enlarged
 * image costs Tesseract about 2 x 10^9 instructions, nearly all of it in
 * page layout analysis (thresholding, finding ruled lines, components)
 * of pixels that hold no text; overlays cover a few percent of an image.
 *
 * Pixels that differ from the mean of the 33 x 33 around them by at least
 * STROKE, brighter or darker, are strokes; strokes that touch (8-way, one
 * polarity) are components, found run by run in one pass over the rows
 * with a union-find, in memory proportional to the runs. Components of a
 * character's size and shape that sit side by side on a line (or one
 * above the other, for text turned a quarter), at most a character's
 * height apart and of similar heights, make a line: its box, with a
 * margin, is a region. An image with more stroke runs than overlays make
 * (speckle, a photograph, a page of text) is too busy: the caller reads
 * all of it. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "ocr/ocr_int.h"

#define RADIUS    16 /* the background is the mean of (2 RADIUS + 1)^2 pixels */
#define STROKE    SL_OCR_STROKE
#define MIN_GLYPH 4  /* pixels: the smallest character height looked for */

/* A run of strokes of one polarity in a row, and, at its root, the
 * bounding box and size of the component it belongs to. */
struct node {
    int parent;
    int x0, x1, y0, y1;
    int n;
    int cls; /* +1 brighter, -1 darker than the background */
};

struct comp {
    int x0, y0, x1, y1; /* inclusive */
    int n, cls;
    int group;
};

static int
find(struct node *v, int i)
{
    while (v[i].parent != i) {
        v[i].parent = v[v[i].parent].parent;
        i = v[i].parent;
    }
    return i;
}

static void
join(struct node *v, int a, int b)
{
    a = find(v, a);
    b = find(v, b);
    if (a == b)
        return;
    if (b < a) {
        int t = a;
        a = b;
        b = t;
    }
    v[b].parent = a;
    if (v[b].x0 < v[a].x0)
        v[a].x0 = v[b].x0;
    if (v[b].x1 > v[a].x1)
        v[a].x1 = v[b].x1;
    if (v[b].y0 < v[a].y0)
        v[a].y0 = v[b].y0;
    if (v[b].y1 > v[a].y1)
        v[a].y1 = v[b].y1;
    v[a].n += v[b].n;
}

/* The mean of the window around each pixel of row y, from colsum (the
 * sums of each column over the window's rows, rows of them) and its
 * prefix sums (pre, w + 1 of them). A division per pixel would cost more
 * than the rest of the search: away from the edges the window's size is
 * the same, and its reciprocal (in 1/2^32) is taken once. */
static void
row_mean(const uint32_t *colsum, uint32_t *pre, int w, int rows, int *mean)
{
    const unsigned full = (2 * RADIUS + 1) * (unsigned)rows;
    const uint64_t recip = ((uint64_t)1 << 32) / full + 1;
    int x;

    pre[0] = 0;
    for (x = 0; x < w; x++)
        pre[x + 1] = pre[x] + colsum[x];
    for (x = 0; x < w; x++) {
        int lo = x > RADIUS ? x - RADIUS : 0;
        int hi = x + RADIUS + 1 < w ? x + RADIUS + 1 : w;
        uint32_t s = pre[hi] - pre[lo];
        unsigned cnt = (unsigned)(hi - lo) * (unsigned)rows;
        mean[x] =
            cnt == full ? (int)(((uint64_t)s * recip) >> 32) : (int)(s / cnt);
    }
}

static void
colsum_add(uint32_t *colsum, const unsigned char *row, int w)
{
    int x;

    for (x = 0; x < w; x++)
        colsum[x] += row[x];
}

static void
colsum_sub(uint32_t *colsum, const unsigned char *row, int w)
{
    int x;

    for (x = 0; x < w; x++)
        colsum[x] -= row[x];
}

/* The components of strokes; NULL when there are more runs than cap. */
static struct comp *
components(const unsigned char *g, int w, int h, size_t stride, size_t cap,
           size_t *nc)
{
    uint32_t *colsum = sl_calloc((size_t)w, sizeof(*colsum));
    uint32_t *pre = sl_calloc((size_t)w + 1, sizeof(*pre));
    int *mean = sl_calloc((size_t)w, sizeof(*mean));
    struct node *v = NULL;
    struct comp *c = NULL;
    size_t nv = 0, vcap = 0, pstart = 0, pend = 0, i, n = 0;
    int y, top = 0, bot = 0; /* rows [top, bot) in colsum */

    for (y = 0; y < h; y++) {
        const unsigned char *row = g + (size_t)y * stride;
        int want_bot = y + RADIUS + 1 < h ? y + RADIUS + 1 : h;
        int want_top = y > RADIUS ? y - RADIUS : 0;
        size_t cstart = nv, p = pstart;
        int x = 0;

        while (bot < want_bot)
            colsum_add(colsum, g + (size_t)bot++ * stride, w);
        while (top < want_top)
            colsum_sub(colsum, g + (size_t)top++ * stride, w);
        row_mean(colsum, pre, w, bot - top, mean);
        while (x < w) {
            int d = row[x] - mean[x], cls, x0;
            if (d > -STROKE && d < STROKE) {
                x++;
                continue;
            }
            cls = d > 0 ? 1 : -1;
            x0 = x;
            while (x < w && (cls > 0 ? row[x] - mean[x] >= STROKE
                                     : mean[x] - row[x] >= STROKE))
                x++;
            if (nv == cap)
                goto busy;
            if (nv == vcap) {
                vcap = vcap ? vcap * 2 : 1024;
                v = sl_realloc(v, vcap * sizeof(*v));
            }
            v[nv] = (struct node){ (int)nv, x0, x - 1, y, y, x - x0, cls };
            /* the previous row's runs that touch this one (8-way) */
            while (p < pend && v[p].x1 < x0 - 1)
                p++;
            for (i = p; i < pend && v[i].x0 <= x; i++)
                if (v[i].cls == cls)
                    join(v, (int)i, (int)nv);
            nv++;
        }
        pstart = cstart;
        pend = nv;
    }
    for (i = 0; i < nv; i++)
        if (v[i].parent == (int)i)
            n++;
    c = sl_calloc(n ? n : 1, sizeof(*c));
    n = 0;
    for (i = 0; i < nv; i++)
        if (v[i].parent == (int)i)
            c[n++] = (struct comp){ v[i].x0, v[i].y0,  v[i].x1, v[i].y1,
                                    v[i].n,  v[i].cls, -1 };
    *nc = n;
busy:
    free(v);
    free(mean);
    free(pre);
    free(colsum);
    return c;
}

/* Whether a component can be a character (or a few joined) of a line
 * that runs across (vertical 0) or down the image. */
static int
glyph(const struct comp *c, int vertical, int maxh)
{
    int gw = c->x1 - c->x0 + 1, gh = c->y1 - c->y0 + 1;

    if (vertical) {
        int t = gw;
        gw = gh;
        gh = t;
    }
    /* hollow frames and rulers are not characters, nor are solid
     * blocks (a box blanked before, a bar) */
    if (gh < MIN_GLYPH || gh > maxh || gw > 20 * gh)
        return 0;
    if (gw * gh <= 64)
        return 1;
    return (long)c->n * 12 >= (long)gw * gh &&
           (long)c->n * 20 < (long)gw * gh * 19;
}

static int
cmp_x(const void *a, const void *b)
{
    const struct comp *p = *(const struct comp *const *)a,
                      *q = *(const struct comp *const *)b;
    return (p->x0 > q->x0) - (p->x0 < q->x0);
}

static int
cmp_y(const void *a, const void *b)
{
    const struct comp *p = *(const struct comp *const *)a,
                      *q = *(const struct comp *const *)b;
    return (p->y0 > q->y0) - (p->y0 < q->y0);
}

static int
uf_find(int *parent, int i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

/* Lines of glyphs among the k components in s (running across, or down
 * when vertical); each line found is added to *out as a region, and its
 * components get a group. */
static void
lines(struct comp **s, size_t k, int vertical, int w, int h,
      struct sl_ocr_region **out, size_t *n, size_t *cap)
{
    int *parent = sl_calloc(k ? k : 1, sizeof(*parent));
    int *members = sl_calloc(k ? k : 1, sizeof(*members));
    struct sl_ocr_region *box = sl_calloc(k ? k : 1, sizeof(*box));
    size_t i, j;

    for (i = 0; i < k; i++)
        parent[i] = (int)i;
    qsort(s, k, sizeof(*s), vertical ? cmp_y : cmp_x);
    for (i = 0; i < k; i++) {
        /* along: the direction of the line; across: a glyph's height */
        int a1 = vertical ? s[i]->y1 : s[i]->x1,
            c0 = vertical ? s[i]->x0 : s[i]->y0,
            c1 = vertical ? s[i]->x1 : s[i]->y1, gh = c1 - c0 + 1;
        for (j = i + 1; j < k; j++) {
            int b0 = vertical ? s[j]->y0 : s[j]->x0,
                d0 = vertical ? s[j]->x0 : s[j]->y0,
                d1 = vertical ? s[j]->x1 : s[j]->y1, hh = d1 - d0 + 1,
                big = gh > hh ? gh : hh, small = gh < hh ? gh : hh,
                ov = (c1 < d1 ? c1 : d1) - (c0 > d0 ? c0 : d0) + 1;
            if (b0 > a1 + 1 + (3 * gh) / 2)
                break;
            if (s[j]->cls != s[i]->cls || 3 * small < big || 2 * ov < small ||
                2 * (b0 - a1 - 1) > 3 * big)
                continue;
            parent[uf_find(parent, (int)i)] = uf_find(parent, (int)j);
        }
    }
    for (i = 0; i < k; i++) {
        int r = uf_find(parent, (int)i), gh;
        struct sl_ocr_region *b = &box[r];
        gh = vertical ? s[i]->x1 - s[i]->x0 + 1 : s[i]->y1 - s[i]->y0 + 1;
        if (members[r]++ == 0) {
            b->x = s[i]->x0;
            b->y = s[i]->y0;
            b->w = s[i]->x1; /* right and bottom, for now */
            b->h = s[i]->y1;
            b->glyph = gh;
            continue;
        }
        if (s[i]->x0 < b->x)
            b->x = s[i]->x0;
        if (s[i]->y0 < b->y)
            b->y = s[i]->y0;
        if (s[i]->x1 > b->w)
            b->w = s[i]->x1;
        if (s[i]->y1 > b->h)
            b->h = s[i]->y1;
        if (gh > b->glyph)
            b->glyph = gh;
    }
    for (i = 0; i < k; i++) {
        struct sl_ocr_region *b = &box[i];
        int along, across, m;
        if (members[i] == 0)
            continue;
        along = vertical ? b->h - b->y + 1 : b->w - b->x + 1;
        across = vertical ? b->w - b->x + 1 : b->h - b->y + 1;
        /* a word: two characters or more side by side, or one
         * component (joined characters) at least twice as long as high
         * (one character turned a quarter is up to 1.7 times) */
        if (along < across || (members[i] < 2 && along < 2 * across) ||
            b->glyph < MIN_GLYPH + 1)
            continue;
        /* characters of a line across are not looked at again down */
        for (j = 0; j < k && members[i] > 1; j++)
            if (uf_find(parent, (int)j) == (int)i)
                s[j]->group = 1;
        /* a margin of a character's height: OCR reads better with
         * background around the text */
        m = b->glyph;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            *out = sl_realloc(*out, *cap * sizeof(**out));
        }
        (*out)[*n].x = b->x > m ? b->x - m : 0;
        (*out)[*n].y = b->y > m ? b->y - m : 0;
        (*out)[*n].w = (b->w + m < w - 1 ? b->w + m : w - 1) - (*out)[*n].x + 1;
        (*out)[*n].h = (b->h + m < h - 1 ? b->h + m : h - 1) - (*out)[*n].y + 1;
        (*out)[*n].tx = b->x;
        (*out)[*n].ty = b->y;
        (*out)[*n].tw = b->w - b->x + 1;
        (*out)[*n].th = b->h - b->y + 1;
        (*out)[*n].vertical = vertical;
        (*out)[*n].glyph = b->glyph;
        (*n)++;
    }
    free(box);
    free(members);
    free(parent);
}

/* Merges regions of one direction that overlap, until none do. */
static size_t
merge(struct sl_ocr_region *r, size_t n)
{
    size_t i, j;
    int again = 1;

    while (again) {
        again = 0;
        for (i = 0; i < n; i++)
            for (j = i + 1; j < n; j++) {
                struct sl_ocr_region *a = &r[i], *b = &r[j];
                int x1, y1;
                if (a->vertical != b->vertical || b->x >= a->x + a->w ||
                    a->x >= b->x + b->w || b->y >= a->y + a->h ||
                    a->y >= b->y + b->h)
                    continue;
                x1 = a->x + a->w > b->x + b->w ? a->x + a->w : b->x + b->w;
                y1 = a->y + a->h > b->y + b->h ? a->y + a->h : b->y + b->h;
                a->x = a->x < b->x ? a->x : b->x;
                a->y = a->y < b->y ? a->y : b->y;
                a->w = x1 - a->x;
                a->h = y1 - a->y;
                x1 = a->tx + a->tw > b->tx + b->tw ? a->tx + a->tw
                                                   : b->tx + b->tw;
                y1 = a->ty + a->th > b->ty + b->th ? a->ty + a->th
                                                   : b->ty + b->th;
                a->tx = a->tx < b->tx ? a->tx : b->tx;
                a->ty = a->ty < b->ty ? a->ty : b->ty;
                a->tw = x1 - a->tx;
                a->th = y1 - a->ty;
                if (b->glyph > a->glyph)
                    a->glyph = b->glyph;
                r[j] = r[--n];
                j--;
                again = 1;
            }
    }
    return n;
}

long
sl_ocr_regions(const unsigned char *g, int w, int h, size_t stride,
               struct sl_ocr_region **out)
{
    /* overlays make a few hundred runs per line of text; speckle and
     * pictures far more */
    size_t cap = (size_t)w * (size_t)h / 48 + 2000, nc = 0, k, i, n = 0,
           rcap = 0;
    struct comp *c = components(g, w, h, stride, cap, &nc);
    struct comp **s;
    struct sl_ocr_region *r = NULL;
    int maxh = h / 4 > 24 ? h / 4 : 24, vmaxh = w / 4 > 24 ? w / 4 : 24;
    long area = 0;

    *out = NULL;
    if (c == NULL)
        return -1;
    s = sl_calloc(nc ? nc : 1, sizeof(*s));
    for (k = 0, i = 0; i < nc; i++)
        if (glyph(&c[i], 0, maxh))
            s[k++] = &c[i];
    lines(s, k, 0, w, h, &r, &n, &rcap);
    /* what is not part of a line across may be part of one down */
    for (k = 0, i = 0; i < nc; i++)
        if (c[i].group < 0 && glyph(&c[i], 1, vmaxh))
            s[k++] = &c[i];
    lines(s, k, 1, w, h, &r, &n, &rcap);
    free(s);
    free(c);
    n = merge(r, n);
    for (i = 0; i < n; i++)
        area += (long)r[i].w * r[i].h;
    /* regions over a third of the image, or hundreds of them: reading
     * the whole image costs less and misses nothing */
    if (n > 300 || area * 3 > (long)w * h) {
        free(r);
        return -1;
    }
    *out = r;
    return (long)n;
}

unsigned char *
sl_ocr_local_contrast(const unsigned char *g, int w, int h, size_t stride)
{
    uint32_t *colsum = sl_calloc((size_t)w, sizeof(*colsum));
    uint32_t *pre = sl_calloc((size_t)w + 1, sizeof(*pre));
    int *mean = sl_calloc((size_t)w, sizeof(*mean));
    unsigned char *out = sl_malloc((size_t)w * (size_t)h);
    int y, x, top = 0, bot = 0;

    for (y = 0; y < h; y++) {
        const unsigned char *row = g + (size_t)y * stride;
        int want_bot = y + RADIUS + 1 < h ? y + RADIUS + 1 : h;
        int want_top = y > RADIUS ? y - RADIUS : 0;
        while (bot < want_bot)
            colsum_add(colsum, g + (size_t)bot++ * stride, w);
        while (top < want_top)
            colsum_sub(colsum, g + (size_t)top++ * stride, w);
        row_mean(colsum, pre, w, bot - top, mean);
        for (x = 0; x < w; x++) {
            int d = row[x] - mean[x];
            d = (d < 0 ? -d : d) * 3;
            out[(size_t)y * (size_t)w + (size_t)x] =
                (unsigned char)(d > 255 ? 255 : d);
        }
    }
    free(mean);
    free(pre);
    free(colsum);
    return out;
}

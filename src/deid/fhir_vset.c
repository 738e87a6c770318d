/* fhir_vset.c - the set of learned values that free text is scrubbed of
 * and the output is scanned for (see fhir_int.h).
 *
 * Values and text are compared in one folded form: Unicode compatibility
 * decomposition (NFKD), case folding, combining marks and default
 * ignorable characters (soft hyphens, joiners) dropped, and every run of
 * white space read as one space; with utf8proc (Debian's libutf8proc).
 * So "JOSÉ", "José" (NFC), "José" (NFD) and "Jose" are one value, and so
 * are "Müller", "MÜLLER" and "Muller", "ＳＭＩＴＨ" and "Smith".
 *
 * Text is read in clusters: a character with the marks and ignorables
 * that follow it. A match starts and ends at word boundaries: between a
 * letter or digit and anything else, and around every character of the
 * scripts written without spaces between words (Han, Hiragana, Katakana,
 * Hangul, Thai), so that a learned name in those scripts is found inside
 * a run of text as a substring. ASCII text takes a fast path that never
 * calls utf8proc. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "common/common.h"
#include "common/hash.h"
#include "deid/fhir_int.h"

enum { CL_SEP, CL_SPACE, CL_WORD, CL_UNSPACED };
#define IS_W(c)  ((c) >= CL_WORD)
#define FOLD_MAX 128 /* folded bytes of one cluster (more are cut) */
#define FOLD_OPTS                                               \
    (UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD | \
     UTF8PROC_STRIPMARK | UTF8PROC_IGNORE)

static inline unsigned char
lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* The class of an ASCII byte; CL_HI: a byte of a longer character. */
#define CL_HI 4
#define P     CL_SEP
#define S     CL_SPACE
#define W     CL_WORD
#define H     CL_HI
/* one row per 16 bytes */
/* clang-format off */
static const unsigned char ctab[256] = {
    P, P, P, P, P, P, P, P, P, S, S, S, S, S, P, P,
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    S, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
    W, W, W, W, W, W, W, W, W, W, P, P, P, P, P, P,
    P, W, W, W, W, W, W, W, W, W, W, W, W, W, W, W,
    W, W, W, W, W, W, W, W, W, W, W, P, P, P, P, P,
    P, W, W, W, W, W, W, W, W, W, W, W, W, W, W, W,
    W, W, W, W, W, W, W, W, W, W, W, P, P, P, P, P,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
    H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
};
/* clang-format on */
#undef P
#undef S
#undef W
#undef H

/* Scripts written without spaces between words. */
static int
unspaced(int32_t cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) ||   /* CJK unified ideographs */
           (cp >= 0x3400 && cp <= 0x4DBF) ||   /* extension A */
           (cp >= 0x20000 && cp <= 0x3134F) || /* extensions B-G */
           (cp >= 0xF900 && cp <= 0xFAFF) ||   /* compatibility ideographs */
           (cp >= 0x3040 && cp <= 0x30FF) ||   /* Hiragana, Katakana */
           (cp >= 0x31F0 && cp <= 0x31FF) ||   /* Katakana extensions */
           (cp >= 0xFF66 && cp <= 0xFF9F) ||   /* half-width Katakana */
           (cp >= 0xAC00 && cp <= 0xD7AF) ||   /* Hangul syllables */
           (cp >= 0x1100 && cp <= 0x11FF) ||   /* Hangul jamo */
           (cp >= 0x3130 && cp <= 0x318F) ||   /* Hangul compatibility jamo */
           (cp >= 0x0E00 && cp <= 0x0E7F);     /* Thai */
}

static int
is_mark(const utf8proc_property_t *p)
{
    return p->category == UTF8PROC_CATEGORY_MN ||
           p->category == UTF8PROC_CATEGORY_MC ||
           p->category == UTF8PROC_CATEGORY_ME;
}

static int
cp_cls(int32_t cp, const utf8proc_property_t *p)
{
    if (p->ignorable)
        return CL_SEP;
    switch (p->category) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        return unspaced(cp) ? CL_UNSPACED : CL_WORD;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
    case UTF8PROC_CATEGORY_MN: /* a mark with nothing before it */
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return CL_WORD;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return CL_SPACE;
    default:
        return CL_SEP;
    }
}

static size_t
cl_slow(const unsigned char *t, size_t len, size_t i, int *cls)
{
    utf8proc_int32_t cp;
    utf8proc_ssize_t n;

    n = utf8proc_iterate(t + i, (utf8proc_ssize_t)(len - i), &cp);
    if (n <= 0) { /* not UTF-8: a byte of a word, compared as it is */
        *cls = CL_WORD;
        return i + 1;
    }
    *cls = cp_cls(cp, utf8proc_get_property(cp));
    i += (size_t)n;
    while (i < len && t[i] >= 0x80) {
        const utf8proc_property_t *p;
        n = utf8proc_iterate(t + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0)
            break;
        p = utf8proc_get_property(cp);
        if (!p->ignorable && !is_mark(p))
            break;
        i += (size_t)n;
    }
    return i;
}

/* The cluster at i: returns its end, *cls its class. */
static inline size_t
cl_next(const unsigned char *t, size_t len, size_t i, int *cls)
{
    int k = ctab[t[i]];

    if (k != CL_HI && (i + 1 >= len || t[i + 1] < 0x80)) {
        *cls = k;
        return i + 1;
    }
    return cl_slow(t, len, i, cls);
}

/* The class of the character before i (0 < i): what decides whether a
 * word starts at i. A mark or an ignorable belongs to a word. */
static int
cls_before(const unsigned char *t, size_t i)
{
    utf8proc_int32_t cp;
    const utf8proc_property_t *p;
    size_t j = i - 1;

    if (t[j] < 0x80)
        return ctab[t[j]];
    while (j > 0 && (t[j] & 0xC0) == 0x80 && i - j < 4)
        j--;
    if (utf8proc_iterate(t + j, (utf8proc_ssize_t)(i - j), &cp) <= 0)
        return CL_WORD;
    p = utf8proc_get_property(cp);
    return p->ignorable || is_mark(p) ? CL_WORD : cp_cls(cp, p);
}

/* A value or a stretch of text, folded and hashed as it is read. */
struct fst {
    uint64_t h;
    size_t n;            /* folded bytes */
    int sp;              /* the last thing added was a space */
    unsigned char b2[2]; /* the first two folded bytes */
};

static inline void
fst_byte(struct fst *f, unsigned char c)
{
    if (f->n < 2)
        f->b2[f->n] = c;
    f->h = sl_fnv1a64_step(f->h, c);
    f->n++;
}

static void
fst_slow(struct fst *f, const unsigned char *t, size_t i, size_t end)
{
    utf8proc_int32_t cp, dec[32];
    utf8proc_uint8_t enc[4];
    size_t out = 0;

    while (i < end && out < FOLD_MAX) {
        utf8proc_ssize_t n =
            utf8proc_iterate(t + i, (utf8proc_ssize_t)(end - i), &cp);
        utf8proc_ssize_t m, k, e, b;
        int bc = 0;
        if (n <= 0) {
            fst_byte(f, t[i++]);
            out++;
            continue;
        }
        m = utf8proc_decompose_char(cp, dec, 32, FOLD_OPTS, &bc);
        if (m < 0 || m > 32) { /* cannot fold: the bytes as they are */
            for (k = 0; k < n; k++)
                fst_byte(f, t[i + (size_t)k]);
            out += (size_t)n;
        } else
            for (k = 0; k < m; k++) {
                e = utf8proc_encode_char(dec[k], enc);
                for (b = 0; b < e; b++)
                    fst_byte(f, enc[b]);
                out += (size_t)e;
            }
        i += (size_t)n;
    }
}

static inline void
fst_add(struct fst *f, const unsigned char *t, size_t i, size_t end, int cls)
{
    if (cls == CL_SPACE) {
        if (!f->sp)
            fst_byte(f, ' ');
        f->sp = 1;
        return;
    }
    f->sp = 0;
    if (end == i + 1 && t[i] < 0x80)
        fst_byte(f, lower(t[i]));
    else
        fst_slow(f, t, i, end);
}

static void
fst_init(struct fst *f)
{
    memset(f, 0, sizeof(*f));
    f->h = SL_FNV1A64_OFFSET_SHORT;
}

/* A word ends between a cluster of class a and one of class b. */
static inline int
word_end(int a, int b)
{
    return IS_W(a) && (!IS_W(b) || a == CL_UNSPACED || b == CL_UNSPACED);
}

/* The stored form of a value: the FNV-1a hash (h, from the short seed of
 * common/hash.h) of its folded bytes with their count mixed in; never 0,
 * which marks an empty slot. Only hashes are kept, not the values: less
 * memory per patient and no patient data in the set. Two values with the
 * same 64-bit hash are taken as one, which could only scrub or quarantine
 * more, never let a value through. */
static uint64_t
vkey(uint64_t h, size_t n)
{
    uint64_t k = (h ^ (uint64_t)n) * SL_FNV1A64_PRIME;
    return k ? k : 1;
}

/* The bit of a first word's key in the words bitmap: a fixed size, so
 * memory does not grow with the values (a shared bit only costs a look). */
#define WORD_BITS (1u << 20)
static unsigned
word_bit(uint64_t k)
{
    return (unsigned)(k >> 40) & (WORD_BITS - 1);
}

static inline unsigned
first_bits(const struct fst *f)
{
    return ((unsigned)f->b2[0] << 8) | (f->n > 1 ? f->b2[1] : 0u);
}

static inline int
has_bit(const unsigned char *m, unsigned b)
{
    return (m[b >> 3] >> (b & 7)) & 1;
}

static size_t
slot_of(const struct sl_fhir_vset *s, uint64_t k)
{
    size_t i = (size_t)k & (s->cap - 1);

    while (s->slot[i] != 0 && s->slot[i] != k)
        i = (i + 1) & (s->cap - 1);
    return i;
}

static void
vset_grow(struct sl_fhir_vset *s)
{
    struct sl_fhir_vset t = { 0 };
    size_t i;

    t.cap = s->cap ? s->cap * 2 : 64;
    t.slot = sl_calloc(t.cap, sizeof(*t.slot));
    for (i = 0; i < s->cap; i++)
        if (s->slot[i] != 0)
            t.slot[slot_of(&t, s->slot[i])] = s->slot[i];
    if (s->slot)
        sl_freezero(s->slot, s->cap * sizeof(*s->slot));
    s->slot = t.slot;
    s->cap = t.cap;
}

void
sl_fhir_vset_add(struct sl_fhir_vset *s, const char *v, size_t minlen)
{
    sl_fhir_vset_addn(s, v, strlen(v), minlen);
}

int
sl_fhir_vset_key(const char *v, size_t len, size_t minlen,
                 struct sl_fhir_vkey *out)
{
    const unsigned char *t = (const unsigned char *)v;
    size_t a, i, e = 0, ne, nw = 0;
    struct fst f, fw, last;
    int cls = CL_SEP, ncls, first_cls;

    /* trimmed of what is not part of a word at either end: from the first
     * word cluster, and the state as it was after the last one */
    for (a = 0; a < len; a = e) {
        e = cl_next(t, len, a, &cls);
        if (IS_W(cls))
            break;
    }
    if (a >= len)
        return 0;
    first_cls = cls;
    fst_init(&f);
    for (i = a;;) { /* the first word */
        fst_add(&f, t, i, e, cls);
        nw++;
        ncls = CL_SPACE;
        ne = e;
        if (e < len)
            ne = cl_next(t, len, e, &ncls);
        if (word_end(cls, ncls))
            break;
        i = e;
        e = ne;
        cls = ncls;
    }
    fw = last = f;
    for (i = e; i < len; i = e) {
        e = cl_next(t, len, i, &cls);
        fst_add(&f, t, i, e, cls);
        if (IS_W(cls)) {
            nw++;
            last = f;
        }
    }
    f = last;
    if (f.n < minlen || (first_cls == CL_UNSPACED && nw < 2))
        return 0; /* one ideograph names too much to be looked for */
    out->k = vkey(f.h, f.n);
    out->word = word_bit(vkey(fw.h, fw.n));
    out->first = first_bits(&f);
    out->n = f.n;
    return 1;
}

void
sl_fhir_vset_put(struct sl_fhir_vset *s, const struct sl_fhir_vkey *k)
{
    size_t at;

    if ((s->n + 1) * 4 > s->cap * 3)
        vset_grow(s);
    at = slot_of(s, k->k);
    if (s->slot[at] != 0)
        return;
    s->slot[at] = k->k;
    s->version = fhir_memo_serial(); /* what was clean may not be now */
    if (s->first == NULL) {
        s->first = sl_calloc(65536 / 8, 1);
        s->words = sl_calloc(WORD_BITS / 8, 1);
    }
    s->words[k->word >> 3] |= (unsigned char)(1u << (k->word & 7));
    s->first[k->first >> 3] |= (unsigned char)(1u << (k->first & 7));
    s->n++;
    if (k->n > s->maxlen)
        s->maxlen = k->n;
}

void
sl_fhir_vset_addn(struct sl_fhir_vset *s, const char *v, size_t len,
                  size_t minlen)
{
    struct sl_fhir_vkey k;

    if (sl_fhir_vset_key(v, len, minlen, &k))
        sl_fhir_vset_put(s, &k);
}

void
sl_fhir_vset_free(struct sl_fhir_vset *s)
{
    if (s == NULL)
        return;
    if (s->slot)
        sl_freezero(s->slot, s->cap * sizeof(*s->slot));
    free(s->first);
    free(s->words);
    memset(s, 0, sizeof(*s));
}

/* The first two folded bytes of the text from i (0 for what is missing):
 * an ASCII character folds to itself lowercased, a space to ' '. */
static inline unsigned
first2(const unsigned char *t, size_t len, size_t i)
{
    struct fst f;
    size_t e;
    int cls;

    if (t[i] < 0x80 && (i + 1 >= len || t[i + 1] < 0x80))
        return ((unsigned)lower(t[i]) << 8) |
               (i + 1 >= len                 ? 0u
                : ctab[t[i + 1]] == CL_SPACE ? (unsigned)' '
                                             : (unsigned)lower(t[i + 1]));
    fst_init(&f);
    for (; i < len && f.n < 2; i = e) {
        e = cl_next(t, len, i, &cls);
        fst_add(&f, t, i, e, cls);
    }
    return f.n ? first_bits(&f) : 0;
}

/* The end of the word that starts at i (a cluster of a word), hashed
 * into f when f is not NULL; *last: the class of its last cluster. ASCII
 * letters and digits are taken byte by byte: a mark after one is a
 * cluster of its own, which folds to nothing as it would attached. Two
 * copies, since most words are only skipped. */
#define WORD_AT(NAME, F_ADD, F_BYTE)                                        \
    static inline size_t NAME(const unsigned char *t, size_t len, size_t i, \
                              struct fst *f, int *last)                     \
    {                                                                       \
        size_t e, n;                                                        \
        int c;                                                              \
        (void)f;                                                            \
        e = cl_next(t, len, i, &c);                                         \
        F_ADD(f, t, i, e, c);                                               \
        *last = c;                                                          \
        if (c == CL_UNSPACED)                                               \
            return e;                                                       \
        for (;;) {                                                          \
            while (e < len && ctab[t[e]] == CL_WORD) {                      \
                F_BYTE(f, lower(t[e]));                                     \
                e++;                                                        \
            }                                                               \
            if (e >= len || t[e] < 0x80)                                    \
                return e;                                                   \
            n = cl_slow(t, len, e, &c);                                     \
            if (c != CL_WORD)                                               \
                return e;                                                   \
            F_ADD(f, t, e, n, c);                                           \
            e = n;                                                          \
        }                                                                   \
    }
#define NO_ADD(f, t, i, e, c) ((void)0)
#define NO_BYTE(f, b)         ((void)0)
WORD_AT(word_hash, fst_add, fst_byte)
WORD_AT(word_skip, NO_ADD, NO_BYTE)

int
sl_fhir_vset_find(const struct sl_fhir_vset *s, const char *text, size_t len,
                  size_t from, size_t *start, size_t *end)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t i, e, j, je, ne, best;
    int cls, prev, jc, nc;
    struct fst f;

    if (s->n == 0 || from >= len)
        return 0;
    prev = from == 0 ? CL_SPACE : cls_before(t, from);
    /* i goes from cluster to cluster; only word starts are looked at */
    for (i = from; i < len; i = e, prev = cls) {
        cls = ctab[t[i]];
        if (cls < CL_WORD && (i + 1 >= len || t[i + 1] < 0x80)) {
            e = i + 1; /* ASCII punctuation or space */
            continue;
        }
        e = cl_next(t, len, i, &cls);
        if (!IS_W(cls) ||
            (IS_W(prev) && cls != CL_UNSPACED && prev != CL_UNSPACED))
            continue;
        /* the first two folded bytes must start some value (a value of
         * one byte is never stored: MIN_LEARNED) */
        if (!has_bit(s->first, first2(t, len, i))) {
            e = word_skip(t, len, i, NULL, &cls);
            continue;
        }
        /* a value that matches here starts with the word that starts
         * here (matches end at word boundaries): most words start none,
         * and then the longer look below is not needed */
        fst_init(&f);
        je = word_hash(t, len, i, &f, &jc);
        e = je; /* where the look goes on from if nothing matches */
        cls = jc;
        if (!has_bit(s->words, word_bit(vkey(f.h, f.n))))
            continue;
        nc = CL_SPACE;
        ne = je;
        if (je < len)
            ne = cl_next(t, len, je, &nc);
        best = 0;
        for (;;) {
            if (word_end(jc, nc) && s->slot[slot_of(s, vkey(f.h, f.n))] != 0)
                best = je;
            if (je >= len || f.n >= s->maxlen)
                break;
            j = je;
            jc = nc;
            je = ne;
            fst_add(&f, t, j, je, jc);
            if (f.n > s->maxlen)
                break;
            nc = CL_SPACE;
            ne = je;
            if (je < len)
                ne = cl_next(t, len, je, &nc);
        }
        if (best) {
            *start = i;
            *end = best;
            return 1;
        }
    }
    return 0;
}

char *
sl_fhir_vset_scrub(const struct sl_fhir_vset *s, const char *text,
                   const char *repl)
{
    size_t len = strlen(text), at = 0, a, b;
    struct sl_buf out;

    if (!sl_fhir_vset_find(s, text, len, 0, &a, &b))
        return NULL;
    sl_buf_init(&out);
    do {
        sl_buf_add(&out, text + at, a - at);
        sl_buf_adds(&out, repl);
        at = b;
    } while (sl_fhir_vset_find(s, text, len, at, &a, &b));
    sl_buf_adds(&out, text + at);
    return sl_buf_steal(&out);
}

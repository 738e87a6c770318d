/* fhir_util.c - the FHIR engine's helpers: ZIP codes, UUIDs from
 * pseudonyms, and the set of learned values used to scrub free text and
 * to scan the output for leaks (see fhir_int.h). The type table and FHIR
 * dates are in src/fhir/. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/hash.h"
#include "deid/fhir_int.h"

/* ---- ZIP codes and UUIDs ---- */

int
sl_fhir_zip3(const char *zip, char *out)
{
    /* 3-digit ZIP areas with 20,000 or fewer people (HHS guidance on
     * 164.514(b)(2)(i)(B), 2000 census) */
    static const char *const restricted[] = { "036", "059", "063", "102", "203",
                                              "556", "692", "790", "821", "823",
                                              "830", "831", "878", "879", "884",
                                              "890", "893" };
    size_t i;

    if (strspn(zip, "0123456789") < 3)
        return 0;
    memcpy(out, zip, 3);
    out[3] = '\0';
    for (i = 0; i < sizeof(restricted) / sizeof(restricted[0]); i++)
        if (strcmp(out, restricted[i]) == 0) {
            memcpy(out, "000", 4);
            break;
        }
    return 1;
}

void
sl_fhir_uuid_from_pseudonym(const char *ps, char *out)
{
    unsigned char b[17] = { 0 };
    unsigned long acc = 0;
    int bits = 0, nb = 0, i, o = 0;
    const char *p;

    /* base32 (a-z, 2-7) back to bytes: 26 characters give 16 bytes */
    for (p = ps; *p && nb < 16; p++) {
        int v = (*p >= 'a' && *p <= 'z') ? *p - 'a' : *p - '2' + 26;
        acc = (acc << 5) | (unsigned long)(v & 31);
        bits += 5;
        if (bits >= 8) {
            b[nb++] = (unsigned char)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = "0123456789abcdef"[b[i] >> 4];
        out[o++] = "0123456789abcdef"[b[i] & 15];
    }
    out[o] = '\0';
}

/* ---- learned values ---- */

static int
is_word(unsigned char c)
{
    return (unsigned)(c - '0') < 10u || (unsigned)((c | 0x20) - 'a') < 26u ||
           c >= 0x80;
}

static unsigned char
lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* The stored form of a value: its lowercased FNV-1a hash (h, from the
 * short seed of common/hash.h) with its
 * length mixed in; never 0, which marks an empty slot. Only hashes are
 * kept, not the values: less memory per patient and no patient data in
 * the set. Two values with the same 64-bit hash are taken as one, which
 * could only scrub or quarantine more, never let a value through. */
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
    size_t n, i, at;
    uint64_t h, k;

    while (*v && !is_word((unsigned char)*v))
        v++;
    n = strlen(v);
    while (n > 0 && !is_word((unsigned char)v[n - 1]))
        n--;
    if (n < minlen)
        return;
    if ((s->n + 1) * 4 > s->cap * 3)
        vset_grow(s);
    for (h = SL_FNV1A64_OFFSET_SHORT, i = 0; i < n; i++)
        h = sl_fnv1a64_step(h, lower((unsigned char)v[i]));
    k = vkey(h, n);
    at = slot_of(s, k);
    if (s->slot[at] != 0)
        return;
    s->slot[at] = k;
    if (s->first == NULL) {
        s->first = sl_calloc(65536 / 8, 1);
        s->words = sl_calloc(WORD_BITS / 8, 1);
    }
    { /* the first word: up to the first character that is not a letter
       * or a digit (the whole value when it is one word) */
        size_t w;
        unsigned b;
        for (h = SL_FNV1A64_OFFSET_SHORT, w = 0;
             w < n && is_word((unsigned char)v[w]); w++)
            h = sl_fnv1a64_step(h, lower((unsigned char)v[w]));
        b = word_bit(vkey(h, w));
        s->words[b >> 3] |= (unsigned char)(1u << (b & 7));
    }
    {
        unsigned f = ((unsigned)lower((unsigned char)v[0]) << 8) |
                     (unsigned)(n > 1 ? lower((unsigned char)v[1]) : 0);
        s->first[f >> 3] |= (unsigned char)(1u << (f & 7));
    }
    s->n++;
    if (n > s->maxlen)
        s->maxlen = n;
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

int
sl_fhir_vset_find(const struct sl_fhir_vset *s, const char *text, size_t len,
                  size_t from, size_t *start, size_t *end)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t i, j, we, best;
    uint64_t h;

    if (s->n == 0)
        return 0;
    /* i goes from word start to word start: the characters in between
     * start no match */
    for (i = from; i < len; i++) {
        unsigned k;
        if (!is_word(t[i]) || (i > 0 && is_word(t[i - 1])))
            continue;
        /* the first two characters, lowercased, must start some value
         * (a value of one character is never stored: MIN_LEARNED) */
        k = ((unsigned)lower(t[i]) << 8) | (i + 1 < len ? lower(t[i + 1]) : 0);
        if (!(s->first[k >> 3] & (1u << (k & 7)))) {
            while (i + 1 < len && is_word(t[i + 1]))
                i++;
            continue;
        }
        /* a value that matches here starts with the word that starts
         * here (matches end at word boundaries): most words start none,
         * and then the longer look below is not needed */
        for (h = SL_FNV1A64_OFFSET_SHORT, we = i; we < len && is_word(t[we]);
             we++)
            h = sl_fnv1a64_step(h, lower(t[we]));
        k = word_bit(vkey(h, we - i));
        if (!(s->words[k >> 3] & (1u << (k & 7)))) {
            i = we; /* t[we] is not a word character, or the end */
            continue;
        }
        best = 0;
        for (h = SL_FNV1A64_OFFSET_SHORT, j = i; j < len && j - i < s->maxlen;
             j++) {
            h = sl_fnv1a64_step(h, lower(t[j]));
            if (!is_word(t[j]) || (j + 1 < len && is_word(t[j + 1])))
                continue;
            if (s->slot[slot_of(s, vkey(h, j + 1 - i))] != 0)
                best = j + 1;
        }
        if (best) {
            *start = i;
            *end = best;
            return 1;
        }
        i = we;
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

/* Text segments of markup: what lies outside <...>. */
int
sl_fhir_vset_find_markup(const struct sl_fhir_vset *s, const char *text)
{
    const char *p = text;
    size_t a, b;

    while (*p) {
        size_t n = strcspn(p, "<");
        if (n && sl_fhir_vset_find(s, p, n, 0, &a, &b))
            return 1;
        p += n;
        if (*p == '<') {
            const char *gt = strchr(p, '>');
            if (gt == NULL)
                return sl_fhir_vset_find(s, p, strlen(p), 0, &a, &b);
            p = gt + 1;
        }
    }
    return 0;
}

char *
sl_fhir_vset_scrub_markup(const struct sl_fhir_vset *s, const char *text,
                          const char *repl)
{
    const char *p = text;
    struct sl_buf out;
    int changed = 0;

    sl_buf_init(&out);
    while (*p) {
        size_t n = strcspn(p, "<");
        if (n) {
            char *seg = sl_strndup(p, n), *clean;
            clean = sl_fhir_vset_scrub(s, seg, repl);
            sl_buf_adds(&out, clean ? clean : seg);
            changed |= clean != NULL;
            if (clean)
                sl_freezero(clean, strlen(clean));
            sl_freezero(seg, n);
        }
        p += n;
        if (*p == '<') {
            const char *gt = strchr(p, '>');
            size_t m = gt ? (size_t)(gt + 1 - p) : strlen(p);
            sl_buf_add(&out, p, m);
            p += m;
        }
    }
    if (!changed) {
        sl_freezero(out.data, out.len); /* frees */
        return NULL;
    }
    return sl_buf_steal(&out);
}

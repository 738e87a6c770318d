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

/* ---- attachments ---- */

static int
b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

unsigned char *
sl_fhir_b64_decode(const char *s, size_t len, size_t *n)
{
    unsigned char *out = sl_malloc(len / 4 * 3 + 4);
    unsigned long acc = 0;
    size_t i, o = 0, q = 0, pad = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int v;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            continue;
        if (c == '=') {
            /* padding: one or two, at the end of a quad */
            if (q < 2 || ++pad > 2)
                goto bad;
            q++;
        } else {
            if (pad || (v = b64_val(c)) < 0)
                goto bad;
            acc = (acc << 6) | (unsigned long)v;
            q++;
        }
        if (q == 4) {
            acc <<= 6 * pad;
            out[o++] = (unsigned char)(acc >> 16);
            if (pad < 2)
                out[o++] = (unsigned char)(acc >> 8);
            if (pad < 1)
                out[o++] = (unsigned char)acc;
            acc = 0;
            q = 0;
            if (pad)
                pad = 3; /* nothing may follow the padding */
        }
    }
    if (q != 0)
        goto bad;
    out[o] = '\0';
    *n = o;
    return out;
bad:
    sl_freezero(out, len / 4 * 3 + 4);
    return NULL;
}

char *
sl_fhir_b64_encode(const unsigned char *p, size_t n)
{
    static const char al[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = sl_malloc((n + 2) / 3 * 4 + 1), *o = out;
    size_t i;

    for (i = 0; i + 2 < n; i += 3) {
        unsigned long v = ((unsigned long)p[i] << 16) |
                          ((unsigned long)p[i + 1] << 8) | p[i + 2];
        *o++ = al[(v >> 18) & 63];
        *o++ = al[(v >> 12) & 63];
        *o++ = al[(v >> 6) & 63];
        *o++ = al[v & 63];
    }
    if (i < n) {
        unsigned long v = (unsigned long)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned long)p[i + 1] << 8;
        *o++ = al[(v >> 18) & 63];
        *o++ = al[(v >> 12) & 63];
        *o++ = i + 1 < n ? al[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

int
sl_fhir_content_kind(const char *ct)
{
    char t[128];
    size_t n, i;

    if (ct == NULL)
        return SL_FHIR_CT_OTHER;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    n = strcspn(ct, "; \t");
    if (n == 0 || n >= sizeof(t))
        return SL_FHIR_CT_OTHER;
    for (i = 0; i < n; i++)
        t[i] = (char)lower((unsigned char)ct[i]);
    t[n] = '\0';
    if (strcmp(t, "text/rtf") == 0 || strcmp(t, "application/rtf") == 0)
        return SL_FHIR_CT_RTF;
    if (strcmp(t, "text/html") == 0 || strcmp(t, "text/xml") == 0 ||
        strcmp(t, "application/xml") == 0 ||
        (n > 4 && strcmp(t + n - 4, "+xml") == 0))
        return SL_FHIR_CT_XML;
    if (strncmp(t, "text/", 5) == 0)
        return SL_FHIR_CT_TEXT;
    if (strcmp(t, "application/pdf") == 0)
        return SL_FHIR_CT_PDF;
    return SL_FHIR_CT_OTHER;
}

int
sl_fhir_utf8_ok(const unsigned char *p, size_t n)
{
    size_t i = 0, k, len;

    while (i < n) {
        unsigned c = p[i];
        uint32_t v;
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        len = c >= 0xC2 && c <= 0xDF   ? 2
              : c >= 0xE0 && c <= 0xEF ? 3
              : c >= 0xF0 && c <= 0xF4 ? 4
                                       : 0;
        if (len == 0 || n - i < len)
            return 0;
        v = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
        for (k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
            v = (v << 6) | (p[i + k] & 0x3F);
        }
        if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000) ||
            v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

int
sl_fhir_rtf_escaped(const char *s)
{
    const char *p;

    for (p = strchr(s, '\\'); p; p = strchr(p + 1, '\\')) {
        if (p[1] == '\\') { /* an escaped backslash */
            p++;
            continue;
        }
        if (p[1] == '\'' ||
            (p[1] == 'u' && ((p[2] >= '0' && p[2] <= '9') || p[2] == '-')))
            return 1;
    }
    return 0;
}

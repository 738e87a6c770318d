/* jtape.h - a fast JSON reader for FHIR NDJSON lines: it parses a
 * line into a flat "tape" of nodes (no allocation per value), so that
 * pass 1 of `sluice deid` learns patients without building a jansson
 * document, and pass 2 builds the jansson document from the tape, which is
 * cheaper than jansson's own parser. The tape is also made from a jansson
 * document (inputs that are not NDJSON lines).
 *
 * The contract is with jansson: when sl_jtape_parse accepts a text,
 * json_loadb(text, len, JSON_REJECT_DUPLICATES) accepts it too and gives
 * the same value (same members in the same order, same strings, integers
 * and reals), and sl_jtape_to_json gives that value. When it is not sure
 * (a syntax error, a duplicate key, \u0000, a number out of range, very
 * deep nesting, an object of very many members...) it returns 0 and the
 * caller asks jansson, so errors are reported by jansson's words and
 * positions as before. tests/fuzz/fuzz_fhir_scan.c checks the contract. */
#ifndef SL_FHIR_JTAPE_H
#define SL_FHIR_JTAPE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "common/common.h"

enum sl_jt_type {
    SL_JT_OBJECT,
    SL_JT_ARRAY,
    SL_JT_STRING,
    SL_JT_INTEGER,
    SL_JT_REAL,
    SL_JT_TRUE,
    SL_JT_FALSE,
    SL_JT_NULL
};

/* A node. The children of a container follow it; an object's members
 * are a STRING node (the key) followed by the value. end is the index
 * after the node and all that is inside it: the next sibling. */
struct sl_jt_node {
    unsigned char type;
    uint32_t end;
    uint32_t len; /* string: bytes; container: members or elements */
    union {
        const char *s; /* NUL-terminated (no string holds a NUL) */
        json_int_t i;
        double r;
    } v;
};

struct sl_jtape {
    struct sl_jt_node *n;
    size_t len, cap;
};

void sl_jtape_free(struct sl_jtape *t);

/* Parses text[0, len) into t (emptied first). Strings are decoded in
 * place: text is modified and must outlive the use of t. Returns 1 on
 * success, 0 when jansson must decide (see above). */
int sl_jtape_parse(struct sl_jtape *t, char *text, size_t len);

/* The tape of a jansson value (strings point into v, which must outlive
 * the use of t). 0 when v is nested deeper than the tape allows. */
int sl_jtape_from_json(struct sl_jtape *t, const json_t *v);

/* The jansson value of node i (a new reference; SL_JT_ROOT for the
 * whole), or NULL when out of memory. */
json_t *sl_jtape_to_json(const struct sl_jtape *t, size_t i);

/* Node 0 is a placeholder, node 1 the root: 0 stands for "none". */
#define SL_JT_ROOT 1

/* The value of REAL node i. A decimal whose text the writer must give
 * back as it was (1.50, 1e2: see keep_text in jtape.c) holds that text
 * (v.s, len bytes, not NUL-terminated) instead of its double (v.r, len 0);
 * sl_jtape_to_json makes it a real that keeps the text (jtape_alloc.c). */
double sl_jt_real(const struct sl_jtape *t, size_t i);

/* Look-ups, as json_object_get and json_string_value: 0 when obj is 0,
 * is not an object or has no such key. */
size_t sl_jt_get(const struct sl_jtape *t, size_t obj, const char *key);
/* The string of node i, or NULL (i == 0 or not a string). */
static inline const char *
sl_jt_str(const struct sl_jtape *t, size_t i)
{
    return i && t->n[i].type == SL_JT_STRING ? t->n[i].v.s : NULL;
}
/* Iterating over an array's elements (or an object's keys):
 * for (k = sl_jt_first(t, a); k; k = sl_jt_next(t, a, k)) */
static inline size_t
sl_jt_first(const struct sl_jtape *t, size_t a)
{
    return a && (t->n[a].type == SL_JT_ARRAY || t->n[a].type == SL_JT_OBJECT) &&
                   t->n[a].len > 0
               ? a + 1
               : 0;
}
static inline size_t
sl_jt_next(const struct sl_jtape *t, size_t a, size_t k)
{
    size_t nx = t->n[a].type == SL_JT_OBJECT ? t->n[k + 1].end : t->n[k].end;
    return nx < t->n[a].end ? nx : 0;
}

/* The first byte from p on that a JSON string cannot hold as it is (a
 * control character, '"', '\\' or a byte of a non-ASCII character), or
 * end: the reader and the writer skip the plain runs of strings with it,
 * eight bytes at a time (bit tricks on a 64-bit word: "has a byte below
 * 0x20", "has a zero byte" after XOR with '"' and '\\', the high bits;
 * each test is exact for the word as a whole). */
extern const unsigned char sl_jt_plain[256]; /* 1: a byte held as it is */
static inline const unsigned char *
sl_jt_plain_end(const unsigned char *p, const unsigned char *end)
{
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t high = 0x8080808080808080ULL;

    while (end - p >= 8) {
        uint64_t x, q, b;
        memcpy(&x, p, 8);
        q = x ^ (ones * '"');
        b = x ^ (ones * '\\');
        if ((((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) |
             x) &
            high)
            break;
        p += 8;
    }
    while (p < end && sl_jt_plain[*p])
        p++;
    return p;
}

/* Lets each thread keep jansson's freed small blocks for its next
 * documents (jtape_alloc.c); once per process, whenever (blocks stay
 * malloc's, so nothing allocated before is affected). */
void sl_jtape_alloc_install(void);

/* A jansson real of value v that keeps text[0, len), the decimal as it
 * was written (FHIR: "1.50" is more precise than "1.5"), for
 * sl_jtape_real_text; installs the functions above if they were not. */
json_t *sl_jtape_real_lex(double v, const char *text, size_t len);

/* The text r was read from (len bytes, NUL-terminated), or NULL: r is not
 * a real made by sl_jtape_real_lex, or its value was changed since. */
const char *sl_jtape_real_text(const json_t *r, size_t *len);

#endif

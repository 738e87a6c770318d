/* fhir_map.c - the string-keyed map of the FHIR engine's pass 1 (see
 * fhir_int.h): open addressing, keys and values in chunks freed with it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "deid/fhir_int.h"

static size_t
map_slot(const struct fd_map *m, const char *k)
{
    size_t i = (size_t)fhir_hash(k) & (m->cap - 1);
    while (m->keys[i] != NULL && strcmp(m->keys[i], k) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

void *
fhir_map_get(const struct fd_map *m, const char *k)
{
    size_t i;
    if (m->cap == 0)
        return NULL;
    i = map_slot(m, k);
    return m->keys[i] ? m->vals[i] : NULL;
}

/* size zeroed bytes that live as long as m (8-byte aligned). */
void *
fhir_map_alloc(struct fd_map *m, size_t size)
{
    void *p;

    size = (size + 7) & ~(size_t)7;
    if (m->chunks == NULL || m->chunks->cap - m->chunks->used < size) {
        size_t cap = 65536 - sizeof(struct fd_chunk);
        struct fd_chunk *c;
        if (size > cap)
            cap = size;
        c = sl_malloc(sizeof(*c) + cap);
        c->next = m->chunks;
        c->used = 0;
        c->cap = cap;
        m->chunks = c;
    }
    p = m->chunks->data + m->chunks->used;
    m->chunks->used += size;
    memset(p, 0, size);
    return p;
}

/* Returns the slot's value pointer for k, creating an empty slot. */
void **
fhir_map_put(struct fd_map *m, const char *k)
{
    size_t i;

    /* grown at three quarters full: linear probing stays short there, and
     * pass 1 keeps a map entry per patient */
    if ((m->n + 1) * 4 > m->cap * 3) {
        struct fd_map t = { 0 };
        t.cap = m->cap ? m->cap * 2 : 64;
        t.keys = sl_calloc(t.cap, sizeof(char *));
        t.vals = sl_calloc(t.cap, sizeof(void *));
        for (i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t j = map_slot(&t, m->keys[i]);
                t.keys[j] = m->keys[i];
                t.vals[j] = m->vals[i];
            }
        free(m->keys);
        free(m->vals);
        m->keys = t.keys;
        m->vals = t.vals;
        m->cap = t.cap;
    }
    i = map_slot(m, k);
    if (m->keys[i] == NULL) {
        size_t n = strlen(k) + 1;
        m->keys[i] = memcpy(fhir_map_alloc(m, n), k, n);
        m->n++;
    }
    return &m->vals[i];
}

void
fhir_map_free(struct fd_map *m, void (*free_val)(void *))
{
    size_t i;
    for (i = 0; i < m->cap; i++)
        if (m->keys[i] && free_val)
            free_val(m->vals[i]);
    while (m->chunks) {
        struct fd_chunk *c = m->chunks;
        m->chunks = c->next;
        explicit_bzero(c->data, c->used); /* ids of patients */
        free(c);
    }
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

/* ---- identifier forms by hash (struct fd_idents) ---- */

static uint64_t
fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;
    return h;
}

void
fhir_idents_init(struct fd_idents *m)
{
    uint64_t seed[2];

    memset(m, 0, sizeof(*m));
    if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
        /* no entropy: the clock, still unknown to whoever wrote the input */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed[0] = fmix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30));
        seed[1] = fmix64(seed[0] ^ (uint64_t)(uintptr_t)m);
    }
    m->seed1 = seed[0];
    m->seed2 = seed[1];
}

static void
ident_hash(const struct fd_idents *m, const char *form, uint64_t *h1,
           uint64_t *h2)
{
    uint64_t a = m->seed1 ^ SL_FNV1A64_OFFSET, b = m->seed2;
    const unsigned char *p = (const unsigned char *)form;

    for (; *p; p++) {
        a = (a ^ *p) * SL_FNV1A64_PRIME;
        b = ((b ^ *p) * 0x9E3779B97F4A7C15ULL);
        b ^= b >> 29;
    }
    *h1 = fmix64(a) | 1; /* never 0: 0 marks an empty slot */
    *h2 = fmix64(b ^ (uint64_t)(p - (const unsigned char *)form));
}

static struct fd_ident *
ident_slot(struct fd_ident *slot, size_t cap, uint64_t h1, uint64_t h2)
{
    size_t i = (size_t)(h1 >> 7) & (cap - 1);

    while (slot[i].h1 != 0 && !(slot[i].h1 == h1 && slot[i].h2 == h2))
        i = (i + 1) & (cap - 1);
    return &slot[i];
}

void
fhir_idents_put(struct fd_idents *m, const char *form, const char *key)
{
    struct fd_ident *e;
    uint64_t h1, h2;

    if ((m->n + 1) * 4 > m->cap * 3) {
        size_t cap = m->cap ? m->cap * 2 : 64, i;
        struct fd_ident *t = sl_calloc(cap, sizeof(*t));
        for (i = 0; i < m->cap; i++)
            if (m->slot[i].h1 != 0)
                *ident_slot(t, cap, m->slot[i].h1, m->slot[i].h2) = m->slot[i];
        if (m->slot)
            sl_freezero(m->slot, m->cap * sizeof(*m->slot));
        m->slot = t;
        m->cap = cap;
    }
    ident_hash(m, form, &h1, &h2);
    e = ident_slot(m->slot, m->cap, h1, h2);
    if (e->h1 == 0) {
        e->h1 = h1;
        e->h2 = h2;
        e->key = key;
        m->n++;
    } else if (strcmp(e->key, key) != 0)
        e->ambiguous = 1;
}

const struct fd_ident *
fhir_idents_get(const struct fd_idents *m, const char *form)
{
    const struct fd_ident *e;
    uint64_t h1, h2;

    if (m->cap == 0)
        return NULL;
    ident_hash(m, form, &h1, &h2);
    e = ident_slot(m->slot, m->cap, h1, h2);
    return e->h1 != 0 ? e : NULL;
}

void
fhir_idents_free(struct fd_idents *m)
{
    if (m->slot)
        sl_freezero(m->slot, m->cap * sizeof(*m->slot));
    m->slot = NULL;
    m->cap = m->n = 0;
}

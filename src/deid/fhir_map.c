/* fhir_map.c - the string-keyed map of the FHIR engine's pass 1 (see
 * fhir_int.h): open addressing, keys and values in chunks freed with it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

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

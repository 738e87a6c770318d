/* jtape_alloc.c - jansson's small blocks kept per thread for reuse.
 *
 * A worker builds a jansson document for every FHIR resource (a hundred
 * small blocks or so) and frees it once the resource is written: glibc's
 * per-thread cache keeps seven blocks of a size, so most of those blocks
 * went through malloc's slower paths on every resource. Here each thread
 * keeps up to JA_KEEP freed blocks of each small size and hands them back
 * to the next document.
 *
 * Every block still comes from malloc() and is binned by its own usable
 * size (malloc_usable_size), so a block may be freed by free() (what
 * json_dumps returns is) or by this cache on any thread, and the cache may
 * be installed while jansson is in use: what malloc gave is what free
 * takes back. A thread's cache is freed when the thread ends. Under
 * AddressSanitizer nothing is installed, so that a use after free of a
 * document is still caught. */
#include "config.h"

#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#include "fhir/jtape.h"

/* glibc's chunks are multiples of 16 bytes with 8 usable bytes fewer:
 * class k holds blocks of 16 k - 8 usable bytes (24 to 248) */
#define JA_CLASSES 16
/* blocks kept a class: at most about 500 KB a thread in all */
#define JA_KEEP 128

struct ja_block {
    struct ja_block *next;
};

struct ja_cache {
    struct ja_block *head[JA_CLASSES];
    unsigned n[JA_CLASSES];
};

static __thread struct ja_cache *ja_tls;
static pthread_key_t ja_key;
static pthread_once_t ja_once = PTHREAD_ONCE_INIT;
static int ja_keyed;

static void
ja_drain(void *p)
{
    struct ja_cache *c = p;
    size_t k;

    if (c == NULL)
        return;
    for (k = 0; k < JA_CLASSES; k++)
        while (c->head[k] != NULL) {
            struct ja_block *b = c->head[k];
            c->head[k] = b->next;
            free(b);
        }
    free(c);
}

/* The calling thread's cache, made on its first use; NULL when it cannot
 * be (then blocks go straight to malloc and free). */
static struct ja_cache *
ja_cache(void)
{
    struct ja_cache *c = ja_tls;

    if (c != NULL || !ja_keyed)
        return c;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return NULL;
    if (pthread_setspecific(ja_key, c) != 0) {
        free(c);
        return NULL;
    }
    ja_tls = c;
    return c;
}

static void *
ja_malloc(size_t n)
{
    size_t k = (n + 8 + 15) / 16;
    struct ja_cache *c;
    struct ja_block *b;

    if (k < 2)
        k = 2;
    if (k < JA_CLASSES && (c = ja_cache()) != NULL &&
        (b = c->head[k]) != NULL) {
        c->head[k] = b->next;
        c->n[k]--;
        return b;
    }
    return malloc(n);
}

static void
ja_free(void *p)
{
    struct ja_cache *c;
    size_t k;

    if (p == NULL)
        return;
    k = (malloc_usable_size(p) + 8) / 16;
    /* classes 0 and 1 are never handed out (ja_malloc asks for 2 or
     * more), and a block under 8 usable bytes (valgrind's malloc gives
     * exactly what was asked) cannot hold the link */
    if (k >= 2 && k < JA_CLASSES && (c = ja_cache()) != NULL &&
        c->n[k] < JA_KEEP) {
        struct ja_block *b = p;
        b->next = c->head[k];
        c->head[k] = b;
        c->n[k]++;
        return;
    }
    free(p);
}

/* The main thread's cache, which no thread-exit destructor frees. */
static void
ja_exit(void)
{
    struct ja_cache *c = ja_tls;

    ja_tls = NULL;
    if (c != NULL)
        pthread_setspecific(ja_key, NULL);
    ja_keyed = 0; /* blocks freed after this go back to free() */
    ja_drain(c);
}

static void
ja_install(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return;
#else
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
    return;
#endif
#endif
    if (pthread_key_create(&ja_key, ja_drain) != 0)
        return;
    ja_keyed = 1;
    atexit(ja_exit);
    json_set_alloc_funcs(ja_malloc, ja_free);
#endif
}

void
sl_jtape_alloc_install(void)
{
    pthread_once(&ja_once, ja_install);
}

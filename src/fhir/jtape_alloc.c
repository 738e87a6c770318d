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
 * AddressSanitizer no block is kept, so that a use after free of a
 * document is still caught.
 *
 * The same functions let a decimal keep the text it was read from
 * (sl_jtape_real_lex): FHIR says a decimal's precision is part of its
 * value (1.50 is not 1.5), and jansson keeps only the double. The text
 * goes after jansson's json_real_t in the block malloc gives, behind a
 * tag made from the block's address; the tag is wiped when any block is
 * freed, so that a block malloc hands out later never holds a stale one. */
#include "config.h"

#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
/* the text of the real json_real() is about to allocate, or NULL */
static __thread const char *ja_lex;
static __thread size_t ja_lex_len;
/* jansson's sizeof(json_real_t), learnt at installation; 0 before */
static size_t ja_real_size;
/* where a real's tag ends (ja_tag_at() + 8), SIZE_MAX before it is known */
static size_t ja_tag_end = SIZE_MAX;
static int ja_on; /* the functions are installed */
static int ja_keep; /* blocks are kept (not under AddressSanitizer) */
#define JA_TAG 0x736c756963652e64ULL

/* Where the tag of a real's block is (its text follows). */
static size_t
ja_tag_at(void)
{
    return (__atomic_load_n(&ja_real_size, __ATOMIC_RELAXED) + 7) &
           ~(size_t)7;
}
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
static inline __attribute__((always_inline)) struct ja_cache *
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

/* A real's block with its text, when ja_lex is set: what json_real()
 * asks for comes from here. */
static void *
ja_malloc_lex(size_t n)
{
    size_t at;
    uint64_t tag;
    char *p;

    if (__atomic_load_n(&ja_real_size, __ATOMIC_RELAXED) == 0) {
        /* the probe at installation */
        __atomic_store_n(&ja_real_size, n, __ATOMIC_RELAXED);
        return malloc(n);
    }
    at = ja_tag_at();
    if (n != __atomic_load_n(&ja_real_size, __ATOMIC_RELAXED) ||
        (p = malloc(at + 8 + ja_lex_len + 1)) == NULL)
        return malloc(n);
    tag = JA_TAG ^ (uint64_t)(uintptr_t)p;
    memcpy(p + at, &tag, 8);
    memcpy(p + at + 8, ja_lex, ja_lex_len);
    p[at + 8 + ja_lex_len] = '\0';
    return p;
}

static void *
ja_malloc(size_t n)
{
    size_t k = (n + 8 + 15) / 16;
    struct ja_cache *c;
    struct ja_block *b;

    if (__builtin_expect(ja_lex != NULL, 0))
        return ja_malloc_lex(n);
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
    size_t k, u, end;

    if (p == NULL)
        return;
    u = malloc_usable_size(p);
    /* a real's text never outlives its block: what malloc hands out next
     * at this address, perhaps with more room than asked, has no tag */
    end = __atomic_load_n(&ja_tag_end, __ATOMIC_RELAXED);
    if (u >= end)
        memset((char *)p + end - 8, 0, 8);
    k = (u + 8) / 16;
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
    json_t *probe;

    ja_keep = 1;
#if defined(__SANITIZE_ADDRESS__)
    ja_keep = 0;
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
    ja_keep = 0;
#endif
#endif
    if (ja_keep && pthread_key_create(&ja_key, ja_drain) == 0) {
        ja_keyed = 1;
        atexit(ja_exit);
    }
    json_set_alloc_funcs(ja_malloc, ja_free);
    /* learn the size of json_real_t */
    ja_lex = "";
    ja_lex_len = 0;
    probe = json_real(0.0);
    ja_lex = NULL;
    json_decref(probe);
    if (ja_real_size != 0)
        __atomic_store_n(&ja_tag_end, ja_tag_at() + 8, __ATOMIC_RELAXED);
    __atomic_store_n(&ja_on, ja_real_size != 0, __ATOMIC_RELEASE);
}

void
sl_jtape_alloc_install(void)
{
    pthread_once(&ja_once, ja_install);
}

json_t *
sl_jtape_real_lex(double v, const char *text, size_t len)
{
    json_t *r;

    sl_jtape_alloc_install();
    if (!__atomic_load_n(&ja_on, __ATOMIC_ACQUIRE))
        return json_real(v);
    ja_lex = text;
    ja_lex_len = len;
    r = json_real(v);
    ja_lex = NULL;
    return r;
}

const char *
sl_jtape_real_text(const json_t *r, size_t *len)
{
    size_t at, u, n;
    uint64_t tag;
    const char *p = (const char *)r, *t;

    if (!__atomic_load_n(&ja_on, __ATOMIC_ACQUIRE) || !json_is_real(r))
        return NULL;
    at = ja_tag_at();
    u = malloc_usable_size((void *)(uintptr_t)r);
    if (u < at + 8 + 2)
        return NULL;
    memcpy(&tag, p + at, 8);
    if (tag != (JA_TAG ^ (uint64_t)(uintptr_t)r))
        return NULL;
    t = p + at + 8;
    n = strnlen(t, u - at - 8);
    /* json_real_set() since: the text is no longer the value's */
    if (n == 0 || n == u - at - 8 || strtod(t, NULL) != json_real_value(r))
        return NULL;
    *len = n;
    return t;
}

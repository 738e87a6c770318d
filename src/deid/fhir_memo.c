/* fhir_memo.c - what pass 2 has already worked out, remembered per
 * thread across resources (see fhir_int.h): pseudonyms and date shifts
 * (an HMAC each; a patient's id, MRN and encounters come back in every
 * resource of theirs), and the strings the leak scan or the scrubber
 * found clean (codes, systems, units and displays come back in most
 * resources).
 *
 * Each thread has one direct-mapped table of short strings (FM_KEY bytes
 * at most: longer ones are not remembered). An entry is found by the
 * exact bytes, not by a hash alone, so a hit gives what the full work
 * would have given; it is tied to the engine (its serial number) or to
 * one state of the learned-value set (its version, which changes with
 * every value added), so nothing is taken from another engine, key or
 * set. The table holds identifiers: it is wiped when its thread ends and
 * by sl_fhir_deid_free on the thread that calls it. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "deid/fhir_int.h"

#define FM_KEY FHIR_MEMO_KEY

/* The kinds of entries, each with its own part of the table (powers of
 * 2), so that the many strings the leak scan remembers do not push out
 * the few pseudonyms each resource comes back to. */
enum { FM_PSEUDONYM, FM_SHIFT, FM_CLEAN_SCAN, FM_CLEAN_SCRUB, FM_NKINDS };
static const size_t fm_size[FM_NKINDS] = { 512, 256, 2048, 512 };
static const size_t fm_base[FM_NKINDS] = { 0, 512, 768, 2816 };
#define FM_SLOTS 3328

struct fm_entry {
    uint64_t owner; /* engine serial or vset version; 0: empty */
    uint64_t h;
    const void *tag; /* the pseudonym's domain; NULL for the others */
    unsigned char kind, len;
    char key[FM_KEY];
    union {
        char ps[SL_PSEUDONYM_LEN + 1];
        int shift;
    } u;
};

struct fm_table {
    struct fm_entry e[FM_SLOTS];
    /* the last look-up that missed without filling: where _add puts it */
    const char *miss_s;
    size_t miss_n;
    struct fm_entry *miss_e;
    uint64_t miss_h, miss_owner;
    int miss_kind;
};

static pthread_key_t fm_key;
static pthread_once_t fm_once = PTHREAD_ONCE_INIT;
static atomic_uint_fast64_t fm_serial;
/* this thread's table, as the key holds it: the key is only there for its
 * destructor (the wipe at the thread's end); every look-up reads this
 * instead of pthread_once and pthread_getspecific (two calls a string) */
static _Thread_local struct fm_table *fm_mine;

static void
fm_destroy(void *p)
{
    if (p) {
        if (p == fm_mine)
            fm_mine = NULL;
        sl_freezero(p, sizeof(struct fm_table));
    }
}

static void
fm_init(void)
{
    if (pthread_key_create(&fm_key, fm_destroy) != 0)
        abort();
}

uint64_t
fhir_memo_serial(void)
{
    return (uint64_t)atomic_fetch_add(&fm_serial, 1) + 1;
}

static struct fm_table *
table(void)
{
    struct fm_table *t = fm_mine;

    if (t != NULL)
        return t;
    pthread_once(&fm_once, fm_init);
    t = pthread_getspecific(fm_key);
    if (t == NULL) {
        t = sl_calloc(1, sizeof(*t));
        if (pthread_setspecific(fm_key, t) != 0) {
            free(t);
            return NULL;
        }
    }
    fm_mine = t;
    return t;
}

void
fhir_memo_release(void)
{
    struct fm_table *t;

    pthread_once(&fm_once, fm_init);
    t = pthread_getspecific(fm_key);
    fm_mine = NULL;
    if (t != NULL) {
        pthread_setspecific(fm_key, NULL);
        fm_destroy(t);
    }
}

static uint64_t
mix(uint64_t h, uint64_t owner, int kind, const void *tag)
{
    h ^= owner * 0x9E3779B97F4A7C15ULL;
    h ^= (uint64_t)(uintptr_t)tag * 0xC2B2AE3D27D4EB4FULL;
    h ^= (uint64_t)kind;
    h ^= h >> 29;
    return h;
}

/* The entry of s (n bytes) for (owner, kind, tag): *hit says whether it
 * holds s; if not and fill, it is made to hold s (its payload is the
 * caller's to set). NULL when s is too long to be remembered. */
static struct fm_entry *
lookup(uint64_t owner, int kind, const void *tag, const char *s, size_t n,
       int fill, int *hit)
{
    struct fm_table *t;
    struct fm_entry *e;
    uint64_t h;
    size_t i;

    *hit = 0;
    if (n > FM_KEY || owner == 0 || (t = table()) == NULL)
        return NULL;
    /* 8 bytes at a time: this runs for most strings of the output */
    h = SL_FNV1A64_OFFSET ^ (uint64_t)n;
    for (i = 0; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
        h ^= h >> 32;
    }
    for (; i < n; i++)
        h = sl_fnv1a64_step(h, (unsigned char)s[i]);
    h = mix(h, owner, kind, tag);
    e = &t->e[fm_base[kind] + ((h >> 7) & (fm_size[kind] - 1))];
    *hit = e->owner == owner && e->h == h && e->kind == kind && e->tag == tag &&
           e->len == n && memcmp(e->key, s, n) == 0;
    t->miss_s = NULL;
    if (!*hit && !fill) {
        t->miss_s = s;
        t->miss_n = n;
        t->miss_e = e;
        t->miss_h = h;
        t->miss_owner = owner;
        t->miss_kind = kind;
    }
    if (!*hit && fill) {
        e->owner = owner;
        e->h = h;
        e->kind = (unsigned char)kind;
        e->tag = tag;
        e->len = (unsigned char)n;
        memcpy(e->key, s, n);
    }
    return e;
}

void
fhir_memo_pseudonym(const struct sl_fhir_deid *d, const char *domain,
                    const char *v, char *out)
{
    size_t n = strlen(v);
    int hit;
    struct fm_entry *e = lookup(d->serial, FM_PSEUDONYM, domain, v, n, 1, &hit);

    if (e && hit) {
        memcpy(out, e->u.ps, SL_PSEUDONYM_LEN + 1);
        return;
    }
    sl_keys_pseudonym(d->keys, domain, v, n, out);
    if (e)
        memcpy(e->u.ps, out, SL_PSEUDONYM_LEN + 1);
}

int
fhir_memo_date_shift(const struct sl_fhir_deid *d, const char *k)
{
    int hit;
    struct fm_entry *e =
        lookup(d->serial, FM_SHIFT, NULL, k, strlen(k), 1, &hit);

    if (e && hit)
        return e->u.shift;
    if (e == NULL)
        return sl_keys_date_shift(d->keys, k, d->shift_min, d->shift_max);
    e->u.shift = sl_keys_date_shift(d->keys, k, d->shift_min, d->shift_max);
    return e->u.shift;
}

/* A clean entry is only made once the work has found s clean: a look-up
 * that misses leaves nothing behind. */
static int
clean_known(const struct sl_fhir_vset *s, int kind, const char *text, size_t n)
{
    int hit;

    (void)lookup(s->version, kind, NULL, text, n, 0, &hit);
    return hit;
}

static void
clean_add(const struct sl_fhir_vset *s, int kind, const char *text, size_t n)
{
    struct fm_table *t;
    struct fm_entry *e;
    int hit;

    /* no table yet when every look-up so far declined early */
    t = fm_mine;
    if (t && t->miss_s == text && t->miss_n == n &&
        t->miss_owner == s->version && t->miss_kind == kind) {
        /* the look-up just before: no need to hash it again */
        e = t->miss_e;
        e->owner = t->miss_owner;
        e->h = t->miss_h;
        e->kind = (unsigned char)kind;
        e->tag = NULL;
        e->len = (unsigned char)n;
        memcpy(e->key, text, n);
        t->miss_s = NULL;
        return;
    }
    (void)lookup(s->version, kind, NULL, text, n, 1, &hit);
}

int
fhir_memo_scan_clean(const struct sl_fhir_vset *s, const char *text, size_t n)
{
    return clean_known(s, FM_CLEAN_SCAN, text, n);
}

void
fhir_memo_scan_clean_add(const struct sl_fhir_vset *s, const char *text,
                         size_t n)
{
    clean_add(s, FM_CLEAN_SCAN, text, n);
}

int
fhir_memo_scrub_clean(const struct sl_fhir_vset *s, const char *text, size_t n)
{
    return clean_known(s, FM_CLEAN_SCRUB, text, n);
}

void
fhir_memo_scrub_clean_add(const struct sl_fhir_vset *s, const char *text,
                          size_t n)
{
    clean_add(s, FM_CLEAN_SCRUB, text, n);
}

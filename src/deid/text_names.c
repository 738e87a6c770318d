/* text_names.c - personal names in free text (see text_detect.h), from
 * the name dictionary of profiles/names/ (generated at build time into
 * text_names.inc) where they stand as names. */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deid/text_detect_int.h"

/* ---- the name dictionary ---- */

enum { NF_GIVEN = 1, NF_SUR = 2, NF_WORD = 4, NF_EPONYM = 8 };

struct name_ent {
    const char *n;
    unsigned char f;
};

static const struct name_ent names[] = {
#include "deid/text_names.inc"
};

/* The dictionary hashed once (FNV-1a of the lower-case name) into an
 * open-addressed table of indexes: a capitalised word costs one probe or
 * two, not the fifteen comparisons of a binary search. */
#define NAME_SLOTS (1u << 16)
static unsigned name_slot[NAME_SLOTS]; /* index + 1; 0: empty */
static pthread_once_t name_once = PTHREAD_ONCE_INIT;

static uint32_t
name_hash(const char *k, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 16777619u;
    return h;
}

static void
name_index(void)
{
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        uint32_t h = name_hash(names[i].n, strlen(names[i].n)) &
                     (NAME_SLOTS - 1);
        while (name_slot[h] != 0)
            h = (h + 1) & (NAME_SLOTS - 1);
        name_slot[h] = (unsigned)i + 1;
    }
}

static int
name_flags(const struct scan *s, size_t a, size_t b)
{
    char k[32];
    size_t n = b - a, i;
    uint32_t h;

    if (n >= 2 && s->t[b - 2] == '\'' && lower(s->t[b - 1]) == 's')
        n -= 2;
    if (n < 2 || n >= sizeof(k))
        return 0;
    for (i = 0; i < n; i++)
        k[i] = (char)lower(s->t[a + i]);
    k[n] = '\0';
    pthread_once(&name_once, name_index);
    for (h = name_hash(k, n) & (NAME_SLOTS - 1); name_slot[h] != 0;
         h = (h + 1) & (NAME_SLOTS - 1)) {
        const struct name_ent *e = &names[name_slot[h] - 1];
        if (strcmp(e->n, k) == 0)
            return e->f;
    }
    return 0;
}

/* A capitalised word at i: letters with inner ' or - ("O'Brien",
 * "Smith-Jones"), the first upper case and the rest not all upper case
 * unless caps is set; or an initial "J."; its end, or 0. */
static size_t
cap_word(const struct scan *s, size_t i, int *initial)
{
    size_t j = i;

    *initial = 0;
    if (!is_upper(at(s, i)))
        return 0;
    if (at(s, i + 1) == '.' && !is_alnum(at(s, i + 2))) {
        *initial = 1;
        return i + 2;
    }
    j = i + 1;
    while (is_alpha(at(s, j)) ||
           ((at(s, j) == '\'' || at(s, j) == '-') && is_alpha(at(s, j + 1))))
        j++;
    if (j - i < 2 || is_digit(at(s, j)))
        return 0;
    return j;
}

#define MAXPARTS 4

/* 1 when the word [a, b) is all capitals ("SMITH") */
static int
all_caps(const struct scan *s, size_t a, size_t b)
{
    for (; a < b; a++)
        if (is_lower(s->t[a]))
            return 0;
    return 1;
}

static int
is_strong_given(int f)
{
    return (f & NF_GIVEN) && !(f & (NF_WORD | NF_EPONYM));
}

/* 1 when the word after e (a space, then a capitalised word) is a
 * surname that is not a given name, a common word or an eponym */
static int
strong_surname_next(const struct scan *s, size_t e)
{
    int ini, f;
    size_t e2;

    if (at(s, e) != ' ' || (e2 = cap_word(s, e + 1, &ini)) == 0 || ini ||
        all_caps(s, e + 1, e2))
        return 0;
    f = name_flags(s, e + 1, e2);
    return f == NF_SUR;
}

/* Names at i, a capitalised word: the run of capitalised words from
 * there (at most MAXPARTS; it ends after a part that cannot be a given
 * name) is a name when a title stands before it, when two or more of
 * them are dictionary names (a given name or an initial then a surname,
 * or one that is neither a common word nor an eponym), or when it is one
 * given name that is neither (and not in capitals: "ED"). Returns the
 * end of what was read, or 0. */
size_t
sl_text_names_at(struct scan *s, size_t i, int after_title)
{
    size_t st[MAXPARTS], en[MAXPARTS], j = i, np = 0, k;
    int fl[MAXPARTS], ini[MAXPARTS], caps = 0, strong = 0, words = 0;
    unsigned char named;

    while (np < MAXPARTS) {
        size_t e = cap_word(s, j, &ini[np]);
        if (e == 0)
            break;
        fl[np] = ini[np] ? 0 : name_flags(s, j, e);
        /* a month is a date's word before it is a name */
        if (fl[np] && sl_text_month(s, j, e, &named))
            fl[np] |= NF_WORD;
        /* a word the dictionary does not know is a name part only after
         * a title, an initial or a given name that is not a common word
         * ("Patricia Okafor", "J. Okafor"), or before a surname that is
         * not one ("Priya Fitzgerald") */
        if (!ini[np] && fl[np] == 0 && !(after_title && np == 0) &&
            !(np > 0 &&
              (after_title || ini[np - 1] || is_strong_given(fl[np - 1]))) &&
            !(np == 0 && strong_surname_next(s, e)))
            break;
        if (!ini[np])
            caps |= all_caps(s, j, e);
        if (e - j > 2 && s->t[e - 2] == '\'' && lower(s->t[e - 1]) == 's')
            e -= 2; /* "Smith's" */
        st[np] = j;
        en[np] = e;
        np++;
        /* the run goes on after an initial, a given name, or the first
         * word after a title or before a surname */
        if (at(s, e) != ' ' || !(ini[np - 1] || (fl[np - 1] & NF_GIVEN) ||
                                 (np == 1 && fl[0] == 0)))
            break;
        j = e + 1;
    }
    /* "Walker, Daniel": a surname, a comma, a given name, one of them
     * not a common word */
    if (np == 1 && !ini[0] && (fl[0] & NF_SUR) && at(s, en[0]) == ',' &&
        at(s, en[0] + 1) == ' ') {
        int i2, f2;
        size_t e2 = cap_word(s, en[0] + 2, &i2);
        if (e2 && !i2 && ((f2 = name_flags(s, en[0] + 2, e2)) & NF_GIVEN) &&
            !all_caps(s, st[0], en[0]) && !all_caps(s, en[0] + 2, e2) &&
            (is_strong_given(f2) || !(fl[0] & (NF_WORD | NF_EPONYM)))) {
            sl_text_add(s, st[0], e2, SL_TEXT_NAME);
            return e2;
        }
    }
    /* a trailing initial is the next sentence's capital: "… Smith. A" */
    while (np > 0 && ini[np - 1])
        np--;
    if (np == 0)
        return 0;
    if (after_title) {
        sl_text_add(s, st[0], en[np - 1], SL_TEXT_NAME);
        return en[np - 1];
    }
    for (k = 0; k < np; k++) {
        if (ini[k])
            continue;
        words++;
        if (!(fl[k] & (NF_WORD | NF_EPONYM)))
            strong++;
    }
    if (words == 0)
        return 0;
    if (np >= 2) {
        int first_given = ini[0] || (fl[0] & NF_GIVEN);
        int last_sur = (fl[np - 1] & NF_SUR) != 0;
        if ((strong && !caps) || (first_given && last_sur)) {
            sl_text_add(s, st[0], en[np - 1], SL_TEXT_NAME);
            return en[np - 1];
        }
        return 0;
    }
    if ((fl[0] & NF_GIVEN) && !(fl[0] & (NF_WORD | NF_EPONYM)) && !caps) {
        sl_text_add(s, st[0], en[0], SL_TEXT_NAME);
        return en[0];
    }
    return 0;
}

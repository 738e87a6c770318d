/* dicom_deid_memo.c - each thread's memos, tied to one engine (an engine
 * made later never sees another's entries):
 *   - the values the key derives that repeat from one instance to the
 *     next: the new UIDs of a study, its series and frame of reference,
 *     a patient's pseudonyms and date shift. Each is a keyed HMAC
 *     (sl_keys_*, some 6,000 to 9,000 instructions), taken some seven
 *     times an instance, five of them giving what the instance before
 *     had. A few entries, the least recently used replaced; wiped when
 *     the thread ends, since they hold identifiers;
 *   - the action the rules give a standard element (by tag, VR and
 *     enclosing sequence): a binary search and a scan of the pattern and
 *     VR rules, some 500 instructions, for each element of each
 *     instance. Tags only, nothing to wipe. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "deid/dicom_deid_int.h"
#include "keys/keys.h"

#define MEMO_N 8

struct memo_entry {
    char what[24];           /* "uid", "p:" domain, "shift:min:max" */
    char in[SL_UID_MAX + 1]; /* the original */
    char out[SL_UID_MAX + 1];
    int shift;
    unsigned long used; /* when last found or made (memo.clock) */
};

struct memo {
    unsigned long engine; /* sl_dicom_deid.memo_id; 0: empty */
    unsigned long clock;
    struct memo_entry e[MEMO_N];
};

static _Thread_local struct memo memo;
static pthread_key_t memo_key;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;
static int memo_key_ok;

static void
memo_wipe(void *p)
{
    explicit_bzero(p, sizeof(struct memo));
}

static void
memo_init(void)
{
    memo_key_ok = pthread_key_create(&memo_key, memo_wipe) == 0;
}

/* The calling thread's memo for engine d, emptied when it held another
 * engine's values; NULL when it cannot be wiped at the thread's end (no
 * memo then). */
static struct memo *
memo_for(const struct sl_dicom_deid *d)
{
    pthread_once(&memo_once, memo_init);
    if (!memo_key_ok)
        return NULL;
    if (memo.engine != d->memo_id) {
        if (memo.engine == 0 &&
            pthread_setspecific(memo_key, &memo) != 0)
            return NULL;
        explicit_bzero(memo.e, sizeof(memo.e));
        memo.engine = d->memo_id;
        memo.clock = 0;
    }
    return &memo;
}

static struct memo_entry *
memo_find(struct memo *m, const char *what, const char *in)
{
    size_t i;

    for (i = 0; i < MEMO_N; i++)
        if (m->e[i].what[0] != '\0' && strcmp(m->e[i].in, in) == 0 &&
            strcmp(m->e[i].what, what) == 0) {
            m->e[i].used = ++m->clock;
            return &m->e[i];
        }
    return NULL;
}

/* The entry least recently found or made, given over to (what, in): the
 * SOP Instance UID, new with every instance, does not push out the
 * study's and the patient's values, found again in every instance (taken
 * in turn, they were: one HMAC in three came back). */
static struct memo_entry *
memo_add(struct memo *m, const char *what, const char *in)
{
    struct memo_entry *e = &m->e[0];
    size_t i;

    for (i = 1; i < MEMO_N; i++)
        if (m->e[i].used < e->used)
            e = &m->e[i];
    e->used = ++m->clock;
    snprintf(e->what, sizeof(e->what), "%s", what);
    snprintf(e->in, sizeof(e->in), "%s", in);
    return e;
}

unsigned long
sl_dd_memo_id(void)
{
    static atomic_ulong last;

    return atomic_fetch_add(&last, 1) + 1;
}

void
sl_dd_uid(const struct sl_dicom_deid *d, const char *uid, char *out)
{
    struct memo *m;
    struct memo_entry *e;

    if (strlen(uid) > SL_UID_MAX || (m = memo_for(d)) == NULL) {
        sl_keys_uid(d->keys, uid, out);
        return;
    }
    if ((e = memo_find(m, "uid", uid)) == NULL) {
        e = memo_add(m, "uid", uid);
        sl_keys_uid(d->keys, uid, e->out);
    }
    memcpy(out, e->out, strlen(e->out) + 1);
}

void
sl_dd_pseudonym(const struct sl_dicom_deid *d, const char *domain,
                const char *value, size_t len, char *out)
{
    char what[24];
    struct memo *m;
    struct memo_entry *e;

    /* Whole C strings only, and a domain that fits. */
    if (len > SL_UID_MAX || strlen(value) != len ||
        (size_t)snprintf(what, sizeof(what), "p:%s", domain) >= sizeof(what) ||
        (m = memo_for(d)) == NULL) {
        sl_keys_pseudonym(d->keys, domain, value, len, out);
        return;
    }
    if ((e = memo_find(m, what, value)) == NULL) {
        e = memo_add(m, what, value);
        sl_keys_pseudonym(d->keys, domain, value, len, e->out);
    }
    memcpy(out, e->out, SL_PSEUDONYM_LEN + 1);
}

int
sl_dd_date_shift(const struct sl_dicom_deid *d, const char *patient_id,
                 int min_days, int max_days)
{
    char what[24];
    struct memo *m;
    struct memo_entry *e;

    if (strlen(patient_id) > SL_UID_MAX ||
        (size_t)snprintf(what, sizeof(what), "shift:%d:%d", min_days,
                         max_days) >= sizeof(what) ||
        (m = memo_for(d)) == NULL)
        return sl_keys_date_shift(d->keys, patient_id, min_days, max_days);
    if ((e = memo_find(m, what, patient_id)) == NULL) {
        e = memo_add(m, what, patient_id);
        e->shift = sl_keys_date_shift(d->keys, patient_id, min_days, max_days);
    }
    return e->shift;
}

/* The action memo: direct-mapped, an entry overwritten by the next key
 * that maps to it. */
#define ACTION_N 1024

struct action_entry {
    unsigned long engine; /* 0: empty */
    uint32_t tag, seq;
    char vr[2];
    int action;
    struct sl_dd_rule *rule;
};

static _Thread_local struct action_entry actions[ACTION_N];

static struct action_entry *
action_slot(uint32_t tag, const char *vr, uint32_t seq)
{
    uint32_t h = tag * 2654435761u ^ seq * 40503u ^
                 ((uint32_t)(unsigned char)vr[0] << 8 |
                  (unsigned char)vr[1]) * 97u;

    return &actions[(h >> 16 ^ h) % ACTION_N];
}

int
sl_dd_memo_action(const struct sl_dicom_deid *d, uint32_t tag,
                  const char *vr, uint32_t seq, struct sl_dd_rule **rule,
                  int *action)
{
    const struct action_entry *e = action_slot(tag, vr, seq);

    if (e->engine != d->memo_id || e->tag != tag || e->seq != seq ||
        e->vr[0] != vr[0] || e->vr[1] != vr[1])
        return 0;
    *rule = e->rule;
    *action = e->action;
    return 1;
}

void
sl_dd_memo_keep_action(const struct sl_dicom_deid *d, uint32_t tag,
                       const char *vr, uint32_t seq, struct sl_dd_rule *rule,
                       int action)
{
    struct action_entry *e = action_slot(tag, vr, seq);

    e->engine = d->memo_id;
    e->tag = tag;
    e->seq = seq;
    e->vr[0] = vr[0];
    e->vr[1] = vr[1];
    e->action = action;
    e->rule = rule;
}

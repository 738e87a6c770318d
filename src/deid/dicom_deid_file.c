/* dicom_deid_file.c - de-identifying one instance: quarantine checks,
 * collecting the identifiers, applying the rules at every depth, the leak
 * scan, conformance attributes, writing the output. On top of the engine
 * that dicom_deid.c compiles (rules, options, sl_dd_effective) and the
 * value transforms of dicom_deid_values.c. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deid/dicom_deid_int.h"
#include "dicom/dicom.h"

#define TAG(g, e)           (((uint32_t)(g) << 16) | (uint32_t)(e))
#define WELL_KNOWN_UID_ROOT "1.2.840.10008."
#define SR_CLASS_ROOT       "1.2.840.10008.5.1.4.1.1.88."
#define DOC_CLASS_ROOT      "1.2.840.10008.5.1.4.1.1.104."
#define SC_CLASS_ROOT       "1.2.840.10008.5.1.4.1.1.7"

/* Attributes whose values identify the patient or the people and places
 * around them, beyond every PN: looked for in what is kept (leak scan). */
static const uint32_t identifier_tags[] = {
    TAG(0x0010, 0x0020), /* Patient ID */
    TAG(0x0010, 0x1000), /* Other Patient IDs */
    TAG(0x0010, 0x0021), /* Issuer of Patient ID */
    TAG(0x0010, 0x1090), /* Medical Record Locator */
    TAG(0x0008, 0x0050), /* Accession Number */
    TAG(0x0008, 0x0080), /* Institution Name */
    TAG(0x0008, 0x0081), /* Institution Address */
    TAG(0x0008, 0x1040), /* Institutional Department Name */
    TAG(0x0010, 0x1040), /* Patient's Address */
    TAG(0x0010, 0x2154), /* Patient's Telephone Numbers */
    TAG(0x0038, 0x0010), /* Admission ID */
    TAG(0x0040, 0x2016), /* Placer Order Number / Imaging Service Request */
    TAG(0x0040, 0x2017), /* Filler Order Number */
};

/* Attributes the leak scan does not look into. */
static const uint32_t device_tags[] = {
    TAG(0x0008, 0x0070), /* Manufacturer */
    TAG(0x0008, 0x1090), /* Manufacturer's Model Name */
    TAG(0x0018, 0x1020), /* Software Versions */
};

/* The state of one call: nothing here is shared between threads. */
struct job {
    struct sl_dicom_deid *d;
    struct sl_dicom_file *f;
    struct sl_err *err;
    int pass;         /* 1: collect identifiers; 2: edit */
    char *patient_id; /* original (0010,0020), "" when absent */
    char name_pseudo[SL_PSEUDONYM_LEN + 1];
    int shift;             /* days, under the modified-dates option */
    struct sl_strv tokens; /* identifier values and their parts */
    uint32_t *token_src;   /* the tag each token came from */
    size_t token_cap;
    struct sl_buf val; /* the value handed back to the walk */
    struct sl_buf tmp;
    uint32_t leak_at, leak_from; /* first leak found (tags) */
    int leak;
    int shifted;
    const char *sop_uid; /* borrowed */
    char *ocr_note;      /* (0008,2111) after OCR blanking */
};

static int
has_prefix(const char *s, const char *prefix)
{
    return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

static int
popcount32(uint32_t v)
{
    int n = 0;

    for (; v != 0; v &= v - 1)
        n++;
    return n;
}

/* Whether candidate r (of specificity spec) beats *best: a later
 * document first, then a more specific match, then the later rule. */
static void
consider(struct sl_dd_rule *r, int spec, struct sl_dd_rule **best,
         int *best_spec)
{
    struct sl_dd_rule *b = *best;

    if (b == NULL || r->level > b->level ||
        (r->level == b->level &&
         (spec > *best_spec || (spec == *best_spec && r > b)))) {
        *best = r;
        *best_spec = spec;
    }
}

/* The first index in the sorted array whose tag is >= tag. */
static size_t
lower_bound(struct sl_dd_rule *const *v, size_t n, uint32_t tag)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid]->tag < tag)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The rule for a standard (even group) element inside the sequence seq
 * (0 at the top level). */
static struct sl_dd_rule *
find_standard(struct sl_dicom_deid *d, uint32_t tag, const char *vr,
              uint32_t seq)
{
    struct sl_dd_rule *best = NULL;
    int best_spec = -1;
    size_t i;

    for (i = lower_bound(d->exact, d->nexact, tag);
         i < d->nexact && d->exact[i]->tag == tag; i++) {
        struct sl_dd_rule *r = d->exact[i];
        if (r->in == 0)
            consider(r, 33, &best, &best_spec);
        else if (r->in == seq)
            consider(r, 34, &best, &best_spec);
    }
    for (i = 0; i < d->nloose; i++) {
        struct sl_dd_rule *r = d->loose[i];
        if (r->kind == SL_DDK_TAG) {
            if ((tag & r->mask) == r->tag)
                consider(r, popcount32(r->mask) + 1, &best, &best_spec);
        } else if (strcmp(r->vr, vr) == 0) {
            consider(r, 0, &best, &best_spec);
        }
    }
    return best;
}

/* The rule for a private data element (creator known), or NULL. */
static struct sl_dd_rule *
find_private(struct sl_dicom_deid *d, uint16_t group, uint16_t elem,
             const char *creator)
{
    struct sl_dd_rule *best = NULL;
    uint32_t key = TAG(group, elem & 0xFF);
    size_t i;

    if (creator == NULL)
        return NULL;
    for (i = lower_bound(d->priv, d->npriv, key);
         i < d->npriv && d->priv[i]->tag == key; i++) {
        struct sl_dd_rule *r = d->priv[i];
        if (strcmp(r->creator, creator) != 0 ||
            sl_dd_effective(d, r) == SL_DDA_NONE)
            continue;
        if (best == NULL || r->level >= best->level)
            best = r;
    }
    return best;
}

static struct sl_dd_rule *
find_private_all(struct sl_dicom_deid *d)
{
    return d->priv_all;
}

/* Whether any kept private rule names this creator in this group: its
 * creator element must stay for the kept elements to mean anything. */
static int
creator_kept(struct sl_dicom_deid *d, uint16_t group, const char *creator)
{
    size_t i;

    if (creator == NULL)
        return 0;
    for (i = lower_bound(d->priv, d->npriv, TAG(group, 0));
         i < d->npriv && (d->priv[i]->tag >> 16) == group; i++) {
        struct sl_dd_rule *r = d->priv[i];
        int a;
        if (strcmp(r->creator, creator) != 0)
            continue;
        a = sl_dd_effective(d, r);
        if (a != SL_DDA_NONE && a != SL_DDA_X)
            return 1;
    }
    return 0;
}

/* The action for an element, resolving the IOD-dependent codes towards
 * what keeps the instance valid when the IOD's Type is not known: a dummy
 * rather than an empty value, an empty value rather than removal. */
static int
action_for(struct job *j, const struct sl_dicom_elem *e,
           struct sl_dd_rule **rule)
{
    struct sl_dicom_deid *d = j->d;
    struct sl_dd_rule *r = NULL;
    uint32_t tag, seq;
    int a;

    *rule = NULL;
    if (e->group == 0x0002 || e->elem == 0x0000)
        return SL_DDA_X; /* meta and group lengths are rewritten */
    if ((e->group & 1) != 0) {
        struct sl_dd_rule *all = find_private_all(d);
        int dflt = all != NULL ? sl_dd_effective(d, all) : SL_DDA_X;
        /* C on "all private attributes" (Retain Safe Private) cleans:
         * only the safe ones named by a rule stay. */
        if (dflt == SL_DDA_C)
            dflt = SL_DDA_X;
        if (e->group <= 0x0007 || e->group == 0xFFFF)
            return SL_DDA_X; /* illegal groups */
        if (e->elem >= 0x0010 && e->elem <= 0x00FF) {
            *rule = all;
            return creator_kept(d, e->group, e->creator) ? SL_DDA_K : dflt;
        }
        if (e->elem < 0x1000) {
            *rule = all;
            return SL_DDA_X;
        }
        r = find_private(d, e->group, e->elem, e->creator);
        *rule = r != NULL ? r : all;
        return r != NULL ? sl_dd_effective(d, r) : dflt;
    }
    tag = TAG(e->group, e->elem);
    seq = e->depth > 0 ? TAG(e->seq_group, e->seq_elem) : 0;
    if (sl_dd_memo_action(d, tag, e->vr, seq, rule, &a))
        return a;
    r = find_standard(d, tag, e->vr, seq);
    a = r != NULL ? sl_dd_effective(d, r) : SL_DDA_K;
    switch (a) {
    case SL_DDA_XZ:
        a = SL_DDA_Z;
        break;
    case SL_DDA_XD:
    case SL_DDA_ZD:
    case SL_DDA_XZD:
        a = SL_DDA_D;
        break;
    case SL_DDA_XZU:
        /* U*: the UIDs; a sequence stays and the UIDs in it are mapped. */
        if (strcmp(e->vr, "SQ") == 0)
            a = SL_DDA_K;
        else
            a = strcmp(e->vr, "UI") == 0 ? SL_DDA_U : SL_DDA_Z;
        break;
    default:
        break;
    }
    sl_dd_memo_keep_action(d, tag, e->vr, seq, r, a);
    *rule = r;
    return a;
}

static void
add_token_src(struct job *j, size_t before, uint32_t tag)
{
    size_t i;

    if (j->tokens.n > j->token_cap) {
        j->token_cap = j->tokens.n * 2;
        j->token_src =
            sl_realloc(j->token_src, j->token_cap * sizeof(*j->token_src));
    }
    for (i = before; i < j->tokens.n; i++)
        j->token_src[i] = tag;
}

/* Maps every UID of a (multi-valued) UI value into j->val. */
static void
map_uids(struct job *j, const char *value)
{
    const char *p = value;

    sl_buf_reset(&j->val);
    for (;;) {
        const char *end = strchr(p, '\\');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        char *one = sl_strndup(p, n);
        char *s = one;
        size_t len;

        while (*s == ' ')
            s++;
        len = strlen(s);
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\0'))
            s[--len] = '\0';
        if (len == 0 || has_prefix(s, WELL_KNOWN_UID_ROOT)) {
            sl_buf_adds(&j->val, s);
        } else {
            char uid[SL_UID_MAX + 1];
            sl_dd_uid(j->d, s, uid);
            sl_buf_adds(&j->val, uid);
        }
        free(one);
        if (end == NULL)
            break;
        sl_buf_addc(&j->val, '\\');
        p = end + 1;
    }
}

/* Looks for the instance's identifiers in value, which stays as e's
 * value (NULL: e's own). */
static void
scan_value(struct job *j, const struct sl_dicom_elem *e, const char *value)
{
    size_t i;

    if (j->leak || j->tokens.n == 0 || !sl_dd_vr_is_text(e->vr))
        return;
    /* Device descriptors name makers, not people or places; a hospital
     * named like its scanner's maker is not a leak. */
    for (i = 0; i < sizeof(device_tags) / sizeof(device_tags[0]); i++)
        if (device_tags[i] == TAG(e->group, e->elem))
            return;
    if (value == NULL && (value = sl_dicom_elem_value(e)) == NULL)
        return;
    for (i = 0; i < j->tokens.n; i++) {
        if (sl_dd_contains_word(value, j->tokens.v[i])) {
            j->leak = 1;
            j->leak_at = TAG(e->group, e->elem);
            j->leak_from = j->token_src[i];
            return;
        }
    }
}

static void
scan(struct job *j, const struct sl_dicom_elem *e)
{
    scan_value(j, e, NULL);
}

static int
is_identifier_source(const struct sl_dicom_elem *e)
{
    size_t i;

    if (strcmp(e->vr, "PN") == 0)
        return 1;
    for (i = 0; i < sizeof(identifier_tags) / sizeof(identifier_tags[0]); i++)
        if (identifier_tags[i] == TAG(e->group, e->elem))
            return 1;
    return 0;
}

static int
visit(void *ctx, const struct sl_dicom_elem *e, int *op, const char **value)
{
    struct job *j = ctx;
    struct sl_dd_rule *rule = NULL;
    int a;
    const char *dummy;

    *op = SL_DICOM_KEEP;
    if (j->pass == 1) {
        /* Identifiers the profile does not keep on purpose (the rule is
         * looked up only for the few elements that can be one). */
        const char *v;
        if (is_identifier_source(e) && action_for(j, e, &rule) != SL_DDA_K &&
            (v = sl_dicom_elem_value(e)) != NULL) {
            size_t before = j->tokens.n;
            sl_dd_tokens(v, e->vr, &j->tokens);
            add_token_src(j, before, TAG(e->group, e->elem));
        }
        return SL_OK;
    }
    a = action_for(j, e, &rule);
    if (rule != NULL)
        atomic_fetch_add(&rule->hits, 1);
    switch (a) {
    case SL_DDA_X:
        *op = SL_DICOM_REMOVE;
        break;
    case SL_DDA_Z:
        *op = SL_DICOM_CLEAR;
        break;
    case SL_DDA_U:
        if (sl_dicom_elem_value(e) == NULL) {
            *op = strcmp(e->vr, "SQ") == 0 ? SL_DICOM_KEEP : SL_DICOM_CLEAR;
            break;
        }
        map_uids(j, sl_dicom_elem_value(e));
        *op = SL_DICOM_SET;
        *value = j->val.data;
        break;
    case SL_DDA_PSEUDONYM:
        if (sl_dicom_elem_value(e) == NULL ||
            sl_dicom_elem_value(e)[0] == '\0') {
            *op = SL_DICOM_CLEAR;
            break;
        }
        sl_buf_reset(&j->val);
        {
            char p[SL_PSEUDONYM_LEN + 1];
            sl_dd_pseudonym(j->d, SL_KD_IDENTIFIER, sl_dicom_elem_value(e),
                            strlen(sl_dicom_elem_value(e)), p);
            sl_buf_adds(&j->val, p);
        }
        *op = SL_DICOM_SET;
        *value = j->val.data;
        break;
    case SL_DDA_NAME:
        *op = SL_DICOM_SET;
        *value = j->name_pseudo;
        break;
    case SL_DDA_D:
        if (strcmp(e->vr, "SQ") == 0)
            break; /* kept; its items are cleaned by the walk */
        if (strcmp(e->vr, "UI") == 0 && sl_dicom_elem_value(e) != NULL) {
            map_uids(j, sl_dicom_elem_value(e));
            *op = SL_DICOM_SET;
            *value = j->val.data;
            break;
        }
        dummy = sl_dd_dummy(e->vr);
        if (dummy == NULL) {
            *op = SL_DICOM_CLEAR;
        } else {
            *op = SL_DICOM_SET;
            *value = dummy;
        }
        break;
    case SL_DDA_C:
        if (strcmp(e->vr, "SQ") == 0)
            break;
        if (strcmp(e->vr, "UI") == 0 && sl_dicom_elem_value(e) != NULL) {
            map_uids(j, sl_dicom_elem_value(e));
            *op = SL_DICOM_SET;
            *value = j->val.data;
        } else if ((strcmp(e->vr, "DA") == 0 || strcmp(e->vr, "DT") == 0) &&
                   sl_dicom_elem_value(e) != NULL) {
            if (!j->d->options[SL_DDO_MODIFIED_DATES]) {
                scan(j, e);
                break;
            }
            if (sl_dd_shift_dates(sl_dicom_elem_value(e), e->vr, j->shift,
                                  &j->val) != 0) {
                *op = SL_DICOM_CLEAR; /* unreadable: nothing to keep */
                break;
            }
            j->shifted = 1;
            *op = SL_DICOM_SET;
            *value = j->val.data;
        } else if (sl_dicom_elem_value(e) != NULL && sl_dd_vr_is_text(e->vr)) {
            if (sl_dd_scrub_text(sl_dicom_elem_value(e), &j->tokens,
                                 j->d->options[SL_DDO_MODIFIED_DATES],
                                 j->shift, &j->val) > 0) {
                *op = SL_DICOM_SET;
                *value = j->val.data;
            }
        } else if (sl_dicom_elem_value(e) == NULL && strcmp(e->vr, "SQ") != 0 &&
                   !(e->vr[0] == 'U' && e->vr[1] == 'S') &&
                   !(e->vr[0] == 'S' && e->vr[1] == 'S') &&
                   !(e->vr[0] == 'F' && e->vr[1] == 'L') &&
                   !(e->vr[0] == 'F' && e->vr[1] == 'D') &&
                   !(e->vr[0] == 'U' && e->vr[1] == 'L') &&
                   !(e->vr[0] == 'S' && e->vr[1] == 'L')) {
            /* Binary content (overlay or curve data, UN) cannot be
             * cleaned here: removed. */
            *op = SL_DICOM_REMOVE;
        }
        break;
    case SL_DDA_SCRUB:
        /* Free text the table does not list: scrubbed of the instance's
         * identifiers and of what the free-text detectors find and, like
         * everything kept, scanned. */
        if (!sl_dd_vr_is_text(e->vr) || sl_dicom_elem_value(e) == NULL)
            break;
        if (sl_dd_scrub_text(sl_dicom_elem_value(e), &j->tokens,
                             j->d->options[SL_DDO_MODIFIED_DATES], j->shift,
                             &j->val) > 0) {
            *op = SL_DICOM_SET;
            *value = j->val.data;
            scan_value(j, e, j->val.data);
        }
        break;
    default: /* K */
        scan(j, e);
        break;
    }
    if (*op == SL_DICOM_SET && *value == NULL)
        *value = ""; /* an empty value shifted or mapped stays empty */
    return SL_OK;
}

static void
job_free(struct job *j)
{
    size_t i;

    if (j->patient_id != NULL)
        sl_freezero(j->patient_id, strlen(j->patient_id));
    for (i = 0; i < j->tokens.n; i++)
        explicit_bzero(j->tokens.v[i], strlen(j->tokens.v[i]));
    sl_strv_free(&j->tokens);
    free(j->token_src);
    if (j->val.data != NULL)
        explicit_bzero(j->val.data, j->val.cap);
    sl_buf_free(&j->val);
    sl_buf_free(&j->tmp);
    free(j->ocr_note);
    sl_dicom_file_free(j->f);
}

static int quarantine(struct job *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Counts a quarantined instance and says why (tags, never values). */
static int
quarantine(struct job *j, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    atomic_fetch_add(&j->d->quarantined, 1);
    return SL_ERR(j->err, SL_EQUARANTINE, "%s", msg);
}

static int
str_eq(const char *pattern, const char *value)
{
    return pattern == NULL || (value != NULL && strcmp(pattern, value) == 0);
}

/* The first <pixels> rule naming this image, or NULL. */
static const struct sl_dd_pixels *
find_pixels(struct job *j, const char *modality, const char *sop_class)
{
    char *manu = NULL, *model = NULL, *rows = NULL, *cols = NULL;
    const struct sl_dd_pixels *found = NULL;
    size_t i;

    if (j->d->npixels == 0)
        return NULL; /* no rule to match: the four look-ups are spared */
    sl_dicom_file_get(j->f, 0x0008, 0x0070, &manu);
    sl_dicom_file_get(j->f, 0x0008, 0x1090, &model);
    sl_dicom_file_get(j->f, 0x0028, 0x0010, &rows);
    sl_dicom_file_get(j->f, 0x0028, 0x0011, &cols);
    for (i = 0; i < j->d->npixels && found == NULL; i++) {
        const struct sl_dd_pixels *p = &j->d->pixels[i];
        long r = rows ? strtol(rows, NULL, 10) : 0;
        long c = cols ? strtol(cols, NULL, 10) : 0;
        if (str_eq(p->modality, modality) && str_eq(p->manufacturer, manu) &&
            str_eq(p->model, model) &&
            (p->sop_class == NULL || has_prefix(sop_class, p->sop_class)) &&
            (p->rows == 0 || p->rows == r) &&
            (p->columns == 0 || p->columns == c))
            found = p;
    }
    free(manu);
    free(model);
    free(rows);
    free(cols);
    return found;
}

/* Burned-in text: quarantine, accept or blank. *cleaned is set when the
 * pixels were blanked. */
static int
check_pixels(struct job *j, const char *modality, const char *sop_class,
             int *cleaned)
{
    char *burned = NULL;
    const struct sl_dd_pixels *px;
    const char *why = NULL;
    int rc = SL_OK;
    size_t i;

    sl_dicom_file_get(j->f, 0x0028, 0x0301, &burned);
    if (burned != NULL && strncmp(burned, "YES", 3) == 0)
        why = "(0028,0301) Burned In Annotation is YES";
    else if (str_eq("US", modality) && modality != NULL)
        why = "ultrasound (0008,0060) usually carries burned-in text";
    else if (has_prefix(sop_class, SC_CLASS_ROOT))
        why = "secondary capture (0008,0016) usually carries burned-in text";
    else if (has_prefix(sop_class, DOC_CLASS_ROOT))
        why = "encapsulated document (0042,0011) cannot be cleaned";
    free(burned);
    /* Without pixel data there is no burned-in text (documents excepted). */
    if (why != NULL && !has_prefix(sop_class, DOC_CLASS_ROOT) &&
        !sl_dicom_file_has(j->f, 0x7FE0, 0x0010))
        why = NULL;
    px = find_pixels(j, modality, sop_class);
    if (px == NULL &&
        sl_dd_ocr_wanted(j->d, j->f, modality, sop_class, why != NULL)) {
        rc = sl_dd_ocr_clean(j->d, j->f, j->sop_uid, &j->ocr_note, j->err);
        *cleaned = rc == SL_OK;
        goto out;
    }
    if (px == NULL) {
        if (why != NULL)
            rc = quarantine(j,
                            "%s and no <pixels> rule of the profile "
                            "cleans it",
                            why);
        goto out;
    }
    if (px->nregions == 0)
        goto out; /* reviewed by the site: nothing to blank */
    if (sl_dicom_file_is_encapsulated(j->f)) {
        rc = quarantine(j,
                        "%s: a blanking rule names this image but its "
                        "pixel data is compressed",
                        "(7FE0,0010) Pixel Data");
        goto out;
    }
    for (i = 0; i < px->nregions; i++) {
        struct sl_err e2;
        const struct sl_dd_region *g = &px->regions[i];
        if (sl_dicom_file_blank(j->f, g->x, g->y, g->w, g->h, &e2) != SL_OK) {
            rc = quarantine(j, "%s", e2.msg);
            goto out;
        }
    }
    *cleaned = 1;
out:
    return rc;
}

static int
conformance(struct job *j, int cleaned_pixels)
{
    struct sl_dicom_deid *d = j->d;
    int rc, o;

    if ((rc = sl_dicom_file_put(j->f, 0x0012, 0x0062, "YES", j->err)) !=
            SL_OK ||
        (rc = sl_dicom_file_put(j->f, 0x0012, 0x0063, d->method, j->err)) !=
            SL_OK)
        return rc;
    sl_dicom_file_delete(j->f, 0x0012, 0x0064);
    if ((rc = sl_dicom_file_add_code(j->f, 0x0012, 0x0064, "113100", "DCM",
                                     "Basic Application Confidentiality "
                                     "Profile",
                                     j->err)) != SL_OK)
        return rc;
    if (cleaned_pixels && (rc = sl_dicom_file_add_code(
                               j->f, 0x0012, 0x0064, "113101", "DCM",
                               "Clean Pixel Data Option", j->err)) != SL_OK)
        return rc;
    for (o = 0; o < SL_DDO_COUNT; o++)
        if (d->options[o] &&
            (rc = sl_dicom_file_add_code(
                 j->f, 0x0012, 0x0064, sl_dd_options[o].code, "DCM",
                 sl_dd_options[o].meaning, j->err)) != SL_OK)
            return rc;
    if (d->options[SL_DDO_MODIFIED_DATES] && !d->options[SL_DDO_FULL_DATES] &&
        (rc = sl_dicom_file_put(j->f, 0x0028, 0x0303, "MODIFIED", j->err)) !=
            SL_OK)
        return rc;
    return SL_OK;
}

static void
tag_name(uint32_t tag, char *buf, size_t len)
{
    snprintf(buf, len, "(%04X,%04X)", tag >> 16, tag & 0xFFFF);
}

int
sl_dicom_deid_file(struct sl_dicom_deid *d, const char *in_path,
                   const char *out_path, struct sl_dicom_deid_info *info,
                   struct sl_err *err)
{
    return sl_dicom_deid_file_fd(d, -1, in_path, out_path, info, err);
}

int
sl_dicom_deid_file_fd(struct sl_dicom_deid *d, int in_fd, const char *in_path,
                      const char *out_path, struct sl_dicom_deid_info *info,
                      struct sl_err *err)
{
    struct job j;
    char *sop_class = NULL, *sop_uid = NULL, *modality = NULL;
    struct sl_dicom_deid_info res = { 0 };
    int rc, cleaned = 0;

    memset(&j, 0, sizeof(j));
    j.d = d;
    j.err = err;
    sl_buf_init(&j.val);
    sl_buf_init(&j.tmp);
    atomic_fetch_add(&d->files, 1);
    rc = sl_dicom_file_open_fd(in_fd, in_path, &j.f, NULL, err);
    if (rc == SL_EDICOM) {
        /* Broken or truncated: the file may still hold PHI. */
        atomic_fetch_add(&d->quarantined, 1);
        rc = SL_EQUARANTINE;
        if (err != NULL)
            err->code = SL_EQUARANTINE;
        goto out;
    }
    if (rc != SL_OK)
        goto out;
    sl_dicom_file_get(j.f, 0x0008, 0x0016, &sop_class);
    sl_dicom_file_get(j.f, 0x0008, 0x0018, &sop_uid);
    sl_dicom_file_get(j.f, 0x0008, 0x0060, &modality);
    if ((sop_class == NULL || sop_class[0] == '\0') &&
        sl_dicom_file_has(j.f, 0x0004, 0x1220)) {
        /* Its records repeat the names and ids of the instances. */
        rc = quarantine(&j, "%s: a DICOMDIR (a media directory, not an "
                            "instance) is not de-identified: de-identify the "
                            "instances it lists (export-dicom --layout "
                            "dicomdir writes a new one)",
                        "(0004,1220) Directory Record Sequence");
        goto out;
    }
    if (sop_class == NULL || sop_class[0] == '\0') {
        rc =
            quarantine(&j, "%s: missing or empty", "(0008,0016) SOP Class UID");
        goto out;
    }
    if (sop_uid == NULL || sop_uid[0] == '\0') {
        rc = quarantine(&j, "%s: missing or empty",
                        "(0008,0018) SOP Instance UID");
        goto out;
    }
    if (sl_dicom_file_check_pixels(j.f, err) != SL_OK) {
        atomic_fetch_add(&d->quarantined, 1);
        rc = SL_EQUARANTINE;
        if (err != NULL)
            err->code = SL_EQUARANTINE;
        goto out;
    }
    if (has_prefix(sop_class, SR_CLASS_ROOT) &&
        !d->options[SL_DDO_STRUCTURED]) {
        rc = quarantine(&j,
                        "%s: a structured report's content tree is kept "
                        "only under the clean-structured-content option",
                        "(0040,A730) Content Sequence");
        goto out;
    }
    j.sop_uid = sop_uid;
    if ((rc = check_pixels(&j, modality, sop_class, &cleaned)) != SL_OK)
        goto out;

    sl_dicom_file_get(j.f, 0x0010, 0x0020, &j.patient_id);
    if (j.patient_id == NULL)
        j.patient_id = sl_strdup("");
    sl_dd_pseudonym(d, SL_KD_NAME, j.patient_id, strlen(j.patient_id),
                    j.name_pseudo);
    j.shift = sl_dd_date_shift(d, j.patient_id, 1, 365);

    if (info != NULL && info->want_originals) {
        /* Read before the walk changes them; wiped by the caller. */
        res.want_originals = 1;
        if (j.patient_id[0] != '\0')
            res.orig_patient = sl_strdup(j.patient_id);
        res.orig_sop_uid = sl_strdup(sop_uid);
        sl_dicom_file_get(j.f, 0x0020, 0x000D, &res.orig_study_uid);
        sl_dicom_file_get(j.f, 0x0020, 0x000E, &res.orig_series_uid);
        sl_dicom_file_get(j.f, 0x0008, 0x0050, &res.orig_accession);
    }
    /* pass 1 looks only at what can hold an identifier
     * (is_identifier_source): every PN and the listed tags */
    j.pass = 1;
    if ((rc = sl_dicom_file_walk_only(
             j.f, "PN", identifier_tags,
             sizeof(identifier_tags) / sizeof(identifier_tags[0]), visit, &j,
             err)) != SL_OK)
        goto out;
    j.pass = 2;
    if ((rc = sl_dicom_file_walk(j.f, visit, &j, err)) != SL_OK)
        goto out;
    if (j.leak) {
        char at[16], from[16];
        tag_name(j.leak_at, at, sizeof(at));
        tag_name(j.leak_from, from, sizeof(from));
        atomic_fetch_add(&d->quarantined, 1);
        rc = SL_ERR(err, SL_EQUARANTINE,
                    "leak scan: %s keeps a value of %s found in the input", at,
                    from);
        goto out;
    }
    /* Overlays in the pixel data's unused bits go with the overlay groups
     * the profile removes. */
    if (d->zero_unused_bits &&
        (rc = sl_dicom_file_mask_unused_bits(j.f, NULL, err)) != SL_OK)
        goto out;
    if ((rc = conformance(&j, cleaned)) != SL_OK ||
        (j.ocr_note != NULL &&
         (rc = sl_dicom_file_put(j.f, 0x0008, 0x2111, j.ocr_note, err)) !=
             SL_OK))
        goto out;
    if ((rc = sl_dicom_file_save(j.f, out_path, err)) != SL_OK)
        goto out;
    if (info != NULL) {
        sl_dicom_file_get(j.f, 0x0010, 0x0020, &res.patient);
        sl_dicom_file_get(j.f, 0x0020, 0x000D, &res.study_uid);
        sl_dicom_file_get(j.f, 0x0020, 0x000E, &res.series_uid);
        sl_dicom_file_get(j.f, 0x0008, 0x0018, &res.sop_uid);
        sl_dicom_file_get(j.f, 0x0008, 0x0060, &res.modality);
        if (res.want_originals)
            sl_dicom_file_get(j.f, 0x0008, 0x0050, &res.accession);
        if (info->want_written) {
            struct sl_err e3 = { 0 };
            res.want_written = 1;
            rc = sl_dicom_file_summary(j.f, &res.written, &e3);
            if (rc == SL_ENOMEM) {
                if (err != NULL)
                    *err = e3;
                goto out;
            }
            if (rc != SL_OK)
                res.written_why = sl_strdup(e3.msg);
            rc = SL_OK;
        }
        *info = res;
        memset(&res, 0, sizeof(res)); /* moved to info */
    }
out:
    if (rc == SL_EDICOM) {
        /* DCMTK refused a change or the encoding of the output: this
         * instance cannot be made safe, the others still can. */
        atomic_fetch_add(&d->quarantined, 1);
        rc = SL_EQUARANTINE;
        if (err != NULL)
            err->code = SL_EQUARANTINE;
    }
    sl_dicom_deid_info_clear(&res); /* on failure: wipes the originals */
    free(sop_class);
    free(sop_uid);
    free(modality);
    job_free(&j);
    return rc;
}

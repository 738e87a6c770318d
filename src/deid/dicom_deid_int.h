/* dicom_deid_int.h - internals of the DICOM de-identification engine,
 * in three layers, each calling only the ones below it:
 *   dicom_deid_file.c    one instance (sl_dicom_deid_file)
 *   dicom_deid.c         the engine compiled from a profile chain: rules,
 *                        options, the action they make of a rule, --explain
 *   dicom_deid_values.c  value transforms (no engine state)
 *   dicom_deid_memo.c    each thread's memo of the values the key derives */
#ifndef SL_DEID_DICOM_INT_H
#define SL_DEID_DICOM_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "common/common.h"
#include "deid/dicom_deid.h"

/* Action codes of PS3.15 E.1.1, and sluice's own. */
enum sl_dd_action {
    SL_DDA_NONE = 0, /* no action given (an empty option column) */
    SL_DDA_K,
    SL_DDA_X,
    SL_DDA_Z,
    SL_DDA_D,
    SL_DDA_C,
    SL_DDA_U,
    SL_DDA_XZ,
    SL_DDA_XD,
    SL_DDA_ZD,
    SL_DDA_XZD,
    SL_DDA_XZU,
    SL_DDA_PSEUDONYM, /* keyed pseudonym of the value (identifier domain) */
    SL_DDA_NAME,      /* name pseudonym derived from the Patient ID */
    SL_DDA_SCRUB,     /* text kept, scrubbed of the instance's identifiers */
    SL_DDA_COUNT
};

/* Options of PS3.15 Annex E, in the order of the table's columns. */
enum sl_dd_option {
    SL_DDO_SAFE_PRIVATE,
    SL_DDO_UIDS,
    SL_DDO_DEVICE,
    SL_DDO_INSTITUTION,
    SL_DDO_PATIENT_CHARS,
    SL_DDO_FULL_DATES,
    SL_DDO_MODIFIED_DATES,
    SL_DDO_DESCRIPTORS,
    SL_DDO_STRUCTURED,
    SL_DDO_GRAPHICS,
    SL_DDO_COUNT
};

struct sl_dd_option_def {
    const char *name;
    const char *code; /* CID 7050 */
    const char *meaning;
};
extern const struct sl_dd_option_def sl_dd_options[SL_DDO_COUNT];

/* What a rule matches. */
enum sl_dd_kind {
    SL_DDK_TAG,      /* a standard tag, possibly with xx patterns (mask) */
    SL_DDK_PRIVATE,  /* a private element: group, element byte, creator */
    SL_DDK_PRIV_ALL, /* every private attribute */
    SL_DDK_VR        /* every attribute of a VR */
};

struct sl_dd_rule {
    enum sl_dd_kind kind;
    uint32_t tag;  /* group << 16 | element (private: element byte only) */
    uint32_t mask; /* bits of tag that must match */
    uint32_t in;   /* SL_DDK_TAG: only inside this sequence (0: anywhere) */
    char vr[3];
    char *creator;         /* SL_DDK_PRIVATE */
    int level;             /* 0: the base table; i + 1: docs[i] */
    int action;            /* enum sl_dd_action */
    int opt[SL_DDO_COUNT]; /* per option, SL_DDA_NONE when empty */
    char *name;            /* attribute name (annotation) */
    char *src;             /* where the rule comes from */
    atomic_ulong hits;     /* for --explain */
};

/* Pixel rule: which images it names, and the regions to blank (none: the
 * site has reviewed such images and says they carry no burned-in text). */
struct sl_dd_region {
    unsigned x, y, w, h;
};
struct sl_dd_pixels {
    char *modality, *manufacturer, *model, *sop_class;
    long rows, columns; /* 0: any */
    struct sl_dd_region *regions;
    size_t nregions;
};

struct sl_dicom_deid {
    const struct sl_keys *keys; /* borrowed */
    int options[SL_DDO_COUNT];
    struct sl_dd_rule *rules; /* in document order */
    size_t nrules, caprules;
    struct sl_dd_pixels *pixels;
    size_t npixels;
    /* Indexes into rules, built once the profile is read: */
    struct sl_dd_rule **exact; /* tags without x, sorted by tag, order */
    size_t nexact;
    struct sl_dd_rule **loose; /* group patterns and VR rules */
    size_t nloose;
    struct sl_dd_rule **priv; /* private rules, sorted by tag, order */
    size_t npriv;
    struct sl_dd_rule *priv_all; /* the last private="all" of the top level */
    /* Bits of native pixel data outside Bits Stored (overlays kept in
     * the unused bits) zeroed: <unused-pixel-bits action="zero"/>. */
    int zero_unused_bits;
    char *unused_bits_src; /* where that setting comes from */
    char *method;          /* De-identification Method (0012,0063) */
    /* clean-pixel-data="ocr" on <dicom>: burned-in text found by OCR and
     * blanked (dicom_deid_ocr.c); ocr_min_conf from ocr-min-confidence. */
    int ocr;
    float ocr_min_conf;
    char *ocr_src;
    struct sl_ocr_pool *ocr_pool;
    pthread_mutex_t ocr_mu; /* guards ocr_report */
    struct sl_buf ocr_report; /* --explain lines: counts, attribute names */
    atomic_ulong ocr_checked, ocr_with_text, ocr_boxes;
    char *edition;         /* of the base table, e.g. "2023b" */
    atomic_ulong files, quarantined;
    unsigned long memo_id; /* this engine's, in the threads' memos */
};

/* ---- dicom_deid.c ------------------------------------------------------ */
/* The action the engine's options make of a rule. */
int sl_dd_effective(const struct sl_dicom_deid *d, const struct sl_dd_rule *r);

/* ---- dicom_deid_memo.c -------------------------------------------------
 * sl_keys_uid, sl_keys_pseudonym and sl_keys_date_shift with d's key,
 * through the calling thread's memo of the last few values (the UIDs of
 * a study and series, a patient's pseudonyms, repeat from one instance to
 * the next); the same results. sl_dd_memo_id() gives each engine its own
 * number, never 0. */
unsigned long sl_dd_memo_id(void);
void sl_dd_uid(const struct sl_dicom_deid *d, const char *uid, char *out);
void sl_dd_pseudonym(const struct sl_dicom_deid *d, const char *domain,
                     const char *value, size_t len, char *out);
int sl_dd_date_shift(const struct sl_dicom_deid *d, const char *patient_id,
                     int min_days, int max_days);
/* The action for a standard element (tag, its two-letter VR, the tag of
 * the sequence it is in or 0) as d's rules resolve it, from the calling
 * thread's memo: 1 with *rule and *action when there, else 0; and
 * keeping one there. (A pure function of its arguments for one engine:
 * the rules and options do not change once the engine is made.) */
int sl_dd_memo_action(const struct sl_dicom_deid *d, uint32_t tag,
                      const char *vr, uint32_t seq, struct sl_dd_rule **rule,
                      int *action);
void sl_dd_memo_keep_action(const struct sl_dicom_deid *d, uint32_t tag,
                            const char *vr, uint32_t seq,
                            struct sl_dd_rule *rule, int action);

/* ---- dicom_deid_ocr.c --------------------------------------------------
 * Whether clean-pixel-data="ocr" takes this instance (no <pixels> rule
 * named it): pixel data, not an encapsulated document, and either a
 * reason to suspect burned-in text (suspect) or XA/RF. */
int sl_dd_ocr_wanted(struct sl_dicom_deid *d, struct sl_dicom_file *f,
                     const char *modality, const char *sop_class,
                     int suspect);
/* Finds the burned-in text of f, blanks every word box (with a margin) in
 * every frame, checks by OCR again that none is left, and sets Burned In
 * Annotation to NO. sop_uid names the instance in --explain (as a new
 * UID). On SL_OK, *note (the caller's) says what was done, for (0008,2111)
 * Derivation Description. SL_EQUARANTINE (counted) with the reason when
 * the pixels cannot be decoded or the text could not be blanked. */
int sl_dd_ocr_clean(struct sl_dicom_deid *d, struct sl_dicom_file *f,
                    const char *sop_uid, char **note, struct sl_err *err);
/* Creates the OCR pool and report (d->ocr set); frees them. */
int sl_dd_ocr_init(struct sl_dicom_deid *d, struct sl_err *err);
void sl_dd_ocr_fini(struct sl_dicom_deid *d);
void sl_dd_ocr_explain(const struct sl_dicom_deid *d, FILE *f);

/* ---- dicom_deid_values.c ------------------------------------------------ */
/* Parses an action code ("X/Z/U*", "K", "pseudonym"); SL_DDA_NONE when
 * unknown. */
int sl_dd_action_parse(const char *s);
const char *sl_dd_action_name(int a);
/* Shifts the dates in a DA or DT value (multi-valued, '\'-separated) by
 * days, keeping each value's precision, into out. Returns 0, or -1 when a
 * value cannot be read (the caller then empties the attribute). */
int sl_dd_shift_dates(const char *value, const char *vr, int days,
                      struct sl_buf *out);
/* A dummy value consistent with the VR (NULL: empty the attribute). */
const char *sl_dd_dummy(const char *vr);
/* 1 when the VR holds free text worth scanning for identifiers. */
int sl_dd_vr_is_text(const char *vr);
/* Splits an identifier value into tokens worth looking for (whole value,
 * and for names their components), appended to sv. */
void sl_dd_tokens(const char *value, const char *vr, struct sl_strv *sv);
/* 1 when value holds token as a whole word, case-insensitively. */
int sl_dd_contains_word(const char *value, const char *token);
/* Replaces each whole-word occurrence of any token with as many 'X' into
 * out; returns the number of replacements. */
size_t sl_dd_scrub(const char *value, const struct sl_strv *tokens,
                   struct sl_buf *out);
/* sl_dd_scrub, then what the free-text detectors (text_detect.h) find:
 * a date becomes its year, or with modified_dates is moved by days in
 * the form it was written in (its year when that would be longer than
 * the original); anything else as many 'X'. Returns the number of
 * replacements; out holds the value either way. */
size_t sl_dd_scrub_text(const char *value, const struct sl_strv *tokens,
                        int modified_dates, int days, struct sl_buf *out);

#endif

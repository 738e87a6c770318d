/* fp_int.h - the FHIRPath engine's insides: tokens, the syntax tree,
 * items and collections, shared by the lexer, parser and evaluator. */
#ifndef SL_FHIRPATH_FP_INT_H
#define SL_FHIRPATH_FP_INT_H

#include <string.h>

#include "fhirpath/fhirpath.h"

/* ---- lexer (fp_lex.c) ---------------------------------------------------- */
enum fp_tok {
    FT_EOF,
    FT_IDENT,    /* name or `delimited name` */
    FT_STRING,   /* 'text' (escapes resolved) */
    FT_NUMBER,   /* 12, 1.5 */
    FT_LONG,     /* 12L */
    FT_DATE,     /* @2012-04-15, @2012-04-15T10:00 (text after '@') */
    FT_TIME,     /* @T10:00 (text after "@T") */
    FT_VAR,      /* %name, %`name`, %'name' (name) */
    FT_SPECIAL,  /* $this $index $total (name without '$') */
    FT_OP,       /* punctuation and operator words: text holds it */
};

struct fp_token {
    int kind;
    int pos;    /* 1-based column of its first character */
    char *text; /* owned */
};

struct fp_lexer {
    const char *src;
    size_t i;
    struct fp_token *toks;
    size_t n, cap;
};

/* Splits src into tokens (ending with FT_EOF). SL_EPARSE with a column. */
int fp_lex(const char *src, struct fp_lexer *lx, struct sl_err *err);
void fp_lex_free(struct fp_lexer *lx);

/* ---- items and collections ----------------------------------------------- */
enum fp_kind {
    FK_NODE,     /* a FHIR element or resource of the input */
    FK_BOOL,
    FK_INT,
    FK_DEC,
    FK_STR,
    FK_DATE,
    FK_DATETIME,
    FK_TIME,
    FK_QTY,      /* j = {"value": number, "unit": "mg"} */
};

struct fp_item {
    int kind;
    json_t *j;     /* owned reference; NULL for a primitive that only has
                    * its _name extension object */
    json_t *ext;   /* owned: a primitive's "_name" sibling, or NULL */
    char type[40]; /* FHIR type of an FK_NODE ("Quantity", "string",
                    * "Patient"; "" when not known) */
    char path[112];/* the type-table base of its children
                    * ("Observation.component", "HumanName") */
};

struct fp_coll {
    struct fp_item *v;
    size_t n, cap;
};

/* Copies src into dst of size bytes, cut to fit (snprintf("%s") without
 * its cost, which showed in every step of navigation). */
static inline void
fp_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void fp_item_clear(struct fp_item *it);
void fp_item_copy(struct fp_item *dst, const struct fp_item *src);
/* Appends a copy of it (a new reference to its values). */
void fp_coll_add(struct fp_coll *c, const struct fp_item *it);
/* Appends it, taking its references. */
void fp_coll_take(struct fp_coll *c, struct fp_item *it);
void fp_coll_free(struct fp_coll *c);
void fp_coll_move(struct fp_coll *dst, struct fp_coll *src);
/* System values; the json is stolen for fp_add_json. */
void fp_add_bool(struct fp_coll *c, int b);
void fp_add_int(struct fp_coll *c, json_int_t v);
/* Adds the whole number d as an Integer; nothing when it does not fit
 * (FHIRPath's result of an overflow is empty). */
void fp_add_int_d(struct fp_coll *c, double d);
void fp_add_dec(struct fp_coll *c, double v);
void fp_add_str(struct fp_coll *c, int kind, const char *s);
void fp_add_qty(struct fp_coll *c, double v, const char *unit);
/* A FHIR node of type (may be "") with the children base path. */
void fp_add_node(struct fp_coll *c, json_t *j, json_t *ext, const char *type,
                 const char *path);
/* Turns a FHIR primitive node into its System value (booleans, numbers,
 * strings, dates by their FHIR type), and a FHIR Quantity into FK_QTY.
 * Other items are copied unchanged. */
void fp_item_system(const struct fp_item *in, struct fp_item *out);
/* The string value of a string-like item (after fp_item_system), or
 * NULL. */
const char *fp_item_str(const struct fp_item *it);
/* The number value (FK_INT, FK_DEC) in *d; 0 if not a number. */
int fp_item_num(const struct fp_item *it, double *d);
const char *fp_item_typename(const struct fp_item *it);

/* ---- comparison (fp_value.c) -------------------------------------------- */
/* 1 equal, 0 not, -1 unknown (empty result: different date precision). */
int fp_item_equal(const struct fp_item *a, const struct fp_item *b);
int fp_item_equiv(const struct fp_item *a, const struct fp_item *b);
/* *cmp < 0, 0, > 0; returns 0 when comparable, -1 unknown (precision),
 * -2 when the kinds cannot be compared (an error). */
int fp_item_compare(const struct fp_item *a, const struct fp_item *b,
                    int *cmp);
/* A date/time item plus or minus a quantity (sign 1 or -1). 0 on success,
 * -1 when the unit is not a time unit. */
int fp_date_add(const struct fp_item *d, const struct fp_item *q, int sign,
                struct fp_coll *out);
/* Converts a quantity's value to unit (UCUM or calendar words); 0 on
 * success, -1 when they are not comparable. */
int fp_qty_convert(double v, const char *from, const char *to, double *out);
/* The string form FHIRPath's toString() gives; caller frees, NULL if none. */
char *fp_item_to_string(const struct fp_item *it);
/* Appends item as JSON text, the way fhirpath.js prints it. */
json_t *fp_item_to_json(const struct fp_item *it);

struct fp_fn_entry;

/* ---- the syntax tree (fp_parse.c) -------------------------------------- */
enum fp_nkind {
    FN_EMPTY,    /* {} */
    FN_LIT,      /* lit */
    FN_MEMBER,   /* left.name (left NULL: on the focus) */
    FN_CALL,     /* left.name(args) */
    FN_THIS,
    FN_INDEX,
    FN_TOTAL,
    FN_VAR,      /* %name */
    FN_BINOP,    /* left op args[0] */
    FN_NEG,      /* -left */
    FN_INDEXER,  /* left[args[0]] */
    FN_IS,       /* left is name */
    FN_AS,       /* left as name */
};

struct fp_node {
    int kind;
    int pos;
    char *name; /* member, function, variable, operator or type name */
    struct fp_node *left;
    struct fp_node **args;
    int nargs;
    struct fp_item lit;
    const struct fp_fn_entry *fn; /* FN_CALL: found when compiled */
};

struct sl_fp_expr {
    char *text;
    struct fp_node *root;
};

void fp_node_free(struct fp_node *n);

/* ---- evaluation (fp_eval.c, fp_func.c) --------------------------------- */
struct fp_ctx {
    const struct sl_fp_env *env;
    json_t *focus;
    struct sl_err *err;
    const struct fp_coll *this_coll; /* $this, $index, $total */
    const struct fp_item *this_item;
    long index;
    const struct fp_coll *total;
    const struct fp_coll *arg_focus; /* what a call's arguments start from */
    int depth;
};

int fp_eval(struct fp_ctx *cx, const struct fp_node *n,
            const struct fp_coll *focus, struct fp_coll *out);
/* The functions of fp_func.c: SL_OK, or an error in cx->err. */
int fp_call(struct fp_ctx *cx, const struct fp_node *n,
            const struct fp_coll *in, struct fp_coll *out);
/* Children of an item by name (navigation), appended to out. */
void fp_children_named(const struct fp_item *it, const char *name,
                       struct fp_coll *out);
/* All children, appended to out. */
void fp_children_all(const struct fp_item *it, struct fp_coll *out);
/* Is the item of type name ("Quantity", "FHIR.Quantity", "System.String",
 * "Resource", "DomainResource"...)? */
int fp_is_type(const struct fp_item *it, const char *name);
/* The singleton boolean of c: 1, 0, -1 empty; -2 not a singleton. */
int fp_coll_bool(const struct fp_coll *c);
/* Resolves a reference string within the env's root or the resource's
 * contained; NULL if not found. */
json_t *fp_resolve_ref(struct fp_ctx *cx, const char *ref);
int fp_err(struct fp_ctx *cx, const struct fp_node *n, int code,
           const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- function helpers (fp_func.c) -------------------------------------- */
typedef int (*fp_fn)(struct fp_ctx *cx, const struct fp_node *n,
                     const struct fp_coll *in, struct fp_coll *out);
struct fp_fn_entry {
    const char *name;
    int min, max; /* argument counts */
    fp_fn fn;
};
/* Argument k evaluated from the call's focus. */
int fp_arg(struct fp_ctx *cx, const struct fp_node *n, int k,
           struct fp_coll *out);
/* Argument k as one string (*s owned by the caller; NULL when empty). */
int fp_arg_str(struct fp_ctx *cx, const struct fp_node *n, int k, char **s);
/* Argument k as one integer; *empty set when it gives nothing. */
int fp_arg_int(struct fp_ctx *cx, const struct fp_node *n, int k, long *v,
               int *empty);
/* The single input item as a System value; 0 ok (*it filled, caller
 * clears), 1 empty input, or an error status. */
int fp_single(struct fp_ctx *cx, const struct fp_node *n,
              const struct fp_coll *in, struct fp_item *it);
/* The string/math/conversion functions (fp_func_str.c), FHIR's
 * (fp_func_fhir.c). */
extern const struct fp_fn_entry fp_fns_str[];
extern const struct fp_fn_entry fp_fns_fhir[];
/* The function called name, or NULL. */
const struct fp_fn_entry *fp_fn_find(const char *name);
int fp_date_valid(const char *s, int kind);
int fp_date_precision(const char *s, int kind);

#endif

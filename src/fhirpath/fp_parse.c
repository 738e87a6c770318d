/* fp_parse.c - FHIRPath tokens to a syntax tree, by precedence climbing
 * over the operator table of the FHIRPath N1 grammar. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fhirpath/fp_int.h"

/* Deeper nesting than this is refused rather than risking the stack. */
#define FP_MAX_DEPTH 200

struct parser {
    struct fp_lexer lx;
    size_t i;
    int depth;
    struct sl_err *err;
};

static struct fp_node *parse_expr(struct parser *p, int minprec);

static struct fp_node *
node_new(int kind, int pos)
{
    struct fp_node *n = sl_calloc(1, sizeof(*n));
    n->kind = kind;
    n->pos = pos;
    return n;
}

void
fp_node_free(struct fp_node *n)
{
    int i;

    if (n == NULL)
        return;
    fp_node_free(n->left);
    for (i = 0; i < n->nargs; i++)
        fp_node_free(n->args[i]);
    free(n->args);
    free(n->name);
    fp_item_clear(&n->lit);
    free(n);
}

static void
add_arg(struct fp_node *n, struct fp_node *a)
{
    n->args = sl_realloc(n->args, (size_t)(n->nargs + 1) * sizeof(*n->args));
    n->args[n->nargs++] = a;
}

static const struct fp_token *
peek(const struct parser *p)
{
    return &p->lx.toks[p->i];
}

static int
is_op(const struct fp_token *t, const char *op)
{
    return t->kind == FT_OP && strcmp(t->text, op) == 0;
}

static struct fp_node *
fail(struct parser *p, const struct fp_token *t, const char *what)
{
    if (p->err->code == SL_OK) {
        if (t->kind == FT_EOF)
            SL_ERR(p->err, SL_EPARSE, "column %d: %s, found the end of the "
                   "expression", t->pos, what);
        else
            SL_ERR(p->err, SL_EPARSE, "column %d: %s", t->pos, what);
    }
    return NULL;
}

/* The binary operators with their precedence (higher binds tighter). */
static int
binprec(const struct fp_token *t)
{
    static const struct {
        const char *op;
        int prec;
    } tab[] = {
        {"implies", 1}, {"or", 2},  {"xor", 2}, {"and", 3},   {"in", 4},
        {"contains", 4}, {"=", 5},  {"~", 5},   {"!=", 5},    {"!~", 5},
        {"<", 6},       {">", 6},   {"<=", 6},  {">=", 6},    {"|", 7},
        {"is", 8},      {"as", 8},  {"+", 9},   {"-", 9},     {"&", 9},
        {"*", 10},      {"/", 10},  {"div", 10}, {"mod", 10},
    };
    size_t k;

    if (t->kind != FT_OP && t->kind != FT_IDENT)
        return 0;
    for (k = 0; k < sizeof(tab) / sizeof(tab[0]); k++)
        if (strcmp(t->text, tab[k].op) == 0) {
            /* words are operators only as words, symbols only as FT_OP */
            int word = tab[k].op[0] >= 'a' && tab[k].op[0] <= 'z';
            if (word == (t->kind == FT_IDENT))
                return tab[k].prec;
        }
    return 0;
}

static int
calendar_unit(const char *s)
{
    static const char *const u[] = {
        "year", "years", "month", "months", "week", "weeks", "day", "days",
        "hour", "hours", "minute", "minutes", "second", "seconds",
        "millisecond", "milliseconds", NULL};
    int i;

    for (i = 0; u[i]; i++)
        if (strcmp(s, u[i]) == 0)
            return 1;
    return 0;
}

/* Qualified type name: ident ('.' ident)*. */
static char *
type_spec(struct parser *p)
{
    struct sl_buf b;
    const struct fp_token *t = peek(p);

    if (t->kind != FT_IDENT) {
        fail(p, t, "a type name was expected");
        return NULL;
    }
    sl_buf_init(&b);
    sl_buf_adds(&b, t->text);
    p->i++;
    while (is_op(peek(p), ".") && p->lx.toks[p->i + 1].kind == FT_IDENT) {
        sl_buf_addc(&b, '.');
        sl_buf_adds(&b, p->lx.toks[p->i + 1].text);
        p->i += 2;
    }
    return sl_buf_steal(&b);
}

/* '(' args ')' after a function name; p->i is at '('. */
static int
call_args(struct parser *p, struct fp_node *n)
{
    p->i++;
    if (is_op(peek(p), ")")) {
        p->i++;
        return 0;
    }
    for (;;) {
        struct fp_node *a = parse_expr(p, 1);
        if (a == NULL)
            return -1;
        add_arg(n, a);
        if (is_op(peek(p), ",")) {
            p->i++;
            continue;
        }
        if (is_op(peek(p), ")")) {
            p->i++;
            return 0;
        }
        fail(p, peek(p), "',' or ')' was expected in the argument list");
        return -1;
    }
}

static struct fp_node *
literal_number(struct parser *p, const struct fp_token *t)
{
    struct fp_node *n = node_new(FN_LIT, t->pos);
    const struct fp_token *u = &p->lx.toks[p->i];
    int dec = strchr(t->text, '.') != NULL;
    double d = strtod(t->text, NULL);

    if (!isfinite(d) || (!dec && (d > 9.2e18))) {
        fp_node_free(n);
        return fail(p, t, "the number is too large");
    }

    if (u->kind == FT_STRING || (u->kind == FT_IDENT && calendar_unit(u->text))) {
        n->lit.kind = FK_QTY;
        n->lit.j = json_pack("{s:f,s:s}", "value", strtod(t->text, NULL),
                             "unit", u->text);
        if (n->lit.j == NULL) { /* a unit escaped into invalid UTF-8 */
            fp_node_free(n);
            return fail(p, u, "the unit is not valid UTF-8");
        }
        p->i++;
        return n;
    }
    if (dec) {
        n->lit.kind = FK_DEC;
        n->lit.j = json_real(strtod(t->text, NULL));
    } else {
        n->lit.kind = FK_INT;
        n->lit.j = json_integer((json_int_t)strtoll(t->text, NULL, 10));
    }
    return n;
}

static struct fp_node *
parse_term(struct parser *p)
{
    const struct fp_token *t = peek(p);
    struct fp_node *n;

    switch (t->kind) {
    case FT_NUMBER:
    case FT_LONG:
        p->i++;
        return literal_number(p, t);
    case FT_STRING:
        p->i++;
        n = node_new(FN_LIT, t->pos);
        n->lit.kind = FK_STR;
        n->lit.j = json_string(t->text);
        if (n->lit.j == NULL) { /* not UTF-8 */
            fp_node_free(n);
            return fail(p, t, "the string is not valid UTF-8");
        }
        return n;
    case FT_DATE:
    case FT_TIME:
        p->i++;
        n = node_new(FN_LIT, t->pos);
        n->lit.kind = t->kind == FT_TIME ? FK_TIME
                      : strchr(t->text, 'T') ? FK_DATETIME
                                             : FK_DATE;
        {
            /* @2015T is a dateTime at year precision: drop the T */
            size_t l = strlen(t->text);
            char *s = sl_strdup(t->text);
            if (l > 0 && s[l - 1] == 'T')
                s[l - 1] = '\0';
            n->lit.j = json_string(s);
            free(s);
        }
        return n;
    case FT_VAR:
        p->i++;
        n = node_new(FN_VAR, t->pos);
        n->name = sl_strdup(t->text);
        return n;
    case FT_SPECIAL:
        p->i++;
        return node_new(strcmp(t->text, "this") == 0    ? FN_THIS
                        : strcmp(t->text, "index") == 0 ? FN_INDEX
                                                        : FN_TOTAL,
                        t->pos);
    case FT_IDENT:
        p->i++;
        if (is_op(peek(p), "(")) {
            n = node_new(FN_CALL, t->pos);
            n->name = sl_strdup(t->text);
            if (call_args(p, n) != 0) {
                fp_node_free(n);
                return NULL;
            }
            return n;
        }
        if (strcmp(t->text, "true") == 0 || strcmp(t->text, "false") == 0) {
            n = node_new(FN_LIT, t->pos);
            n->lit.kind = FK_BOOL;
            n->lit.j = json_boolean(t->text[0] == 't');
            return n;
        }
        n = node_new(FN_MEMBER, t->pos);
        n->name = sl_strdup(t->text);
        return n;
    case FT_OP:
        if (is_op(t, "(")) {
            p->i++;
            n = parse_expr(p, 1);
            if (n == NULL)
                return NULL;
            if (!is_op(peek(p), ")")) {
                fp_node_free(n);
                return fail(p, peek(p), "')' was expected");
            }
            p->i++;
            return n;
        }
        if (is_op(t, "{") && is_op(&p->lx.toks[p->i + 1], "}")) {
            p->i += 2;
            return node_new(FN_EMPTY, t->pos);
        }
        break;
    default:
        break;
    }
    return fail(p, t, "an expression was expected");
}

static struct fp_node *
parse_postfix(struct parser *p)
{
    struct fp_node *n = parse_term(p), *m;
    const struct fp_token *t;

    while (n != NULL) {
        t = peek(p);
        if (is_op(t, ".")) {
            const struct fp_token *id = &p->lx.toks[p->i + 1];
            if (id->kind != FT_IDENT) {
                fp_node_free(n);
                return fail(p, id, "a name was expected after '.'");
            }
            p->i += 2;
            if (is_op(peek(p), "(")) {
                m = node_new(FN_CALL, id->pos);
                m->name = sl_strdup(id->text);
                m->left = n;
                if (call_args(p, m) != 0) {
                    fp_node_free(m);
                    return NULL;
                }
            } else {
                m = node_new(FN_MEMBER, id->pos);
                m->name = sl_strdup(id->text);
                m->left = n;
            }
            n = m;
        } else if (is_op(t, "[")) {
            struct fp_node *ix;
            p->i++;
            if ((ix = parse_expr(p, 1)) == NULL) {
                fp_node_free(n);
                return NULL;
            }
            m = node_new(FN_INDEXER, t->pos);
            m->left = n;
            add_arg(m, ix);
            n = m;
            if (!is_op(peek(p), "]")) {
                fp_node_free(n);
                return fail(p, peek(p), "']' was expected");
            }
            p->i++;
        } else {
            break;
        }
    }
    return n;
}

static struct fp_node *
parse_unary(struct parser *p)
{
    const struct fp_token *t = peek(p);
    struct fp_node *n, *m;

    if (is_op(t, "+") || is_op(t, "-")) {
        p->i++;
        if (++p->depth > FP_MAX_DEPTH)
            return fail(p, t, "the expression is nested too deeply");
        n = parse_unary(p);
        p->depth--;
        if (n == NULL || t->text[0] == '+')
            return n;
        m = node_new(FN_NEG, t->pos);
        m->left = n;
        return m;
    }
    return parse_postfix(p);
}

static struct fp_node *
parse_expr(struct parser *p, int minprec)
{
    struct fp_node *left, *n, *right;
    const struct fp_token *t;
    int prec;

    if (++p->depth > FP_MAX_DEPTH)
        return fail(p, peek(p), "the expression is nested too deeply");
    left = parse_unary(p);
    while (left != NULL) {
        t = peek(p);
        prec = binprec(t);
        if (prec == 0 || prec < minprec)
            break;
        p->i++;
        if (strcmp(t->text, "is") == 0 || strcmp(t->text, "as") == 0) {
            char *ty = type_spec(p);
            if (ty == NULL) {
                fp_node_free(left);
                left = NULL;
                break;
            }
            n = node_new(t->text[0] == 'i' ? FN_IS : FN_AS, t->pos);
            n->name = ty;
            n->left = left;
            left = n;
            continue;
        }
        right = parse_expr(p, prec + 1);
        if (right == NULL) {
            fp_node_free(left);
            left = NULL;
            break;
        }
        n = node_new(FN_BINOP, t->pos);
        n->name = sl_strdup(t->text);
        n->left = left;
        add_arg(n, right);
        left = n;
    }
    p->depth--;
    return left;
}

/* Every function called exists and gets a number of arguments it takes:
 * a misspelt function in an invariant is found when the profile loads,
 * not on the first resource that reaches it. */
static int
check_calls(struct fp_node *n, struct sl_err *err)
{
    const struct fp_fn_entry *f;
    int i, rc;

    if (n == NULL)
        return SL_OK;
    if (n->kind == FN_CALL) {
        if ((f = fp_fn_find(n->name)) == NULL)
            return SL_ERR(err, SL_EPARSE, "column %d: unknown function "
                          "%s()", n->pos, n->name);
        if (n->nargs < f->min || n->nargs > f->max)
            return SL_ERR(err, SL_EPARSE, "column %d: %s() takes %d to %d "
                          "arguments, not %d", n->pos, n->name, f->min,
                          f->max, n->nargs);
        n->fn = f;
    }
    if ((rc = check_calls(n->left, err)) != SL_OK)
        return rc;
    for (i = 0; i < n->nargs; i++)
        if ((rc = check_calls(n->args[i], err)) != SL_OK)
            return rc;
    return SL_OK;
}

int
sl_fp_compile(const char *text, struct sl_fp_expr **out, struct sl_err *err)
{
    struct parser p;
    struct sl_err local = {0};
    struct fp_node *root = NULL;
    struct sl_fp_expr *e;
    int rc;

    if (err == NULL)
        err = &local;
    memset(&p, 0, sizeof(p));
    p.err = err;
    err->code = SL_OK;
    if ((rc = fp_lex(text, &p.lx, err)) != SL_OK)
        goto out;
    root = parse_expr(&p, 1);
    if (root != NULL && peek(&p)->kind != FT_EOF) {
        fail(&p, peek(&p), "an operator or the end of the expression was "
                           "expected");
        fp_node_free(root);
        root = NULL;
    }
    if (root != NULL && check_calls(root, err) != SL_OK) {
        fp_node_free(root);
        root = NULL;
    }
    if (root == NULL) {
        rc = err->code != SL_OK ? err->code
                                : SL_ERR(err, SL_EPARSE, "syntax error");
        goto out;
    }
    e = sl_calloc(1, sizeof(*e));
    e->text = sl_strdup(text);
    e->root = root;
    *out = e;
    rc = SL_OK;
out:
    fp_lex_free(&p.lx);
    return rc;
}

const char *
sl_fp_text(const struct sl_fp_expr *e)
{
    return e->text;
}

void
sl_fp_free(struct sl_fp_expr *e)
{
    if (e == NULL)
        return;
    fp_node_free(e->root);
    free(e->text);
    free(e);
}
